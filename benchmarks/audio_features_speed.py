"""Benchmark: the audio LLD extractors (mfcc + egemaps_lld) against the bare tools, and 2 workers vs 1.

(a) throughput of `features.mfcc` + `features.egemaps_lld` (load, frames, per-window mean
    and std) against a bare loop that calls openSMILE (LLDs of the file) and librosa
    (load, MFCC + deltas) directly on the same files; target ratio >= 0.8;
(b) our extraction over the sessions with 2 worker processes against 1, as the features
    stage runs it; target speed-up >= 1.6 on 2 free cores.

Sessions: the first `--sessions` of the default corpus when data/corpus exists (windows
from data/windows/windows.csv when present), otherwise that many generated sessions of
espeak-ng speech. Each measure is the best of `--repeats` runs, after one warm-up session
(numba compilation and openSMILE set-up are one-off costs, not throughput).
Run:  .venv/bin/python -m benchmarks.audio_features_speed [--sessions 8] [--repeats 2]
"""
import argparse
import os
import subprocess
import tempfile
from math import gcd
from pathlib import Path

import librosa
import numpy as np
import opensmile
import pandas as pd
import soundfile as sf
from scipy.signal import resample_poly

from benchmarks.measure import best_seconds
from features import egemaps_lld, mfcc
from features.worker_pool import worker_pool
from pipeline import layout
from pipeline.sessions import Session, load_corpus
from pipeline.window import window_starts
from synthetic.speech import require_espeak

RATE = 16000
TARGET_RATIO = 0.8
TARGET_SPEEDUP = 1.6
MFCC_CFG = {"n_mfcc": 13, "sample_rate": RATE}
EGEMAPS_CFG = {"feature_set": "eGeMAPSv02", "sample_rate": RATE}
TEXT = ("we walked along the river in the morning and talked about the long summer, "
        "the old house, the friends who came to visit and the plans we made for the year ahead. ")


def generated_sessions(count: int, seconds: float, root: Path) -> list[Session]:
    sessions = []
    for i in range(count):
        wav = root / f"espeak{i}.wav"
        subprocess.run([require_espeak(), "-v", ["en", "en-us", "en-gb"][i % 3], "-p", str(30 + 5 * i),
                        "-w", str(wav), TEXT * 8], check=True, capture_output=True)
        audio, rate = sf.read(wav, dtype="float32")
        factor = gcd(RATE, rate)
        audio = resample_poly(audio, RATE // factor, rate // factor)
        samples = int(seconds * RATE)
        sf.write(root / f"s{i}.wav", np.tile(audio, -(-samples // len(audio)))[:samples], RATE, subtype="PCM_16")
        sessions.append(Session(f"s{i}", f"spk{i}", "train", seconds, {"audio": f"s{i}.wav"}, root=root))
    return sessions


def corpus_or_generated(count: int, root: Path, seconds: float = 60.0) -> tuple[list[Session], str]:
    """(sessions, where from): the first `count` sessions of the default corpus when this
    checkout has one (data/corpus), otherwise `count` generated ones of `seconds` in `root`."""
    if (layout.CORPUS / "manifest.json").exists():
        return load_corpus().sessions[:count], "default corpus"
    return generated_sessions(count, seconds, root), "espeak-ng speech"


def preset_windows(session: Session, window: dict) -> pd.DataFrame:
    """A session's windows under one of params.yaml's window presets, as the window stage cuts them."""
    starts = window_starts(session.duration_s, window["length_s"], window["hop_s"], window["label_shift_s"])
    return pd.DataFrame({"session": session.id, "start": starts, "end": starts + window["length_s"]})


def default_windows(session: Session, length_s: float = 4.0, hop_s: float = 1.0) -> pd.DataFrame:
    return preset_windows(session, {"length_s": length_s, "hop_s": hop_s, "label_shift_s": 0.0})


def ours(session: Session, windows: pd.DataFrame) -> int:
    """Both extractors as the features stage calls them; returns the rows produced."""
    rows = mfcc.extract(session, windows, MFCC_CFG).arrays["features"]
    rows2 = egemaps_lld.extract(session, windows, EGEMAPS_CFG).arrays["features"]
    return len(rows) + len(rows2)


_SMILE = None


def bare(session: Session) -> int:
    """openSMILE and librosa called directly on the file: frames only, no window summary."""
    global _SMILE
    if _SMILE is None:
        _SMILE = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                                 feature_level=opensmile.FeatureLevel.LowLevelDescriptors)
    path = str(session.path("audio"))
    lld = _SMILE.process_file(path)
    y, rate = librosa.load(path, sr=RATE)
    coefficients = librosa.feature.mfcc(y=y, sr=rate, n_mfcc=13, n_fft=512, win_length=400, hop_length=160, n_mels=40)
    deltas = [librosa.feature.delta(coefficients), librosa.feature.delta(coefficients, order=2)]
    return len(lld) + coefficients.shape[1] + sum(d.shape[1] for d in deltas)


def with_workers(workers: int, sessions: list[Session], windows: list[pd.DataFrame]) -> None:
    with worker_pool(workers) as pool:
        list(pool.map(ours, sessions, windows))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of generated sessions")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    scratch = tempfile.TemporaryDirectory()
    sessions, source = corpus_or_generated(args.sessions, Path(scratch.name), args.seconds)
    table = pd.read_csv(layout.WINDOWS / "windows.csv") if (layout.WINDOWS / "windows.csv").exists() else None
    windows = [table[table.session == s.id] if table is not None else default_windows(s) for s in sessions]
    audio_s = sum(s.duration_s for s in sessions)

    ours(sessions[0], windows[0])  # warm-up: numba, openSMILE set-up
    bare(sessions[0])
    ours_s = best_seconds(lambda: [ours(s, w) for s, w in zip(sessions, windows)], args.repeats)
    bare_s = best_seconds(lambda: [bare(s) for s in sessions], args.repeats)
    one_s = best_seconds(lambda: with_workers(1, sessions, windows), args.repeats)
    two_s = best_seconds(lambda: with_workers(2, sessions, windows), args.repeats)
    scratch.cleanup()

    print(f"{len(sessions)} sessions ({source}), {audio_s / 60:.1f} min of audio, "
          f"{sum(map(len, windows))} windows; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'measure':<44}{'value':>9}{'target':>8}{'ratio':>8}")
    print(f"{'x real time, bare openSMILE + librosa':<44}{audio_s / bare_s:>9.1f}")
    print(f"{'x real time, mfcc + egemaps_lld modules':<44}{audio_s / ours_s:>9.1f}")
    throughput = bare_s / ours_s
    print(f"{'throughput ours / bare':<44}{throughput:>9.2f}{TARGET_RATIO:>8.2f}{throughput / TARGET_RATIO:>8.2f}")
    print(f"{'x real time, 1 worker process':<44}{audio_s / one_s:>9.1f}")
    print(f"{'x real time, 2 worker processes':<44}{audio_s / two_s:>9.1f}")
    speedup = one_s / two_s
    print(f"{'speed-up 2 vs 1 workers':<44}{speedup:>9.2f}{TARGET_SPEEDUP:>8.2f}{speedup / TARGET_SPEEDUP:>8.2f}")


if __name__ == "__main__":
    main()
