"""The raw waveform of each session, for end-to-end audio networks (Tzirakis et al.).

Gives:  per session `samples` (N, 1) float32, mono at `sample_rate` (resampled with a
        polyphase filter when the recording has another rate: the paper's 22.05 kHz is a
        param for corpora recorded at it), written once and read back memory-mapped: a
        model's `{stage: <this stage>, per: sample}` input slices each unit's samples
        [round(start * rate), round(end * rate)) at load time (pipeline/inner_sequences.py),
        so no corpus-sized array of windows is ever built;
        per window its RMS level in dB full scale (the `features` row every stage has; a
        quiet window reads about -80 dB).
Bad input: unreadable, empty or silent audio stops the stage naming the session and file
(features/audio_io.py).
"""
import numpy as np
import pandas as pd

from features import Extracted
from features.audio_io import load_audio

INPUTS = ("audio",)
FLOOR_DB = -80.0  # the level of a window of digital silence


def versions(cfg: dict) -> dict:
    return {"sample_rate": int(cfg["sample_rate"])}


def feature_names(cfg: dict, fitted) -> list[str]:
    return ["rms_dbfs"]


def sample_ranges(starts, ends, rate: int, n_samples: int) -> np.ndarray:
    """(T, 2) [first, last) sample rows of each unit, clipped to the recording."""
    edges = np.rint(np.stack([np.asarray(starts, float), np.asarray(ends, float)], axis=1) * rate)
    return np.clip(edges, 0, n_samples).astype(np.int64)


def window_levels(samples: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """(T, 1) RMS level of each range in dBFS, FLOOR_DB for an empty or silent one."""
    energy = np.r_[0.0, np.cumsum(samples.astype(np.float64) ** 2)]
    n = ranges[:, 1] - ranges[:, 0]
    mean = (energy[ranges[:, 1]] - energy[ranges[:, 0]]) / np.maximum(n, 1)
    level = 10 * np.log10(np.maximum(mean, 10 ** (FLOOR_DB / 10)))
    return np.where(n > 0, level, FLOOR_DB).astype(np.float32)[:, None]


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    rate = int(cfg["sample_rate"])
    audio = load_audio(session, rate)
    ranges = sample_ranges(windows.start, windows.end, rate, len(audio))
    return Extracted({"features": window_levels(audio, ranges), "samples": audio[:, None]},
                     {"samples": int(len(audio))})
