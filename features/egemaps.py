"""eGeMAPS v02 functionals (88 per window) computed by openSMILE on each window's audio.

Raju et al. and the AVEC 2019 baseline summarise the eGeMAPS low-level descriptors over
each window; here openSMILE's own functionals (mean, percentiles, slopes, ...) do that.
"""
import numpy as np
import opensmile

from features import Extracted
from features.audio_io import load_audio


INPUTS = ("audio",)  # what the per-session cache key covers (pipeline/feature_cache.py)


def versions(cfg: dict) -> dict:
    return {"opensmile": opensmile.__version__}


def _smile(cfg: dict) -> opensmile.Smile:
    return opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, cfg["feature_set"]),
                           feature_level=opensmile.FeatureLevel.Functionals)


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return list(_smile(cfg).feature_names)


def extract(session, windows, cfg: dict, fitted=None) -> Extracted:
    """(windows, 88) float32 for one session; `windows` has `start` and `end` columns in seconds."""
    rate = int(cfg["sample_rate"])
    audio = load_audio(session, rate)
    smile = _smile(cfg)
    rows = []
    for start, end in zip(windows["start"], windows["end"]):
        segment = audio[int(round(start * rate)):int(round(end * rate))]
        rows.append(smile.process_signal(segment, rate).to_numpy()[0])
    return Extracted({"features": np.asarray(rows, dtype=np.float32)})
