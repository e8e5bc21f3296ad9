"""Frame-level low-level descriptors (LLDs) of a session and their per-window summaries.

Shared by the window-summary extractors (`mfcc`, `egemaps_lld`) and the bag-of-audio-words
(`boaw`), so that every extractor sees the same frames:

- eGeMAPS v02 LLDs: openSMILE's 25 low-level descriptors at a 10 ms hop (Eyben et al.
  2016), the frame-level input of Raju et al. (AVEC 2019) and of the AVEC baselines;
- MFCC 1-13 with deltas and delta-deltas (librosa), 25 ms window, 10 ms hop.

Each is returned with the time of every frame's centre, so that `window_mean_std` can
summarise exactly the frames whose centre falls inside a window (features/window_frames.py's
rule), as Raju et al. do with "mean and standard deviation over a 4 s window".
"""
from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np
import opensmile
import pandas as pd

from features.window_frames import frame_ranges

FRAME_WINDOW_S = 0.025
FRAME_HOP_S = 0.010
MFCC_MELS = 40  # HTK-style MFCCs use 20-40 bands; 128 leaves empty filters at a 512-point FFT
DELTA_WIDTH = 9  # librosa's default regression window (+-4 frames)


class EmptyWindowError(ValueError):
    """A window holds no frame: its summary would be invented, so the session fails instead."""


@dataclass(frozen=True)
class Frames:
    values: np.ndarray  # (n_frames, D) float32
    times: np.ndarray  # (n_frames,) seconds, each frame's centre, ascending
    names: list[str]


@lru_cache(maxsize=2)
def egemaps_lld_smile(feature_set: str = "eGeMAPSv02") -> opensmile.Smile:
    # building a Smile object costs ~0.4 s; one per process is enough
    return opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set),
                           feature_level=opensmile.FeatureLevel.LowLevelDescriptors)


def egemaps_lld_names(feature_set: str = "eGeMAPSv02") -> list[str]:
    return list(egemaps_lld_smile(feature_set).feature_names)


def egemaps_lld_frames(audio: np.ndarray, sample_rate: int, feature_set: str = "eGeMAPSv02") -> Frames:
    """openSMILE's eGeMAPS LLDs (25 columns for v02) with their frame centres."""
    table = egemaps_lld_smile(feature_set).process_signal(audio, sample_rate)
    starts = table.index.get_level_values("start").total_seconds().to_numpy()
    ends = table.index.get_level_values("end").total_seconds().to_numpy()
    return Frames(table.to_numpy(dtype=np.float32), (starts + ends) / 2, list(table.columns))


def mfcc_names(n_mfcc: int) -> list[str]:
    base = [f"mfcc{i}" for i in range(1, n_mfcc + 1)]
    return base + [f"d_{n}" for n in base] + [f"dd_{n}" for n in base]


def mfcc_frame_params(sample_rate: int) -> dict:
    """librosa arguments for 25 ms / 10 ms frames; the FFT is zero-padded to a power of two."""
    win_length = round(FRAME_WINDOW_S * sample_rate)
    return {"n_fft": int(2 ** np.ceil(np.log2(win_length))), "win_length": win_length,
            "hop_length": round(FRAME_HOP_S * sample_rate), "n_mels": MFCC_MELS}


def mfcc_frames(audio: np.ndarray, sample_rate: int, n_mfcc: int = 13) -> Frames:
    """MFCC 1..n_mfcc with deltas and delta-deltas: (n_frames, 3 * n_mfcc)."""
    params = mfcc_frame_params(sample_rate)
    mfcc = librosa.feature.mfcc(y=audio, sr=sample_rate, n_mfcc=n_mfcc, **params)
    if mfcc.shape[1] < DELTA_WIDTH:
        raise ValueError(f"audio of {len(audio) / sample_rate:.3f} s is too short for MFCC deltas "
                         f"({mfcc.shape[1]} frames, {DELTA_WIDTH} needed)")
    stacked = np.vstack([mfcc, librosa.feature.delta(mfcc, width=DELTA_WIDTH, order=1),
                         librosa.feature.delta(mfcc, width=DELTA_WIDTH, order=2)])
    # librosa centres frame i on sample i * hop (center=True)
    times = librosa.frames_to_time(np.arange(stacked.shape[1]), sr=sample_rate, hop_length=params["hop_length"])
    return Frames(stacked.T.astype(np.float32), times, mfcc_names(n_mfcc))


def window_frame_ranges(times: np.ndarray, windows: pd.DataFrame, session_id: str | None = None) -> np.ndarray:
    """frame_ranges (features/window_frames.py) of every window; a window without a frame is an
    error naming it."""
    starts = windows["start"].to_numpy(dtype=float)
    ends = windows["end"].to_numpy(dtype=float)
    ranges = frame_ranges(times, starts, ends)
    empty = np.flatnonzero(ranges[:, 1] <= ranges[:, 0])
    if empty.size:
        session = session_id or _session_of(windows)
        first = empty[0]
        raise EmptyWindowError(
            f"session {session}: {empty.size} window(s) hold no audio frame, first "
            f"[{starts[first]:.3f}, {ends[first]:.3f}) s; frames span "
            f"{times[0] if times.size else float('nan'):.3f}-{times[-1] if times.size else float('nan'):.3f} s")
    return ranges


def window_mean_std(frames: np.ndarray, times: np.ndarray, windows: pd.DataFrame,
                    session_id: str | None = None) -> np.ndarray:
    """(n_windows, 2 * D) float32: per window the mean of each column, then its (population) std."""
    ranges = window_frame_ranges(times, windows, session_id)
    values = np.asarray(frames, dtype=np.float64)
    # centring on the session mean keeps the cumulative-sum variance free of cancellation
    centred = values - values.mean(axis=0)
    first_moment = _window_sums(centred, ranges)
    second_moment = _window_sums(centred ** 2, ranges)
    counts = (ranges[:, 1] - ranges[:, 0])[:, None]
    mean = first_moment / counts
    variance = np.maximum(second_moment / counts - mean ** 2, 0.0)
    return np.hstack([mean + values.mean(axis=0), np.sqrt(variance)]).astype(np.float32)


def window_means(frames: np.ndarray, times: np.ndarray, windows: pd.DataFrame,
                 session_id: str | None = None) -> np.ndarray:
    """(n_windows, D) float32 per-window mean of the frames."""
    return window_mean_std(frames, times, windows, session_id)[:, :frames.shape[1]]


def mean_std_names(names: list[str]) -> list[str]:
    return [f"{n}_mean" for n in names] + [f"{n}_std" for n in names]


def _window_sums(values: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    cumulative = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    return cumulative[ranges[:, 1]] - cumulative[ranges[:, 0]]


def _session_of(windows: pd.DataFrame) -> str:
    if "session" in windows and len(windows):
        return str(windows["session"].iloc[0])
    return "?"
