"""Stage `train`: train the model named by the `model` param on the train split.

Reads:  data/windows (or the model's unit in data/units), data/features/<the model's feature
        sets>; params `model`, `models.<model>` (features, targets, loss, unit, task,
        hyperparameters, optional `train` overrides), `train` (train.seed: initialisation and batch order)
Writes: data/train/model.pt (weights, normaliser, spec; loadable with weights_only; a model
        with `folds: K`: fold<k>/model.pt and protocol.json, pipeline/protocols.py; a model that
        aligns words to frames: attention.png of a few test utterances; Tzirakis et al.'s models:
        text_attention.png, fusion_attention.png, pipeline/tzirakis_figures.py),
        reports/train_history.csv (loss and dev CCC per epoch; a DVC plot); the state after
        each epoch in the scratch cache (pipeline/train_progress.py: an interrupted run resumes)
Run:    python -m pipeline.train   (or `dvc exp run -S model=blstm`)

Training uses CUDA when present (train.device: auto). Sessions are cut into chunks of
consecutive windows at a random offset each epoch; the epoch with the best dev score of
the corpus's task is kept (mean CCC, UA or MAE: training/tasks.py; early stopping with
`train.patience`).
"""
from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.params_check import check
from pipeline.scratch import scratch_root
from pipeline.attention_figure import plot_alignment
from pipeline.tzirakis_figures import plot_tzirakis
from pipeline.protocols import checkpoints, train_protocol
from pipeline.model_spec import model_spec, train_settings

HISTORY = layout.REPORTS / "train_history.csv"


def main() -> None:
    params = load_params()
    check(params, "model", "train")  # before any data is read; the model's name first,
    check(params, f"models.{params['model']}")  # then its entry
    spec = model_spec(params, section(params, "model"))
    cfg = train_settings(params, spec)
    train_protocol(spec, cfg, int(cfg["seed"]), layout.TRAIN, HISTORY, progress=scratch_root() / "train")
    plot_alignment(checkpoints(layout.TRAIN)[0], layout.TRAIN / "attention.png")  # Xu et al.'s alignment models
    plot_tzirakis(checkpoints(layout.TRAIN)[0], layout.TRAIN)  # Tzirakis et al.'s text and fusion attention


if __name__ == "__main__":
    run_stage(main)
