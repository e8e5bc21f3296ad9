"""Sequences inside a unit: the frames or the words of each unit of a session.

A named input `{stage: frame34, per: frame}` gives a model, for every unit, the frames of
that stage whose centre lies in the unit's [start, end) (features/lld.py's rule, as every
frame-level summary of the project uses); `{stage: glove, per: word}` gives the unit's words
(its `word_first`/`word_last` rows of the alignment, the GloVe matrices' rule) with their
start and end times. A session's frames or words are kept once, with each unit's index
range into them, and padded only when a batch is built: overlapping windows (a 5 s window
every 0.5 s holds 500 frames, each shared by ten windows) are never copied for a whole
corpus.

Stages that keep their frames write `<session>.frames.npy` (N, D) and `<session>.frame_times.npy`
(N,) centre times (frame34, egemaps_lld, mfcc); GloVe writes `<session>.words.npy` (W, D) and
`<session>.word_times.npy` (W, 2).
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.lld import frame_ranges
from pipeline import layout

PER = ("frame", "word")


@dataclass
class InnerSequence:
    """The frames or words of a session (`values`, `times`) and each unit's [first, last) range."""
    values: np.ndarray  # (N, D) float32
    times: np.ndarray  # (N,) frame centres or (N, 2) word start/end, seconds
    ranges: np.ndarray  # (T, 2) int

    def __len__(self) -> int:
        return len(self.ranges)

    def __getitem__(self, units: slice) -> "InnerSequence":
        return InnerSequence(self.values, self.times, self.ranges[units])

    @property
    def lengths(self) -> np.ndarray:
        return self.ranges[:, 1] - self.ranges[:, 0]

    def covered(self) -> np.ndarray:
        """The values inside at least one unit, each once."""
        inside = np.zeros(len(self.values), bool)
        for a, b in self.ranges:
            inside[a:b] = True
        return self.values[inside]

    def with_values(self, values: np.ndarray) -> "InnerSequence":
        return InnerSequence(values, self.times, self.ranges)

    def padded(self, width: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(T, F, D) values, (T, F) mask and (T, F, ...) times, padded with zeros to `width`
        (default: the longest unit)."""
        width = int(self.lengths.max(initial=0)) if width is None else width
        values = np.zeros((len(self), width, self.values.shape[1]), np.float32)
        times = np.zeros((len(self), width, *self.times.shape[1:]), np.float32)
        mask = np.zeros((len(self), width), bool)
        for i, (a, b) in enumerate(self.ranges):
            n = min(b - a, width)
            values[i, :n], times[i, :n], mask[i, :n] = self.values[a:a + n], self.times[a:a + n], True
        return values, mask, times


def stack(pieces: list[InnerSequence]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B, T, F, D) values, (B, T, F) mask, (B, T, F, ...) times of equally long pieces, padded
    to the longest unit of the batch."""
    width = max(int(p.lengths.max(initial=0)) for p in pieces)
    padded = [p.padded(width) for p in pieces]
    return tuple(np.stack([p[k] for p in padded]) for k in range(3))


def load_inner(stage: str, per: str, session_id: str, units: pd.DataFrame) -> InnerSequence:
    """The frames (per="frame") or words (per="word") of one session's units (rows of windows.csv,
    in order)."""
    folder = layout.FEATURES / stage
    kind = "frames" if per == "frame" else "words"
    values_path, times_path = folder / f"{session_id}.{kind}.npy", folder / f"{session_id}.{kind[:-1]}_times.npy"
    for path in (values_path, times_path):
        if not path.exists():
            raise FileNotFoundError(f"session {session_id}: {path} missing: features@{stage} keeps no {kind} "
                                    f"(stages that do: frame34, egemaps_lld, mfcc per frame; glove per word)")
    values = np.load(values_path, allow_pickle=False).astype(np.float32)
    times = np.load(times_path, allow_pickle=False).astype(np.float64)
    if len(values) != len(times):
        raise ValueError(f"session {session_id}: {values_path} has {len(values)} rows, {times_path} {len(times)}")
    if per == "frame":
        ranges = frame_ranges(times, units["start"].to_numpy(float), units["end"].to_numpy(float))
    else:
        ranges = units[["word_first", "word_last"]].to_numpy(np.int64)
        if len(ranges) and (ranges.min() < 0 or ranges.max() > len(values)):
            raise ValueError(f"session {session_id}: the units' words {ranges.min()}-{ranges.max()} are not all "
                             f"among the {len(values)} words of {values_path}: features@{stage} is out of date")
    return InnerSequence(values, times.astype(np.float32), ranges)
