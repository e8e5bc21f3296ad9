"""Which frames fall in a window: the project's one rule, for every extractor that summarises
frames per window or unit (the audio LLD summaries and bag of words, Deep Spectrum, frame34,
GloVe over recognised words, the face stages and the face bag of words) and for the frame
sequences that models read (pipeline/inner_sequences.py).

A frame belongs to the window [start, end) when start <= time < end, `time` being the frame's
time (the centre of an audio frame, i / fps for a video frame, the midpoint of a word). A time
up to TOLERANCE_S before a boundary counts as on it: the frame belongs to the window that starts
there, not to the one that ends there. Frame times and window boundaries are computed apart
(i / fps, the mean of openSMILE's frame start and end, float32 tables on disk, windows written
to 5 decimals), so a frame that is on a boundary can land a few ulp either side of it: the
float32 time of frame 105 at 25 fps is 4.19999981, 2e-7 before a window that starts at 4.2.
Without the tolerance such a frame would fall in one window or the other by float error. No
frame or word is a microsecond long, so the tolerance moves no frame that is not on a boundary.
"""
import numpy as np

TOLERANCE_S = 1e-6


def frame_ranges(times: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(n, 2) int64 index ranges [first, last) of the frames (ascending `times`, s) of each window:
    those with start <= time < end, a time up to TOLERANCE_S before a boundary counting as on it."""
    times = np.asarray(times, dtype=np.float64)
    first = np.searchsorted(times, np.asarray(starts, dtype=np.float64) - TOLERANCE_S, side="left")
    last = np.searchsorted(times, np.asarray(ends, dtype=np.float64) - TOLERANCE_S, side="left")
    return np.stack([first, last], axis=1).astype(np.int64)
