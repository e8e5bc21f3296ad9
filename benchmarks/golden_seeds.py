"""The seed sd behind the golden bands: every run of the DAG trained again at other training seeds.

A golden band is max(2 x the seed sd, a floor) (benchmarks/golden.py). A run that a suite trains
over seeds takes its sd from the suite (`sd_from`, golden.SD_FROM) and is left out here; every
other run of the default DAG takes it from this file: the run at `train.seed` 7 (the reproduced
workspace's own reports) and again at the seeds given, each in a scratch copy of the repository
whose data/ inputs are links to the workspace's own folders, so no feature is recomputed. The
stages' own commands train there (`python -m pipeline.benchmark <run>`; `pipeline.train` +
`pipeline.evaluate` for the `model` run), without DVC: outside the DAG, no dvc.lock changes.
The training stages write only data/train, data/benchmark and reports/ of the copy; the
digest of the linked inputs (pipeline/training_inputs.py) is compared before and after, and a
change stops the script. A run that starts from a pretrained run (`init_from`) starts from the
workspace's seed-7 weights at every seed (data/pretrain is linked): none does in the default DAG.

Reads:  the workspace's reports/ (seed 7) and data/ inputs, params.yaml
Writes: benchmarks/golden/<corpus>_seeds.yaml: per run and headline metric, each seed's value
        and their sd (ddof 1); runs already in the file and not trained again are kept. Then
        `python -m benchmarks.golden write <corpus>` widens the bands from it.
Run (after `dvc repro` on that corpus, from the repository root; ~12 min per seed on 2 cores):
    python -m benchmarks.golden_seeds default --seeds 8 9
The tiny corpus's file comes from the end-to-end tests' tiny project (tests/dvc_project.py), reproduced:
    python -c "from pathlib import Path; from tests.dvc_project import tiny_project; tiny_project(Path('/tmp/tiny'))"
    cd /tmp/tiny && dvc repro && python -m benchmarks.golden_seeds tiny --seeds 8 9
and its tiny_seeds.yaml copied back into benchmarks/golden/.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml
from tqdm import tqdm

from benchmarks.golden import MAIN_RUN, SD_FROM, dag_runs, metrics_file, seeds_file, seeds_runs
from benchmarks.repository_copy import REPO, copy_repository
from pipeline import layout
from pipeline.config import load_params
from pipeline.training_inputs import digests
from training.tasks import golden_metrics

# the workspace's data/ entries a training stage reads: linked into each copy, never written there
INPUTS = ("corpus", "alignment", "recognised", "windows", "units", "features", "pretrain", "training_inputs.json")
OPTIONAL = ("recognised", "pretrain")  # written only when ASR or a pretrain run is on


def scratch_copy(dest: Path, seed: int) -> Path:
    """The repository's files copied to dest, with the workspace's data/ inputs linked in and
    params.yaml's `train.seed` set to `seed`."""
    copy_repository(dest, REPO)
    (dest / "data").mkdir(exist_ok=True)
    for name in INPUTS:
        if (REPO / "data" / name).exists():
            (dest / "data" / name).symlink_to(REPO / "data" / name)
    params = load_params(REPO / "params.yaml")
    params["train"]["seed"] = seed
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return dest


def train_run(run: str, copy: Path) -> dict | None:
    """The run's golden metrics at the copy's seed; None for a run that skips."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    commands = ([["python", "-m", "pipeline.train"], ["python", "-m", "pipeline.evaluate"]] if run == MAIN_RUN
                else [["python", "-m", "pipeline.benchmark", run]])
    for command in commands:
        result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"{' '.join(command)} failed at {copy}:\n{result.stderr[-3000:]}")
    metrics = json.loads((copy / metrics_file(run)).read_text())
    return None if "skipped" in metrics else golden_metrics(metrics)


def seed_table(values: dict[int, dict[str, float]]) -> dict:
    """{metric: {values: {seed: value}, sd}} over the seeds that trained the run."""
    metrics = sorted(set.intersection(*(set(v) for v in values.values())))
    return {m: {"values": {s: round(v[m], 4) for s, v in sorted(values.items())},
                "sd": round(float(np.std([v[m] for v in values.values()], ddof=1)), 4)} for m in metrics}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", choices=sorted(SD_FROM), help="the corpus the workspace was reproduced on")
    parser.add_argument("--seeds", type=int, nargs="+", default=[8, 9])
    parser.add_argument("--runs", help="comma-separated runs (default: the model run and every benchmark run)")
    args = parser.parse_args(argv)
    params = load_params()
    if params["corpus"] != args.corpus:
        sys.exit(f"params.yaml's corpus is {params['corpus']!r}, not {args.corpus!r}")
    own_seed = params["train"]["seed"]
    if own_seed in args.seeds:
        sys.exit(f"seed {own_seed} is the workspace's own: give other seeds")
    runs = args.runs.split(",") if args.runs else [r for r in dag_runs() if r not in SD_FROM[args.corpus]]
    missing = ([r for r in runs if not metrics_file(r).exists()]
               + [n for n in INPUTS if n not in OPTIONAL and not (layout.DATA / n).exists()])
    if missing:
        sys.exit(f"not reproduced here (run `dvc repro` first): {', '.join(missing)}")
    values: dict[str, dict[int, dict]] = {}
    for run in runs:
        own = json.loads(metrics_file(run).read_text())
        if "skipped" not in own:
            values[run] = {own_seed: golden_metrics(own)}
    inputs = digests()
    with tempfile.TemporaryDirectory(prefix="emorepro_seeds_") as tmp:
        for seed in args.seeds:
            copy = scratch_copy(Path(tmp) / f"seed{seed}", seed)
            for run in tqdm(list(values), desc=f"seed {seed}", unit="run"):
                trained = train_run(run, copy)
                if trained is None:
                    sys.exit(f"{run} skipped at seed {seed} but trained at seed {own_seed}")
                values[run][seed] = trained
    if digests() != inputs:
        sys.exit("the workspace's data/windows, units or features changed while the seeds trained: "
                 "run `dvc status`, then this again")
    table = {**seeds_runs(args.corpus), **{run: seed_table(v) for run, v in values.items()}}
    header = (f"# The seed sd of each run of the `{args.corpus}` DAG over the train.seed values each lists, for\n"
              f"# the golden bands: written by `python -m benchmarks.golden_seeds {args.corpus}`; read by "
              "benchmarks/golden.py\n")
    out = seeds_file(args.corpus)
    out.write_text(header + yaml.safe_dump({"corpus": args.corpus, "runs": table},
                                           sort_keys=False, default_flow_style=None, width=120))
    print(out)


if __name__ == "__main__":
    main(sys.argv[1:])
