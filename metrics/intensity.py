"""Emotion-intensity metrics of the CMU-MOSEI challenge as Williams et al. (2018, section 5.5)
define them, for intensities in [0, 3]: MAE, Pearson r, and two accuracies over rounded values:
binary (rounded to the nearest integer, non-zero = the emotion is present) and 4-class
(rounded to {0, 1, 2, 3}, exact match).

Rounding is numpy's (halves to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2); gold intensities lie on
a 1/3 grid and predictions are continuous, so exact halves do not occur in practice.
"""
import numpy as np

from metrics.regression import mae, pcc

MAX_INTENSITY = 3
INTENSITY_STEP = 1 / 3  # MOSEI's 9 steps in (0, 3] ("approximately 0.33")
RANDOM_BASELINE_SEED = 0


def intensity_classes(values: np.ndarray) -> np.ndarray:
    """Intensities -> {0, 1, 2, 3}: the nearest integer, values outside [0, 3] to the nearest end."""
    return np.clip(np.round(np.asarray(values, dtype=np.float64)), 0, MAX_INTENSITY).astype(np.int64)


def binary_accuracy(pred: np.ndarray, gold: np.ndarray) -> float:
    """Share of units where presence (rounded intensity > 0) is predicted right."""
    return float(np.mean((intensity_classes(pred) > 0) == (intensity_classes(gold) > 0)))


def four_class_accuracy(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(np.mean(intensity_classes(pred) == intensity_classes(gold)))


def intensity_metrics(pred: np.ndarray, gold: np.ndarray) -> dict:
    """One emotion's (units,) predictions against gold: MAE, binary and 4-class accuracy, Pearson r."""
    pred, gold = np.asarray(pred, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    return {"mae": float(mae(pred, gold)), "binary_acc": binary_accuracy(pred, gold),
            "four_class_acc": four_class_accuracy(pred, gold), "pcc": float(pcc(pred, gold))}


def random_intensities(n_units: int, n_emotions: int, rng: np.random.Generator) -> np.ndarray:
    """Williams et al.'s random baseline (5.1, Table 1): per unit, how many labels (uniform over
    0..n_emotions), which ones (uniform, without replacement) and each one's intensity (uniform
    over the 9 steps of 1/3 in (0, 3]); the other emotions 0."""
    steps = np.arange(1, round(MAX_INTENSITY / INTENSITY_STEP) + 1) * INTENSITY_STEP
    out = np.zeros((n_units, n_emotions), np.float32)
    for row in out:
        chosen = rng.choice(n_emotions, size=rng.integers(0, n_emotions + 1), replace=False)
        row[chosen] = rng.choice(steps, size=len(chosen))
    return out
