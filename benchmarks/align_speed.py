"""Benchmark: forced-alignment speed as x real time, with 1 and 2 worker processes.

Needs the default corpus (`dvc repro corpus`). Runs the `align` stage's per-session
function over every session and prints x real time against the target (>= 20x on
2 cores) and the speed-up of 2 workers over 1.
Run:  .venv/bin/python -m benchmarks.align_speed
"""
import time

from features.worker_pool import worker_pool
from pipeline.align import align_session
from pipeline.config import load_params
from pipeline.sessions import load_corpus

TARGET_X_REALTIME = 20.0


def x_realtime(workers: int, sessions, cfg) -> float:
    began = time.perf_counter()
    with worker_pool(workers) as pool:
        list(pool.map(align_session, sessions, [cfg] * len(sessions)))
    return sum(s.duration_s for s in sessions) / (time.perf_counter() - began)


def main() -> None:
    cfg = load_params()["align"]
    sessions = load_corpus().sessions
    one, two = x_realtime(1, sessions, cfg), x_realtime(2, sessions, cfg)
    print(f"{len(sessions)} sessions, {sum(s.duration_s for s in sessions) / 60:.1f} min of audio")
    print(f"{'measure':<28}{'value':>8}{'target':>8}{'ratio':>8}")
    print(f"{'x real time, 1 worker':<28}{one:>8.1f}{'':>8}{'':>8}")
    print(f"{'x real time, 2 workers':<28}{two:>8.1f}{TARGET_X_REALTIME:>8.1f}{two / TARGET_X_REALTIME:>8.2f}")
    print(f"{'speed-up 2 vs 1 workers':<28}{two / one:>8.2f}")


if __name__ == "__main__":
    main()
