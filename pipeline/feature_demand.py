"""Stage `feature_demand`: whether each `features@<key>` stage computes, for the stages that
say `enabled: auto`.

Reads:  params `model`, `models`, `benchmark`, `pretrain`, `features`, `derived_features`
Writes: data/feature_demand/<key>.json for every key of `features`: {"enabled": true} (or false)
        for a stage that says so, whatever the runs; for `enabled: auto`, {"enabled": "auto",
        "computed": true|false, "why": ...}
Run:    python -m pipeline.feature_demand   (or `dvc repro feature_demand`)

A feature stage with `enabled: auto` computes only when a run of this repro reads it: `model`
(the train and evaluate stages), a benchmark run, a pretrain run that trains for `model`, or a
derived stage one of those reads (its `source`). Otherwise it writes only why it computed
nothing, as a stage with `enabled: false` does. Deep Spectrum, face_deep, the bag of audio words
and the one-hot words are `auto` in params.yaml: no run of the default repro reads them, and
they were a fifth of its time; `dvc exp run -S model=<a model reading one>` computes it.

Each features@<key> stage depends on its own file here, not on the params this stage reads: a
change to a run re-runs a feature stage only when it changes whether that stage computes, and
the file says nothing about which run reads it (that would re-run the stage for nothing).
"""
import json
import logging

from pipeline import layout
from pipeline.config import load_params, run_stage
from pipeline.model_inputs import feature_stages
from pipeline.params_check import check

log = logging.getLogger("feature_demand")
AUTO = "auto"


def active_runs(params: dict) -> dict[str, dict]:
    """The runs this repro trains, by name: `model` (the train stage), every benchmark run and the
    pretrain runs that train for `model` (their `for` names it)."""
    runs = {"model": {"model": params["model"]}}
    runs.update({f"benchmark.{name}": run for name, run in (params.get("benchmark") or {}).items()})
    runs.update({f"pretrain.{name}": run for name, run in (params.get("pretrain") or {}).items()
                 if params["model"] in run.get("for", [])})
    return runs


def stages_read(params: dict) -> set[str]:
    """Every feature stage the active runs read: their inputs (a run's own `features`, else its
    model's), and the source of each derived stage among them, and so on."""
    models = params.get("models") or {}
    read = set()
    for run in active_runs(params).values():
        features = run.get("features") or (models.get(run["model"]) or {}).get("features") or []
        read.update(feature_stages(features))
    derived = params.get("derived_features") or {}
    pending = [key for key in read if key in derived]
    while pending:
        source = derived[pending.pop()].get("source")
        if source and source not in read:
            read.add(source)
            pending += [source] if source in derived else []
    return read


def demand(params: dict) -> dict[str, dict]:
    """Per key of `features`, what its stage's demand file holds."""
    read = stages_read(params)
    out = {}
    for key, cfg in (params.get("features") or {}).items():
        enabled = (cfg or {}).get("enabled", True)
        if enabled != AUTO:
            out[key] = {"enabled": enabled is not False}
        elif key in read:
            out[key] = {"enabled": AUTO, "computed": True, "why": "a run of this repro reads it"}
        else:
            out[key] = {"enabled": AUTO, "computed": False,
                        "why": (f"features.{key}.enabled is auto and no run of this repro reads it (neither "
                                f"`model`, a benchmark run, a pretrain run for `model`, nor a derived stage "
                                f"they read): e.g. dvc exp run -S model=<a model reading {key}>")}
    return out


def demand_file(key: str):
    return layout.FEATURE_DEMAND / f"{key}.json"


def auto_skipped(key: str) -> str | None:
    """Why the `enabled: auto` stage `key` computes nothing in this repro, or None if it computes."""
    path = demand_file(key)
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: features.{key}.enabled is auto, and the feature_demand "
                                f"stage decides whether it computes (dvc repro feature_demand)")
    entry = json.loads(path.read_text())
    return None if entry.get("computed", entry.get("enabled")) else entry.get("why", f"{path} says not computed")


def main() -> None:
    params = load_params()
    check(params, "model", "benchmark", "pretrain", *(f"features.{key}" for key in params.get("features") or {}))
    layout.FEATURE_DEMAND.mkdir(parents=True, exist_ok=True)
    entries = demand(params)
    for stale in layout.FEATURE_DEMAND.glob("*.json"):  # a feature key removed from params.yaml
        if stale.stem not in entries:
            stale.unlink()
    for key, entry in entries.items():
        demand_file(key).write_text(json.dumps(entry, indent=1) + "\n")
    skipped = sorted(k for k, e in entries.items() if e.get("computed") is False)
    log.info("feature stages left out (enabled: auto, nothing reads them): %s", ", ".join(skipped) or "none")


if __name__ == "__main__":
    run_stage(main)
