"""Stage `feature_report`: one table of every feature extractor's output.

Reads:  data/features/<extractor>/meta.json
Writes: reports/features.json: per extractor dims, shape, sessions, seconds, x real time,
        tool versions, config hash, and the OOV rate per split where words are counted
Run:    python -m pipeline.feature_report
"""
import json
import logging

from pipeline import layout
from pipeline.config import run_stage

log = logging.getLogger("feature_report")
KEPT = ("dims", "shape", "sessions", "windows", "seconds", "x_realtime", "versions", "config_hash", "fit_on")


def summarise(meta: dict) -> dict:
    entry = {k: meta[k] for k in KEPT}
    rates = {split: round(c["oov_words"] / c["words"], 4) for split, c in meta["counts"].items()
             if c.get("words")}
    if rates:
        entry["oov_rate"] = rates
    if any(c.get("truncated_windows") for c in meta["counts"].values()):
        entry["truncated_windows"] = {s: c["truncated_windows"] for s, c in meta["counts"].items()}
    return entry


def main() -> None:
    metas = sorted(layout.FEATURES.glob("*/meta.json"))
    if not metas:
        raise FileNotFoundError(f"no {layout.FEATURES}/*/meta.json: run the features stages first")
    report = {path.parent.name: summarise(json.loads(path.read_text())) for path in metas}
    layout.FEATURES_REPORT.write_text(json.dumps(report, indent=2) + "\n")
    log.info("wrote %s for %s", layout.FEATURES_REPORT, ", ".join(report))


if __name__ == "__main__":
    run_stage(main)
