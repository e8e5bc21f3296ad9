"""Bag-of-words over frame vectors, openXBOW style (Schmitt & Schuller 2017): the one
implementation behind the audio (boaw, over LLD frames) and face (face_boaw, over
per-frame action units) bags.

- `fit_codebook` (train frames only): z-normalise with the frames' own mean and std and
  learn `size` codewords with k-means (scikit-learn, seeded);
- `bag_counts` (any split): z-normalise with the train statistics, give every frame to
  its `assignments` nearest codewords (openXBOW's soft "-a" assignment: each adds one
  count), sum the counts per window and, with `log_weighting`, take log(1 + tf).
"""
import numpy as np
from sklearn.cluster import KMeans

DISTANCE_CHUNK_FRAMES = 20000  # bounds the (frames x codewords) distance matrix to ~16 MB for 100 words


def fit_codebook(frames: np.ndarray, size: int, seed: int, what: str) -> dict:
    """{"mean", "scale", "codebook"} (JSON-ready lists) from (n_frames, dims) train frames."""
    frames = np.asarray(frames, dtype=np.float64)
    if len(frames) < size:
        raise ValueError(f"{what}: {len(frames)} train frames are fewer than codebook_size {size}")
    mean, scale = frames.mean(axis=0), frames.std(axis=0)
    scale[scale == 0] = 1.0  # a constant column (e.g. F0 over unvoiced-only audio) stays 0 after centring
    kmeans = KMeans(n_clusters=size, n_init=1, random_state=seed)
    kmeans.fit((frames - mean) / scale)
    return {"mean": mean.tolist(), "scale": scale.tolist(), "codebook": kmeans.cluster_centers_.tolist()}


def sample_rows(values: np.ndarray, quota: int, seed: int, position: int) -> np.ndarray:
    """At most `quota` rows, drawn with a seed fixed by the session's position (bounds memory)."""
    if len(values) <= quota:
        return values
    rng = np.random.default_rng([seed, position])
    return values[np.sort(rng.choice(len(values), size=quota, replace=False))]


def nearest_codewords(standardised: np.ndarray, codebook: np.ndarray, assignments: int) -> np.ndarray:
    """(n_frames, assignments) indices of each frame's nearest codewords (Euclidean)."""
    if not 1 <= assignments <= len(codebook):
        raise ValueError(f"assignments must be in 1..{len(codebook)}, not {assignments}")
    chosen = []
    squared_norms = (codebook ** 2).sum(axis=1)
    for begin in range(0, len(standardised), DISTANCE_CHUNK_FRAMES):
        chunk = standardised[begin:begin + DISTANCE_CHUNK_FRAMES]
        # |x - c|^2 up to the per-frame constant |x|^2, which does not change the ranking
        distances = squared_norms[None, :] - 2.0 * chunk @ codebook.T
        chosen.append(np.argpartition(distances, assignments - 1, axis=1)[:, :assignments])
    return np.vstack(chosen) if chosen else np.empty((0, assignments), dtype=np.int64)


def window_word_counts(words: np.ndarray, ranges: np.ndarray, codebook_size: int) -> np.ndarray:
    """(n_windows, codebook_size) counts of the words chosen by each window's frames."""
    return np.stack([np.bincount(words[first:last].ravel(), minlength=codebook_size)
                     for first, last in ranges]).astype(np.float32)


def bag_counts(values: np.ndarray, ranges: np.ndarray, fitted: dict, assignments: int,
               log_weighting: bool) -> np.ndarray:
    """(n_windows, codebook_size) bag of words of the frames [first, last) of each window."""
    codebook = np.asarray(fitted["codebook"], dtype=np.float64)
    standardised = (np.asarray(values, dtype=np.float64) - np.asarray(fitted["mean"])) / np.asarray(fitted["scale"])
    counts = window_word_counts(nearest_codewords(standardised, codebook, assignments), ranges, len(codebook))
    return np.log1p(counts) if log_weighting else counts
