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
the file says nothing about which run reads it (that would re-run the stage for nothing). The
feature stages read the file (pipeline/features.py `auto_skipped`) but do not import this module:
a change to how demand is decided re-runs a feature stage only when its answer changes.
"""
import json
import logging

from pipeline import layout
from pipeline.config import load_params, run_stage
from pipeline.model_inputs import feature_stages
from pipeline.params_check import check
from pipeline.repro_runs import repro_runs, run_entry

log = logging.getLogger("feature_demand")
AUTO = "auto"


def stages_read(params: dict) -> set[str]:
    """Every feature stage the runs of this repro (pipeline/repro_runs.py) read: their inputs (a
    run's own `features`, else its model's), the source of each derived stage among them, and so on."""
    read = set()
    for run in repro_runs(params).values():
        read.update(feature_stages(run_entry(params, run).get("features") or []))
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


def main() -> None:
    params = load_params()
    check(params, "model", "benchmark", "pretrain",
          *(f"{head}.{key}" for head in ("features", "derived_features") for key in params.get(head) or {}))
    layout.FEATURE_DEMAND.mkdir(parents=True, exist_ok=True)
    entries = demand(params)
    for stale in layout.FEATURE_DEMAND.glob("*.json"):  # a feature key removed from params.yaml
        if stale.stem not in entries:
            stale.unlink()
    for key, entry in entries.items():
        layout.feature_demand_file(key).write_text(json.dumps(entry, indent=1) + "\n")
    skipped = sorted(k for k, e in entries.items() if e.get("computed") is False)
    log.info("feature stages left out (enabled: auto, nothing reads them): %s", ", ".join(skipped) or "none")


if __name__ == "__main__":
    run_stage(main)
