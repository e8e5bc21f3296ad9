"""Bag-of-audio-words (BoAW) over frame-level LLDs, openXBOW style (Schmitt & Schuller 2017).

Raju et al. (AVEC 2019) and the AVEC baselines quantise each LLD frame (eGeMAPS or MFCC,
see `features.lld`) against a codebook and describe a window by how often each codeword
was chosen by the frames centred in it. `fit` (train split only) sub-samples at most
`max_fit_frames` of the train sessions' frames (seeded) and learns the codebook;
`extract` counts per window. Both are `features.bag_of_words`, shared with face_boaw.
"""
import logging

import librosa
import numpy as np
import opensmile
import pandas as pd
import sklearn

from features import Extracted
from features.audio_io import load_audio
from features.bag_of_words import bag_counts, fit_codebook, sample_rows
from features.lld import Frames, egemaps_lld_frames, mfcc_frames, window_frame_ranges
from features.worker_pool import worker_pool

log = logging.getLogger("features.boaw")

LLD_KINDS = ("egemaps", "mfcc")
N_MFCC = 13


INPUTS = ("audio",)  # what the per-session cache key covers (pipeline/feature_cache.py)


def versions(cfg: dict) -> dict:
    tool = {"egemaps": {"opensmile": opensmile.__version__}, "mfcc": {"librosa": librosa.__version__}}
    return {**tool[cfg["lld"]], "scikit-learn": sklearn.__version__}


def feature_names(cfg: dict, fitted: dict) -> list[str]:
    return [f"boaw_{fitted['lld']}_{i}" for i in range(len(fitted["codebook"]))]


def session_frames(session, cfg: dict) -> Frames:
    """The LLD frames named by cfg["lld"] for one session; errors name the session."""
    if cfg["lld"] not in LLD_KINDS:
        raise ValueError(f"boaw: lld must be one of {LLD_KINDS}, not {cfg['lld']!r}")
    rate = int(cfg["sample_rate"])
    audio = load_audio(session, rate)
    try:
        return egemaps_lld_frames(audio, rate) if cfg["lld"] == "egemaps" else mfcc_frames(audio, rate, N_MFCC)
    except ValueError as err:
        raise ValueError(f"session {session.id}: {err}") from err


def sampled_train_frames(session, cfg: dict, quota: int, position: int) -> np.ndarray:
    """At most `quota` frames of one train session, drawn with a seed fixed by its position."""
    return sample_rows(session_frames(session, cfg).values, quota, int(cfg["seed"]), position)


def fit(train_sessions, windows: pd.DataFrame, cfg: dict) -> dict:
    """Normaliser and k-means codebook from the train sessions' frames only."""
    if not train_sessions:
        raise ValueError("boaw: no train sessions to learn the codebook from")
    # an equal share per session bounds memory while collecting, not only before k-means
    quota = max(1, -(-int(cfg["max_fit_frames"]) // len(train_sessions)))
    jobs = (train_sessions, [cfg] * len(train_sessions), [quota] * len(train_sessions), range(len(train_sessions)))
    workers = min(int(cfg.get("workers", 1)), len(train_sessions))
    if workers > 1:
        with worker_pool(workers) as pool:
            parts = list(pool.map(sampled_train_frames, *jobs))
    else:
        parts = list(map(sampled_train_frames, *jobs))
    frames = np.vstack(parts)
    fitted = fit_codebook(frames, int(cfg["codebook_size"]), int(cfg["seed"]), "boaw")
    log.info("boaw: %d-word %s codebook from %d frames of %d train sessions", len(fitted["codebook"]), cfg["lld"],
             len(frames), len(train_sessions))
    return {"lld": cfg["lld"], **fitted, "fit_frames": len(frames), "train_sessions": [s.id for s in train_sessions]}


def extract(session, windows: pd.DataFrame, cfg: dict, fitted: dict) -> Extracted:
    if fitted is None or fitted.get("lld") != cfg["lld"]:
        raise ValueError(f"session {session.id}: boaw needs a codebook fit on {cfg['lld']} frames "
                         f"(fitted: {None if fitted is None else fitted.get('lld')})")
    frames = session_frames(session, cfg)
    ranges = window_frame_ranges(frames.times, windows, session.id)
    counts = bag_counts(frames.values, ranges, fitted, int(cfg["assignments"]), bool(cfg["log_weighting"]))
    return Extracted({"features": counts}, {"frames": len(frames.times)})
