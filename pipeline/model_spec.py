"""A model spec: `models.<name>` in params.yaml, with a benchmark run's overrides, checked
against the unit's tasks and the corpus's features (pipeline/trainer.py trains one).

A model spec is `models.<name>` in params.yaml: the feature sets it reads (a list: one
input; a mapping of input names to lists: named inputs, pipeline/sequences.py), its targets
(a list of label dimensions, or `corpus` for whatever its unit labels for its task), its
loss (ccc | mse, for continuous targets), optionally its `unit` (a key of `units`; default
the window stage's windows), its `task` (one of the tasks the unit's labels can train, e.g.
`intensity` or `categorical` on sentence segments; default the unit's first), its own
learning rate `lr` and `class_weights` (categorical: weighted cross-entropy, off by
default), `folds` (pipeline/protocols.py), `train` overrides, `init_from`, and its
architecture hyperparameters. `train` in params.yaml holds the optimisation settings shared
by all models.
"""
from dataclasses import dataclass, field

from models import require_registered
from pipeline import layout
from pipeline.config import require, section
from pipeline.model_inputs import model_inputs
from pipeline.params_check import input_form_problems
from pipeline.repro_runs import run_entry
from pipeline.sequences import CorpusMismatch, load_task, require_features
from training.tasks import Task, make_task

SPEC_KEYS = ("features", "targets", "loss")
OPTIONAL_KEYS = ("lr", "class_weights", "unit", "task", "folds", "train", "init_from")  # the other keys of a model's entry are its hyperparameters


@dataclass
class ModelSpec:
    name: str
    features: list[str] | dict  # a list: one input; {input name: [stages]}: named inputs
    targets: list[str]
    loss: str
    hparams: dict = field(default_factory=dict)
    lr: float | None = None  # overrides train.lr
    class_weights: bool = False  # categorical task: cross-entropy weighted by inverse train-class frequency
    unit: str = layout.DEFAULT_UNIT  # a key of `units`, or the window stage's windows
    task: str = "continuous"  # one of the unit's tasks (its task.json `tasks`)
    folds: int | str = 0  # 0: the corpus's split; K or "speakers": speaker k-fold (pipeline/protocols.py)
    train: dict = field(default_factory=dict)  # the model's overrides of the `train` group (e.g. chunk_windows)
    init_from: dict = field(default_factory=dict)  # network -> a `pretrain` run whose feature network it starts from


def model_spec(params: dict, name: str, loss: str | None = None, overrides: dict | None = None) -> ModelSpec:
    """The spec of `models.<name>` (with a benchmark run's `overrides` of its inputs, unit and
    task), its targets checked against the unit's tasks."""
    require_registered(name)
    section(params, f"models.{name}")  # a model params.yaml lacks: named
    entry = run_entry(params, {**(overrides or {}), "model": name})
    missing = [k for k in SPEC_KEYS if k not in entry]
    require(not missing, f"models.{name} lacks {missing}")
    unit = entry.get("unit", layout.DEFAULT_UNIT)
    form = input_form_problems(name, entry["features"], f"models.{name}")
    require(not form, "; ".join(form))
    named = isinstance(entry["features"], dict)
    task = load_task(unit)
    if "skipped" in task:  # a unit this corpus could not make, or one not cut (units.<unit>.enabled)
        raise CorpusMismatch(f"model {name} trains on unit {unit!r}: {task['skipped']}")
    if "unlabelled" in task:  # cut, for the features inside it, but with no labels (a `segments` corpus's windows)
        raise CorpusMismatch(f"model {name} trains on unit {unit!r}: {task['unlabelled']}")
    require_features(entry["features"], unit)  # then the next most basic: inputs the corpus lacks
    task_name = entry.get("task", task["task"])
    if task_name not in task["tasks"]:
        raise CorpusMismatch(f"model {name} trains the {task_name} task, but unit {unit!r} of this corpus has "
                             f"labels for {sorted(task['tasks'])} only")
    targets = list(task["tasks"][task_name]) if entry["targets"] == "corpus" else list(entry["targets"])
    if task_name == "categorical" and targets != ["class"]:
        raise CorpusMismatch(f"model {name} predicts {targets}, but this corpus is categorical (classes "
                             f"{task['classes']}): give models.{name} `targets: corpus`")
    features = model_inputs(entry["features"]) if named else list(entry["features"])
    spec = ModelSpec(name, features, targets, loss or entry["loss"],
                     {k: v for k, v in entry.items() if k not in (*SPEC_KEYS, *OPTIONAL_KEYS)}, entry.get("lr"),
                     bool(entry.get("class_weights", False)), unit, task_name, entry.get("folds") or 0,
                     dict(entry.get("train") or {}), dict(entry.get("init_from") or {}))
    try:
        spec_task(spec, task)
    except ValueError as err:
        require(False, f"models.{name}: {err}")
    return spec


def train_settings(params: dict, spec: ModelSpec, run: dict | None = None) -> dict:
    """The `train` group, then the model entry's `train` overrides, then a benchmark run's."""
    run = run or {}
    return {**section(params, "train"), **spec.train, **(run.get("train") or {}),
            **({"control": run["control"]} if "control" in run else {})}


def spec_task(spec: ModelSpec, task: dict) -> Task:
    """The task `spec` trains on this corpus (task: its unit's task.json)."""
    return make_task(spec.task, spec.targets, spec.loss, task["classes"], spec.class_weights)
