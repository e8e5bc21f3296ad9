"""Segment labels for the classification papers, derived from the latent state.

- six emotion intensities in [0, 3] per sentence, MOSEI style (the mean of three raters'
  0-3 scores, hence multiples of 1/3);
- one of four classes per utterance, IEMOCAP style (angry, happy, neutral, sad).
"""
import numpy as np

SIX_EMOTIONS = ("happiness", "sadness", "anger", "fear", "disgust", "surprise")
FOUR_CLASSES = ("angry", "happy", "neutral", "sad")
VALENCE_THRESHOLD = 0.25  # |valence| below this reads as neutral


def six_emotion_intensities(valence: float, arousal: float) -> dict[str, float]:
    """Circumplex reading of (valence, arousal): positive -> happiness, negative and
    aroused -> anger/fear, negative and calm -> sadness; arousal without negativity -> surprise."""
    pos, neg = max(valence, 0.0), max(-valence, 0.0)
    high = max(arousal, 0.0)
    raw = {
        "happiness": 3.0 * pos,
        "sadness": 3.0 * neg * (1.0 - high),
        "anger": 3.0 * neg * high,
        "fear": 1.5 * neg * high,
        "disgust": 1.5 * neg,
        "surprise": 2.0 * high * (1.0 - neg),
    }
    return {name: float(np.round(np.clip(value, 0.0, 3.0) * 3.0) / 3.0) for name, value in raw.items()}


def four_class_label(valence: float, arousal: float) -> str:
    if valence > VALENCE_THRESHOLD:
        return "happy"
    if valence < -VALENCE_THRESHOLD:
        return "angry" if arousal > 0.0 else "sad"
    return "neutral"
