"""A trained checkpoint (written by pipeline/trainer.py's train_model) loaded and applied: its
model, task and normaliser, and its metrics and prediction table on the test split. Used by
the `evaluate`, `benchmark` and `story` stages.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from metrics.groups import per_group
from models import create_model
from pipeline import layout
from pipeline.sequences import load_sequences, normalise
from pipeline.trainer import predict_split
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


def evaluate_trained(checkpoint: Path) -> tuple[dict, pd.DataFrame]:
    """Test-split metrics (with the corpus's human baseline beside them, and per speaker group
    when the test split has several) and the prediction table."""
    model, meta, norm = load_trained(checkpoint)
    task = task_of(meta)
    test = [s for s in load_sequences(meta["features"], meta["targets"], meta["unit"]) if s.split == "test"]
    if not test:
        raise ValueError("the corpus has no test sessions")
    normalise(test, norm)
    pred, gold = predict_split(model, test, torch.device("cpu"), meta["sequence"] == "independent")
    ids = np.array([s.id for s in test for _ in range(len(s))])
    groups = [s.group for s in test for _ in range(len(s))]
    human = (json.loads(layout.CORPUS_REPORT.read_text())["human_baseline"]
             if layout.CORPUS_REPORT.exists() else None)

    def scores(pred, gold, ids, human=None) -> dict:
        return {"sessions": len(set(ids)), "windows": len(ids), **task.test_metrics(pred, gold, ids, human)}

    metrics = {"model": meta["model"], "loss": meta["loss"], "control": meta["control"],
               "features": meta["features"], "unit": meta["unit"], "split": "test", "task": task.name, **scores(pred, gold, ids, human)}
    if by_group := per_group(scores, groups, pred, gold, ids):
        metrics["groups"] = by_group  # the human baseline is per split, not per group: not repeated here
    table = pd.DataFrame({"session": ids, "start": np.concatenate([s.start for s in test]),
                          **({"group": groups} if by_group else {}), **task.prediction_columns(pred, gold)})
    return metrics, table
