"""Benchmark: the feature stages' sessions on a dask LocalCluster against the local process pool.

Runs the features stage's per-session function (pipeline/features.py `extract_session`) for
eGeMAPS functionals and MFCC over the sessions of the default corpus (all; `--sessions N`: the first N)
(windows from the window stage) through `map_sessions`, once with the local engine (a pool
of 2 processes) and once with `engine.kind: dask` (a LocalCluster of 2 single-threaded
workers it starts), each timed end to end as a stage pays it (pool or cluster start-up
included), and prints sessions per second of both, the ratio dask / local (target >= 0.9)
and whether every array is bit-identical. Run it in a checkout where `dvc repro windows`
has run:
  .venv/bin/python -m benchmarks.dask_engine [--sessions N]
"""
import argparse
import os
import time

import numpy as np
import pandas as pd

from features.worker_pool import map_sessions
from pipeline import layout
from pipeline.config import load_params
from pipeline.features import extract_session
from pipeline.sessions import load_corpus

EXTRACTORS = ("egemaps", "mfcc")
TARGET_RATIO = 0.9
WORKERS = 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=None, help="the first N sessions (default: all)")
    args = parser.parse_args()
    params = load_params()
    sessions = load_corpus().sessions[: args.sessions]
    windows = pd.read_csv(layout.WINDOWS / "windows.csv")
    jobs = {f"{name}/{s.id}": (name, s, windows[windows.session == s.id], params["features"][name], None)
            for name in EXTRACTORS for s in sessions}
    seconds, results = {}, {}
    for engine in ({"kind": "local"}, {"kind": "dask", "scheduler": None}):
        began = time.perf_counter()
        results[engine["kind"]] = map_sessions(extract_session, jobs, WORKERS, f"{engine['kind']}", engine=engine)
        seconds[engine["kind"]] = time.perf_counter() - began
    identical = all(np.array_equal(results["local"][job].arrays[key], results["dask"][job].arrays[key])
                    for job in jobs for key in results["local"][job].arrays)
    ratio = seconds["local"] / seconds["dask"]
    print(f"{len(sessions)} sessions x {', '.join(EXTRACTORS)}; {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; {WORKERS} workers each, start-up included")
    for kind, taken in seconds.items():
        print(f"{kind:<6} {taken:7.1f} s  {len(jobs) / taken:6.2f} sessions/s")
    print(f"throughput dask / local {ratio:.2f} (target >= {TARGET_RATIO}); bit-identical: {identical}")


if __name__ == "__main__":
    main()
