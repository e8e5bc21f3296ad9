"""eGeMAPS v02 functionals (88 per window) computed by openSMILE in one pass per session.

Raju et al. and the AVEC 2019 baseline summarise the eGeMAPS low-level descriptors over
each window; here openSMILE's own functionals (mean, percentiles, slopes, ...) do that.

One pass: openSMILE computes the session's low-level descriptors once and its functionals
components summarise them over every window, given to it as a frame list (`frameMode =
list`, in an include written per session that replaces the feature set's
FrameModeFunctionals.conf.inc through opensmile-python's `frameModeFunctionalsConf`
option). Calling openSMILE on each window's audio instead recomputes the overlapping
descriptors (10x at the default 0.5 s hop, 40x at raju2019's 100 ms): `per_window` keeps
that path, the reference the single pass is checked against (tests/test_audio_features.py,
benchmarks/egemaps_single_pass.py) and the one used for windows the single pass cannot
give (below).

Where the two differ (measured on the generated corpus's speech and on espeak-ng speech,
4-5 s windows): the median relative difference per functional is under 1 % for every
functional over all frames (but mfcc4_sma3_amean, whose mean is near zero: 1.05 % at
raju2019's 4 s windows on four sessions), and under 5 % for those over voiced or unvoiced frames only
(`*_sma3nz_*`) and the voiced/unvoiced segment statistics (`*Segment*`): the per-window
call starts its pitch tracker afresh at each window edge, so the voicing of the frames near
the edges, and hence which frames those functionals average, differ.
"""
import os
import tempfile
from functools import lru_cache

import numpy as np
import opensmile

from features import Extracted
from features.audio_io import load_audio


INPUTS = ("audio",)  # what the per-session cache key covers (pipeline/feature_cache.py)

# A per-window call ends with the last complete 25 ms frame inside the window, a frame-list
# interval with the last 10 ms frame starting before its end: ending each interval 30 ms
# early is the offset with the smallest difference between the two (measured, 0-60 ms).
END_TRIM_S = 0.03
# openSMILE emits no functionals for an interval that reaches past the session's last
# complete pitch frame (60 ms), and window-edge effects dominate windows under a second:
# such windows take the per-window path.
LAST_FRAME_S = 0.06
MIN_SINGLE_PASS_S = 1.0


def versions(cfg: dict) -> dict:
    return {"opensmile": opensmile.__version__}


def _smile(cfg: dict, options: dict | None = None) -> opensmile.Smile:
    return opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, cfg["feature_set"]),
                           feature_level=opensmile.FeatureLevel.Functionals, options=options)


@lru_cache(maxsize=4)
def _names(feature_set: str) -> tuple[str, ...]:
    # asking openSMILE for the names runs its set-up: once per process, not once per session
    return tuple(_smile({"feature_set": feature_set}).feature_names)


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return list(_names(cfg["feature_set"]))


def _no_rows(cfg: dict) -> np.ndarray:
    return np.zeros((0, len(_names(cfg["feature_set"]))), dtype=np.float32)


def per_window(audio: np.ndarray, rate: int, starts, ends, cfg: dict) -> np.ndarray:
    """(windows, 88): openSMILE called on each window's audio on its own."""
    if len(starts) == 0:
        return _no_rows(cfg)
    smile = _smile(cfg)
    rows = [smile.process_signal(audio[int(round(start * rate)):int(round(end * rate))], rate).to_numpy()[0]
            for start, end in zip(starts, ends)]
    return np.asarray(rows, dtype=np.float32)


def voicing_dependent(name: str) -> bool:
    """Functionals over voiced/unvoiced frames only, or of voiced segments: the ones whose
    single-pass values may differ by up to 5 % from the per-window call's (see above)."""
    return "sma3nz" in name or "Segment" in name


def single_pass_eligible(starts: np.ndarray, ends: np.ndarray, duration_s: float) -> np.ndarray:
    """Which windows the one-pass frame list can summarise (the rest go per window)."""
    return (ends - starts >= MIN_SINGLE_PASS_S) & (ends - END_TRIM_S <= duration_s - LAST_FRAME_S)


def single_pass(audio: np.ndarray, rate: int, starts, ends, cfg: dict, session_id: str) -> np.ndarray:
    """(windows, 88): one openSMILE run over the whole signal, functionals per listed window."""
    if len(starts) == 0:
        return _no_rows(cfg)
    intervals = ",".join(f"{start:.6f}s-{end - END_TRIM_S:.6f}s" for start, end in zip(starts, ends))
    with tempfile.TemporaryDirectory(prefix="egemaps-") as folder:
        include = os.path.join(folder, "FrameModeFunctionals.conf.inc")
        with open(include, "w") as handle:
            handle.write(f"frameMode = list\nframeList = {intervals}\nframeCenterSpecial = left\n")
        rows = _smile(cfg, {"frameModeFunctionalsConf": include}).process_signal(audio, rate).to_numpy()
    if len(rows) != len(starts):
        raise RuntimeError(f"session {session_id}: openSMILE gave {len(rows)} rows of functionals for "
                           f"{len(starts)} windows in one pass")
    return rows.astype(np.float32)


def extract(session, windows, cfg: dict, fitted=None) -> Extracted:
    """(windows, 88) float32 for one session; `windows` has `start` and `end` columns in seconds."""
    rate = int(cfg["sample_rate"])
    audio = load_audio(session, rate)
    starts, ends = windows["start"].to_numpy(float), windows["end"].to_numpy(float)
    eligible = single_pass_eligible(starts, ends, len(audio) / rate)
    rows = np.empty((len(starts), len(feature_names(cfg))), dtype=np.float32)
    chosen = np.flatnonzero(eligible)
    chosen = chosen[np.lexsort((ends[chosen], starts[chosen]))]  # the frame list in time order
    rows[chosen] = single_pass(audio, rate, starts[chosen], ends[chosen], cfg, session.id)
    rows[~eligible] = per_window(audio, rate, starts[~eligible], ends[~eligible], cfg)
    return Extracted({"features": rows})
