"""Stage `pretrain@<run>`: a run other models start from (`init_from`), e.g. Tzirakis et al.'s
unimodal networks, whose feature networks initialise the multimodal one (5.3).

Reads:  params `pretrain.<run>` (a benchmark run's keys: model, loss, features, unit, train,
        hparams ...; and `for`: the models that initialise from it), `model`, `models.<model>`,
        `train`; the data a benchmark run reads
Writes: data/pretrain/<run>/model.pt, reports/pretrain/<run>/metrics.json and
        train_history.csv (the unimodal results of the paper's tables), as pipeline/benchmark.py;
        when `model` is not among its `for`: SKIPPED and metrics saying so (nothing trained)
Run:    python -m pipeline.pretrain tzirakis_audio_run   (or `dvc exp run -S model=tzirakis_multimodal`,
        which trains the runs it names in init_from first)

Why `for`: DVC orders stages by their dependencies, so the `train` stage depends on
data/pretrain and a changed source run re-trains the model that starts from it. A DVC stage
cannot depend on the param `models.<whatever model is>.init_from`, so each pretrain run says
which models need it (params_check refuses an init_from whose source does not list the
model), and only those pay for its training.
"""
import logging
import sys

from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.params_check import check
from pipeline.skipped_run import write_skipped

log = logging.getLogger("pretrain")


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m pipeline.pretrain <run>")
    run = argv[0]
    params = load_params()
    check(params, "model", "train", f"pretrain.{run}")
    entry = section(params, f"pretrain.{run}")
    if params["model"] not in entry["for"]:
        # the same words whatever `model` is: the train stage reads this folder
        write_skipped(run, entry["model"], f"not needed: `model` is none of pretrain.{run}.for {entry['for']}",
                      layout.PRETRAIN / run, layout.REPORTS / "pretrain" / run)
        return
    check(params, f"models.{entry['model']}")
    from pipeline.benchmark import train_and_test  # the training code's imports (seconds) only when it trains

    train_and_test(params, run, {k: v for k, v in entry.items() if k != "for"}, "pretrain")


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
