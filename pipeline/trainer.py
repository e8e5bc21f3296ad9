"""Training and evaluating one model spec: shared by the `train`, `evaluate` and `benchmark` stages.

A model spec is `models.<name>` in params.yaml: the feature sets it reads, its targets
(a list of label dimensions, or `corpus` for whatever the corpus labels: its dimensions,
or its class), its loss (ccc | mse, for continuous targets), optionally its own learning
rate `lr`, and its architecture hyperparameters. `train` in params.yaml holds the
optimisation settings shared by all models.

On a categorical corpus (data/windows/task.json) the model outputs one logit per class,
trains with cross-entropy and is selected on dev UA; on a continuous one it is selected on
mean dev CCC. The history column `dev_score` is that selection score for both.
"""
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from metrics.classification import class_recalls, confusion_matrix, unweighted_accuracy, weighted_accuracy
from metrics.regression import ccc, ccc_loss, mse, pcc
from models import create_model, require_registered
from pipeline import layout
from pipeline.config import require, section
from pipeline.sequences import (CorpusMismatch, SessionSequence, fit_normaliser, load_sequences, load_task, normalise,
                                pick_device, predict, require_features)
from pipeline.train_progress import load_progress, progress_file, run_key, save_progress

log = logging.getLogger("trainer")
LOSSES = ("ccc", "mse")
CONTROLS = ("none", "shuffled_words")
SPEC_KEYS = ("features", "targets", "loss")


@dataclass
class ModelSpec:
    name: str
    features: list[str]
    targets: list[str]
    loss: str
    hparams: dict = field(default_factory=dict)
    lr: float | None = None  # overrides train.lr


def model_spec(params: dict, name: str, loss: str | None = None) -> ModelSpec:
    """The spec of `models.<name>`, its targets checked against the corpus's task."""
    require_registered(name)
    entry = dict(section(params, f"models.{name}") or {})
    missing = [k for k in SPEC_KEYS if k not in entry]
    require(not missing, f"models.{name} lacks {missing}")
    require_features(list(entry["features"]))  # the most basic mismatch first: inputs the corpus lacks
    task = load_task()
    targets = list(task["targets"]) if entry["targets"] == "corpus" else list(entry["targets"])
    if task["task"] == "categorical" and targets != ["class"]:
        raise CorpusMismatch(f"model {name} predicts {targets}, but this corpus is categorical (classes "
                         f"{task['classes']}): give models.{name} `targets: corpus`")
    spec = ModelSpec(name, list(entry["features"]), targets, loss or entry["loss"],
                     {k: v for k, v in entry.items() if k not in (*SPEC_KEYS, "lr")}, entry.get("lr"))
    require(spec.loss in LOSSES, f"models.{name}.loss must be one of {LOSSES} (got {spec.loss!r})")
    return spec


def training_chunks(rng: np.random.Generator, sequences: list[SessionSequence], length: int):
    """Non-overlapping chunks of `length` windows from a random offset in every session."""
    xs, ys = [], []
    for s in sequences:
        offset = int(rng.integers(0, max(1, len(s.x) - length + 1)))
        offset = offset % length if len(s.x) >= 2 * length else offset
        for a in range(offset, len(s.x) - length + 1, length):
            xs.append(s.x[a:a + length])
            ys.append(s.y[a:a + length])
    order = rng.permutation(len(xs))
    return np.stack(xs)[order], np.stack(ys)[order]


def loss_fn(name: str, pred: torch.Tensor, gold: torch.Tensor, categorical: bool = False) -> torch.Tensor:
    """(B, T, K) -> scalar; CCC is over time per chunk and target, as the papers optimise it.
    Categorical: pred holds (B, T, classes) logits, gold (B, T, 1) class indices."""
    if categorical:
        return torch.nn.functional.cross_entropy(pred.reshape(-1, pred.shape[-1]), gold.reshape(-1).long())
    if name == "ccc":
        return ccc_loss(pred.transpose(1, 2), gold.transpose(1, 2)) / pred.shape[0]
    return torch.mean((pred - gold) ** 2)


def shuffle_words_across_sessions(rng: np.random.Generator, sequences: list[SessionSequence]) -> None:
    """Control condition: the train split's words (non-zero rows of the window word matrices)
    are permuted across all its sessions and windows, so text no longer matches ratings."""
    if sequences[0].x.ndim != 3:
        raise ValueError("the shuffled_words control needs word-matrix features (glove)")
    slots = [(k, i, j) for k, s in enumerate(sequences) for i, j in zip(*np.nonzero(np.abs(s.x).sum(-1)))]
    vectors = np.stack([sequences[k].x[i, j] for k, i, j in slots])
    for (k, i, j), v in zip(slots, vectors[rng.permutation(len(slots))]):
        sequences[k].x[i, j] = v


def concatenated_ccc(model, sequences, device) -> np.ndarray:
    """CCC per target over the concatenated windows of `sequences`."""
    pred = np.concatenate([predict(model, s, device) for s in sequences])
    gold = np.concatenate([s.y for s in sequences])
    return ccc(pred.T, gold.T)


def dev_scores(model, sequences, device, targets: list[str], n_classes: int) -> dict:
    """History entries of one epoch on the dev split; `dev_score` selects the best epoch."""
    if n_classes:
        pred = np.concatenate([predict(model, s, device).argmax(-1) for s in sequences])
        gold = np.concatenate([s.y[:, 0] for s in sequences]).astype(int)
        ua = unweighted_accuracy(gold, pred, n_classes)
        return {"dev_wa": weighted_accuracy(gold, pred), "dev_ua": ua, "dev_score": ua}
    scores = concatenated_ccc(model, sequences, device)
    return {**{f"dev_ccc_{t}": float(c) for t, c in zip(targets, scores)}, "dev_ccc_mean": float(scores.mean()),
            "dev_score": float(scores.mean())}


def train_model(spec: ModelSpec, cfg: dict, seed: int, checkpoint: Path, history_csv: Path,
                progress: Path | None = None) -> dict:
    """Trains `spec` on the train split with early stopping on the dev score; saves the best
    weights with the normaliser and spec (loadable with torch.load(weights_only=True)).
    With `progress` (a folder, e.g. the scratch cache's train/), the state after every epoch
    is kept there under the run's key, and a run with the same key continues from it (an
    interrupted `train` resumes; see pipeline/train_progress.py)."""
    control = cfg.get("control", "none")
    require(control in CONTROLS, f"train.control must be one of {CONTROLS} (got {control!r})")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = pick_device(cfg["device"])
    sequences = load_sequences(spec.features, spec.targets)
    train = [s for s in sequences if s.split == "train"]
    dev = [s for s in sequences if s.split == "dev"]
    require(bool(train) and bool(dev), "the corpus needs sessions in both the train and dev splits")
    key = run_key(spec, cfg, seed, sequences, device)  # before the sequences are shuffled or normalised
    if control == "shuffled_words":
        shuffle_words_across_sessions(rng, train)
    mean, std = fit_normaliser(sequences)
    normalise(sequences, mean, std)
    input_shape = train[0].x.shape[1:]
    task = load_task()
    n_classes = len(task["classes"]) if task["task"] == "categorical" else 0
    model = create_model(spec.name, input_shape, n_classes or len(spec.targets), **spec.hparams).to(device)
    teacher_forcing = getattr(model, "uses_teacher_forcing", False)
    if n_classes and teacher_forcing:
        raise CorpusMismatch(f"model {spec.name} feeds back its continuous predictions; it cannot classify")
    optimiser = torch.optim.Adam(model.parameters(), lr=float(spec.lr or cfg["lr"]))
    chunk = min(int(cfg["chunk_windows"]), min(len(s.x) for s in train))
    log.info("training %s on %s (%d train / %d dev sessions, chunks of %d windows, %s loss, control %s)",
             spec.name, device, len(train), len(dev), chunk, "cross-entropy" if n_classes else spec.loss, control)

    progress = progress_file(progress, key)
    state = {"best_state": None, "best": -np.inf, "stale": 0, "history": [], "stopped": False}
    done = 0
    resumed = load_progress(progress, key, int(cfg["epochs"]), model, optimiser, rng)
    if resumed:
        done, state = resumed
        log.info("resuming from epoch %d (%s)", done, progress)
    batch = int(cfg["batch_size"])
    epochs = range(done + 1, 1 + (done if state["stopped"] else int(cfg["epochs"])))
    for epoch in (bar := tqdm(epochs, desc=f"train {spec.name}", unit="epoch", initial=done,
                              total=int(cfg["epochs"]))):
        model.train()
        xs, ys = training_chunks(rng, train, chunk)
        losses = []
        for a in range(0, len(xs), batch):
            x, y = torch.from_numpy(xs[a:a + batch]).to(device), torch.from_numpy(ys[a:a + batch]).to(device)
            loss = loss_fn(spec.loss, model(x, teacher=y) if teacher_forcing else model(x), y, bool(n_classes))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        scores = dev_scores(model, dev, device, spec.targets, n_classes)
        state["history"].append({"epoch": epoch, "train_loss": float(np.mean(losses)), **scores})
        bar.set_postfix(loss=f"{np.mean(losses):.3f}", dev=f"{scores['dev_score']:.3f}")
        if scores["dev_score"] > state["best"]:
            state["best"], state["stale"] = scores["dev_score"], 0
            state["best_state"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            state["stale"] += 1
            state["stopped"] = state["stale"] >= int(cfg["patience"])
        if progress is not None:
            save_progress(progress, key, epoch, model, optimiser, rng, state)
        if state["stopped"]:
            log.info("early stop at epoch %d (no dev improvement for %d epochs)", epoch, state["stale"])
            break

    history, best = state["history"], state["best"]

    meta = {"model": spec.name, "features": spec.features, "targets": spec.targets,
            "loss": "cross_entropy" if n_classes else spec.loss, "lr": float(spec.lr or cfg["lr"]),
            "task": task["task"], "classes": task["classes"],
            "hparams": spec.hparams, "control": control, "input_shape": list(input_shape),
            "best_dev_score": best, "best_epoch": int(max(history, key=lambda h: h["dev_score"])["epoch"]),
            "device": str(device)}
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state["best_state"], "norm_mean": torch.from_numpy(np.asarray(mean)),
                "norm_std": torch.from_numpy(np.asarray(std)), "meta": json.dumps(meta)}, checkpoint)
    history_csv.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(history).to_csv(history_csv, index=False, float_format="%.5f")
    log.info("best dev %s %.3f at epoch %d", "UA" if n_classes else "mean CCC", best, meta["best_epoch"])
    return meta


def load_trained(checkpoint: Path):
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    meta = json.loads(saved["meta"])
    outputs = len(meta["classes"]) if meta.get("task") == "categorical" else len(meta["targets"])
    model = create_model(meta["model"], tuple(meta["input_shape"]), outputs, **meta["hparams"])
    model.load_state_dict(saved["state_dict"])
    return model, meta, saved["norm_mean"].numpy(), saved["norm_std"].numpy()


def regression_metrics(pred: np.ndarray, gold: np.ndarray, session_ids: list[str], targets: list[str]) -> dict:
    """pred/gold (windows, targets) concatenated over sessions; session_ids per window."""
    ids = np.asarray(session_ids)
    report = {}
    for j, target in enumerate(targets):
        per_session = [float(ccc(pred[ids == s, j], gold[ids == s, j])) for s in dict.fromkeys(session_ids)]
        report[target] = {"ccc": round(float(ccc(pred[:, j], gold[:, j])), 4),
                          "pcc": round(float(pcc(pred[:, j], gold[:, j])), 4),
                          "mse": round(float(mse(pred[:, j], gold[:, j])), 4),
                          "ccc_session_mean": round(float(np.mean(per_session)), 4),
                          "ccc_session_std": round(float(np.std(per_session)), 4)}
    return report


def classification_metrics(pred: np.ndarray, gold: np.ndarray, classes: list[str]) -> dict:
    recalls = class_recalls(gold, pred, len(classes))
    return {"wa": round(weighted_accuracy(gold, pred), 4), "ua": round(unweighted_accuracy(gold, pred, len(classes)), 4),
            "chance_ua": round(1 / len(classes), 4),
            "recall": {c: (None if np.isnan(r) else round(float(r), 4)) for c, r in zip(classes, recalls)},
            "support": {c: int((gold == k).sum()) for k, c in enumerate(classes)},
            "confusion": {"rows_gold_columns_predicted": classes,
                          "counts": confusion_matrix(gold, pred, len(classes)).tolist()}}


def evaluate_trained(checkpoint: Path) -> tuple[dict, pd.DataFrame]:
    """Test-split metrics (with the corpus's human baseline beside them) and the prediction table."""
    model, meta, mean, std = load_trained(checkpoint)
    targets = meta["targets"]
    test = [s for s in load_sequences(meta["features"], targets) if s.split == "test"]
    if not test:
        raise ValueError("the corpus has no test sessions")
    normalise(test, mean, std)
    preds = [predict(model, s, torch.device("cpu")) for s in test]
    ids = [s.id for s in test for _ in range(len(s.x))]
    run = {"model": meta["model"], "loss": meta["loss"], "control": meta["control"], "features": meta["features"],
           "split": "test"}
    if meta.get("task") == "categorical":
        classes = meta["classes"]
        pred = np.concatenate(preds).argmax(-1)
        gold = np.concatenate([s.y[:, 0] for s in test]).astype(int)
        metrics = {**run, "task": "categorical", "sessions": len(test), "windows": len(ids),
                   "class": classification_metrics(pred, gold, classes)}
        table = pd.DataFrame({"session": ids, "start": np.concatenate([s.start for s in test]),
                              "class_gold": [classes[k] for k in gold], "class_pred": [classes[k] for k in pred]})
        return metrics, table
    pred, gold = np.concatenate(preds), np.concatenate([s.y for s in test])
    metrics = {**run, "sessions": len(test), "windows": len(ids), **regression_metrics(pred, gold, ids, targets)}
    if layout.CORPUS_REPORT.exists():
        human = json.loads(layout.CORPUS_REPORT.read_text())["human_baseline"]
        for target in targets:
            if target in human:
                metrics[target]["human_baseline_ccc"] = human[target]["test"]["ccc_mean"]
    table = pd.DataFrame({"session": ids, "start": np.concatenate([s.start for s in test])})
    for j, target in enumerate(targets):
        table[f"{target}_gold"], table[f"{target}_pred"] = gold[:, j], pred[:, j]
    return metrics, table
