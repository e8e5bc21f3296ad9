"""Stage `feature_report`: one table of every feature extractor's output.

Reads:  data/features/<extractor>/meta.json; for the face check also data/windows and the
        corpus's latent tracks (generated corpora only)
Writes: reports/features.json: per extractor dims, shape, sessions, tool versions, config
        hash, the OOV rate per split where words are counted, masked windows where a modality
        is missing, the sessions without any face (face stages with `on_no_face: mask`), and
        for `face` the Pearson r of its AUs with the generator's latent valence/arousal over
        the test split. A function of the feature outputs only: the stages' speeds and cache
        counts are in data/run_log/ (`python -m benchmarks.stage_speeds`)
Run:    python -m pipeline.feature_report
"""
import json
import logging

import numpy as np
import pandas as pd

from pipeline import layout
from pipeline.config import run_stage
from pipeline.sessions import load_corpus
from pipeline.window import aggregate_labels

log = logging.getLogger("feature_report")
KEPT = ("dims", "shape", "sessions", "windows", "versions", "config_hash", "fit_on")


def summarise(meta: dict) -> dict:
    if "skipped" in meta:
        return {"skipped": meta["skipped"]}
    entry = {k: meta[k] for k in KEPT}
    if "unit" in meta:  # a unit_features stage: its rows are that unit's, not the default windows
        entry["unit"] = meta["unit"]
    rates = {split: round(c["oov_words"] / c["words"], 4) for split, c in meta["counts"].items()
             if c.get("words")}
    if rates:
        entry["oov_rate"] = rates
    for key in ("truncated_windows", "windows_without_face", "windows_beyond_video"):
        if any(key in c for c in meta["counts"].values()):
            entry[key] = {s: c.get(key, 0) for s, c in meta["counts"].items()}
    if any("sessions_without_face" in c for c in meta["counts"].values()):  # masked whole (on_no_face: mask)
        entry["sessions_without_face"] = sorted(s for c in meta["counts"].values()
                                                for s in c.get("sessions_without_face", []))
    if all("frames_with_face" in c for c in meta["counts"].values()) and meta["counts"]:
        # face: every decoded frame; face_deep: the frames it sampled
        frames = sum(c.get("frames", c.get("frames_sampled", 0)) for c in meta["counts"].values())
        entry["face_found_rate"] = round(sum(c["frames_with_face"] for c in meta["counts"].values()) / frames, 4)
    return entry


# AU proxies and the latent dimension the generator drives them with (synthetic/face_video.py)
FACE_CHECKS = {"AU12_mean": "valence", "AU01_mean": "arousal", "AU02_mean": "arousal", "AU05_mean": "arousal"}


def face_latent_correlations(split: str = "test") -> dict | None:
    """Pearson r over the split's unmasked windows between face AU means and the latent state
    averaged over each window; None when the corpus has no latent tracks (real corpora)."""
    names = json.loads((layout.FEATURES / "face" / "meta.json").read_text())["feature_names"]
    windows = pd.read_csv(layout.WINDOWS / "windows.csv")
    au, latent = {k: [] for k in FACE_CHECKS}, {k: [] for k in FACE_CHECKS}
    sessions = [s for s in load_corpus().split(split) if s.files.get("latent")]
    if not sessions:
        return None
    for session in sessions:
        rows = windows[windows.session == session.id]
        features = np.load(layout.FEATURES / "face" / f"{session.id}.npy")
        mask = np.load(layout.FEATURES / "face" / f"{session.id}.mask.npy")
        # the latent state over each window [start, end): the window stage's own aggregation, unshifted
        dims = sorted(set(FACE_CHECKS.values()))
        means = aggregate_labels(pd.read_csv(session.path("latent")), dims, rows.start.to_numpy(),
                                 float((rows.end - rows.start).iloc[0]), 0.0, "mean")
        for column, dim in FACE_CHECKS.items():
            au[column] += list(features[mask, names.index(column)])
            latent[column] += list(means[mask, dims.index(dim)])
    return {f"{column}~{dim}": round(float(np.corrcoef(au[column], latent[column])[0, 1]), 3)
            for column, dim in FACE_CHECKS.items()}


def main() -> None:
    metas = sorted(layout.FEATURES.glob("*/meta.json"))
    if not metas:
        raise FileNotFoundError(f"no {layout.FEATURES}/*/meta.json: run the features stages first")
    report = {path.parent.name: summarise(json.loads(path.read_text())) for path in metas}
    if "face" in report and "skipped" not in report["face"]:
        report["face"]["latent_pearson_r_test"] = face_latent_correlations()
    layout.FEATURES_REPORT.write_text(json.dumps(report, indent=2) + "\n")
    log.info("wrote %s for %s", layout.FEATURES_REPORT, ", ".join(report))


if __name__ == "__main__":
    run_stage(main)
