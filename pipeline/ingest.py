"""Writing a validated manifest corpus into the normalised layout the generated corpus uses.

Per session, under data/corpus/sessions/<id>/:
- audio.wav: mono, 16-bit, resampled to `sample_rate` (the rate every audio stage expects);
- video.mp4: re-encoded by ffmpeg at `video_fps`, without its audio track;
- transcript.txt / words.csv (word, start, end) / segments.csv / openface.csv: copied;
- gold.csv (time + dimensions): the one labels file, or the mean of the annotators' files
  on the first file's time grid (linear interpolation), with ratings.csv holding each
  annotator (time, annotator, dimensions) and their leave-one-out agreement.
Each manifest entry records the original files' sha256 and paths (`sources`): relative to
the repository root, or for a file outside the repository (`allow_outside_root`) the path
as sessions.csv gives it, so clones at different paths write identical outputs.
"""
import shutil
import subprocess
from math import gcd
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from scipy.signal import resample_poly

from features.file_hash import file_sha256
from metrics.regression import leave_one_out_ccc
from pipeline.manifest import ManifestSession, ValidManifest, in_repository
from pipeline.text_only import WORD_S, is_positional, write_text_session


def convert_audio(source: Path, target: Path, sample_rate: int) -> None:
    audio, rate = sf.read(str(source), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if rate != sample_rate:
        factor = gcd(rate, sample_rate)
        audio = resample_poly(audio, sample_rate // factor, rate // factor)
    sf.write(str(target), np.clip(audio, -1, 1), sample_rate, subtype="PCM_16")


# x264's output depends on its thread count, which defaults to the machine's cores: a fixed
# count makes video.mp4 (and so data/corpus's hash) the same on every machine
ENCODER_THREADS = 2


def convert_video(source: Path, target: Path, fps: float) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg not found: it converts manifest videos (bash run.sh setup installs it)")
    done = subprocess.run([ffmpeg, "-nostdin", "-y", "-loglevel", "error", "-i", str(source), "-an",
                           "-r", str(fps), "-pix_fmt", "yuv420p", "-threads", str(ENCODER_THREADS), str(target)],
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"ffmpeg could not convert {source}: {done.stderr.strip()[-500:]}")


def annotator_tracks(paths: list[Path], dimensions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Times of the first file and (annotators, T, dims) ratings interpolated onto them."""
    tables = [pd.read_csv(p) for p in paths]
    times = tables[0].time.to_numpy(float)
    ratings = np.stack([np.stack([np.interp(times, t.time.to_numpy(float), t[d].to_numpy(float)) for d in dimensions],
                                 axis=1) for t in tables])
    return times, ratings


def write_labels(session: ManifestSession, folder: Path, dimensions: list[str]) -> dict[str, list[float]]:
    """gold.csv (+ ratings.csv); returns each dimension's per-annotator agreement CCCs."""
    times, ratings = annotator_tracks(session.files["labels"], dimensions)
    gold = pd.DataFrame({"time": times, **{d: ratings[:, :, j].mean(axis=0) for j, d in enumerate(dimensions)}})
    gold.to_csv(folder / "gold.csv", index=False, float_format="%.6f")
    if len(ratings) < 2:
        return {}
    pd.concat([pd.DataFrame({"time": times, "annotator": k, **{d: ratings[k, :, j] for j, d in enumerate(dimensions)}})
               for k in range(len(ratings))]).to_csv(folder / "ratings.csv", index=False, float_format="%.6f")
    # rounded: the last bits of a float sum can differ between CPUs, and this lands in manifest.json
    return {d: [round(float(c), 6) for c in leave_one_out_ccc(ratings[:, :, j])] for j, d in enumerate(dimensions)}


def source_record(path: Path, as_written: str) -> dict:
    """How manifest.json names an original file: nothing that depends on where the repository
    or the machine's data lie."""
    relative = in_repository(path)
    named = {"path": relative} if relative else {"path": as_written, "outside_repository": True}
    return {**named, "sha256": file_sha256(str(path))}


def ingest_session(session: ManifestSession, manifest: ValidManifest, root: Path, sample_rate: int,
                   video_fps: float, word_s: float = WORD_S) -> dict:
    """Writes one session under root/sessions/<id>/ and returns its manifest entry; a text-only
    session without word times has its words, sentences and labels put on the positional time
    axis of `word_s` per word."""
    folder = root / "sessions" / session.id
    folder.mkdir(parents=True, exist_ok=True)
    relative = Path("sessions") / session.id
    entry = {"id": session.id, "speaker": session.speaker, "split": session.split,
             "duration_s": round(session.duration_s, 4), "manifest_row": session.row,
             "sources": {kind: [source_record(path, text) for path, text in zip(paths, session.written[kind])]
                         for kind, paths in session.files.items()}}
    if "transcript" in session.files:
        shutil.copyfile(session.files["transcript"][0], folder / "transcript.txt")
        entry["transcript"] = str(relative / "transcript.txt")
    if is_positional(session.files):
        written = write_text_session(session.files, folder, manifest.declaration.dimensions, word_s)
        entry.update({kind: str(relative / name) for kind, name in written.items()}, text_word_s=word_s)
    else:
        entry.update(ingest_recording(session, manifest, folder, relative, sample_rate, video_fps))
    if session.label is not None:
        entry["class"] = session.label
    if session.group is not None:
        entry["group"] = session.group
    return entry


def ingest_recording(session: ManifestSession, manifest: ValidManifest, folder: Path, relative: Path,
                     sample_rate: int, video_fps: float) -> dict:
    """A recorded session's media, timings and labels, converted or copied; their manifest entries."""
    entry = {}
    if "audio" in session.files:
        convert_audio(session.files["audio"][0], folder / "audio.wav", sample_rate)
        entry["audio"] = str(relative / "audio.wav")
    if "video" in session.files:
        convert_video(session.files["video"][0], folder / "video.mp4", video_fps)
        entry["video"] = str(relative / "video.mp4")
    if "words" in session.files:
        pd.read_csv(session.files["words"][0])[["word", "start", "end"]].to_csv(folder / "words.csv", index=False)
        entry["words"] = str(relative / "words.csv")
    if "segments" in session.files:
        shutil.copyfile(session.files["segments"][0], folder / "segments.csv")
        entry["segments"] = str(relative / "segments.csv")
    if "openface" in session.files:
        shutil.copyfile(session.files["openface"][0], folder / "openface.csv")
        entry["openface"] = str(relative / "openface.csv")
    if "labels" in session.files:
        entry["agreement_ccc"] = write_labels(session, folder, manifest.declaration.dimensions)
        entry["gold"] = str(relative / "gold.csv")
        if (folder / "ratings.csv").exists():
            entry["ratings"] = str(relative / "ratings.csv")
    return entry
