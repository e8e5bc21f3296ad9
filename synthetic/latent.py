"""Latent emotional state of a synthetic session: smooth valence, arousal and liking tracks.

Everything else the generator makes (words, prosody, face, ratings, labels) is derived
from these tracks, so a model can only score well by recovering them.
"""
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

DIMENSIONS = ("valence", "arousal", "liking")


@dataclass(frozen=True)
class LatentState:
    """Tracks in (-1, 1) sampled at `rate_hz`, one array per dimension."""

    rate_hz: float
    valence: np.ndarray
    arousal: np.ndarray
    liking: np.ndarray

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.valence)) / self.rate_hz

    def at(self, dimension: str, t: float | np.ndarray) -> float | np.ndarray:
        """Value at time(s) `t` by linear interpolation (held constant outside the track)."""
        return np.interp(t, self.times, getattr(self, dimension))

    def mean_between(self, dimension: str, start: float, end: float) -> float:
        grid = np.linspace(start, end, max(2, int((end - start) * self.rate_hz) + 1))
        return float(np.mean(self.at(dimension, grid)))


def smooth_track(rng: np.random.Generator, n: int, rate_hz: float, smoothing_s: float) -> np.ndarray:
    """Low-pass filtered white noise with unit standard deviation."""
    raw = gaussian_filter1d(rng.standard_normal(n), sigma=smoothing_s * rate_hz, mode="reflect")
    return (raw - raw.mean()) / (raw.std() + 1e-12)


def sample_latent_state(rng: np.random.Generator, seconds: float, rate_hz: float,
                        smoothing_s: float, mood_sd: float) -> LatentState:
    """A session's trajectories: a session-level mood plus a smooth excursion, squashed by tanh.

    Liking leans on valence (people like what makes them feel good) plus its own part.
    """
    n = int(round(seconds * rate_hz)) + 1
    raw = {dim: smooth_track(rng, n, rate_hz, smoothing_s) for dim in DIMENSIONS}
    mood = rng.normal(0.0, mood_sd, size=len(DIMENSIONS))
    valence = np.tanh(0.8 * raw["valence"] + mood[0])
    arousal = np.tanh(0.8 * raw["arousal"] + mood[1])
    liking = np.tanh(0.6 * raw["valence"] + 0.5 * raw["liking"] + mood[2])
    return LatentState(rate_hz, valence, arousal, liking)
