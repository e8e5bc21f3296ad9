"""Training resumes from its per-epoch progress file exactly where it stopped; progress files are
keyed by everything that shapes the run, data content included; evaluation reports each speaker
group's metrics."""
import numpy as np
import pandas as pd
import torch

from pipeline.trained_model import evaluate_trained
from pipeline.model_spec import ModelSpec
from pipeline.trainer import train_model
from training.tasks import make_task

CFG = {"epochs": 6, "patience": 100, "batch_size": 4, "chunk_windows": 10, "lr": 0.01, "seed": 7, "device": "cpu",
       "control": "none"}
SPEC = ModelSpec("lstm", ["vec"], ["valence"], "mse", {"hidden": 8, "layers": 1, "dropout": 0.2})


def test_interrupted_run_resumes_to_the_same_result(dataset):
    straight = train_model(SPEC, CFG, 3, dataset / "a/model.pt", dataset / "a/h.csv", dataset / "a/progress")
    train_model(SPEC, {**CFG, "epochs": 3}, 3, dataset / "b/model.pt", dataset / "b/h.csv", dataset / "b/progress")
    first_half = pd.read_csv(dataset / "b/h.csv")
    assert list(first_half.epoch) == [1, 2, 3]
    resumed = train_model(SPEC, CFG, 3, dataset / "b/model.pt", dataset / "b/h.csv", dataset / "b/progress")
    a, b = pd.read_csv(dataset / "a/h.csv"), pd.read_csv(dataset / "b/h.csv")
    assert list(b.epoch) == [1, 2, 3, 4, 5, 6]
    pd.testing.assert_frame_equal(a, b)
    assert resumed["best_epoch"] == straight["best_epoch"]
    weights_a = torch.load(dataset / "a/model.pt", weights_only=True)["state_dict"]
    weights_b = torch.load(dataset / "b/model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)


def test_progress_of_another_run_is_ignored(dataset):
    train_model(SPEC, {**CFG, "epochs": 2}, 3, dataset / "m.pt", dataset / "h.csv", dataset / "progress")
    train_model(SPEC, {**CFG, "epochs": 2, "lr": 0.02}, 3, dataset / "m.pt", dataset / "h.csv", dataset / "progress")
    assert list(pd.read_csv(dataset / "h.csv").epoch) == [1, 2]  # started over, not 'resumed' past the end
    assert len(list((dataset / "progress").glob("*.pt"))) == 2  # one file per run key


def test_progress_is_keyed_by_the_data_content(dataset):
    """Same sessions, same shapes, other numbers: a new run, never a resumed one."""
    train_model(SPEC, {**CFG, "epochs": 2}, 3, dataset / "m.pt", dataset / "h.csv", dataset / "progress")
    x = np.load(dataset / "data/features/vec/a.npy")
    np.save(dataset / "data/features/vec/a.npy", x + 1)
    train_model(SPEC, {**CFG, "epochs": 3}, 3, dataset / "m.pt", dataset / "h.csv", dataset / "progress")
    assert len(list((dataset / "progress").glob("*.pt"))) == 2


def test_progress_is_keyed_by_the_training_code(dataset, tmp_path, monkeypatch):
    """A changed model, normaliser or trainer starts over: a state made by other code is never resumed."""
    import shutil
    from pipeline import train_progress
    copy = tmp_path / "repo"
    for entry in train_progress.TRAINING_CODE:
        source, target = train_progress.REPO / entry, copy / entry
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    (copy / "pipeline/report.py").write_text("# not training code\n")
    monkeypatch.setattr(train_progress, "REPO", copy)
    before = train_progress.code_digest()
    assert before == train_progress.code_digest()  # stable
    (copy / "pipeline/report.py").write_text("# still not training code\n")
    assert train_progress.code_digest() == before
    with open(copy / "pipeline/sequences.py", "a") as f:
        f.write("\n# a change to the data layer\n")
    assert train_progress.code_digest() != before
    train_model(SPEC, {**CFG, "epochs": 2}, 3, dataset / "m.pt", dataset / "h.csv", dataset / "progress")
    with open(copy / "models/baselines.py", "a") as f:
        f.write("\n# a change to a model\n")
    train_model(SPEC, {**CFG, "epochs": 2}, 3, dataset / "m.pt", dataset / "h.csv", dataset / "progress")
    assert len(list((dataset / "progress").glob("*.pt"))) == 2  # a second run key: started over


def test_a_shorter_run_does_not_reuse_a_longer_runs_progress(dataset):
    train_model(SPEC, {**CFG, "epochs": 4}, 3, dataset / "m.pt", dataset / "h.csv", dataset / "progress")
    train_model(SPEC, {**CFG, "epochs": 2}, 3, dataset / "m.pt", dataset / "h.csv", dataset / "progress")
    assert list(pd.read_csv(dataset / "h.csv").epoch) == [1, 2]


def test_evaluation_reports_each_groups_metrics(dataset):
    train_model(SPEC, {**CFG, "epochs": 2}, 3, dataset / "m.pt", dataset / "h.csv")
    metrics, table = evaluate_trained(dataset / "m.pt")
    assert metrics["task"] == "continuous" and metrics["sessions"] == 2 and list(metrics["groups"]) == ["g1", "g2"]
    task = make_task("continuous", ["valence"], "mse")
    for group, session in (("g1", "d"), ("g2", "e")):
        rows = table[table.group == group]
        assert set(rows.session) == {session}
        expected = task.test_metrics(rows[["valence_pred"]].to_numpy(), rows[["valence_gold"]].to_numpy(),
                                     rows.session.to_numpy())
        assert metrics["groups"][group] == {"sessions": 1, "windows": 30, **expected}
