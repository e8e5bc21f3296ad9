"""Bag-of-words over the per-frame action units of the `face` stage (Raju et al.: a
codebook of 100 over OpenFace AU intensities, as for the audio LLDs).

Reads:  data/features/face/<session>.frames.npy (the face stage's per-frame table,
        columns features.face_frames.FRAME_COLUMNS), so it runs after `features@face` as the
        `derived_features@face_boaw` stage, and never re-decodes a video.
Fit:    the AU columns of the train sessions' frames that show a face (at most
        `max_fit_frames`, an equal seeded share per session); codebook and normaliser from
        those frames only (features.bag_of_words, the code the audio bag uses).
Gives:  per window the (log) counts of the codewords chosen by its face frames (those whose
        time lies in the window: features/window_frames.py); a window without any face frame
        gets mask False and is counted (`windows_without_face`), its counts are 0 because no
        frame chose a word, not because a value was filled in.
"""
import numpy as np
import pandas as pd
import sklearn

from features import Extracted
from features.bag_of_words import bag_counts, fit_codebook, sample_rows
from features.face_frames import ACTION_UNITS, FRAME_COLUMNS
from features.window_frames import frame_ranges
from pipeline import layout

INPUTS = ("face_frames",)  # what the per-session cache key covers (pipeline/feature_cache.py)
AU_COLUMNS = [FRAME_COLUMNS.index(au) for au in ACTION_UNITS]


def versions(cfg: dict) -> dict:
    return {"scikit-learn": sklearn.__version__}


def feature_names(cfg: dict, fitted: dict) -> list[str]:
    return [f"face_boaw_{i}" for i in range(len(fitted["codebook"]))]


def face_frames(session) -> tuple[np.ndarray, np.ndarray]:
    """Times and AU values of the session's frames that show a face."""
    path = layout.FEATURES / "face" / f"{session.id}.frames.npy"
    if not path.exists():
        raise FileNotFoundError(f"session {session.id}: {path} missing: run features@face first")
    table = np.load(path)
    face = table[:, FRAME_COLUMNS.index("face")] > 0.5
    return table[face, FRAME_COLUMNS.index("time")], table[face][:, AU_COLUMNS]


def fit(train_sessions, windows: pd.DataFrame, cfg: dict) -> dict:
    if not train_sessions:
        raise ValueError("face_boaw: no train sessions to learn the codebook from")
    quota = max(1, -(-int(cfg["max_fit_frames"]) // len(train_sessions)))
    frames = np.vstack([sample_rows(face_frames(s)[1], quota, int(cfg["seed"]), k)
                        for k, s in enumerate(train_sessions)])
    fitted = fit_codebook(frames, int(cfg["codebook_size"]), int(cfg["seed"]), "face_boaw")
    return {**fitted, "columns": list(ACTION_UNITS), "fit_frames": len(frames),
            "train_sessions": [s.id for s in train_sessions]}


def extract(session, windows: pd.DataFrame, cfg: dict, fitted: dict) -> Extracted:
    if fitted is None:
        raise ValueError(f"session {session.id}: face_boaw needs a codebook fit on the train split")
    times, values = face_frames(session)
    ranges = frame_ranges(times, windows.start.to_numpy(float), windows.end.to_numpy(float))
    counts = bag_counts(values, ranges, fitted, int(cfg["assignments"]), bool(cfg["log_weighting"]))
    mask = ranges[:, 1] > ranges[:, 0]
    return Extracted({"features": counts, "mask": mask},
                     {"face_frames": int(len(times)), "windows_without_face": int((~mask).sum())})
