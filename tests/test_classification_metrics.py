"""WA / UA / confusion matrix (issue 8) against hand-counted values and scikit-learn."""
import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, confusion_matrix as sk_confusion

from metrics.classification import class_recalls, confusion_matrix, unweighted_accuracy, weighted_accuracy


def test_hand_counted_example():
    # class 0: 4 examples, 3 right; class 1: 1 example, 0 right; class 2: none in gold
    gold = np.array([0, 0, 0, 0, 1])
    pred = np.array([0, 0, 0, 1, 2])
    assert weighted_accuracy(gold, pred) == pytest.approx(3 / 5)
    assert unweighted_accuracy(gold, pred, 3) == pytest.approx((3 / 4 + 0 / 1) / 2)  # absent class not averaged
    assert np.isnan(class_recalls(gold, pred, 3)[2])
    assert confusion_matrix(gold, pred, 3).tolist() == [[3, 1, 0], [0, 0, 1], [0, 0, 0]]


def test_agrees_with_scikit_learn_on_random_labels():
    rng = np.random.default_rng(0)
    gold, pred = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    assert unweighted_accuracy(gold, pred, 4) == pytest.approx(balanced_accuracy_score(gold, pred))
    np.testing.assert_array_equal(confusion_matrix(gold, pred, 4), sk_confusion(gold, pred, labels=range(4)))
