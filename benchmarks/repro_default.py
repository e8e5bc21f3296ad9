"""Benchmark: wall time and peak memory of the default `dvc repro`, from a clean clone.

Clones the committed HEAD into a temporary folder with a scratch cache of its own
(EMOREPRO_CACHE_DIR: so no cached feature or training state is reused), runs
`dvc repro` there with this environment's Python, then a second, no-op `dvc repro`,
and prints each measurement with its ratio to the target (ratio <= 1 meets it).
Run:  .venv/bin/python -m benchmarks.repro_default [--keep DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.measure import run_measured

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"repro_seconds": 20 * 60, "repro_peak_gb": 4.0, "noop_repro_seconds": 5.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="clone into this folder and keep it")
    args = parser.parse_args()
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="emorepro_bench_"))
    subprocess.run(["git", "clone", "-q", str(REPO), str(workdir / "repo")], check=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "EMOREPRO_CACHE_DIR": str(workdir / "scratch_cache")}
    repo = workdir / "repo"
    full = run_measured(["dvc", "repro"], repo, env)
    if full["returncode"]:
        sys.exit(f"dvc repro failed:\n{full['output'][-3000:]}")
    noop = run_measured(["dvc", "repro"], repo, env)
    results = {"repro_seconds": full["seconds"], "repro_peak_gb": full["peak_bytes"] / 1e9,
               "noop_repro_seconds": noop["seconds"]}
    print(f"{'measure':<22}{'value':>10}{'target':>10}{'ratio':>8}")
    for name, value in results.items():
        print(f"{name:<22}{value:>10.2f}{TARGETS[name]:>10.2f}{value / TARGETS[name]:>8.2f}")
    print(f"cores: {os.cpu_count()}, clone: {repo}")


if __name__ == "__main__":
    main()
