"""The speed of each stage's last run in a workspace, from its run log (data/run_log/).

Stages record wall-clock seconds, x real time and cache counts there instead of in their
outputs (pipeline/scratch.py), so that DVC-tracked files depend on their inputs only.
x real time is over the sessions a run computed; a run served entirely from the feature
cache has none. For full-run speeds, run the pipeline on an empty scratch cache first
(`EMOREPRO_CACHE_DIR=$(mktemp -d) dvc repro -f`).
Run:  .venv/bin/python -m benchmarks.stage_speeds [--repo DIR]
"""
import argparse
from pathlib import Path

from pipeline.scratch import RUN_LOG, read_run_logs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=".", help="the workspace whose run log to read")
    args = parser.parse_args()
    logs = read_run_logs(Path(args.repo) / RUN_LOG)
    if not logs:
        raise SystemExit(f"no run log in {Path(args.repo) / RUN_LOG}: run `dvc repro` there first")
    print(f"{'stage':<32}{'seconds':>9}{'x real time':>13}{'computed':>10}{'cached':>8}  finished (UTC)")
    for stage, log in logs.items():
        speed = f"{log['x_realtime']:.1f}" if log.get("x_realtime") is not None else "-"
        print(f"{stage:<32}{log['seconds']:>9.1f}{speed:>13}{log.get('sessions_computed', log.get('sessions', '-')):>10}"
              f"{log.get('sessions_reused', 0):>8}  {log['finished_utc']}")


if __name__ == "__main__":
    main()
