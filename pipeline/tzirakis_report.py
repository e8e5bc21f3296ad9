"""Tzirakis et al.'s section of reports/report.md (pipeline/report.py calls `tzirakis_section`):
their unimodal results (Tables 3-5) and fusions (Table 6, a development table; Table 7 for the
proposed model's test numbers) beside ours, and the checks that learning is real (the fusion
chosen on dev against each unimodal network, the fusions trained otherwise against the strongest
of them; the raw-audio network's arousal).

Our numbers come from the gathered suite reports/suites/tzirakis.json (mean +- sd over seeds;
its `audio`, `text` and `visual` rows are the unimodal runs the multimodal experiments start
from) and, when `model` is a Tzirakis model, from the train/evaluate run. Ours are test CCCs
on the synthetic corpus's test split, with the mean dev CCC of arousal and valence (what the
dev selection reads) beside them.
"""
import json

import numpy as np

from pipeline import layout
from pipeline.paper_results import TZIRAKIS_FUSION_DEV, TZIRAKIS_MULTIMODAL, TZIRAKIS_UNIMODAL

SUITE = layout.REPORTS / "suites" / "tzirakis.json"
DIMENSIONS = ("arousal", "valence")
UNIMODAL = ("audio", "text", "visual")
AUDIO_AROUSAL_FLOOR = 0.4  # issue: the raw-audio network alone reaches arousal CCC >= 0.4


def _value(run: dict, key: str) -> str:
    if key not in run["mean"]:
        return "-"
    sd = run["sd"].get(key)
    return f"{run['mean'][key]:.3f}" + ("" if sd is None else f" +- {sd:.3f}")


def _ours(run: dict) -> list[str]:
    """A row's columns of ours: the seeds behind it, test CCC per dimension, mean dev CCC."""
    return [str(len(run["seeds"])) if run.get("seeds") else "-", *(_value(run, f"{d}.ccc") for d in DIMENSIONS),
            _value(run, "dev_score")]


def _mean_test(metrics: dict) -> float:
    return float(np.mean([metrics[d]["ccc"] for d in DIMENSIONS]))


def _pair(values: tuple[float, float]) -> list[str]:
    return [f"{v:.3f}" for v in values]


def _mean_over_seeds(run: dict) -> float:
    """The mean over a run's seeds of its mean test CCC over arousal and valence."""
    return float(np.mean([_mean_test(m) for m in run["seeds"].values()]))


def learning_checks(runs: dict) -> list[str]:
    fusions = {name: r for name, r in runs.items() if name in TZIRAKIS_FUSION_DEV and r["seeds"]}
    alone = {name: _mean_over_seeds(runs[name]) for name in UNIMODAL if name in runs and runs[name]["seeds"]}
    lines = []
    if fusions:
        chosen = max(fusions, key=lambda n: fusions[n]["mean"].get("dev_score", float("-inf")))
        ours = _mean_over_seeds(fusions[chosen])
        lines.append(f"- Chosen on dev: **{chosen}** (mean dev CCC {fusions[chosen]['mean'].get('dev_score', float('nan')):.3f}); "
                     f"its mean test CCC over arousal and valence: {ours:.3f} over {len(fusions[chosen]['seeds'])} seed(s).")
        for name, score in alone.items():
            lines.append(f"- The {name} network alone: {score:.3f}: the fused model is "
                         f"{'above' if ours > score else 'NOT above'} it.")
    if alone:  # the fusions trained otherwise (longer, another learning rate), each against the strongest network
        strongest = max(alone, key=alone.get)
        for name, run in runs.items():
            if (any(name.startswith(f"{f}_") for f in TZIRAKIS_FUSION_DEV) and "no_video" not in name
                    and run["seeds"]):
                ours = _mean_over_seeds(run)
                lines.append(f"- {name}: mean test CCC {ours:.3f} over {len(run['seeds'])} seed(s): "
                             f"{'above' if ours > alone[strongest] else 'NOT above'} the strongest network "
                             f"alone ({strongest}, {alone[strongest]:.3f}).")
    if "audio" in runs and "arousal.ccc" in runs["audio"]["mean"]:
        arousal = runs["audio"]["mean"]["arousal.ccc"]
        lines.append(f"- The raw-audio network's arousal CCC: {arousal:.3f} "
                     f"({'at least' if arousal >= AUDIO_AROUSAL_FLOOR else 'BELOW'} {AUDIO_AROUSAL_FLOOR}).")
    return lines + ([""] if lines else [])


def tzirakis_section(selected: dict) -> list[str]:
    """Tables 3-6 beside ours; [] when there is no Tzirakis result."""
    suite = json.loads(SUITE.read_text()) if SUITE.exists() else {}
    runs = {name: r for name, r in suite.get("runs", {}).items() if r["seeds"]}
    if str(selected.get("model", "")).startswith("tzirakis_"):
        name = f"model run ({selected['model']})"
        runs[name] = {"seeds": {"-": selected}, "mean": {f"{d}.ccc": selected[d]["ccc"] for d in DIMENSIONS} |
                      {"dev_score": selected.get("dev_score", float("nan"))}, "sd": {}}
    if not runs:
        return []
    header = ["network", "seeds", "ours arousal", "ours valence", "ours mean dev CCC", "paper arousal",
              "paper valence", "paper set"]
    rows = []
    for name in UNIMODAL:
        run = runs.get(name, {"mean": {}, "sd": {}})
        paper = TZIRAKIS_UNIMODAL[name]
        rows.append([f"{name} alone", *_ours(run),
                     *(f"{t:.3f} ({v:.3f})" for t, v in zip(paper["test"], paper["dev"])), "test (dev), Tables 3-5"])
    for name, paper in TZIRAKIS_FUSION_DEV.items():
        run = runs.get(name, {"mean": {}, "sd": {}})
        rows.append([f"fusion: {name}", *_ours(run), *_pair(paper), "dev, Table 6"])
    for name, run in runs.items():  # the suite's ablations (e.g. a fusion without video), a model run
        if name not in UNIMODAL and name not in TZIRAKIS_FUSION_DEV:
            rows.append([name, *_ours(run), "-", "-", "-"])
    proposed = [f"{t:.3f} ({v:.3f})" for t, v in zip(TZIRAKIS_MULTIMODAL["test"], TZIRAKIS_MULTIMODAL["dev"])]
    return ["## Tzirakis et al. (SEWA): end-to-end text, raw-audio and visual networks, CCC", "",
            "Paper: SEWA (AVEC 2017 partitions), 10 Hz labels; unimodal rows are their Tables 3-5 (test, dev in "
            "parentheses), fusion rows their Table 6 (development set); their proposed multimodal model (cross-modal "
            f"hierarchical self-attention, Table 7) reaches {proposed[0]} arousal and {proposed[1]} valence on test "
            "(dev). Ours: the synthetic corpus's 100 ms steps (unit `tzirakis`), test CCC over the concatenated test "
            "steps, mean +- sd over the suite's seeds (a dash: not run); our text input is all-MiniLM-L6-v2, not XLNet, "
            "and our visual network a CNN on eye-aligned face crops (`visual_backbone`: small, from scratch, or "
            "EfficientNet-Lite0 from ImageNet), not HRNet.", "",
            "| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows),
            "", *learning_checks(runs)]
