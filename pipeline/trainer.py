"""Training one model spec: shared by the `train` and `benchmark` stages (a trained checkpoint is
loaded and applied by pipeline/trained_model.py).

A model spec is `models.<name>` in params.yaml: the feature sets it reads (a list: one
input; a mapping of input names to lists: named inputs, pipeline/sequences.py), its targets
(a list of label dimensions, or `corpus` for whatever its unit labels for its task), its
loss (ccc | mse, for continuous targets), optionally its `unit` (a key of `units`; default
the window stage's windows), its `task` (one of the tasks the unit's labels can train, e.g.
`intensity` or `categorical` on sentence segments; default the unit's first), its own
learning rate `lr` and `class_weights` (categorical: weighted cross-entropy, off by
default), and its architecture hyperparameters. `train` in params.yaml holds the optimisation settings
shared by all models.

The task (training/tasks.py, from the unit's task.json) gives the model's output
size, the loss, the dev score that selects the epoch (history column `dev_score`, maximised
or minimised), the test metrics and the prediction table's columns. With more than one
speaker group among the test sessions, metrics.json also holds each group's metrics.
"""
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from models import create_model, require_registered
from pipeline import layout
from pipeline.config import require, section
from pipeline.params_check import CONTROLS, input_form_problems
from pipeline.inner_sequences import InnerSequence
from pipeline.inner_sequences import stack as stack_inner
from pipeline.model_inputs import DEFAULT_INPUT, model_inputs
from pipeline.sequences import (CorpusMismatch, SessionSequence, fit_normaliser, input_shapes, load_sequences,
                                load_task, normalise, pick_device, predict, require_features, run_model)
from pipeline.train_progress import load_progress, progress_file, run_key, save_progress
from training.classical import chosen_value, fit_classical, fit_once, unit_rows
from training.init_from import initialise_networks
from training.tasks import Task, best_epoch, improved, make_task

log = logging.getLogger("trainer")
SPEC_KEYS = ("features", "targets", "loss")
OPTIONAL_KEYS = ("lr", "class_weights", "unit", "task", "folds", "train", "init_from")  # the other keys of a model's entry are its hyperparameters


@dataclass
class ModelSpec:
    name: str
    features: list[str] | dict  # a list: one input; {input name: [stages]}: named inputs
    targets: list[str]
    loss: str
    hparams: dict = field(default_factory=dict)
    lr: float | None = None  # overrides train.lr
    class_weights: bool = False  # categorical task: cross-entropy weighted by inverse train-class frequency
    unit: str = layout.DEFAULT_UNIT  # a key of `units`, or the window stage's windows
    task: str = "continuous"  # one of the unit's tasks (its task.json `tasks`)
    folds: int | str = 0  # 0: the corpus's split; K or "speakers": speaker k-fold (pipeline/protocols.py)
    train: dict = field(default_factory=dict)  # the model's overrides of the `train` group (e.g. chunk_windows)
    init_from: dict = field(default_factory=dict)  # network -> a `pretrain` run whose feature network it starts from


RUN_OVERRIDES = ("features", "unit", "task", "targets", "folds")  # what a benchmark run may set instead of its model's entry


def model_spec(params: dict, name: str, loss: str | None = None, overrides: dict | None = None) -> ModelSpec:
    """The spec of `models.<name>` (with a benchmark run's `overrides` of its inputs, unit and
    task), its targets checked against the unit's tasks."""
    require_registered(name)
    entry = dict(section(params, f"models.{name}") or {})
    entry.update({k: v for k, v in (overrides or {}).items() if k in RUN_OVERRIDES})
    missing = [k for k in SPEC_KEYS if k not in entry]
    require(not missing, f"models.{name} lacks {missing}")
    unit = entry.get("unit", layout.DEFAULT_UNIT)
    form = input_form_problems(name, entry["features"], f"models.{name}")
    require(not form, "; ".join(form))
    named = isinstance(entry["features"], dict)
    task = load_task(unit)
    if "skipped" in task:  # a unit this corpus could not make, or one not cut (units.<unit>.enabled)
        raise CorpusMismatch(f"model {name} trains on unit {unit!r}: {task['skipped']}")
    if "unlabelled" in task:  # cut, for the features inside it, but with no labels (a `segments` corpus's windows)
        raise CorpusMismatch(f"model {name} trains on unit {unit!r}: {task['unlabelled']}")
    require_features(entry["features"], unit)  # then the next most basic: inputs the corpus lacks
    task_name = entry.get("task", task["task"])
    if task_name not in task["tasks"]:
        raise CorpusMismatch(f"model {name} trains the {task_name} task, but unit {unit!r} of this corpus has "
                             f"labels for {sorted(task['tasks'])} only")
    targets = list(task["tasks"][task_name]) if entry["targets"] == "corpus" else list(entry["targets"])
    if task_name == "categorical" and targets != ["class"]:
        raise CorpusMismatch(f"model {name} predicts {targets}, but this corpus is categorical (classes "
                             f"{task['classes']}): give models.{name} `targets: corpus`")
    features = model_inputs(entry["features"]) if named else list(entry["features"])
    spec = ModelSpec(name, features, targets, loss or entry["loss"],
                     {k: v for k, v in entry.items() if k not in (*SPEC_KEYS, *OPTIONAL_KEYS)}, entry.get("lr"),
                     bool(entry.get("class_weights", False)), unit, task_name, entry.get("folds") or 0,
                     dict(entry.get("train") or {}), dict(entry.get("init_from") or {}))
    try:
        spec_task(spec, task)
    except ValueError as err:
        require(False, f"models.{name}: {err}")
    return spec


def train_settings(params: dict, spec: ModelSpec, run: dict | None = None) -> dict:
    """The `train` group, then the model entry's `train` overrides, then a benchmark run's."""
    run = run or {}
    return {**section(params, "train"), **spec.train, **(run.get("train") or {}),
            **({"control": run["control"]} if "control" in run else {})}


def spec_task(spec: ModelSpec, task: dict) -> Task:
    """The task `spec` trains on this corpus (task: its unit's task.json)."""
    return make_task(spec.task, spec.targets, spec.loss, task["classes"], spec.class_weights)


Batch = tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]  # inputs, masks, gold: (B, T, ...)


def _stack(pieces: list[tuple[dict, dict, np.ndarray]]) -> Batch:
    """A batch of equally long pieces; frames and words inside units padded to the batch's longest."""
    x, mask = {}, {k: np.stack([p[1][k] for p in pieces]) for k in pieces[0][1]}
    for k, first in pieces[0][0].items():
        if isinstance(first, InnerSequence):
            x[k], mask[k], times = stack_inner([p[0][k] for p in pieces])
            if times is not None:
                x[f"{k}.times"] = times
        else:
            x[k] = np.stack([p[0][k] for p in pieces])
    return x, mask, np.stack([p[2] for p in pieces])


def _piece(s: SessionSequence, a: int, b: int) -> tuple[dict, dict, np.ndarray]:
    return {k: v[a:b] for k, v in s.x.items()}, {k: v[a:b] for k, v in s.mask.items()}, s.y[a:b]


def training_chunks(rng: np.random.Generator, sequences: list[SessionSequence], length: int) -> list:
    """Non-overlapping chunks of `length` windows from a random offset in every session, shuffled."""
    pieces = []
    for s in sequences:
        offset = int(rng.integers(0, max(1, len(s) - length + 1)))
        offset = offset % length if len(s) >= 2 * length else offset
        pieces += [_piece(s, a, a + length) for a in range(offset, len(s) - length + 1, length)]
    return [pieces[k] for k in rng.permutation(len(pieces))]


def training_batches(rng: np.random.Generator, sequences: list[SessionSequence], chunk: int,
                     batch: int) -> Iterable[Batch]:
    """One epoch's mini-batches: shuffled chunks of `chunk` consecutive units; with chunk 0,
    whole sessions, each batched with sessions of its length, so a CCC loss is one CCC per
    session (the EmoNet paper sums CCC over whole videos)."""
    if chunk:
        pieces = training_chunks(rng, sequences, chunk)  # stacked as the epoch reaches them: raw samples
        return (_stack(pieces[a:a + batch]) for a in range(0, len(pieces), batch))  # are read lazily
    by_length: dict[int, list[SessionSequence]] = {}
    for k in rng.permutation(len(sequences)):
        by_length.setdefault(len(sequences[k]), []).append(sequences[k])
    batches = [_stack([_piece(s, 0, len(s)) for s in same[a:a + batch]])
               for same in by_length.values() for a in range(0, len(same), batch)]
    return [batches[k] for k in rng.permutation(len(batches))]


def shuffle_words_across_sessions(rng: np.random.Generator, sequences: list[SessionSequence]) -> None:
    """Control condition: the train split's words (non-zero rows of the window word matrices)
    are permuted across all its sessions and windows, so text no longer matches ratings."""
    if DEFAULT_INPUT not in sequences[0].x or sequences[0].x[DEFAULT_INPUT].ndim != 3:
        raise ValueError("the shuffled_words control needs a one-input model on word-matrix features (glove)")
    words = [s.x[DEFAULT_INPUT] for s in sequences]
    slots = [(k, i, j) for k, x in enumerate(words) for i, j in zip(*np.nonzero(np.abs(x).sum(-1)))]
    vectors = np.stack([words[k][i, j] for k, i, j in slots])
    for (k, i, j), v in zip(slots, vectors[rng.permutation(len(slots))]):
        words[k][i, j] = v


def predict_split(model, sequences: list[SessionSequence], device,
                  independent: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(raw model outputs, gold) concatenated over the units of `sequences`."""
    return (np.concatenate([predict(model, s, device, independent) for s in sequences]),
            np.concatenate([s.y for s in sequences]))


@dataclass
class TrainingData:
    """What one training run reads, normalised with statistics of its train split."""
    train: list[SessionSequence]
    dev: list[SessionSequence]
    key: str  # the run's progress key (pipeline/train_progress.py)
    norm: dict
    input_shape: list | dict  # the factory's input_shape: one input's, or every named input's
    task_info: dict  # the unit's task.json
    task: Task

    @property
    def independent(self) -> bool:  # each segment alone: sequences of one unit
        return self.task_info["sequence"] == "independent"


def assign_splits(sequences: list[SessionSequence], split_of: dict[str, str]) -> None:
    """Gives each sequence its split from `split_of` (session id -> split: a fold's)."""
    missing = sorted({s.id for s in sequences} - set(split_of))
    if missing:
        raise ValueError(f"sessions {missing[:5]} have no split in the fold assignment (the corpus changed?)")
    for s in sequences:
        s.split = split_of[s.id]


def training_data(spec: ModelSpec, cfg: dict, seed: int, rng: np.random.Generator, device,
                  split_of: dict[str, str] | None = None, merge_dev: bool = False,
                  folders: dict[str, Path] | None = None) -> TrainingData:
    """The run's sessions, normalised with its train split's statistics; `merge_dev`: the dev
    sessions join the train split (a refit on train+dev: the normaliser sees both, dev is empty);
    `folders`: the stages a fold refitted (pipeline/fold_features.py)."""
    sequences = load_sequences(spec.features, spec.targets, spec.unit, folders)
    if split_of:
        assign_splits(sequences, split_of)
    train = [s for s in sequences if s.split == "train"]
    dev = [s for s in sequences if s.split == "dev"]
    require(bool(train) and bool(dev), "the corpus needs sessions in both the train and dev splits")
    if merge_dev:
        for s in dev:
            s.split = "train"
        train, dev = train + dev, []
    key = run_key(spec, cfg, seed, sequences, device)  # before the sequences are shuffled or normalised
    if cfg.get("control", "none") == "shuffled_words":
        shuffle_words_across_sessions(rng, train)
    norm = fit_normaliser(sequences)
    normalise(sequences, norm)
    shapes = input_shapes(train[0])
    task_info = load_task(spec.unit)
    task = spec_task(spec, task_info)
    task.fit(np.concatenate([s.y for s in train]))
    return TrainingData(train, dev, key, norm, shapes if isinstance(spec.features, dict) else shapes[DEFAULT_INPUT],
                        task_info, task)


def train_epoch(model, optimiser, task: Task, sequences: list[SessionSequence], chunk: int, batch_size: int,
                rng: np.random.Generator, device) -> float:
    """One pass over `sequences` in shuffled mini-batches; the mean training loss."""
    model.train()
    teacher_forcing, losses = getattr(model, "uses_teacher_forcing", False), []
    for xs, masks, ys in training_batches(rng, sequences, chunk, batch_size):
        x = {k: torch.from_numpy(v).to(device) for k, v in xs.items()}
        mask = {k: torch.from_numpy(v).to(device) for k, v in masks.items()}
        y = torch.from_numpy(ys).to(device)
        loss = task.loss(run_model(model, x, mask, teacher=y if teacher_forcing else None), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def run_epochs(name: str, model, optimiser, data: TrainingData, cfg: dict, rng: np.random.Generator, device,
               progress: Path | None, chunk: int) -> dict:
    """The epoch loop with early stopping on the dev score, resumed from `progress` when it holds
    this run's state; returns the state: best weights and score, history, whether it stopped."""
    task = data.task
    state = {"best_state": None, "best": None, "stale": 0, "history": [], "stopped": False}
    done = 0
    resumed = load_progress(progress, data.key, int(cfg["epochs"]), model, optimiser, rng)
    if resumed:
        done, state = resumed
        log.info("resuming from epoch %d (%s)", done, progress)
    epochs = range(done + 1, 1 + (done if state["stopped"] else int(cfg["epochs"])))
    for epoch in (bar := tqdm(epochs, desc=f"train {name}", unit="epoch", initial=done,
                              total=int(cfg["epochs"]))):
        loss = train_epoch(model, optimiser, task, data.train, chunk, int(cfg["batch_size"]), rng, device)
        scores = task.dev_scores(*predict_split(model, data.dev, device, data.independent))
        state["history"].append({"epoch": epoch, "train_loss": loss, **scores})
        bar.set_postfix(loss=f"{loss:.3f}", dev=f"{scores['dev_score']:.3f}")
        if improved(scores["dev_score"], state["best"], task.maximise):
            state["best"], state["stale"] = scores["dev_score"], 0
            state["best_state"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            state["stale"] += 1
            state["stopped"] = state["stale"] >= int(cfg["patience"])
        if progress is not None:
            save_progress(progress, data.key, epoch, model, optimiser, rng, state)
        if state["stopped"]:
            log.info("early stop at epoch %d (no dev improvement for %d epochs)", epoch, state["stale"])
            break
    return state


def new_model(spec: ModelSpec, data: TrainingData, device):
    """The spec's network for `data`'s inputs and task on `device`, its feature networks copied
    from the runs it starts from (init_from: pipeline/pretrain.py)."""
    model = create_model(spec.name, data.input_shape, data.task.n_outputs, **spec.hparams)
    if spec.init_from:
        copied = initialise_networks(model, {k: layout.PRETRAIN / run / "model.pt" for k, run in spec.init_from.items()})
        log.info("initialised %s from %s (%s tensors)", spec.name, spec.init_from, copied)
    return model.to(device)


def optimiser_for(model, spec: ModelSpec, cfg: dict) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters(), lr=float(spec.lr or cfg["lr"]))


def chunk_length(data: TrainingData, cfg: dict) -> int:
    """Units per training sequence: one when units are independent; chunk_windows 0: whole sessions."""
    return 1 if data.independent else min(int(cfg["chunk_windows"]), min(len(s) for s in data.train))


def refit_on_train_dev(spec: ModelSpec, cfg: dict, seed: int, device, split_of: dict[str, str] | None,
                       selected: dict, folders: dict[str, Path] | None = None) -> tuple:
    """A new model with the setting chosen on dev (`selected`: the selection's state), trained on
    train + dev with no early stopping: the best epoch count (neural), or the chosen constant
    (classical). Returns (model, normaliser, task, what the checkpoint records of the refit)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = training_data(spec, cfg, seed, rng, device, split_of, merge_dev=True, folders=folders)
    model = new_model(spec, data, device)
    if getattr(model, "fitted_by_scikit_learn", False):
        model = model.cpu()
        value = chosen_value(selected["history"], data.task.maximise)
        fit_once(model, value, *unit_rows(data.train), data.task, seed)
        setting = {model.grid_param: value}
    else:
        optimiser, chunk = optimiser_for(model, spec, cfg), chunk_length(data, cfg)
        epochs = best_epoch(selected["history"], data.task.maximise)
        for _ in tqdm(range(epochs), desc=f"refit {spec.name} on train+dev", unit="epoch"):
            train_epoch(model, optimiser, data.task, data.train, chunk, int(cfg["batch_size"]), rng, device)
        setting = {"epochs": epochs}
    log.info("refit %s on train+dev (%d sessions): %s", spec.name, len(data.train), setting)
    return model, data.norm, data.task, {"on": "train_dev", **setting, "sessions": sorted(s.id for s in data.train)}


def train_model(spec: ModelSpec, cfg: dict, seed: int, checkpoint: Path, history_csv: Path,
                progress: Path | None = None, split_of: dict[str, str] | None = None,
                stage_folders: dict[str, str] | None = None) -> dict:
    """Trains `spec` on the train split with early stopping on the dev score; saves the best
    weights with the normaliser and spec (loadable with torch.load(weights_only=True)).
    With `progress` (a folder, e.g. the scratch cache's train/), the state after every epoch
    is kept there under the run's key, and a run with the same key continues from it (an
    interrupted `train` resumes; see pipeline/train_progress.py). `split_of` (session id ->
    split) replaces the corpus's split (a fold of pipeline/protocols.py); the checkpoint keeps it,
    and `stage_folders` ({stage: folder relative to the checkpoint's}: the fold's refitted stages).
    `train.refit: train_dev`: after the selection on dev, the checkpoint holds the same setting
    trained again on train + dev (`refit_on_train_dev`; meta `refit` names its sessions)."""
    control = cfg.get("control", "none")
    require(control in CONTROLS, f"train.control must be one of {CONTROLS} (got {control!r})")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = pick_device(cfg["device"])
    folders = {k: checkpoint.parent / v for k, v in (stage_folders or {}).items()}
    data = training_data(spec, cfg, seed, rng, device, split_of, folders=folders)
    task = data.task
    model = new_model(spec, data, device)
    if task.logits and getattr(model, "uses_teacher_forcing", False):
        raise CorpusMismatch(f"model {spec.name} feeds back its continuous predictions; it cannot classify")
    if getattr(model, "fitted_by_scikit_learn", False):  # a grid of fits, not epochs (models/classical.py)
        model, device = model.cpu(), torch.device("cpu")
        state = fit_classical(spec.name, model, task, data.train, data.dev,
                              lambda m: predict_split(m, data.dev, device, data.independent), seed)
    else:
        optimiser, chunk = optimiser_for(model, spec, cfg), chunk_length(data, cfg)
        log.info("training %s on %s (%d train / %d dev sessions, %s, %s loss, control %s)", spec.name, device,
                 len(data.train), len(data.dev), f"chunks of {chunk} units" if chunk else "whole sessions",
                 task.loss_name, control)
        state = run_epochs(spec.name, model, optimiser, data, cfg, rng, device, progress_file(progress, data.key),
                           chunk)
    history, best = state["history"], state["best"]
    weights, norm, refit = state["best_state"], data.norm, {}
    if cfg.get("refit", "none") == "train_dev":  # the selected setting, trained again on train + dev
        model, norm, task, refit = refit_on_train_dev(spec, cfg, seed, device, split_of, state, folders)
        weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    meta = {"model": spec.name, "features": spec.features, "unit": spec.unit, "sequence": data.task_info["sequence"],
            "lr": float(spec.lr or cfg["lr"]),
            "classes": data.task_info["classes"], **task.describe(),  # task, targets, loss (+ classes, class weights)
            "hparams": spec.hparams, **({"init_from": spec.init_from} if spec.init_from else {}), "control": control, "input_shape": data.input_shape,
            "best_dev_score": best, "best_epoch": best_epoch(history, task.maximise), "device": str(device),
            **({"splits": split_of} if split_of else {}), **({"stage_folders": stage_folders} if stage_folders else {}),
            **({"refit": refit} if refit else {})}
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": weights, "meta": json.dumps(meta),
                "normaliser": {k: {"mean": torch.from_numpy(np.asarray(m)), "std": torch.from_numpy(np.asarray(s))}
                               for k, (m, s) in norm.items()}}, checkpoint)
    history_csv.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(history).to_csv(history_csv, index=False, float_format="%.5f")
    log.info("best dev score %.3f (%s) at epoch %d", best, "maximised" if task.maximise else "minimised",
             meta["best_epoch"])
    return meta
