"""The runs a `dvc repro` trains, and each run's entry as its stage reads it. Torch-free: the unit
stages and feature_demand decide from it what to cut and compute (`enabled: auto`).

A run is `model` (the train and evaluate stages), a `benchmark` entry, or a `pretrain` entry whose
`for` names `model` (trained before it: `init_from`); a benchmark or pretrain run may override
its model's RUN_OVERRIDES.
"""
RUN_OVERRIDES = ("features", "unit", "task", "targets", "folds")  # what a benchmark run may set instead of its model's entry


def repro_runs(params: dict) -> dict[str, dict]:
    """The runs this repro trains, by where they are in params.yaml (`model`, `benchmark.<run>`,
    `pretrain.<run>`): {"model": <name>, and the run's own keys}."""
    runs = {"model": {"model": params.get("model")}}
    runs.update({f"benchmark.{name}": run for name, run in (params.get("benchmark") or {}).items()})
    runs.update({f"pretrain.{name}": run for name, run in (params.get("pretrain") or {}).items()
                 if params.get("model") in (run.get("for") or [])})
    return runs


def run_entry(params: dict, run: dict) -> dict:
    """`models.<the run's model>` with the run's overrides of its inputs, unit, task, targets and
    protocol ({} for a model params.yaml lacks: the params check names it)."""
    entry = dict((params.get("models") or {}).get(run.get("model")) or {})
    entry.update({k: v for k, v in run.items() if k in RUN_OVERRIDES})
    return entry
