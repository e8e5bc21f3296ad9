"""Classical baselines (issue 17): a linear model per unit, fitted by scikit-learn.

Every paper in this field reports one: a linear SVM (or logistic regression) on utterance
functionals for classes, a linear SVR (or ridge regression) on window functionals for
continuous ratings, as the AVEC baselines regress each window's label from its features.

- `svm`: LinearSVC, one-vs-rest (categorical tasks);
- `logreg`: LogisticRegression, multinomial (categorical tasks);
- `svr`: LinearSVR, one per target (continuous tracks, intensities, utterance dimensions);
- `ridge`: Ridge, one per target (the same tasks as `svr`).

The fitted coefficients are held in a torch linear layer over (B, T, D) unit vectors, so a
classical run is saved, loaded, evaluated and reported exactly as a neural one. Training is
not an epoch loop: `training/classical.py` fits each value of the regularisation grid
(`grid`: C for svm/svr/logreg, alpha for ridge) on the train units and keeps the value with
the best dev score of the task (UA, CCC, MAE: the same selection as the neural models).
The features reach the model standardised with the train split's mean and std (the
pipeline's normaliser, pipeline/sequences.py), so no scaler sees dev or test rows.
`class_weights: true` on the model fits with scikit-learn's `class_weight="balanced"`.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from models.baselines import _vector_input
from models.registry import register_model

CLASSIFIERS = ("svm", "logreg")
REGRESSORS = ("svr", "ridge")


@dataclass
class ClassicalConfig:
    grid: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0)  # C (svm, svr, logreg) or alpha (ridge)
    max_iter: int = 20000
    epsilon: float = 0.0  # svr: the width of the insensitive tube (scikit-learn's default)


class LinearPerUnit(nn.Module):
    """(B, T, D) -> (B, T, outputs): one linear map per unit, its weights set by scikit-learn."""
    fitted_by_scikit_learn = True

    def __init__(self, kind: str, input_dim: int, n_outputs: int, cfg: ClassicalConfig):
        super().__init__()
        self.kind, self.cfg = kind, cfg
        self.classifies = kind in CLASSIFIERS
        self.linear = nn.Linear(input_dim, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    @property
    def grid_param(self) -> str:
        return "alpha" if self.kind == "ridge" else "C"

    def estimator(self, value: float, balanced: bool = False, seed: int = 0):
        """The scikit-learn estimator for one grid value."""
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.svm import LinearSVC, LinearSVR

        weight = "balanced" if balanced else None
        if self.kind == "svm":
            return LinearSVC(C=value, class_weight=weight, max_iter=self.cfg.max_iter, random_state=seed)
        if self.kind == "logreg":
            return LogisticRegression(C=value, class_weight=weight, max_iter=self.cfg.max_iter)
        if self.kind == "svr":
            return LinearSVR(C=value, epsilon=self.cfg.epsilon, max_iter=self.cfg.max_iter, random_state=seed)
        return Ridge(alpha=value)

    def set_classifier(self, fitted) -> None:
        """Class logits from a fitted classifier's decision function: one row per class it saw
        (a binary one's single row becomes the second class's, the first's logit 0); a class
        absent from the train units gets a logit far below every other."""
        coef, intercept = np.atleast_2d(fitted.coef_), np.atleast_1d(fitted.intercept_)
        weight = np.zeros((self.linear.out_features, self.linear.in_features))
        bias = np.full(self.linear.out_features, -1e4)
        classes = fitted.classes_.astype(int)
        if len(classes) == 2 and len(coef) == 1:
            bias[classes] = 0.0
            weight[classes[1]], bias[classes[1]] = coef[0], intercept[0]
        else:
            weight[classes], bias[classes] = coef, intercept
        self._set(weight, bias)

    def set_regressors(self, fitted: list) -> None:
        """One fitted regressor per target."""
        self._set(np.stack([np.ravel(f.coef_) for f in fitted]), np.array([float(np.ravel(f.intercept_)[0])
                                                                             for f in fitted]))

    def _set(self, weight: np.ndarray, bias: np.ndarray) -> None:
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
            self.linear.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))


def _classical(kind: str, input_shape: tuple[int, ...], n_targets: int, **hparams) -> nn.Module:
    if "grid" in hparams:
        hparams["grid"] = tuple(float(v) for v in hparams["grid"])
    return LinearPerUnit(kind, _vector_input(input_shape), n_targets, ClassicalConfig(**hparams))


@register_model
def svm(input_shape: tuple[int, ...], n_targets: int, **hparams) -> nn.Module:
    return _classical("svm", input_shape, n_targets, **hparams)


@register_model
def logreg(input_shape: tuple[int, ...], n_targets: int, **hparams) -> nn.Module:
    return _classical("logreg", input_shape, n_targets, **hparams)


@register_model
def svr(input_shape: tuple[int, ...], n_targets: int, **hparams) -> nn.Module:
    return _classical("svr", input_shape, n_targets, **hparams)


@register_model
def ridge(input_shape: tuple[int, ...], n_targets: int, **hparams) -> nn.Module:
    return _classical("ridge", input_shape, n_targets, **hparams)
