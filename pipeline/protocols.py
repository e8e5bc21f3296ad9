"""Evaluation protocols of the `train`, `evaluate` and `benchmark` stages: the corpus's own
train/dev/test split, or speaker-independent k-fold cross-validation.

A model entry or benchmark run with `folds: K` (K >= 3) trains K models. The corpus's speakers
are shuffled (a fixed seed: the folds do not move with train.seed) and dealt into K groups
round-robin, stratified by speaker group as the manifest's `speaker_kfold` rule
(pipeline/splits.py); fold k tests on group k, stops early on group k+1 (dev, carved from the
training speakers) and trains on the rest. `folds: speakers` is leave-one-speaker-out; a
corpus whose groups of speakers are its recording sessions (IEMOCAP's five sessions of two
speakers) gets leave-one-session-out with K = its number of sessions, as Xu et al.'s field
reads their protocol.

What is fitted on data is fitted on each fold's training speakers. The trainer's normaliser
is (it always fits on the train split it is given); a feature stage fitted on the corpus's
train split (a codebook or vocabulary: its `fitted.json`) would have seen the test speakers
of most folds, so each fold refits it on its own train sessions and extracts every session
with that state (pipeline/fold_features.py: `<folder>/fold<k>/features/<stage>/`).

Checkpoints: `<folder>/model.pt` for the corpus split; `<folder>/fold<k>/model.pt` and
`<folder>/protocol.json` (folds and each fold's test speakers) for k folds. Metrics of a
k-fold run: those of the test predictions pooled over the folds (every session is tested
once, so the human baseline beside them is the corpus's over all sessions) at the top level,
where the report reads any run's, then `protocol`, each fold's metrics under `folds`, and
the mean and sd over folds of every number under `fold_mean` and `fold_sd`.
"""
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import require
from pipeline.fold_features import fitted_stages, refit_for_fold
from pipeline.sessions import load_corpus
from pipeline.splits import speaker_groups
from pipeline.trained_model import TestPredictions, human_baseline, scored, test_predictions
from pipeline.model_spec import ModelSpec
from pipeline.trainer import train_model

log = logging.getLogger("protocols")
FOLD_SEED = 0
PROTOCOL_FILE = "protocol.json"


def fold_count(folds: int | str, n_speakers: int) -> int:
    """K of `folds` (an int, or "speakers": one fold per speaker), checked against the speakers."""
    k = n_speakers if folds == "speakers" else int(folds)
    require(3 <= k <= n_speakers, f"folds: {folds!r} needs 3 <= folds <= the corpus's {n_speakers} speakers "
                                  "(a fold needs a test and a dev speaker, training needs one more)")
    return k


def fold_splits(folds: int | str) -> list[dict[str, str]]:
    """One {session id: train | dev | test} per fold, over the corpus's speakers."""
    corpus = load_corpus()
    speakers = sorted({s.speaker for s in corpus.sessions})
    k = fold_count(folds, len(speakers))
    group_of = {s.speaker: s.group for s in corpus.sessions}
    assignments = []
    for fold in range(k):
        groups = speaker_groups(speakers, {"rule": "speaker_kfold", "folds": k, "fold": fold, "seed": FOLD_SEED},
                                group_of)
        split_of = {sp: name for name, members in groups.items() for sp in members}
        assignments.append({s.id: split_of[s.speaker] for s in sorted(corpus.sessions, key=lambda s: s.id)})
    return assignments


def train_protocol(spec: ModelSpec, cfg: dict, seed: int, folder: Path, history_csv: Path,
                   progress: Path | None) -> dict:
    """Trains `spec` under its protocol; returns the (first fold's) checkpoint metadata with
    `best_epoch` a list over folds for a k-fold run. The history gets a `fold` column."""
    if not spec.folds:
        return train_model(spec, cfg, seed, folder / "model.pt", history_csv, progress)
    assignments = fold_splits(spec.folds)
    refitted = fitted_stages(spec.features)
    metas, histories = [], []
    for k, split_of in enumerate(assignments):
        log.info("fold %d of %d: test speakers' sessions %s", k + 1, len(assignments),
                 sorted(s for s, split in split_of.items() if split == "test"))
        fold_history = folder / f"fold{k}" / "history.csv"
        stage_folders = refit_for_fold(refitted, split_of, folder / f"fold{k}")
        metas.append(train_model(spec, cfg, seed, folder / f"fold{k}" / "model.pt", fold_history, progress, split_of,
                                 stage_folders))
        histories.append(pd.read_csv(fold_history).assign(fold=k))
    speakers = {s.id: s.speaker for s in load_corpus().sessions}
    (folder / PROTOCOL_FILE).write_text(json.dumps({
        "folds": len(assignments), "fold_seed": FOLD_SEED,
        "test_speakers": [sorted({speakers[s] for s, split in a.items() if split == "test"}) for a in assignments],
    }, indent=1) + "\n")
    history_csv.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(histories).to_csv(history_csv, index=False, float_format="%.5f")
    return {**metas[0], "best_epoch": [m["best_epoch"] for m in metas]}


def checkpoints(folder: Path) -> list[Path]:
    """The checkpoints a protocol wrote into `folder`: fold by fold, or the one model.pt."""
    protocol = folder / PROTOCOL_FILE
    if not protocol.exists():
        return [folder / "model.pt"]
    return [folder / f"fold{k}" / "model.pt" for k in range(json.loads(protocol.read_text())["folds"])]


def evaluate_protocol(folder: Path) -> tuple[dict, pd.DataFrame]:
    """Metrics and the prediction table (with a `fold` column for k folds) of `folder`'s run."""
    paths = checkpoints(folder)
    if len(paths) == 1:
        predictions = test_predictions(paths[0])
        metrics, table = scored(predictions, human_baseline())
        if "best_dev_score" in predictions.meta:  # what model selection compares (suites: the run chosen on dev)
            metrics["dev_score"] = round(float(predictions.meta["best_dev_score"]), 4)
        return metrics, table
    parts = [test_predictions(p) for p in paths]
    per_fold = [scored(p, None) for p in parts]
    metrics, table = scored(pooled(parts), human_baseline("all"))
    protocol = json.loads((folder / PROTOCOL_FILE).read_text())
    metrics["protocol"] = {"kind": "speaker_kfold", "folds": len(parts), "test_speakers": protocol["test_speakers"],
                           "pooled": "the top-level metrics: every fold's test predictions together"}
    metrics["folds"] = [m for m, _ in per_fold]
    metrics["fold_mean"], metrics["fold_sd"] = fold_summary(metrics["folds"])
    table.insert(0, "fold", np.concatenate([np.full(len(p.ids), k) for k, p in enumerate(parts)]))
    return metrics, table


def pooled(parts: list[TestPredictions]) -> TestPredictions:
    """Every fold's test predictions as one set (each session is in exactly one fold's test)."""
    return TestPredictions(parts[0].meta, parts[0].task, np.concatenate([p.pred for p in parts]),
                           np.concatenate([p.gold for p in parts]), np.concatenate([p.ids for p in parts]),
                           [g for p in parts for g in p.groups], np.concatenate([p.start for p in parts]))


def fold_summary(per_fold: list[dict]) -> tuple[dict, dict]:
    """Mean and sd (ddof 1) over folds of every number that each fold's metrics hold (counts
    such as support and confusion left out)."""
    def leaves(d: dict, prefix: tuple = ()) -> dict:
        out = {}
        for k, v in d.items():
            if k in ("confusion", "support", "sessions", "windows", "groups"):
                continue
            if isinstance(v, dict):
                out.update(leaves(v, (*prefix, k)))
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out[(*prefix, k)] = float(v)
        return out

    flat = [leaves(m) for m in per_fold]
    common = [k for k in flat[0] if all(k in f for f in flat)]
    mean, sd = {}, {}
    for key in common:
        values = np.array([f[key] for f in flat])
        for target, value in ((mean, values.mean()), (sd, values.std(ddof=1))):
            node = target
            for part in key[:-1]:
                node = node.setdefault(part, {})
            node[key[-1]] = round(float(value), 4)
    return mean, sd
