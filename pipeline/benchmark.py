"""Stage `benchmark@<run>`: train and test one entry of the `benchmark` param (a model and a loss).

Reads:  params `benchmark.<run>` ({model, loss, optional control, optional hparams: overrides of
        the model's hyperparameters, e.g. an ablation of one architectural option; optional
        features, unit, task, folds: overrides of the model's inputs, unit, task and protocol, e.g.
        an ablation of modalities, the same network on sentence segments, speaker k-fold
        cross-validation (pipeline/protocols.py); optional train: overrides of
        the train group, e.g. chunk_windows: 0 for a CCC over whole sessions}), `models.<model>`, `train`
        (train.seed); data/windows, data/units, data/features, reports/corpus.json
Writes: data/benchmark/<run>/model.pt (k folds: fold<k>/model.pt and protocol.json; a model
        that aligns words to frames: attention.png, pipeline/attention_figure.py; Tzirakis et al.'s
        models: text_attention.png, fusion_attention.png, pipeline/tzirakis_figures.py),
        reports/benchmark/<run>/metrics.json, reports/benchmark/<run>/test_predictions.csv (each
        test unit's gold and predicted values, as the evaluate stage's: the report draws from them),
        reports/benchmark/<run>/train_history.csv; resume state in the scratch cache
        (pipeline/train_progress.py)
Run:    python -m pipeline.benchmark emonet_transformer_ccc

A run whose model cannot work on the corpus (it reads a modality the corpus lacks, or
predicts labels it does not have) is skipped: its metrics.json says why, and the report
lists it as skipped. A run that fails for any other reason stops the stage.
"""
import json
import logging
import sys

from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.params_check import check
from pipeline.scratch import scratch_root
from pipeline.sequences import CorpusMismatch
from pipeline.skipped_run import write_skipped
from pipeline.attention_figure import plot_alignment
from pipeline.tzirakis_figures import plot_tzirakis
from pipeline.protocols import checkpoints, evaluate_protocol, train_protocol
from pipeline.model_spec import model_spec, train_settings
from training.tasks import headline

log = logging.getLogger("benchmark")


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m pipeline.benchmark <run>")
    run = argv[0]
    params = load_params()
    check(params, "train", f"benchmark.{run}")  # before any data is read; the run's model first,
    entry = section(params, f"benchmark.{run}")
    check(params, f"models.{entry['model']}")  # then its entry
    train_and_test(params, run, entry, "benchmark")


def train_and_test(params: dict, run: str, entry: dict, group: str) -> None:
    """Trains the run (a `benchmark` or `pretrain` entry) into data/<group>/<run> and writes its
    test metrics and history to reports/<group>/<run>; a run the corpus cannot give is skipped."""
    folder, out = layout.DATA / group / run, layout.REPORTS / group / run
    try:
        spec = model_spec(params, entry["model"], entry.get("loss"), entry)
        spec.hparams.update(entry.get("hparams") or {})
        train_cfg = train_settings(params, spec, entry)
        meta = train_protocol(spec, train_cfg, int(train_cfg["seed"]), folder, out / "train_history.csv",
                              progress=scratch_root() / "train")
    except CorpusMismatch as reason:
        write_skipped(run, entry["model"], str(reason), folder, out)
        return
    metrics, table = evaluate_protocol(folder)
    table.to_csv(out / "test_predictions.csv", index=False, float_format="%.4f")
    plot_alignment(checkpoints(folder)[0], folder / "attention.png")  # models that align words to frames
    plot_tzirakis(checkpoints(folder)[0], folder)  # models with a text selector or a fusion's weights
    metrics["run"], metrics["best_epoch"] = run, meta["best_epoch"]
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log.info("%s %s: %s", group, run, headline(metrics))


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
