"""Benchmark: what the Raju suite costs on the default corpus, feature extraction against training.

Features: the run logs (data/run_log/) of the stages on the `raju` unit in a workspace where
they last ran from an empty scratch cache (their `sessions_computed`; a cached run says so).
Training: each of the suite's models trained for `--epochs` epochs on that workspace's data
(the suite's settings: sequences of 100 windows, batch 16), seconds per epoch, times the
suite's runs x seeds x the profile's epochs: an upper bound, early stopping ends runs sooner.
Prints seconds and the share of each part.
Run:  .venv/bin/python -m benchmarks.raju_suite [--repo DIR] [--epochs 2] [--profile reduced]
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

from pipeline.config import load_params
from pipeline.scratch import RUN_LOG, read_run_logs
from pipeline.suite import load_suite


def feature_seconds(repo: Path) -> tuple[float, list[str]]:
    logs = {k: v for k, v in read_run_logs(repo / RUN_LOG).items() if k.endswith("_raju")}
    lines = [f"  {stage:<36}{log['seconds']:>8.1f} s  ({log.get('sessions_computed', '?')} sessions computed, "
             f"{log.get('sessions_reused', 0)} cached)" for stage, log in logs.items()]
    return sum(log["seconds"] for log in logs.values()), lines


def seconds_per_epoch(params: dict, suite: dict, run: dict, epochs: int) -> float:
    from pipeline.model_spec import RUN_OVERRIDES, model_spec, train_settings
    from pipeline.trainer import train_model  # torch: after the arguments

    model = run["model"]
    fields = {k.lstrip("+").removeprefix(f"models.{model}."): v for k, v in run.items()
              if k.lstrip("+").startswith(f"models.{model}.")}
    spec = model_spec(params, model, None, {k: v for k, v in fields.items() if k in RUN_OVERRIDES})
    spec.hparams.update({k: v for k, v in fields.items() if k not in RUN_OVERRIDES})
    # the suite's own train settings (sequence length, learning rate), as its experiments set them
    suite_train = {k.removeprefix("train."): v for k, v in suite.get("params", {}).items() if k.startswith("train.")}
    cfg = {**train_settings(params, spec), **suite_train, "epochs": epochs, "patience": epochs}
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        train_model(spec, cfg, 7, Path(tmp) / "model.pt", Path(tmp) / "history.csv", progress=None)
        return (time.perf_counter() - began) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=".", help="a workspace with the raju unit's features (model: raju_*)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--profile", default=None, help="the suite profile whose epochs to count (e.g. reduced)")
    args = parser.parse_args()
    os.chdir(args.repo)
    params, suite = load_params(), load_suite("raju")
    profile = suite["profiles"].get(args.profile, {}) if args.profile else {}
    epochs = int(profile.get("train.epochs", params["train"]["epochs"]))
    features, lines = feature_seconds(Path("."))
    print(f"feature stages on the raju unit: {features:.0f} s", *lines, sep="\n")
    training = 0.0
    for name, run in suite["runs"].items():
        if "~" in "".join(run):  # an ablation: as fast as its model, less one stream
            continue
        per_epoch = seconds_per_epoch(params, suite, run, args.epochs)
        runs = 1 + sum(1 for other in suite["runs"].values() if other["model"] == run["model"] and other is not run)
        training += per_epoch * epochs * runs * len(suite["seeds"])
        print(f"  {name:<12}{per_epoch:>7.2f} s/epoch x {epochs} epochs x {runs} run(s) x {len(suite['seeds'])} seeds")
    total = features + training
    print(f"training (upper bound, no early stop): {training:.0f} s\n"
          f"suite on this machine: {total / 60:.0f} min; features {features / total:.0%}, training {training / total:.0%}")


if __name__ == "__main__":
    main()
