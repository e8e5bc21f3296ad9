"""Simulated raters: each sees the latent state late, biased, scaled and noisy.

The gold standard is their mean; the human baseline is how well each rater agrees
with the mean of the others (CCC), as the EmoNet paper reports for SENDv1.
"""
from dataclasses import dataclass

import numpy as np

from synthetic.latent import smooth_track


@dataclass(frozen=True)
class Annotator:
    delay_s: float  # reaction time before a change shows in the rating
    bias: float
    scale: float
    drift_sd: float  # slow, smooth disagreement
    jitter_sd: float  # fast noise of the rating device


def sample_annotator(rng: np.random.Generator) -> Annotator:
    """Spreads chosen so that leave-one-out agreement lands near SENDv1's observer CCC
    (0.46 +- 0.14 on its test set, EmoNet paper 3.2)."""
    return Annotator(delay_s=float(rng.uniform(1.0, 3.0)), bias=float(rng.normal(0.0, 0.2)),
                     scale=float(rng.uniform(0.5, 1.3)), drift_sd=float(rng.uniform(0.35, 0.65)),
                     jitter_sd=float(rng.uniform(0.03, 0.08)))


def rate_track(rng: np.random.Generator, annotator: Annotator, latent: np.ndarray,
               rate_hz: float) -> np.ndarray:
    """One annotator's rating of one latent track (same grid), clipped to the scale [-1, 1]."""
    times = np.arange(len(latent)) / rate_hz
    seen = np.interp(times - annotator.delay_s, times, latent)  # holds the first value early on
    drift = annotator.drift_sd * smooth_track(rng, len(latent), rate_hz, smoothing_s=4.0)
    jitter = rng.normal(0.0, annotator.jitter_sd, len(latent))
    return np.clip(annotator.scale * seen + annotator.bias + drift + jitter, -1.0, 1.0)


def gold_standard(ratings: np.ndarray) -> np.ndarray:
    """(annotators, T) -> (T,) mean rating."""
    return ratings.mean(axis=0)


