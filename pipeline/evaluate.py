"""Stage `evaluate`: test-split metrics of the trained model.

Reads:  data/train/model.pt, data/windows, data/features/*
Writes: reports/metrics.json (per target: CCC, PCC, MSE over the concatenated test
        windows, and per-session CCC mean/std), reports/test_predictions.csv,
        reports/plots/test_predictions.png
Run:    python -m pipeline.evaluate   (or `dvc repro evaluate`)
"""
import json
import logging

import numpy as np
import pandas as pd
import torch

from metrics.regression import ccc, mse, pcc
from models import create_model
from pipeline import layout
from pipeline.config import run_stage
from pipeline.sequences import load_sequences, normalise, predict

log = logging.getLogger("evaluate")
PREDICTIONS = layout.REPORTS / "test_predictions.csv"
PLOT = layout.REPORTS / "plots" / "test_predictions.png"


def load_trained(path=layout.TRAIN / "model.pt"):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    meta = json.loads(checkpoint["meta"])
    model = create_model(meta["model"], input_dim=meta["input_dim"], n_targets=len(meta["targets"]),
                         **meta["hparams"])
    model.load_state_dict(checkpoint["state_dict"])
    return model, meta, checkpoint["norm_mean"].numpy(), checkpoint["norm_std"].numpy()


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


def plot_predictions(table: pd.DataFrame, targets: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    sessions = list(dict.fromkeys(table.session))[:4]
    fig, axes = plt.subplots(len(sessions), len(targets), figsize=(4 * len(targets), 2.2 * len(sessions)),
                             squeeze=False, sharey=True)
    for i, session in enumerate(sessions):
        rows = table[table.session == session]
        for j, target in enumerate(targets):
            ax = axes[i, j]
            ax.plot(rows.start, rows[f"{target}_gold"], label="gold", color="black")
            ax.plot(rows.start, rows[f"{target}_pred"], label="predicted", color="tab:orange")
            ax.set_title(f"{session} {target}", fontsize=9)
            ax.set_ylim(-1.05, 1.05)
    axes[0, 0].legend(fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("window start (s)")
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=90)
    plt.close(fig)


def main() -> None:
    model, meta, mean, std = load_trained()
    targets = meta["targets"]
    test = [s for s in load_sequences(meta["features"], targets) if s.split == "test"]
    if not test:
        raise ValueError("the corpus has no test sessions")
    normalise(test, mean, std)
    device = torch.device("cpu")
    preds = [predict(model, s, device) for s in test]
    pred, gold = np.concatenate(preds), np.concatenate([s.y for s in test])
    ids = [s.id for s in test for _ in range(len(s.x))]
    metrics = {"model": meta["model"], "split": "test", "sessions": len(test), "windows": len(ids),
               **regression_metrics(pred, gold, ids, targets)}
    layout.METRICS.write_text(json.dumps(metrics, indent=2) + "\n")

    table = pd.DataFrame({"session": ids, "start": np.concatenate([s.start for s in test])})
    for j, target in enumerate(targets):
        table[f"{target}_gold"], table[f"{target}_pred"] = gold[:, j], pred[:, j]
    table.to_csv(PREDICTIONS, index=False, float_format="%.4f")
    plot_predictions(table, targets)
    log.info("test CCC: %s", ", ".join(f"{t} {metrics[t]['ccc']:.3f}" for t in targets))


if __name__ == "__main__":
    run_stage(main)
