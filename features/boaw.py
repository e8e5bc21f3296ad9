"""Bag-of-audio-words (BoAW) over frame-level LLDs, openXBOW style (Schmitt & Schuller 2017).

Raju et al. (AVEC 2019) and the AVEC baselines quantise each LLD frame (eGeMAPS or MFCC,
see `features.lld`) against a codebook and describe a window by how often each codeword
was chosen by the frames centred in it:

- `fit` (train split only): z-normalise the train sessions' LLD frames (mean and std
  from those frames), sub-sample at most `max_fit_frames` of them (seeded) and learn a
  codebook of `codebook_size` words with k-means (scikit-learn, seeded);
- `extract` (any split): z-normalise with the train statistics, assign every frame to
  its `assignments` nearest codewords (openXBOW's soft "-a" assignment: each adds one
  count), sum the counts per window and, with `log_weighting`, take log(1 + tf).
"""
import logging
from concurrent.futures import ProcessPoolExecutor

import librosa
import numpy as np
import opensmile
import pandas as pd
import sklearn
from sklearn.cluster import KMeans

from features import Extracted
from features.audio_io import load_audio
from features.lld import Frames, egemaps_lld_frames, mfcc_frames, window_frame_ranges

log = logging.getLogger("features.boaw")

LLD_KINDS = ("egemaps", "mfcc")
N_MFCC = 13
DISTANCE_CHUNK_FRAMES = 20000  # bounds the (frames x codewords) distance matrix to ~16 MB for 100 words


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
    values = session_frames(session, cfg).values
    if len(values) <= quota:
        return values
    rng = np.random.default_rng([int(cfg["seed"]), position])
    return values[np.sort(rng.choice(len(values), size=quota, replace=False))]


def fit(train_sessions, windows: pd.DataFrame, cfg: dict) -> dict:
    """Normaliser and k-means codebook from the train sessions' frames only."""
    if not train_sessions:
        raise ValueError("boaw: no train sessions to learn the codebook from")
    # an equal share per session bounds memory while collecting, not only before k-means
    quota = max(1, -(-int(cfg["max_fit_frames"]) // len(train_sessions)))
    jobs = (train_sessions, [cfg] * len(train_sessions), [quota] * len(train_sessions), range(len(train_sessions)))
    workers = min(int(cfg.get("workers", 1)), len(train_sessions))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(sampled_train_frames, *jobs))
    else:
        parts = list(map(sampled_train_frames, *jobs))
    frames = np.vstack(parts).astype(np.float64)
    size = int(cfg["codebook_size"])
    if len(frames) < size:
        raise ValueError(f"boaw: {len(frames)} train frames are fewer than codebook_size {size}")
    mean, scale = frames.mean(axis=0), frames.std(axis=0)
    scale[scale == 0] = 1.0  # a constant LLD (e.g. F0 over unvoiced-only audio) stays 0 after centring
    kmeans = KMeans(n_clusters=size, n_init=1, random_state=int(cfg["seed"]))
    kmeans.fit((frames - mean) / scale)
    log.info("boaw: %d-word %s codebook from %d frames of %d train sessions", size, cfg["lld"],
             len(frames), len(train_sessions))
    return {"lld": cfg["lld"], "mean": mean.tolist(), "scale": scale.tolist(),
            "codebook": kmeans.cluster_centers_.tolist(), "fit_frames": len(frames),
            "train_sessions": [s.id for s in train_sessions]}


def nearest_codewords(standardised: np.ndarray, codebook: np.ndarray, assignments: int) -> np.ndarray:
    """(n_frames, assignments) indices of each frame's nearest codewords (Euclidean)."""
    if not 1 <= assignments <= len(codebook):
        raise ValueError(f"boaw: assignments must be in 1..{len(codebook)}, not {assignments}")
    chosen = []
    squared_norms = (codebook ** 2).sum(axis=1)
    for begin in range(0, len(standardised), DISTANCE_CHUNK_FRAMES):
        chunk = standardised[begin:begin + DISTANCE_CHUNK_FRAMES]
        # |x - c|^2 up to the per-frame constant |x|^2, which does not change the ranking
        distances = squared_norms[None, :] - 2.0 * chunk @ codebook.T
        chosen.append(np.argpartition(distances, assignments - 1, axis=1)[:, :assignments])
    return np.vstack(chosen)


def window_word_counts(words: np.ndarray, ranges: np.ndarray, codebook_size: int) -> np.ndarray:
    """(n_windows, codebook_size) counts of the words chosen by each window's frames."""
    return np.stack([np.bincount(words[first:last].ravel(), minlength=codebook_size)
                     for first, last in ranges]).astype(np.float32)


def extract(session, windows: pd.DataFrame, cfg: dict, fitted: dict) -> Extracted:
    if fitted is None or fitted.get("lld") != cfg["lld"]:
        raise ValueError(f"session {session.id}: boaw needs a codebook fit on {cfg['lld']} frames "
                         f"(fitted: {None if fitted is None else fitted.get('lld')})")
    frames = session_frames(session, cfg)
    codebook = np.asarray(fitted["codebook"], dtype=np.float64)
    standardised = (frames.values - np.asarray(fitted["mean"])) / np.asarray(fitted["scale"])
    words = nearest_codewords(standardised, codebook, int(cfg["assignments"]))
    ranges = window_frame_ranges(frames.times, windows, session.id)
    counts = window_word_counts(words, ranges, len(codebook))
    if cfg["log_weighting"]:
        counts = np.log1p(counts)
    return Extracted({"features": counts}, {"frames": len(frames.times)})
