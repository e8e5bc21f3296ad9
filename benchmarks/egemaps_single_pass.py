"""Benchmark: eGeMAPS functionals in one openSMILE pass per session against one call per window.

For the default window preset (`emonet`, 5 s at a 0.5 s hop) and for `raju2019` (4 s at
100 ms), times `features.egemaps.extract` (the single pass the features@egemaps stage runs)
and `features.egemaps.per_window` (the previous path: openSMILE on each window's audio) on
the same sessions, and prints the time ratio new / old (targets <= 0.15 and <= 0.05) and how
far the values are apart: the worst per-functional median relative difference, separately
for the functionals over all frames (tolerance 1 %) and those over voiced/unvoiced frames
or of voiced segments (5 %; features/egemaps.py says why).

Sessions: the first `--sessions` of the default corpus when data/corpus exists (run it in a
checkout where `dvc repro corpus` has run), otherwise generated espeak-ng speech.
Run:  .venv/bin/python -m benchmarks.egemaps_single_pass [--sessions 4]
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.audio_features_speed import corpus_or_generated, preset_windows
from features import egemaps
from features.audio_io import load_audio
from pipeline.config import load_params

TARGETS = {"emonet": 0.15, "raju2019": 0.05}
TOLERANCE = {"all frames": 0.01, "voicing-dependent": 0.05}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=4)
    args = parser.parse_args()
    params = load_params()
    cfg = params["features"]["egemaps"]
    rate = int(cfg["sample_rate"])
    scratch = tempfile.TemporaryDirectory()
    sessions, source = corpus_or_generated(args.sessions, Path(scratch.name))
    names = egemaps.feature_names(cfg)
    voicing = np.array([egemaps.voicing_dependent(name) for name in names])
    print(f"{len(sessions)} sessions ({source}), {sum(s.duration_s for s in sessions) / 60:.1f} min of audio; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'preset':<10}{'windows':>8}{'old s':>8}{'new s':>8}{'new/old':>9}{'target':>8}"
          f"  worst median relative difference: all frames | voicing-dependent")
    for preset, target in TARGETS.items():
        window = params["window"]["presets"][preset]
        old_s = new_s = 0.0
        differences, count = [], 0
        for session in sessions:
            windows = preset_windows(session, window)
            count += len(windows)
            began = time.perf_counter()
            new = egemaps.extract(session, windows, cfg).arrays["features"]
            new_s += time.perf_counter() - began
            began = time.perf_counter()
            old = egemaps.per_window(load_audio(session, rate), rate, windows["start"], windows["end"], cfg)
            old_s += time.perf_counter() - began
            differences.append(np.abs(new - old) / (np.abs(old) + 1e-6))
        median = np.median(np.concatenate(differences), axis=0)
        worst = {kind: int(np.flatnonzero(mask)[np.argmax(median[mask])]) for kind, mask in
                 (("all", ~voicing), ("voicing", voicing))}
        print(f"{preset:<10}{count:>8}{old_s:>8.1f}{new_s:>8.1f}{new_s / old_s:>9.3f}{target:>8.2f}  "
              + " | ".join(f"{median[i]:.2%} ({names[i]})" for i in worst.values()))
    print(f"tolerances: {', '.join(f'{k} {v:.0%}' for k, v in TOLERANCE.items())}")
    scratch.cleanup()


if __name__ == "__main__":
    main()
