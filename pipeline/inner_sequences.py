"""Sequences inside a unit: the frames, the words or the raw samples of each unit of a session.

A named input `{stage: frame34, per: frame}` gives a model, for every unit, the frames of
that stage whose centre lies in the unit's [start, end) (features/window_frames.py's rule,
which every stage's window summaries use too); `{stage: glove, per: word}` gives the unit's words (its `word_first`/`word_last` rows of the
alignment, the GloVe matrices' rule) with their start and end times; `{stage: egemaps_lld,
per: word}` (a stage of frames) gives the unit's words as that stage's frames averaged over
each word, weighted by their overlap with it (features/word_alignment.py: Williams et al.'s
word-aligned audio and video); `{stage: waveform, per: sample}` gives the unit's raw samples
[round(start * rate), round(end * rate)) of a stage that keeps them (features/waveform.py),
read memory-mapped and copied only into the batch that needs them (Tzirakis et al.'s audio);
`{stage: face_crops_tzirakis, per: image}` gives the unit's face crops (the crops whose frame
time lies in the unit's [start, end)), uint8 on disk, read memory-mapped, converted to float
(0-255, not standardised: a visual network normalises its images as its backbone expects)
only inside the batch that needs them (Tzirakis et al.'s video). A session's frames or words are kept once, with each unit's
index range into them, and padded only when a batch is built: overlapping windows (a 5 s
window every 0.5 s holds 500 frames, each shared by ten windows) are never copied for a
whole corpus.

Stages that keep their frames write `<session>.frames.npy` (N, D) and `<session>.frame_times.npy`
(N,) centre times (frame34, egemaps_lld, mfcc); the face stage's frames are its per-frame table
(time, face found, confidence, AUs, gaze, pose: the AUs, gaze and pose are the values, frames
without a face are left out of word averages). GloVe and contextual_words write
`<session>.words.npy` (W, D) and `<session>.word_times.npy` (W, 2); waveform writes
`<session>.samples.npy` (N, 1) at its config's sample rate; face_crops writes
`<session>.images.npy` (N, size, size, 3) and `<session>.image_times.npy` (N,).
"""
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from features.face_frames import FRAME_COLUMNS
from features.waveform import sample_ranges
from features.window_frames import frame_ranges
from features.word_alignment import aligned_to_words
from pipeline import layout



@dataclass
class InnerSequence:
    """The frames, words or samples of a session (`values`, `times`) and each unit's [first, last) range."""
    values: np.ndarray  # (N, D) float32 (samples: memory-mapped); images: (N, H, W, 3) uint8, memory-mapped
    times: np.ndarray | None  # (N,) frame centres or (N, 2) word start/end, seconds; samples: None
    ranges: np.ndarray  # (T, 2) int
    present: np.ndarray | None = None  # (N,) False: an item with no value (a word no face frame overlaps)
    # how the train split's statistics standardise the values (pipeline/sequences.py): "columns",
    # each column z-scored (frames, frames averaged per word); "none" (word vectors: as they are);
    # "scalar", one mean and std over every value, applied as a batch is built (raw samples)
    standardise: str = "columns"
    scale: tuple[np.ndarray, np.ndarray] | None = None  # the (mean, std) a "scalar" input is built with

    def __len__(self) -> int:
        return len(self.ranges)

    def __getitem__(self, units: slice) -> "InnerSequence":
        return replace(self, ranges=self.ranges[units])

    @property
    def lengths(self) -> np.ndarray:
        return self.ranges[:, 1] - self.ranges[:, 0]

    def covered_moments(self) -> tuple[int, float, float]:
        """(count, sum, sum of squares) of the values inside at least one unit, each once, read a
        unit at a time (raw samples are never loaded whole)."""
        n, total, squares = 0, 0.0, 0.0
        end = 0
        for a, b in self.ranges[np.argsort(self.ranges[:, 0], kind="stable")]:
            a = max(a, end)  # overlapping units: each value once
            if b > a:
                chunk = np.asarray(self.values[a:b], np.float64)
                n, total, squares = n + chunk.size, total + chunk.sum(), squares + np.square(chunk).sum()
            end = max(end, b)
        return n, total, squares

    def covered(self) -> np.ndarray:
        """The values inside at least one unit, each once (items without a value left out)."""
        inside = np.zeros(len(self.values), bool)
        for a, b in self.ranges:
            inside[a:b] = True
        return self.values[inside if self.present is None else inside & self.present]

    def with_values(self, values: np.ndarray) -> "InnerSequence":
        return replace(self, values=values)

    def padded(self, width: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(T, F, D) values, (T, F) mask and (T, F, ...) times (None for samples), padded with
        zeros to `width` (default: the longest unit)."""
        width = int(self.lengths.max(initial=0)) if width is None else width
        values = np.zeros((len(self), width, *self.values.shape[1:]), np.float32)
        times = None if self.times is None else np.zeros((len(self), width, *self.times.shape[1:]), np.float32)
        mask = np.zeros((len(self), width), bool)
        for i, (a, b) in enumerate(self.ranges):
            n = min(b - a, width)
            values[i, :n] = self.values[a:a + n] if self.scale is None else (
                (self.values[a:a + n] - self.scale[0]) / self.scale[1])
            if times is not None:
                times[i, :n] = self.times[a:a + n]
            mask[i, :n] = True if self.present is None else self.present[a:a + n]
        return values, mask, times


def stack(pieces: list[InnerSequence]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(B, T, F, D) values, (B, T, F) mask, (B, T, F, ...) times (None for samples) of equally
    long pieces, padded to the longest unit of the batch."""
    width = max(int(p.lengths.max(initial=0)) for p in pieces)
    padded = [p.padded(width) for p in pieces]
    return tuple(None if padded[0][k] is None else np.stack([p[k] for p in padded]) for k in range(3))


def frame_table(stage: str, session_id: str,
                folder: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A stage's frames of one session: (N, D) values, (N,) centre times, (N,) valid or None."""
    folder = folder or layout.FEATURES / stage
    frames_path, times_path = folder / f"{session_id}.frames.npy", folder / f"{session_id}.frame_times.npy"
    if not frames_path.exists():
        raise FileNotFoundError(f"session {session_id}: {frames_path} missing: features@{stage} keeps no frames "
                                f"(stages that do: frame34, egemaps_lld, mfcc, face)")
    frames = np.load(frames_path, allow_pickle=False)
    if times_path.exists():
        times = np.load(times_path, allow_pickle=False).astype(np.float64)
        if len(times) != len(frames):
            raise ValueError(f"session {session_id}: {frames_path} has {len(frames)} rows, {times_path} {len(times)}")
        return frames.astype(np.float32), times, None
    if frames.ndim != 2 or frames.shape[1] != len(FRAME_COLUMNS):
        raise ValueError(f"session {session_id}: {frames_path} has neither frame times nor the face stage's "
                         f"{len(FRAME_COLUMNS)} columns")
    first = FRAME_COLUMNS.index("confidence") + 1
    return (frames[:, first:].astype(np.float32), frames[:, FRAME_COLUMNS.index("time")].astype(np.float64),
            frames[:, FRAME_COLUMNS.index("face")] > 0)


def sample_table(stage: str, session_id: str, folder: Path | None = None) -> tuple[np.ndarray, int]:
    """A stage's raw samples of one session, memory-mapped (N, channels), and their rate."""
    folder = folder or layout.FEATURES / stage
    path = folder / f"{session_id}.samples.npy"
    if not path.exists():
        raise FileNotFoundError(f"session {session_id}: {path} missing: features@{stage} keeps no raw samples "
                                f"(the waveform extractor does)")
    rate = json.loads((folder / "meta.json").read_text())["config"]["sample_rate"]
    return np.load(path, mmap_mode="r", allow_pickle=False), int(rate)


def image_table(stage: str, session_id: str, folder: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A stage's face crops of one session, memory-mapped (N, H, W, 3) uint8, and their (N,) times."""
    folder = folder or layout.FEATURES / stage
    path, times_path = folder / f"{session_id}.images.npy", folder / f"{session_id}.image_times.npy"
    if not path.exists():
        raise FileNotFoundError(f"session {session_id}: {path} missing: features@{stage} keeps no images "
                                f"(the face_crops extractor does)")
    images, times = np.load(path, mmap_mode="r", allow_pickle=False), np.load(times_path, allow_pickle=False)
    if len(images) != len(times):
        raise ValueError(f"session {session_id}: {path} has {len(images)} images, {times_path} {len(times)} times")
    return images, times.astype(np.float64)


def load_inner(stage: str, per: str, session_id: str, units: pd.DataFrame,
               folder: Path | None = None) -> InnerSequence:
    """The frames (per="frame"), words (per="word"), raw samples (per="sample") or face crops
    (per="image") of one session's units (rows of windows.csv, in order); from `folder` instead
    of data/features/<stage> when given (a fold's refitted stage: pipeline/fold_features.py)."""
    folder = folder or layout.FEATURES / stage
    if per == "image":
        images, times = image_table(stage, session_id, folder)
        ranges = frame_ranges(times, units["start"].to_numpy(float), units["end"].to_numpy(float))
        return InnerSequence(images, times.astype(np.float32), ranges, standardise="none")
    if per == "sample":
        samples, rate = sample_table(stage, session_id, folder)
        ranges = sample_ranges(units["start"], units["end"], rate, len(samples))
        return InnerSequence(samples, None, ranges, standardise="scalar")
    if per == "frame":
        values, times, valid = frame_table(stage, session_id, folder)
        if valid is not None:
            values, times = values[valid], times[valid]  # frames without a face are no frames
        ranges = frame_ranges(times, units["start"].to_numpy(float), units["end"].to_numpy(float))
        return InnerSequence(values, times.astype(np.float32), ranges)
    words_path = folder / f"{session_id}.words.npy"
    present, standardise = None, "columns"
    if words_path.exists():  # a stage of word vectors (GloVe): used as they are
        values = np.load(words_path, allow_pickle=False).astype(np.float32)
        times = np.load(folder / f"{session_id}.word_times.npy", allow_pickle=False).astype(np.float64)
        if len(values) != len(times):
            raise ValueError(f"session {session_id}: features@{stage} has {len(values)} words and {len(times)} times")
        standardise = "none"
    else:  # a stage of frames: averaged over each aligned word
        words = pd.read_csv(layout.ALIGNMENT / f"{session_id}.csv", keep_default_na=False, dtype={"word": str})
        times = words[["start", "end"]].to_numpy(np.float64)
        frames, frame_times, valid = frame_table(stage, session_id, folder)
        values, present = aligned_to_words(frames, frame_times, times, valid)
    ranges = _checked(units[["word_first", "word_last"]].to_numpy(np.int64), len(values), session_id, stage)
    return InnerSequence(values, times.astype(np.float32), ranges, present, standardise)


def _checked(ranges: np.ndarray, n_words: int, session_id: str, stage: str) -> np.ndarray:
    if len(ranges) and (ranges.min() < 0 or ranges.max() > n_words):
        raise ValueError(f"session {session_id}: the units' words {ranges.min()}-{ranges.max()} are not all "
                         f"among the {n_words} aligned words of features@{stage}: it is out of date")
    return ranges
