"""Benchmark: what the single-pass eGeMAPS functionals change downstream (issue 18: test CCC
within +-0.01 of the per-window path).

In a reproduced workspace (data/corpus, data/windows, data/features/egemaps and the runs'
reports from `dvc repro`), recomputes every session's eGeMAPS functionals with the per-window
reference path (`features.egemaps.per_window`, one openSMILE call per window), trains the given
benchmark runs on them in a temporary copy of the workspace (same params, seeds and code), and
prints each run's test CCC per target on both feature sets, the difference, and the largest
|difference| as a ratio to the 0.01 target (<= 1 meets it). Deterministic runs (ridge, svr)
isolate the features' effect; a neural run adds nothing random either (same seed, CPU).
Run:  .venv/bin/python -m benchmarks.egemaps_downstream ridge_windows svr_windows lstm_ccc
      (about 10 min on 2 cores for the default corpus's 32 sessions and these three runs)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd

from features import egemaps
from features.audio_io import load_audio
from pipeline import layout
from pipeline.sessions import load_corpus

TARGET = 0.01


def per_window_features(job) -> tuple[str, np.ndarray]:
    session, rows, cfg = job
    rate = int(cfg["sample_rate"])
    audio = load_audio(session, rate)
    return session.id, egemaps.per_window(audio, rate, rows.start.to_numpy(float), rows.end.to_numpy(float), cfg)


def main(runs: list[str]) -> None:
    here = Path.cwd()
    meta = json.loads((layout.FEATURES / "egemaps" / "meta.json").read_text())
    corpus, windows = load_corpus(), pd.read_csv(layout.WINDOWS / "windows.csv")
    with tempfile.TemporaryDirectory(prefix="egemaps-downstream-") as folder:
        copy = Path(folder)
        (copy / "data/features/egemaps").mkdir(parents=True)
        (copy / "reports").mkdir()
        for name in ("corpus", "windows", "alignment", "units"):
            (copy / "data" / name).symlink_to(here / "data" / name)
        shutil.copy(here / "params.yaml", copy)
        shutil.copy(layout.CORPUS_REPORT, copy / "reports")
        (copy / "data/features/egemaps/meta.json").write_text(json.dumps(meta))
        jobs = [(s, windows[windows.session == s.id], meta["config"]) for s in corpus.sessions]
        with Pool(int(meta["config"].get("workers", 2))) as pool:
            for session_id, rows in pool.imap_unordered(per_window_features, jobs):
                np.save(copy / "data/features/egemaps" / f"{session_id}.npy", rows.astype(np.float32))
        env = {**os.environ, "PYTHONPATH": str(here), "EMOREPRO_CACHE_DIR": str(copy / "scratch")}
        worst = 0.0
        for run in runs:
            subprocess.run([sys.executable, "-m", "pipeline.benchmark", run], cwd=copy, env=env, check=True,
                           capture_output=True)
            reference = json.loads((copy / "reports/benchmark" / run / "metrics.json").read_text())
            ours = json.loads((layout.REPORTS / "benchmark" / run / "metrics.json").read_text())
            for target in (t for t in ours if isinstance(ours[t], dict) and "ccc" in ours[t]):
                diff = ours[target]["ccc"] - reference[target]["ccc"]
                worst = max(worst, abs(diff))
                print(f"{run:22s} {target:8s} per-window {reference[target]['ccc']:.4f}  single-pass "
                      f"{ours[target]['ccc']:.4f}  difference {diff:+.4f}")
    print(f"largest |difference| / target {TARGET}: {worst / TARGET:.2f} ({'met' if worst <= TARGET else 'NOT met'})")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m benchmarks.egemaps_downstream <benchmark run on egemaps> ...")
    main(sys.argv[1:])
