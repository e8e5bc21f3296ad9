"""MFCC 1-13 with deltas and delta-deltas, summarised per window by mean and standard deviation.

The frame-level MFCCs (librosa, 25 ms window, 10 ms hop; see `features.lld`) are the
acoustic LLDs of the AVEC baselines that Raju et al. (AVEC 2019) build on; each window's
row is the mean and the std of every coefficient over the frames centred in the window:
(n_windows, 2 * 3 * n_mfcc) = 78 columns for 13 MFCCs.
"""
import librosa
import numpy as np
import pandas as pd

from features import Extracted
from features.audio_io import load_audio
from features.lld import mean_std_names, mfcc_frames, mfcc_names, window_mean_std


INPUTS = ("audio",)  # what the per-session cache key covers (pipeline/feature_cache.py)


def versions(cfg: dict) -> dict:
    return {"librosa": librosa.__version__}


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return mean_std_names(mfcc_names(int(cfg["n_mfcc"])))


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    rate = int(cfg["sample_rate"])
    audio = load_audio(session, rate)
    try:
        frames = mfcc_frames(audio, rate, int(cfg["n_mfcc"]))
    except ValueError as err:
        raise ValueError(f"session {session.id}: {err}") from err
    summary = window_mean_std(frames.values, frames.times, windows, session.id)
    # the frames themselves too, for models that read them (pipeline/inner_sequences.py)
    return Extracted({"features": summary, "frames": frames.values.astype(np.float32),
                      "frame_times": frames.times.astype(np.float64)}, {"frames": len(frames.times)})
