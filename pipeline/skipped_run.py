"""The outputs of a benchmark or pretrain run that trained nothing, saying why (pipeline/benchmark.py,
pipeline/pretrain.py): the files DVC expects, written without importing the training code, so
that a skipped stage costs DVC's bookkeeping and little more."""
import json
import logging

log = logging.getLogger("benchmark")


def write_skipped(run: str, model: str, reason: str, folder, out) -> None:
    """The outputs DVC expects, saying the run was skipped and why."""
    for path in (folder, out):
        path.mkdir(parents=True, exist_ok=True)
    (folder / "SKIPPED").write_text(reason + "\n")
    (out / "train_history.csv").write_text("epoch,dev_score\n")
    (out / "test_predictions.csv").write_text("session\n")
    (out / "metrics.json").write_text(json.dumps({"run": run, "model": model, "skipped": reason}, indent=2) + "\n")
    log.warning("%s skipped: %s", run, reason)
