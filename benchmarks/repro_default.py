"""Benchmark: wall time and peak memory of the default `dvc repro`, from a clean clone.

Clones the committed HEAD into a temporary folder with a scratch cache of its own
(EMOREPRO_CACHE_DIR: so no cached feature or training state is reused), runs
`dvc repro` there with this environment's Python, then a second, no-op `dvc repro`,
and prints each measurement with its ratio to the target (ratio <= 1 meets it), then each
stage's wall time (from one "Running stage" line to the next: DVC runs them one at a time)
and their sums per paper: a benchmark, pretrain or train stage counts for the paper of its
model; the feature and unit stages, which several papers share, count apart.
Run:  .venv/bin/python -m benchmarks.repro_default [--keep DIR] [--json FILE]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

from benchmarks.measure import run_measured
from pipeline.paper_charts import TITLES

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"repro_seconds": 25 * 60, "repro_peak_gb": 4.0, "noop_repro_seconds": 3.0}
RUNNING = re.compile(r"Running stage '([^']+)'")
SHARED = ("features@", "derived_features@", "unit_features@", "units@", "feature_report")


def stage_seconds(stamped: list[tuple[float, str]], total: float) -> dict[str, float]:
    """Each stamped stage's seconds: until the next stage started, the last until `total`."""
    ends = [t for t, _ in stamped[1:]] + [total]
    return {stage: end - start for (start, stage), end in zip(stamped, ends)}


def paper_of(stage: str, params: dict) -> str:
    """The group a stage's time counts for."""
    if stage.startswith(SHARED):
        return "feature and unit stages (shared)"
    kind, _, key = stage.partition("@")
    model = {"benchmark": lambda: params["benchmark"][key]["model"], "pretrain": lambda: params["pretrain"][key]["model"],
             "train": lambda: params["model"], "evaluate": lambda: params["model"],
             "story": lambda: "emonet"}.get(kind)
    if model is None:
        return "corpus, alignment, checks, report"
    return next((paper for prefix, paper in TITLES.items() if model().startswith(prefix)), "baselines and examples")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="clone into this folder and keep it")
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args()
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="emorepro_bench_"))
    subprocess.run(["git", "clone", "-q", str(REPO), str(workdir / "repo")], check=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "EMOREPRO_CACHE_DIR": str(workdir / "scratch_cache")}
    repo = workdir / "repo"
    full = run_measured(["dvc", "repro"], repo, env, stamp=RUNNING)
    if full["returncode"]:
        sys.exit(f"dvc repro failed:\n{full['output'][-3000:]}")
    noop = run_measured(["dvc", "repro"], repo, env)
    results = {"repro_seconds": full["seconds"], "repro_peak_gb": full["peak_bytes"] / 1e9,
               "noop_repro_seconds": noop["seconds"]}
    print(f"{'measure':<22}{'value':>10}{'target':>10}{'ratio':>8}")
    for name, value in results.items():
        print(f"{name:<22}{value:>10.2f}{TARGETS[name]:>10.2f}{value / TARGETS[name]:>8.2f}")
    print(f"cores: {os.cpu_count()}, clone: {repo}")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    stages = stage_seconds(full["stamped"], full["seconds"])
    groups = defaultdict(float)
    for stage, seconds in stages.items():
        groups[paper_of(stage, params)] += seconds
    print(f"\n{'group':<40}{'seconds':>9}{'share':>7}")
    for group, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"{group:<40}{seconds:>9.0f}{seconds / full['seconds']:>7.2f}")
    print(f"\n{'stage':<48}{'seconds':>9}")
    for stage, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"{stage:<48}{seconds:>9.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({**results, "groups": groups, "stages": stages}, indent=1))


if __name__ == "__main__":
    main()
