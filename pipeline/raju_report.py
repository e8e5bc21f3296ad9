"""Raju et al.'s section of reports/report.md (pipeline/report.py calls `raju_section`): their
Table I (CCC of arousal, valence and liking per culture) beside ours, and the checks that
learning is real (the model chosen on dev against a plain BLSTM on the same inputs; the
chosen model without its video stream).

Our columns come from the `model` run (dvc exp run -S model=raju_aed), from benchmark runs of
a Raju model, and from the gathered suite reports/suites/raju.json (mean +- sd over seeds).
The synthetic corpus's speaker groups stand in for the paper's cultures: its first group (in
name order) sits beside German, the second beside Hungarian; that pairing is arbitrary.
"""
import json

import numpy as np

from pipeline import layout
from pipeline.paper_results import RAJU_CCC, RAJU_COLUMNS, RAJU_METHOD

DIMENSIONS = ("arousal", "valence", "liking")
PAPER_GROUPS = ("German", "Hungarian")
SUITE = layout.REPORTS / "suites" / "raju.json"


def _ccc(metrics: dict, dim: str, group: str | None) -> float | None:
    node = metrics if group is None else (metrics.get("groups") or {}).get(group, {})
    value = (node.get(dim) or {}).get("ccc")
    return None if value is None else float(value)


def _suite_value(run: dict, dim: str, group: str | None) -> str:
    key = f"{dim}.ccc" if group is None else f"groups.{group}.{dim}.ccc"
    if key not in run["mean"]:
        return "-"
    sd = run["sd"].get(key)
    return f"{run['mean'][key]:.3f}" + ("" if sd is None else f" +- {sd:.3f}")


def mean_ccc(metrics: dict) -> float:
    """The mean test CCC over arousal, valence and liking (what the issue compares)."""
    return float(np.mean([_ccc(metrics, d, None) for d in DIMENSIONS]))


def _groups(metric_runs: list[dict], suite: dict | None) -> list[str]:
    names = {g for m in metric_runs for g in (m.get("groups") or {})}
    for run in (suite or {}).get("runs", {}).values():
        names |= {k.split(".")[1] for k in run["mean"] if k.startswith("groups.")}
    return sorted(names)


def _mean_sd(values: list[float]) -> str:
    sd = f" +- {np.std(values, ddof=1):.3f}" if len(values) > 1 else ""
    return f"{np.mean(values):.3f}{sd}"


def learning_checks(suite: dict) -> list[str]:
    """The Raju model chosen on dev (mean dev CCC over seeds) against the suite's `blstm` run, and
    against its own run without video (`<run>_no_video`), each over the suite's seeds."""
    runs = suite["runs"]
    candidates = {name: r for name, r in runs.items()
                  if r["params"].get("model") in RAJU_METHOD and name in ("eaf", "aed", "emafn") and r["seeds"]}
    if not candidates:
        return []
    chosen = max(candidates, key=lambda n: runs[n]["mean"].get("dev_score", float("-inf")))
    per_seed = {name: [mean_ccc(m) for m in r["seeds"].values()] for name, r in runs.items() if r["seeds"]}
    lines = [f"- Chosen on dev (highest mean dev CCC over seeds): **{RAJU_METHOD[runs[chosen]['params']['model']]}** "
             f"(dev {runs[chosen]['mean'].get('dev_score', float('nan')):.3f}); its test CCC averaged over arousal, "
             f"valence and liking: {_mean_sd(per_seed[chosen])}."]
    if "blstm" in per_seed:
        better = np.mean(per_seed[chosen]) > np.mean(per_seed["blstm"])
        lines.append(f"- A plain BLSTM on the same streams concatenated (`blstm`): {_mean_sd(per_seed['blstm'])}: "
                     f"the chosen model is {'above' if better else 'NOT above'} it.")
    ablation = f"{chosen}_no_video"
    if ablation in runs and runs[ablation]["seeds"]:
        full = [_ccc(m, "valence", None) for m in runs[chosen]["seeds"].values()]
        without = [_ccc(m, "valence", None) for m in runs[ablation]["seeds"].values()]
        drop, sd = np.mean(full) - np.mean(without), np.std(full, ddof=1) if len(full) > 1 else 0.0
        lines.append(f"- Without the video stream (`{ablation}`) valence CCC is {_mean_sd(without)} against "
                     f"{_mean_sd(full)}: a drop of {drop:.3f}, {'more' if drop > sd else 'NOT more'} than the "
                     f"seed sd ({sd:.3f}).")
    return lines + [""]


def raju_section(runs: list[dict], selected: dict) -> list[str]:
    """Table I beside ours, for every Raju run there is; [] when there is none."""
    metric_runs = [m for m in runs if "skipped" not in m and m.get("model") in RAJU_METHOD]
    if selected.get("model") in RAJU_METHOD:
        metric_runs.append({**selected, "run": "model (train/evaluate)"})
    suite = json.loads(SUITE.read_text()) if SUITE.exists() else None
    suite_runs = {name: r for name, r in (suite or {}).get("runs", {}).items() if r["seeds"]}
    if not metric_runs and not suite_runs:
        return []
    groups = _groups(metric_runs, suite)
    ours = [f"{RAJU_METHOD[m['model']]} ({m['run']})" for m in metric_runs]
    ours += [f"raju/{name} ({len(r['seeds'])} seeds)" for name, r in suite_runs.items()]
    header = ["dimension", "group (paper's culture)", *ours, *(f"paper {c}" for c in RAJU_COLUMNS)]
    rows = []
    for dim in DIMENSIONS:
        for k, group in enumerate([*groups, None]):
            paper_group = "German + Hungarian" if group is None else (
                PAPER_GROUPS[k] if len(groups) == 2 else None)
            label = "all" if group is None else group
            cells = [("-" if (v := _ccc(m, dim, group)) is None else f"{v:.3f}") for m in metric_runs]
            cells += [_suite_value(r, dim, group) for r in suite_runs.values()]
            paper = RAJU_CCC.get((dim, paper_group), ("-",) * len(RAJU_COLUMNS))
            cells += [p if isinstance(p, str) else f"{p:.3f}" for p in paper]
            rows.append(f"| {dim} | {label} ({paper_group or '-'}) | " + " | ".join(cells) + " |")
    return ["## Raju et al. (AVEC 2019): arousal, valence and liking, CCC per culture", "",
            "Paper: Table I, trained on AVEC 2019's train partition and tested on its development partition "
            "(German and Hungarian). Ours: the synthetic corpus's 4 s windows at a 100 ms hop (unit `raju`), test "
            "split, CCC over the concatenated test windows; suite columns give mean +- sd over seeds. Our speaker "
            "groups stand beside the paper's cultures in name order, an arbitrary pairing.", "",
            "| " + " | ".join(header) + " |", "|" + "---|" * len(header), *rows, "",
            *(learning_checks(suite) if suite else [])]
