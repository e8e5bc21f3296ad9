"""Loading a session's audio for feature extraction, with the checks every audio extractor needs."""
from math import gcd

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SILENCE_PEAK = 1e-4  # below this (about -80 dBFS) there is nothing to extract


class BadAudioError(ValueError):
    """A session's audio cannot be used; the message names the session and the file."""


def load_audio(session, sample_rate: int) -> np.ndarray:
    """Mono float32 at `sample_rate`; raises BadAudioError for unreadable, empty or silent audio."""
    path = session.path("audio")
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except Exception as err:  # soundfile raises several types for corrupt files
        raise BadAudioError(f"session {session.id}: cannot read audio {path}: {err}") from err
    audio = audio.mean(axis=1)
    if audio.size == 0:
        raise BadAudioError(f"session {session.id}: audio {path} is empty")
    if not np.isfinite(audio).all() or np.abs(audio).max() < SILENCE_PEAK:
        raise BadAudioError(f"session {session.id}: audio {path} is silent or invalid "
                            f"(peak {np.nanmax(np.abs(audio)):.2e})")
    if rate != sample_rate:
        factor = gcd(rate, sample_rate)
        audio = resample_poly(audio, sample_rate // factor, rate // factor).astype(np.float32)
    return audio
