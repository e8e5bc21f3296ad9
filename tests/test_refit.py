"""Refit on train+dev (train.refit: train_dev): after the selection on dev, the same setting is
trained again on the train and dev sessions, never the test ones; the normaliser then sees
train and dev; a classical model refits its chosen constant."""
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import Ridge

from pipeline.trained_model import evaluate_trained
from pipeline.model_spec import ModelSpec
from pipeline.trainer import train_model
from tests.test_training_resume import CFG, SPEC

SPLITS = {"a": "train", "b": "train", "c": "dev", "d": "test", "e": "test"}


def features(root, ids) -> np.ndarray:
    return np.concatenate([np.load(root / f"data/features/vec/{sid}.npy") for sid in ids])


def saved(path):
    return torch.load(path, weights_only=True)


def test_a_neural_refit_trains_the_best_epoch_count_on_train_and_dev(dataset):
    plain = train_model(SPEC, CFG, 3, dataset / "plain/model.pt", dataset / "plain/h.csv")
    refit = train_model(SPEC, {**CFG, "refit": "train_dev"}, 3, dataset / "refit/model.pt", dataset / "refit/h.csv")
    assert "refit" not in plain
    assert refit["refit"]["on"] == "train_dev" and refit["refit"]["epochs"] == refit["best_epoch"] == plain["best_epoch"]
    trained_on = set(refit["refit"]["sessions"])
    assert trained_on == {s for s, split in SPLITS.items() if split in ("train", "dev")}
    assert not trained_on & {s for s, split in SPLITS.items() if split == "test"}
    # the normaliser: train rows only without the refit, train and dev rows with it
    for folder, ids in (("plain", ["a", "b"]), ("refit", ["a", "b", "c"])):
        norm = saved(dataset / folder / "model.pt")["normaliser"]["x"]
        np.testing.assert_allclose(norm["mean"].numpy(), features(dataset, ids).mean(axis=0), rtol=1e-5, atol=1e-6)
    # other weights than the selected ones, and tested on the test sessions as before
    a, b = saved(dataset / "plain/model.pt")["state_dict"], saved(dataset / "refit/model.pt")["state_dict"]
    assert any(not torch.equal(a[k], b[k]) for k in a)
    metrics, table = evaluate_trained(dataset / "refit/model.pt")
    assert set(table.session) == {"d", "e"} and -1 <= metrics["valence"]["ccc"] <= 1
    assert metrics["refit"] == {"on": "train_dev", "epochs": refit["best_epoch"]}  # the protocol, in metrics.json
    assert "refit" not in evaluate_trained(dataset / "plain/model.pt")[0]


def test_a_classical_refit_fits_the_constant_chosen_on_dev_to_train_and_dev(dataset):
    spec = ModelSpec("ridge", ["vec"], ["valence"], "mse", {"grid": [0.1, 10.0, 1000.0]})
    meta = train_model(spec, {**CFG, "refit": "train_dev"}, 3, dataset / "m.pt", dataset / "h.csv")
    history = pd.read_csv(dataset / "h.csv")
    chosen = history.alpha[history.dev_score.idxmax()]
    assert meta["refit"]["alpha"] == chosen and meta["refit"]["sessions"] == ["a", "b", "c"]
    x = features(dataset, ["a", "b", "c"])
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    labels = pd.read_csv(dataset / "data/windows/windows.csv")
    y = labels[labels.session.isin(["a", "b", "c"])].valence.to_numpy()
    direct = Ridge(alpha=chosen).fit(x, y)
    weights = saved(dataset / "m.pt")["state_dict"]
    np.testing.assert_allclose(weights["linear.weight"].numpy()[0], direct.coef_, rtol=1e-4, atol=1e-5)
    assert weights["linear.bias"].item() == pytest.approx(direct.intercept_, abs=1e-5)
