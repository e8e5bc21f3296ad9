"""Tasks: what a model predicts, how it learns it, how a run is selected and scored.

A task holds its targets and says
- `n_outputs`: the model's output size (one logit per class, or one value per target);
- `loss(pred, gold)`: (B, T, outputs) predictions against (B, T, targets) gold -> scalar;
- `maximise` and `dev_scores(pred, gold)`: the history entries of one epoch on dev, whose
  `dev_score` selects the epoch (`improved`, `best_epoch`: dev only, never test);
- `test_metrics(pred, gold, units, human)`: the metrics written to metrics.json;
- `prediction_columns(pred, gold)`: the columns of the prediction table.
pred is the model's raw output concatenated over units, (N, outputs); gold (N, targets).

Tasks (DESIGN.md, "Units, inputs, tasks, suites"):
- `continuous`: rating tracks cut into windows (EmoNet, Raju, Tzirakis); CCC or MSE loss;
- `categorical`: one class per unit (Xu et al.: IEMOCAP's 4 classes), cross-entropy, WA/UA;
- `intensity`: several emotions in [0, 3] per unit (Williams et al.: CMU-MOSEI), MAE loss;
- `utterance`: one value per unit and dimension (valence/arousal of a sentence or an
  utterance file), CCC/PCC/MAE.
Per-group metrics (metrics.groups) apply any task's `test_metrics` to each group's units.

torch is imported by the losses only: the report stage reads `headline` without it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from metrics.classification import class_recalls, confusion_matrix, unweighted_accuracy, weighted_accuracy
from metrics.intensity import RANDOM_BASELINE_SEED, intensity_metrics, random_intensities
from metrics.regression import ccc, ccc_loss, mae, mse, pcc

if TYPE_CHECKING:
    import torch


def _r(value) -> float:
    return round(float(value), 4)


def improved(score: float, best: float | None, maximise: bool) -> bool:
    """Whether an epoch's dev score beats the best so far (None: no epoch yet). Strict, so a
    tie keeps the earlier epoch; a NaN score never wins."""
    if np.isnan(score):
        return False
    return best is None or (score > best if maximise else score < best)


def best_epoch(history: list[dict], maximise: bool) -> int:
    """The epoch `improved` keeps: the first one with the best `dev_score`."""
    best = None
    for entry in history:
        if improved(entry["dev_score"], None if best is None else best["dev_score"], maximise):
            best = entry
    if best is None:
        raise ValueError("no epoch has a dev score")
    return int(best["epoch"])


class Task:
    name = ""
    losses: tuple[str, ...] = ()
    maximise = True
    logits = False  # outputs are class logits, not target values (a model cannot feed them back)

    def __init__(self, targets: list[str], loss: str):
        if loss not in self.losses:
            raise ValueError(f"the {self.name} task trains with a loss in {self.losses} (got {loss!r})")
        self.targets, self.loss_name = list(targets), loss
        self.reference: dict = {}  # what a trivial predictor learns from train (set by `fit`), for comparison

    @property
    def n_outputs(self) -> int:
        return len(self.targets)

    def fit(self, train_gold: np.ndarray) -> None:
        """Learns what the loss needs from the train split's gold (class weights) and what a
        trivial reference predictor would predict (`reference`); most need nothing."""

    def describe(self) -> dict:
        """What the checkpoint's metadata records of the task (pipeline.trainer.task_of rebuilds it)."""
        return {"task": self.name, "targets": self.targets, "loss": self.loss_name,
                **({"reference": self.reference} if self.reference else {})}

    # dotted paths into a metrics.json (a `{target}` is each top-level target with these keys): the
    # scores a golden file pins (benchmarks/golden.py)
    golden_paths: tuple[str, ...] = ()

    def prediction_columns(self, pred: np.ndarray, gold: np.ndarray) -> dict:
        columns = {}
        for j, target in enumerate(self.targets):
            columns[f"{target}_gold"], columns[f"{target}_pred"] = gold[:, j], pred[:, j]
        return columns


class ContinuousTracks(Task):
    """Windows of continuous rating tracks. CCC is over time per training chunk and target, as
    the papers optimise it; test CCC is over the concatenated test windows, and per session
    (mean +- sd) beside the corpus's human baseline, itself computed per session."""
    name, losses = "continuous", ("ccc", "mse")

    def loss(self, pred: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
        import torch
        if self.loss_name == "ccc":
            return ccc_loss(pred.transpose(1, 2), gold.transpose(1, 2)) / pred.shape[0]
        return torch.mean((pred - gold) ** 2)

    def dev_scores(self, pred: np.ndarray, gold: np.ndarray) -> dict:
        scores = ccc(pred.T, gold.T)
        return {**{f"dev_ccc_{t}": float(c) for t, c in zip(self.targets, scores)},
                "dev_ccc_mean": float(scores.mean()), "dev_score": float(scores.mean())}

    def test_metrics(self, pred: np.ndarray, gold: np.ndarray, units: np.ndarray, human: dict | None = None) -> dict:
        """Per target: `ccc`, `pcc`, `mse` over the concatenated windows; `ccc_session_mean` and
        `ccc_session_std` over the sessions (`units` holds each window's session); and
        `human_baseline_ccc`, the mean of the annotators' per-session CCCs on the test split
        (reports/corpus.json): compare it with `ccc_session_mean`, like for like."""
        units = np.asarray(units)
        sessions = list(dict.fromkeys(units))
        report = {}
        for j, target in enumerate(self.targets):
            per_session = [float(ccc(pred[units == s, j], gold[units == s, j])) for s in sessions]
            report[target] = {"ccc": _r(ccc(pred[:, j], gold[:, j])), "pcc": _r(pcc(pred[:, j], gold[:, j])),
                              "mse": _r(mse(pred[:, j], gold[:, j])), "ccc_session_mean": _r(np.mean(per_session)),
                              "ccc_session_std": _r(np.std(per_session))}
            if human and target in human and "test" in human[target]:
                report[target]["human_baseline_ccc"] = human[target]["test"]["ccc_mean"]
        return report

    @staticmethod
    def headline(metrics: dict) -> str:
        return ", ".join(f"{t} CCC {v['ccc']:.3f}" for t, v in metrics.items() if isinstance(v, dict) and "ccc" in v)

    golden_paths = ("{target}.ccc",)


class Categorical(Task):
    """One class per unit: cross-entropy, optionally weighted by inverse train-class frequency
    (off by default: the papers train unweighted); selected on dev UA."""
    name, losses, logits = "categorical", ("cross_entropy",), True

    def __init__(self, targets: list[str], loss: str, classes: list[str], class_weights: bool = False):
        super().__init__(targets, loss)
        if targets != ["class"] or len(classes) < 2:
            raise ValueError(f"the categorical task predicts ['class'] over >= 2 classes (got {targets}, {classes})")
        self.classes, self.class_weights = list(classes), class_weights
        self.weights: list[float] | None = None

    @property
    def n_outputs(self) -> int:
        return len(self.classes)

    def fit(self, train_gold: np.ndarray) -> None:
        labels = train_gold[:, 0].astype(int)
        self.reference = {"train_majority_class": int(np.bincount(labels, minlength=len(self.classes)).argmax())}
        if self.class_weights:
            self.weights = inverse_frequency_weights(labels, len(self.classes)).tolist()

    def describe(self) -> dict:
        return {**super().describe(), "classes": self.classes, "class_weights": self.class_weights,
                "class_weight_values": self.weights}

    def loss(self, pred: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
        import torch
        weight = None if self.weights is None else torch.tensor(self.weights, dtype=pred.dtype, device=pred.device)
        return torch.nn.functional.cross_entropy(pred.reshape(-1, pred.shape[-1]), gold.reshape(-1).long(),
                                                 weight=weight)

    def dev_scores(self, pred: np.ndarray, gold: np.ndarray) -> dict:
        pred, gold = pred.argmax(-1), gold[:, 0].astype(int)
        ua = unweighted_accuracy(gold, pred, len(self.classes))
        return {"dev_wa": weighted_accuracy(gold, pred), "dev_ua": ua, "dev_score": ua}

    def test_metrics(self, pred: np.ndarray, gold: np.ndarray, units: np.ndarray, human: dict | None = None) -> dict:
        """`class`: WA, UA (chance level beside it, and the WA of always predicting the train
        split's majority class), recall and support per class, and the confusion matrix."""
        pred, gold, k = pred.argmax(-1), gold[:, 0].astype(int), len(self.classes)
        recalls = class_recalls(gold, pred, k)
        majority = {"majority_class_wa": _r(np.mean(gold == self.reference["train_majority_class"]))
                    } if "train_majority_class" in self.reference else {}
        return {"class": {"wa": _r(weighted_accuracy(gold, pred)), "ua": _r(unweighted_accuracy(gold, pred, k)),
                          "chance_ua": _r(1 / k), **majority,
                          "recall": {c: (None if np.isnan(r) else _r(r)) for c, r in zip(self.classes, recalls)},
                          "support": {c: int((gold == j).sum()) for j, c in enumerate(self.classes)},
                          "confusion": {"rows_gold_columns_predicted": self.classes,
                                        "counts": confusion_matrix(gold, pred, k).tolist()}}}

    def prediction_columns(self, pred: np.ndarray, gold: np.ndarray) -> dict:
        return {"class_gold": [self.classes[j] for j in gold[:, 0].astype(int)],
                "class_pred": [self.classes[j] for j in pred.argmax(-1)]}

    @staticmethod
    def headline(metrics: dict) -> str:
        c = metrics["class"]
        majority = f", majority-class WA {c['majority_class_wa']:.3f}" if "majority_class_wa" in c else ""
        return f"test WA {c['wa']:.3f}, UA {c['ua']:.3f} (chance UA {c['chance_ua']:.3f}{majority})"

    golden_paths = ("class.wa", "class.ua")


def inverse_frequency_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Class weights proportional to 1 / train frequency, scaled to mean 1 over the classes seen
    in train (the scale does not change a mean-reduced weighted cross-entropy); 0 for a class
    absent from train, which no train example can ask for anyway."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    inverse = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
    return inverse * (counts > 0).sum() / inverse.sum()


class EmotionIntensity(Task):
    """Several emotions' intensities in [0, 3] per unit (CMU-MOSEI). MAE loss and metrics as
    Williams et al. (2018, 5.5) report them, per emotion and overall; selected on dev MAE
    (minimised). `overall` averages the emotions: with one value per unit and emotion this
    equals pooling every (unit, emotion) pair for MAE and the accuracies; `pcc_mean` is the
    mean of the emotions' Pearson r (the paper gives no overall r)."""
    name, losses, maximise = "intensity", ("mae",), False

    def fit(self, train_gold: np.ndarray) -> None:
        self.reference = {"train_mean": [float(v) for v in train_gold.mean(axis=0)]}

    def loss(self, pred: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
        import torch
        return torch.mean(torch.abs(pred - gold))

    def dev_scores(self, pred: np.ndarray, gold: np.ndarray) -> dict:
        errors = mae(pred.T, gold.T)
        return {**{f"dev_mae_{t}": float(e) for t, e in zip(self.targets, errors)},
                "dev_mae": float(errors.mean()), "dev_score": float(errors.mean())}

    def test_metrics(self, pred: np.ndarray, gold: np.ndarray, units: np.ndarray, human: dict | None = None) -> dict:
        per_emotion = [intensity_metrics(pred[:, j], gold[:, j]) for j in range(len(self.targets))]
        report = {t: {k: _r(v) for k, v in m.items()} for t, m in zip(self.targets, per_emotion)}
        report["overall"] = {k: _r(np.mean([m[k] for m in per_emotion])) for k in ("mae", "binary_acc", "four_class_acc")}
        report["overall"]["pcc_mean"] = _r(np.mean([m["pcc"] for m in per_emotion]))
        if "train_mean" in self.reference:  # the reference: every unit predicted as the train split's mean
            report["overall"]["train_mean_predictor_mae"] = _r(np.abs(gold - np.asarray(self.reference["train_mean"]))
                                                               .mean())
        # the paper's random baseline on the same units (seeded: a function of the test labels), with
        # the same metrics per emotion (their Table 1)
        drawn = random_intensities(len(gold), gold.shape[1], np.random.default_rng(RANDOM_BASELINE_SEED))
        report["overall"]["random_baseline_mae"] = _r(mae(drawn.T, gold.T).mean())
        report["random_baseline"] = {t: {k: _r(v) for k, v in intensity_metrics(drawn[:, j], gold[:, j]).items()}
                                     for j, t in enumerate(self.targets)}
        return report

    @staticmethod
    def headline(metrics: dict) -> str:
        o = metrics["overall"]
        reference = (f" (train-mean predictor {o['train_mean_predictor_mae']:.3f}, random baseline "
                     f"{o['random_baseline_mae']:.3f})" if "train_mean_predictor_mae" in o else "")
        return (f"test MAE {o['mae']:.3f}{reference}, binary acc {o['binary_acc']:.3f}, "
                f"4-class acc {o['four_class_acc']:.3f}, mean r {o['pcc_mean']:.3f}")

    golden_paths = ("overall.mae", "overall.pcc_mean")


class UtteranceDimensions(Task):
    """One value per unit and dimension (e.g. a sentence's valence and arousal). A CCC loss is
    over the units of a batch (a unit has no time axis to correlate over); selected on mean
    dev CCC over the concatenated units."""
    name, losses = "utterance", ("ccc", "mse", "mae")

    def loss(self, pred: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
        import torch
        pred, gold = pred.reshape(-1, pred.shape[-1]), gold.reshape(-1, gold.shape[-1])  # (units, targets)
        if self.loss_name == "ccc":
            return ccc_loss(pred.T, gold.T)  # summed over targets, as the continuous task's
        return torch.mean((pred - gold) ** 2) if self.loss_name == "mse" else torch.mean(torch.abs(pred - gold))

    def dev_scores(self, pred: np.ndarray, gold: np.ndarray) -> dict:
        scores = ccc(pred.T, gold.T)
        return {**{f"dev_ccc_{t}": float(c) for t, c in zip(self.targets, scores)},
                "dev_ccc_mean": float(scores.mean()), "dev_score": float(scores.mean())}

    def test_metrics(self, pred: np.ndarray, gold: np.ndarray, units: np.ndarray, human: dict | None = None) -> dict:
        return {t: {"ccc": _r(ccc(pred[:, j], gold[:, j])), "pcc": _r(pcc(pred[:, j], gold[:, j])),
                    "mae": _r(mae(pred[:, j], gold[:, j]))} for j, t in enumerate(self.targets)}

    headline = ContinuousTracks.headline
    golden_paths = ContinuousTracks.golden_paths


TASKS = {t.name: t for t in (ContinuousTracks, Categorical, EmotionIntensity, UtteranceDimensions)}
DEFAULT_LOSS = {"categorical": "cross_entropy", "intensity": "mae"}  # the only loss these tasks train with


def headline(metrics: dict) -> str:
    """One log line of a metrics.json's main test scores."""
    return TASKS[metrics["task"]].headline(metrics)


def golden_metrics(metrics: dict) -> dict[str, float]:
    """The task's headline scores of a metrics.json, by dotted path (e.g. `valence.ccc`,
    `class.ua`, `overall.mae`): what benchmarks/golden.py pins."""
    found = {}
    for path in TASKS[metrics["task"]].golden_paths:
        targets = ([t for t, v in metrics.items() if isinstance(v, dict) and path.split(".")[1] in v and t != "groups"]
                   if path.startswith("{target}.") else [None])
        for target in targets:
            key = path.format(target=target)
            head, leaf = key.split(".")
            found[key] = float(metrics[head][leaf])
    return found


def make_task(task: str, targets: list[str], loss: str | None = None, classes: list[str] | None = None,
              class_weights: bool = False, reference: dict | None = None) -> Task:
    """The task named `task` (data/windows/task.json's `task`). Categorical and intensity tasks
    train with their own loss (cross-entropy, MAE) whatever `loss` a model spec names."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r} (known: {', '.join(TASKS)})")
    loss = DEFAULT_LOSS.get(task, loss)
    made = (Categorical(targets, loss, classes or [], class_weights) if task == "categorical"
            else TASKS[task](targets, loss))
    made.reference = dict(reference or {})
    return made
