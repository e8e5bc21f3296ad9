"""Classical baselines (models/classical.py, training/classical.py): the linear layer predicts
what scikit-learn predicts; the constant chosen on dev is what scikit-learn's own grid search
over the same train/dev split chooses; the normaliser they read saw train rows only; a grid
fitted in a process pool gives what it gives in one process, and the pool's workers stay free
of torch."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from joblib import Parallel
from sklearn.metrics import balanced_accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.svm import LinearSVC, LinearSVR

from metrics.regression import ccc
from models import create_model
from pipeline.sequences import CorpusMismatch, SessionSequence, fit_normaliser, predict
from training import grid_fits
from training.classical import chosen_value, fit_classical, fit_grid, unit_rows
from training.tasks import make_task

GRID = [0.0001, 0.001, 0.01, 0.1, 1.0]


def sessions(rng, split: str, n: int, units: int, classes: int | None, shift: float = 0.0) -> list:
    """Sessions of unit vectors whose first two features carry the label, with noise."""
    out = []
    for k in range(n):
        x = rng.normal(size=(units, 6)).astype(np.float32) + shift
        if classes:
            y = rng.integers(classes, size=units)
            x[:, 0] += 0.8 * y
            x[:, 1] -= 0.5 * (y == 1)
            y = y[:, None].astype(np.float32)
        else:
            y = np.stack([x[:, 0] - x[:, 1], 0.5 * x[:, 2]], axis=1) + rng.normal(scale=0.8, size=(units, 2))
            y = y.astype(np.float32)
        out.append(SessionSequence(f"{split}{k}", split, np.arange(units) * 0.5, x, y))
    return out


def outputs(model, sequences) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([predict(model, s, torch.device("cpu")) for s in sequences]),
            np.concatenate([s.y for s in sequences]))


@pytest.mark.parametrize("classes", [2, 4])
def test_svm_logits_choose_the_class_scikit_learn_predicts(classes):
    rng = np.random.default_rng(0)
    train = sessions(rng, "train", 6, 20, classes)
    x, y = unit_rows(train)
    model = create_model("svm", (6,), classes)
    fitted = LinearSVC(C=0.1, max_iter=20000, random_state=0).fit(x, y[:, 0].astype(int))
    model.set_classifier(fitted)
    logits, _ = outputs(model, train)
    np.testing.assert_array_equal(logits.argmax(axis=1), fitted.predict(x))


def test_a_class_absent_from_train_is_never_predicted():
    rng = np.random.default_rng(1)
    train = sessions(rng, "train", 4, 20, 3)  # classes 0-2 of a 4-class task
    x, y = unit_rows(train)
    model = create_model("logreg", (6,), 4)
    model.set_classifier(model.estimator(1.0).fit(x, y[:, 0].astype(int)))
    logits, _ = outputs(model, train)
    assert logits.shape[1] == 4 and (logits.argmax(axis=1) != 3).all()


@pytest.mark.parametrize("kind", ["svr", "ridge"])
def test_regressors_predict_what_scikit_learn_predicts(kind):
    rng = np.random.default_rng(2)
    train = sessions(rng, "train", 5, 30, None)
    x, y = unit_rows(train)
    model = create_model(kind, (6,), 2)
    fitted = [model.estimator(1.0).fit(x, y[:, j]) for j in range(2)]
    model.set_regressors(fitted)
    pred, _ = outputs(model, train)
    np.testing.assert_allclose(pred, np.stack([f.predict(x) for f in fitted], axis=1), atol=1e-4)


def test_the_constant_chosen_on_dev_is_scikit_learn_s_grid_search_choice():
    rng = np.random.default_rng(3)
    train, dev = sessions(rng, "train", 8, 15, 4), sessions(rng, "dev", 3, 15, 4)
    task = make_task("categorical", ["class"], None, ["a", "b", "c", "d"])
    model = create_model("svm", (6,), 4, grid=GRID)
    state = fit_classical("svm", model, task, train, dev, lambda m: outputs(m, dev), seed=0)
    ours = chosen_value(state["history"], task.maximise)
    (xt, yt), (xd, yd) = unit_rows(train), unit_rows(dev)
    search = GridSearchCV(LinearSVC(max_iter=20000, random_state=0), {"C": GRID},
                          scoring=make_scorer(balanced_accuracy_score), refit=False,
                          cv=PredefinedSplit([-1] * len(xt) + [0] * len(xd)))
    search.fit(np.concatenate([xt, xd]), np.concatenate([yt, yd])[:, 0].astype(int))
    assert ours == search.best_params_["C"]
    # the model holds the chosen fit: its dev UA is the grid search's best score
    logits, gold = outputs(model, dev)
    assert balanced_accuracy_score(gold[:, 0], logits.argmax(axis=1)) == pytest.approx(search.best_score_)


def test_svr_constant_chosen_on_dev_ccc_as_a_grid_search_would():
    rng = np.random.default_rng(4)
    train, dev = sessions(rng, "train", 6, 20, None), sessions(rng, "dev", 3, 20, None)
    task = make_task("continuous", ["valence"], "mse")
    for s in train + dev:
        s.y = s.y[:, :1]
    model = create_model("svr", (6,), 1, grid=GRID)
    state = fit_classical("svr", model, task, train, dev, lambda m: outputs(m, dev), seed=0)
    (xt, yt), (xd, yd) = unit_rows(train), unit_rows(dev)
    search = GridSearchCV(LinearSVR(max_iter=20000, epsilon=0.0, random_state=0), {"C": GRID},
                          scoring=make_scorer(ccc), refit=False, cv=PredefinedSplit([-1] * len(xt) + [0] * len(xd)))
    search.fit(np.concatenate([xt, xd]), np.concatenate([yt, yd])[:, 0])
    assert chosen_value(state["history"], task.maximise) == search.best_params_["C"]
    assert len(state["history"]) == len(GRID) and state["history"][0]["C"] == GRID[0]


def test_a_classifier_on_values_or_a_regressor_on_classes_is_refused():
    rng = np.random.default_rng(5)
    train, dev = sessions(rng, "train", 2, 5, None), sessions(rng, "dev", 1, 5, None)
    task = make_task("continuous", ["valence", "arousal"], "ccc")
    with pytest.raises(CorpusMismatch, match="model svm classifies, but the task is continuous: use svr or ridge"):
        fit_classical("svm", create_model("svm", (6,), 2), task, train, dev, lambda m: outputs(m, dev), 0)
    classes = make_task("categorical", ["class"], None, ["a", "b"])
    with pytest.raises(CorpusMismatch, match="use svm or logreg"):
        fit_classical("ridge", create_model("ridge", (6,), 2), classes, train, dev, lambda m: outputs(m, dev), 0)


def test_the_features_they_read_are_standardised_on_train_rows_only():
    rng = np.random.default_rng(6)
    train = sessions(rng, "train", 4, 10, 2)
    others = sessions(rng, "dev", 2, 10, 2, shift=50.0) + sessions(rng, "test", 2, 10, 2, shift=-80.0)
    mean, std = fit_normaliser(train + others)["x"]
    x, _ = unit_rows(train)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(std, x.std(axis=0), rtol=1e-4)


@pytest.mark.parametrize("kind, classes", [("svr", None), ("ridge", None), ("svm", 4), ("logreg", 4)])
def test_a_grid_fitted_in_a_process_pool_equals_the_grid_fitted_in_this_process(kind, classes, monkeypatch):
    # liblinear draws from one process-wide random generator: two fits sharing a process in
    # threads would not give these numbers; processes of their own do, each as if alone
    rng = np.random.default_rng(5)
    x, y = unit_rows(sessions(rng, "train", 8, 60, classes))
    model = create_model(kind, (6,), 2 if classes is None else classes, grid=GRID)
    task = (make_task("continuous", ["valence", "arousal"], "mse") if classes is None
            else make_task("categorical", ["class"], None, list("abcd")))
    alone = fit_grid(model, GRID, x, y, task, seed=3, jobs=1)
    pools = []
    monkeypatch.setattr(grid_fits, "Parallel", lambda **kw: pools.append(kw) or Parallel(**kw))
    monkeypatch.setattr(grid_fits, "POOL_FROM_CELLS", 0)  # these few units would otherwise fit here
    pooled = fit_grid(model, GRID, x, y, task, seed=3, jobs=2)
    assert pools == [{"n_jobs": 2}]
    assert len(alone) == len(pooled) == len(GRID)
    for a, p in zip(alone, pooled):
        fits = zip([a], [p]) if classes else zip(a, p)
        for fa, fp in fits:
            np.testing.assert_array_equal(fa.coef_, fp.coef_)
            np.testing.assert_array_equal(fa.intercept_, fp.intercept_)


def test_the_module_pool_workers_import_leaves_torch_out():
    # each worker imports training.grid_fits to find the fit; with torch it would hold ~0.7 GB more
    code = "import sys, training.grid_fits; print('torch' in sys.modules, 'pipeline' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("value, expected", [("1", 1), ("1,2", 1), ("", None), ("auto", None)])
def test_the_pool_takes_the_outer_omp_thread_count_else_the_cores(value, expected, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert grid_fits.fit_jobs() == (expected or len(os.sched_getaffinity(0)))
