"""Stage `evaluate`: test-split metrics of the trained model.

Reads:  data/train/model.pt, data/windows, data/features/*, reports/corpus.json
Writes: reports/metrics.json: the task's test metrics (training/tasks.py; continuous
        tracks: per target CCC, PCC, MSE over the concatenated test windows, per-session CCC
        mean/std and the human-baseline CCC, itself per session; categorical: WA, UA,
        per-class recall, support and the confusion matrix), and under `groups` the same
        per speaker group when the test split has several; a k-fold model: pooled over the
        folds' test predictions, with each fold's and their mean and sd (pipeline/protocols.py);
        reports/test_predictions.csv, reports/plots/test_predictions.png (tracks, the
        confusion matrix, or predicted against gold per target)
Run:    python -m pipeline.evaluate   (or `dvc repro evaluate`)
"""
import json
import logging

import pandas as pd

from pipeline import layout
from pipeline.config import run_stage
from pipeline.figures import pyplot, save_figure
from pipeline.protocols import evaluate_protocol
from training.tasks import headline

log = logging.getLogger("evaluate")
PREDICTIONS = layout.REPORTS / "test_predictions.csv"
PLOT = layout.REPORTS / "plots" / "test_predictions.png"


def plot_predictions(table: pd.DataFrame, targets: list[str], path=PLOT) -> None:
    plt = pyplot()
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
    save_figure(fig, path)


def plot_confusion(confusion: dict, title: str, path=PLOT) -> None:
    plt = pyplot()
    classes, counts = confusion["rows_gold_columns_predicted"], confusion["counts"]
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2, 1.1 * len(classes) + 1.5))
    ax.imshow(counts, cmap="Blues")
    for i, row in enumerate(counts):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center")
    ax.set_xticks(range(len(classes)), classes, rotation=45)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


def plot_scatter(table: pd.DataFrame, targets: list[str], title: str, path=PLOT) -> None:
    """Per-unit tasks (one value per segment or utterance): predicted against gold."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(targets), figsize=(3 * len(targets), 3.2), squeeze=False)
    for ax, target in zip(axes[0], targets):
        ax.scatter(table[f"{target}_gold"], table[f"{target}_pred"], s=6, alpha=0.5)
        ax.set_title(target, fontsize=9)
        ax.set_xlabel("gold")
    axes[0, 0].set_ylabel("predicted")
    fig.suptitle(title, fontsize=9)
    save_figure(fig, path)


def main() -> None:
    metrics, table = evaluate_protocol(layout.TRAIN)
    layout.METRICS.write_text(json.dumps(metrics, indent=2) + "\n")
    table.to_csv(PREDICTIONS, index=False, float_format="%.4f")
    targets = [c[:-5] for c in table.columns if c.endswith("_gold")]
    if metrics["task"] == "categorical":
        scores = metrics["class"]
        plot_confusion(scores["confusion"], f"{metrics['model']}: test WA {scores['wa']:.3f}, UA {scores['ua']:.3f}")
    elif metrics["task"] == "continuous":
        plot_predictions(table, targets)
    else:
        plot_scatter(table, targets, f"{metrics['model']}: {headline(metrics)}")
    log.info("test: %s", headline(metrics))


if __name__ == "__main__":
    run_stage(main)
