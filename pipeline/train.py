"""Stage `train`: train the model named by the `model` param on the train split.

Reads:  data/windows, data/features/<sets in train.features>; params `seed`, `model`,
        `models.<model>`, `train`
Writes: data/train/model.pt (weights, normaliser, config; loadable with weights_only),
        reports/train_history.csv (loss and dev CCC per epoch; a DVC plot)
Run:    python -m pipeline.train   (or `dvc exp run -S model=blstm`)

Training uses CUDA when present (train.device: auto). Sessions are cut into chunks of
consecutive windows at a random offset each epoch; the epoch with the best mean dev CCC
is kept (early stopping with `train.patience`).
"""
import json
import logging

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from metrics.regression import ccc, ccc_loss
from models import create_model, require_registered
from pipeline import layout
from pipeline.config import load_params, require, section, run_stage
from pipeline.sequences import fit_normaliser, load_sequences, normalise, pick_device, predict

log = logging.getLogger("train")
LOSSES = ("ccc", "mse")
HISTORY = layout.REPORTS / "train_history.csv"


def training_chunks(rng: np.random.Generator, sequences, length: int):
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


def loss_fn(name: str, pred: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
    """(B, T, K) -> scalar; CCC is over time per chunk and target, as the papers optimise it."""
    if name == "ccc":
        return ccc_loss(pred.transpose(1, 2), gold.transpose(1, 2)) / pred.shape[0]
    return torch.mean((pred - gold) ** 2)


def dev_ccc(model, sequences, device) -> np.ndarray:
    """CCC per target over the concatenated dev windows."""
    pred = np.concatenate([predict(model, s, device) for s in sequences])
    gold = np.concatenate([s.y for s in sequences])
    return ccc(pred.T, gold.T)


def main() -> None:
    params = load_params()
    model_name = section(params, "model")
    require_registered(model_name)
    hparams = dict(section(params, f"models.{model_name}") or {})
    cfg = section(params, "train")
    require(cfg["loss"] in LOSSES, f"train.loss must be one of {LOSSES} (got {cfg['loss']!r})")
    seed = int(section(params, "seed"))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = pick_device(cfg["device"])

    targets = list(cfg["targets"])
    sequences = load_sequences(list(cfg["features"]), targets)
    train = [s for s in sequences if s.split == "train"]
    dev = [s for s in sequences if s.split == "dev"]
    require(bool(train) and bool(dev), "the corpus needs sessions in both the train and dev splits")
    mean, std = fit_normaliser(sequences)
    normalise(sequences, mean, std)
    model = create_model(model_name, input_dim=train[0].x.shape[1], n_targets=len(targets), **hparams).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=float(cfg["lr"]))
    chunk = min(int(cfg["chunk_windows"]), min(len(s.x) for s in train))
    log.info("training %s on %s (%d train / %d dev sessions, chunks of %d windows, %s loss)",
             model_name, device, len(train), len(dev), chunk, cfg["loss"])

    best, best_state, history, stale = -np.inf, None, [], 0
    for epoch in (bar := tqdm(range(1, int(cfg["epochs"]) + 1), desc=f"train {model_name}", unit="epoch")):
        model.train()
        xs, ys = training_chunks(rng, train, chunk)
        losses = []
        for a in range(0, len(xs), int(cfg["batch_size"])):
            x = torch.from_numpy(xs[a:a + int(cfg["batch_size"])]).to(device)
            y = torch.from_numpy(ys[a:a + int(cfg["batch_size"])]).to(device)
            loss = loss_fn(cfg["loss"], model(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        scores = dev_ccc(model, dev, device)
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)),
                        **{f"dev_ccc_{t}": float(c) for t, c in zip(targets, scores)},
                        "dev_ccc_mean": float(scores.mean())})
        bar.set_postfix(loss=f"{history[-1]['train_loss']:.3f}", dev_ccc=f"{scores.mean():.3f}")
        if scores.mean() > best:
            best, stale = float(scores.mean()), 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= int(cfg["patience"]):
                log.info("early stop at epoch %d (no dev improvement for %d epochs)", epoch, stale)
                break

    layout.TRAIN.mkdir(parents=True, exist_ok=True)
    meta = {"model": model_name, "hparams": hparams, "targets": targets, "features": list(cfg["features"]),
            "input_dim": int(train[0].x.shape[1]), "best_dev_ccc_mean": best,
            "best_epoch": int(max(history, key=lambda h: h["dev_ccc_mean"])["epoch"])}
    torch.save({"state_dict": best_state, "norm_mean": torch.from_numpy(mean), "norm_std": torch.from_numpy(std),
                "meta": json.dumps(meta)}, layout.TRAIN / "model.pt")
    layout.REPORTS.mkdir(exist_ok=True)
    pd.DataFrame(history).to_csv(HISTORY, index=False, float_format="%.5f")
    log.info("best mean dev CCC %.3f at epoch %d", best, meta["best_epoch"])


if __name__ == "__main__":
    run_stage(main)
