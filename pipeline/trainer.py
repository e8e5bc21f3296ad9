"""Training one model spec (pipeline/model_spec.py): shared by the `train`, `benchmark` and
`pretrain` stages and by each fold of pipeline/protocols.py (a trained checkpoint is loaded
and applied by pipeline/trained_model.py).

The task (training/tasks.py, from the unit's task.json) gives the model's output
size, the loss, the dev score that selects the epoch (history column `dev_score`, maximised
or minimised), the test metrics and the prediction table's columns. With more than one
speaker group among the test sessions, metrics.json also holds each group's metrics.
Mini-batches come from pipeline/training_batches.py; a classical model is fitted over its
grid instead of epochs (training/classical.py).
"""
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from models import create_model
from pipeline import layout
from pipeline.config import require
from pipeline.fold_features import fold_folders
from pipeline.model_spec import ModelSpec, spec_task
from pipeline.params_check import CONTROLS
from pipeline.sequences import (CorpusMismatch, SessionSequence, fit_normaliser, input_shapes, load_sequences,
                                load_task, normalise, pick_device, predict, run_model)
from pipeline.model_inputs import DEFAULT_INPUT
from pipeline.train_progress import load_progress, progress_file, run_key, save_progress
from pipeline.training_batches import shuffle_words_across_sessions, training_batches
from training.classical import chosen_value, fit_classical, fit_once, unit_rows
from training.init_from import initialise_networks
from training.tasks import Task, best_epoch, improved

log = logging.getLogger("trainer")


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
    random = sorted(set(getattr(model, "frozen_networks", ())) - set(spec.init_from))
    if random:  # params_check refuses it first; a model built here from other params too
        raise ValueError(f"{spec.name}: freeze_networks keeps the networks {random} as init_from copies them, but "
                         f"init_from names no run for them: they would stay random")
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
    folders = fold_folders(checkpoint, stage_folders)
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
