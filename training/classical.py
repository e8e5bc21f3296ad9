"""Fitting a classical baseline (models/classical.py): each value of its regularisation grid
fitted on the train units by scikit-learn, scored on dev with the task's dev score, the best
kept. Takes the place of the epoch loop in pipeline/trainer.py and returns the same state
(history, best score, best weights), one history row per grid value.

The units are the rows: every unit of every train session (a window with its label, a
sentence, an utterance), with the features the pipeline's train-only normaliser standardised.

The fits of a grid (one per value, and per target for a regressor) are independent: they run
in a process pool (training/grid_fits.py), each giving the numbers it gives alone.
"""
import logging

import numpy as np

from pipeline.sequences import DEFAULT_INPUT, CorpusMismatch, SessionSequence
from training.grid_fits import fit_all
from training.tasks import Task, improved

log = logging.getLogger("trainer")


def unit_rows(sequences: list[SessionSequence]) -> tuple[np.ndarray, np.ndarray]:
    """(units x features, units x targets) of these sessions."""
    return (np.concatenate([s.x[DEFAULT_INPUT] for s in sequences]).astype(np.float64),
            np.concatenate([s.y for s in sequences]))


def fit_grid(model, values, x: np.ndarray, y: np.ndarray, task: Task, seed: int, jobs: int | None = None) -> list:
    """Per grid value, the scikit-learn fit(s) that set the model's linear layer: a classifier,
    or a list of one regressor per target column of y."""
    if not values:
        raise ValueError(f"{model.kind}: its grid is empty: give it at least one {model.grid_param}")
    if model.classifies:
        balanced = bool(getattr(task, "class_weights", False))
        fits = [(model.estimator(v, balanced, seed), y[:, 0].astype(int)) for v in values]
    else:
        fits = [(model.estimator(v, seed=seed), y[:, j]) for v in values for j in range(y.shape[1])]
    done = fit_all(fits, x, jobs)
    per_value = len(fits) // len(values)
    return [done[i] if model.classifies else done[i * per_value:(i + 1) * per_value] for i in range(len(values))]


def set_fitted(model, fitted) -> None:
    """The model's linear layer from one grid value's fit(s) (fit_grid)."""
    if model.classifies:
        model.set_classifier(fitted)
    else:
        model.set_regressors(fitted)


def fit_once(model, value: float, x: np.ndarray, y: np.ndarray, task: Task, seed: int) -> None:
    """Sets the model's linear layer from scikit-learn fits at one grid value."""
    set_fitted(model, fit_grid(model, [value], x, y, task, seed)[0])


def fit_classical(name: str, model, task: Task, train: list[SessionSequence], dev: list[SessionSequence],
                  predict_dev, seed: int) -> dict:
    """Fits every grid value; returns {best_state, best, history, stopped}. `predict_dev(model)`
    gives (outputs, gold) on dev, as the epoch loop scores it."""
    if model.classifies != task.logits:
        use = "svr or ridge" if model.classifies else "svm or logreg"
        raise CorpusMismatch(f"model {name} {'classifies' if model.classifies else 'regresses values'}, "
                             f"but the task is {task.name}: use {use}")
    x, y = unit_rows(train)
    state = {"best_state": None, "best": None, "history": [], "stopped": True}
    fitted = fit_grid(model, model.cfg.grid, x, y, task, seed)
    for index, (value, fit) in enumerate(zip(model.cfg.grid, fitted), start=1):
        set_fitted(model, fit)
        scores = task.dev_scores(*predict_dev(model))
        state["history"].append({"epoch": index, model.grid_param: value, **scores})
        log.info("%s %s=%g: dev score %.4f", name, model.grid_param, value, scores["dev_score"])
        if improved(scores["dev_score"], state["best"], task.maximise):
            state["best"] = scores["dev_score"]
            state["best_state"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    log.info("%s: %s=%g chosen on dev (%d train units, %d features)", name, model.grid_param,
             chosen_value(state["history"], task.maximise), *x.shape)
    model.load_state_dict(state["best_state"])
    return state


def chosen_value(history: list[dict], maximise: bool) -> float:
    """The grid value a history's best dev score came from (the first, on a tie)."""
    scores = np.array([h["dev_score"] for h in history])
    best = int(np.argmax(scores) if maximise else np.argmin(scores))
    return float(next(v for k, v in history[best].items() if k in ("C", "alpha")))

