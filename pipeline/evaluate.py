"""Stage `evaluate`: test-split metrics of the trained model.

Reads:  data/train/model.pt, data/windows, data/features/*, reports/corpus.json
Writes: reports/metrics.json (per target: CCC, PCC, MSE over the concatenated test
        windows, per-session CCC mean/std, the human-baseline CCC on the test split; on a
        categorical corpus: WA, UA, per-class recall and the confusion matrix),
        reports/test_predictions.csv, reports/plots/test_predictions.png (tracks, or the
        confusion matrix)
Run:    python -m pipeline.evaluate   (or `dvc repro evaluate`)
"""
import json
import logging

import pandas as pd

from pipeline import layout
from pipeline.config import run_stage
from pipeline.figures import pyplot, save_figure
from pipeline.trainer import evaluate_trained

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


def main() -> None:
    metrics, table = evaluate_trained(layout.TRAIN / "model.pt")
    layout.METRICS.write_text(json.dumps(metrics, indent=2) + "\n")
    table.to_csv(PREDICTIONS, index=False, float_format="%.4f")
    if metrics.get("task") == "categorical":
        scores = metrics["class"]
        plot_confusion(scores["confusion"], f"{metrics['model']}: test WA {scores['wa']:.3f}, UA {scores['ua']:.3f}")
        log.info("test WA %.3f, UA %.3f (chance UA %.3f)", scores["wa"], scores["ua"], scores["chance_ua"])
        return
    targets = [c[:-5] for c in table.columns if c.endswith("_gold")]
    plot_predictions(table, targets)
    log.info("test CCC: %s", ", ".join(f"{t} {metrics[t]['ccc']:.3f}" for t in targets))


if __name__ == "__main__":
    run_stage(main)
