"""eGeMAPS v02 low-level descriptors summarised per window by mean and standard deviation.

Raju et al. (AVEC 2019) describe each window by "the mean and standard deviation over a
4 s window" of the 25 eGeMAPS LLDs (openSMILE, 10 ms hop; see `features.lld`), rather than
openSMILE's 88 functionals (`features.egemaps`): (n_windows, 50).
"""
import numpy as np
import opensmile
import pandas as pd

from features import Extracted
from features.audio_io import load_audio
from features.lld import egemaps_lld_frames, egemaps_lld_names, mean_std_names, window_mean_std


INPUTS = ("audio",)  # what the per-session cache key covers (pipeline/feature_cache.py)


def versions(cfg: dict) -> dict:
    return {"opensmile": opensmile.__version__}


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return mean_std_names(egemaps_lld_names(cfg["feature_set"]))


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    rate = int(cfg["sample_rate"])
    frames = egemaps_lld_frames(load_audio(session, rate), rate, cfg["feature_set"])
    summary = window_mean_std(frames.values, frames.times, windows, session.id)
    # the frames themselves too, for models that read them (pipeline/inner_sequences.py)
    return Extracted({"features": summary, "frames": frames.values.astype(np.float32),
                      "frame_times": frames.times.astype(np.float64)}, {"frames": len(frames.times)})
