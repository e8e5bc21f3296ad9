"""Frames aligned to words by weighted averaging (the CMU Multimodal SDK's alignment, which
Williams et al. use to put audio and video on the words' time base).

A frame with centre c at hop h covers [c - h/2, c + h/2); its weight for a word [start, end)
is the length of their overlap. A word's aligned vector is the weighted mean of the frames
that overlap it, so a frame straddling two words counts in both, by its overlap with each.
The overlap is one function, `overlap_seconds`, for every use: the sparse weights here and
Xu et al.'s hard alignment (models/xu.py), which averages speech-encoder states over each
word's frames with the same weights, in torch.
"""
import numpy as np
from scipy import sparse


def frame_hop(times: np.ndarray) -> float:
    """The hop of regularly spaced frame centres (their median spacing)."""
    if len(times) < 2:
        raise ValueError("at least two frames are needed to know their hop")
    return float(np.median(np.diff(times)))


def overlap_seconds(centres, hop: float, start, end, xp=np):
    """Seconds of overlap (>= 0) between frames [centre - hop/2, centre + hop/2) and words
    [start, end), broadcast; `xp`: numpy or torch (both have minimum, maximum and clip)."""
    overlap = xp.minimum(end, centres + hop / 2) - xp.maximum(start, centres - hop / 2)
    return overlap.clip(min=0)


def overlap_weights(frame_times: np.ndarray, hop: float, word_times: np.ndarray) -> sparse.csr_matrix:
    """(W, N) sparse seconds of overlap between each word [start, end) and each frame
    [centre - hop/2, centre + hop/2); `frame_times` sorted. Only the frames near a word are
    looked at, so an hour of 100 Hz frames costs no (words x frames) dense matrix."""
    first = np.searchsorted(frame_times, word_times[:, 0] - hop / 2, side="left")
    last = np.searchsorted(frame_times, word_times[:, 1] + hop / 2, side="right")
    rows, cols, values = [], [], []
    for w, (a, b) in enumerate(zip(first, last)):
        overlap = overlap_seconds(frame_times[a:b], hop, word_times[w, 0], word_times[w, 1])
        keep = overlap > 0
        rows.append(np.full(int(keep.sum()), w))
        cols.append(np.arange(a, b)[keep])
        values.append(overlap[keep])
    return sparse.csr_matrix((np.concatenate(values or [np.zeros(0)]),
                              (np.concatenate(rows or [np.zeros(0, int)]), np.concatenate(cols or [np.zeros(0, int)]))),
                             shape=(len(word_times), len(frame_times)))


def aligned_to_words(frames: np.ndarray, frame_times: np.ndarray, word_times: np.ndarray,
                     valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """((W, D) overlap-weighted means of the valid frames per word, (W,) whether any valid frame
    overlaps the word). `valid`: (N,) frames to use (e.g. frames where a face was found); a word
    without one gets zeros and False."""
    weights = overlap_weights(frame_times, frame_hop(frame_times), word_times)
    if valid is not None:
        weights = weights @ sparse.diags(valid.astype(np.float64))
    total = np.asarray(weights.sum(axis=1)).ravel()
    found = total > 0
    sums = weights @ frames.astype(np.float64)
    means = np.zeros((len(word_times), frames.shape[1]), np.float64)
    means[found] = sums[found] / total[found, None]
    return means.astype(np.float32), found
