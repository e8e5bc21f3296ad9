"""A trained checkpoint (written by pipeline/trainer.py's train_model) loaded and applied: its
model, task and normaliser, and its metrics and prediction table on the test split. Used by
the `evaluate`, `benchmark` and `story` stages, and per fold by pipeline/protocols.py.
"""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from metrics.groups import per_group
from models import create_model
from pipeline import layout
from pipeline.fold_features import fold_folders
from pipeline.sequences import SessionSequence, load_sequences, normalise
from pipeline.trainer import assign_splits, predict_split
from training.tasks import Task, make_task


def task_of(meta: dict) -> Task:
    """The task a checkpoint was trained on, from its metadata."""
    return make_task(meta["task"], meta["targets"], meta["loss"], meta.get("classes"),
                     meta.get("class_weights", False), meta.get("reference"))


def load_trained(checkpoint: Path):
    """(model, meta, normaliser) of a checkpoint written by train_model."""
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    meta = json.loads(saved["meta"])
    model = create_model(meta["model"], meta["input_shape"], task_of(meta).n_outputs, **meta["hparams"])
    model.load_state_dict(saved["state_dict"])
    norm = {k: (v["mean"].numpy(), v["std"].numpy()) for k, v in saved["normaliser"].items()}
    return model, meta, norm


@dataclass
class TestPredictions:
    """A checkpoint's outputs on its test sessions, one row per unit."""
    meta: dict
    task: Task
    pred: np.ndarray  # raw model outputs (logits for a categorical task)
    gold: np.ndarray
    ids: np.ndarray  # the session of each unit
    groups: list  # the speaker group of each unit (None without groups)
    start: np.ndarray


def checkpoint_sequences(checkpoint: Path, meta: dict) -> list[SessionSequence]:
    """Every session as the checkpoint's training run saw it: its features (a fold's refitted
    stages from the fold's folder: meta `stage_folders`) and its splits (a fold's: meta
    `splits`; else the corpus's), not yet normalised."""
    sequences = load_sequences(meta["features"], meta["targets"], meta["unit"],
                               fold_folders(checkpoint, meta.get("stage_folders")))
    if meta.get("splits"):
        assign_splits(sequences, meta["splits"])
    return sequences


def test_predictions(checkpoint: Path) -> TestPredictions:
    """The checkpoint applied to its test sessions: the corpus's test split, or those its
    training run was given (a fold of pipeline/protocols.py, saved as meta `splits`)."""
    model, meta, norm = load_trained(checkpoint)
    test = [s for s in checkpoint_sequences(checkpoint, meta) if s.split == "test"]
    if not test:
        raise ValueError(f"{checkpoint}: no test sessions")
    normalise(test, norm)
    pred, gold = predict_split(model, test, torch.device("cpu"), meta["sequence"] == "independent")
    return TestPredictions(meta, task_of(meta), pred, gold, np.array([s.id for s in test for _ in range(len(s))]),
                           [s.group for s in test for _ in range(len(s))],
                           np.concatenate([s.start for s in test]))


def human_baseline(split: str = "test") -> dict | None:
    """The corpus's human baseline on `split` (reports/corpus.json), keyed as the tasks read it:
    {target: {"test": ...}}; `all` for predictions pooled over every session (cross-validation)."""
    if not layout.CORPUS_REPORT.exists():
        return None
    human = json.loads(layout.CORPUS_REPORT.read_text())["human_baseline"]
    return {target: {"test": by_split[split]} for target, by_split in (human or {}).items() if split in by_split}


def scored(p: TestPredictions, human: dict | None) -> tuple[dict, pd.DataFrame]:
    """Metrics (with the human baseline beside them, and per speaker group when the sessions
    have several) and the prediction table."""
    def scores(pred, gold, ids, human=None) -> dict:
        return {"sessions": len(set(ids)), "windows": len(ids), **p.task.test_metrics(pred, gold, ids, human)}

    meta = p.meta
    metrics = {"model": meta["model"], "loss": meta["loss"], "control": meta["control"],
               "features": meta["features"], "unit": meta["unit"], "split": "test", "task": p.task.name,
               # refit on train+dev: the setting chosen on dev (epochs or a constant), trained again
               **({"refit": {k: v for k, v in meta["refit"].items() if k != "sessions"}} if meta.get("refit") else {}),
               **scores(p.pred, p.gold, p.ids, human)}
    if by_group := per_group(scores, p.groups, p.pred, p.gold, p.ids):
        metrics["groups"] = by_group  # the human baseline is per split, not per group: not repeated here
    table = pd.DataFrame({"session": p.ids, "start": p.start, **({"group": p.groups} if by_group else {}),
                          **p.task.prediction_columns(p.pred, p.gold)})
    return metrics, table


def evaluate_trained(checkpoint: Path) -> tuple[dict, pd.DataFrame]:
    """Test-split metrics and the prediction table of one checkpoint (`scored`)."""
    return scored(test_predictions(checkpoint), human_baseline())
