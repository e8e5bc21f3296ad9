"""Categorical emotion metrics as the IEMOCAP literature reports them (Xu et al. 2019):
WA, weighted accuracy = overall accuracy; UA, unweighted accuracy = the mean of the
per-class recalls, so every class counts equally however rare it is."""
import numpy as np


def confusion_matrix(gold: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts; row = gold class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return matrix


def weighted_accuracy(gold: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.asarray(gold) == np.asarray(pred)))


def class_recalls(gold: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Recall per class; NaN for a class with no gold example."""
    matrix = confusion_matrix(gold, pred, n_classes)
    support = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(matrix) / support, np.nan)


def unweighted_accuracy(gold: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    """Mean recall over the classes present in `gold`."""
    return float(np.nanmean(class_recalls(gold, pred, n_classes)))
