"""Unit features and labels as one sequence per session, for training and evaluation.

A model reads one input (`features: [egemaps, face]`: the stages' vectors concatenated per
unit) or named inputs (`features: {audio: [egemaps], video: [face]}`, models/registry.py).
Each input of a session is (T, D) vectors or (T, words, D) word matrices, with its mask: (T,)
or (T, words), True where a value is real. A stage's `<session>.mask.npy` (face: windows
without a face; glove: padding words) gives it; a stage without one is valid everywhere.

An input may also be the frames, the words or the raw samples inside each unit (`{stage:
frame34, per: frame}`, `{stage: glove, per: word}`, `{stage: waveform_tzirakis, per: sample}`:
pipeline/inner_sequences.py), padded per batch to (T, F, D) with a (T, F) mask and, for frames
and words, their times as the extra input `<name>.times`.

Per-unit vectors are z-scored with statistics of the train split's valid values only; a
masked value is then set to 0 (the train mean), so it never enters a model as the zeros a
stage stored for it, moved by the normaliser. Frames inside units, and frames averaged per word,
are z-scored with the train split's values inside a unit. Per-unit matrices and word vectors
(GloVe) are used as they are, zero padding included, as the papers do. Raw samples are
standardised with one mean and std of the train split's samples inside units, applied as each
batch is built (they stay memory-mapped).
"""
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipeline import layout
from pipeline.inner_sequences import InnerSequence, load_inner
from pipeline.model_inputs import DEFAULT_INPUT, feature_stages, model_inputs



@dataclass
class SessionSequence:
    id: str
    split: str
    start: np.ndarray  # (T,) window start times
    x: dict[str, np.ndarray | InnerSequence] | np.ndarray  # input name -> (T, *unit shape); an array: the one input
    y: np.ndarray  # (T, targets) gold labels
    group: str | None = None  # the speaker's group (e.g. culture), for per-group metrics
    mask: dict[str, np.ndarray] = field(default_factory=dict)  # input -> (T,) or (T, words); default all True
    valid: dict[str, np.ndarray] = field(default_factory=dict)  # vector input -> (T, D): which values are real

    def __post_init__(self):
        if not isinstance(self.x, dict):
            self.x = {DEFAULT_INPUT: self.x}
        for name, values in self.x.items():
            if isinstance(values, InnerSequence):  # a unit without a frame or word is masked
                self.mask.setdefault(name, values.lengths > 0)
            else:
                self.mask.setdefault(name, all_valid(values))

    def __len__(self) -> int:
        return len(self.y)


def all_valid(block: np.ndarray) -> np.ndarray:
    """The mask of an input without one: every unit (T,), or every word of a word matrix (T, words)."""
    return np.ones(block.shape[:1] if block.ndim != 3 else block.shape[:2], bool)


WINDOW_KEYS = ("session", "split", "group", "index", "start", "end", "word_first", "word_last")  # not labels


class CorpusMismatch(ValueError):
    """A model cannot run on this corpus: it reads a modality or predicts a label the corpus lacks."""


def require_features(features: list[str] | dict, unit: str | None = None) -> None:
    """A clear error when a feature set a model reads was skipped for this corpus (e.g. glove
    without transcripts), or its rows are of another unit than the model's (frames and words
    inside units are per session: any unit's stage serves)."""
    unit = unit or layout.DEFAULT_UNIT
    per_session = {v["stage"] for v in model_inputs(features).values() if isinstance(v, dict)}
    for name in feature_stages(features):
        meta = layout.FEATURES / name / "meta.json"
        if not meta.exists():
            continue
        info = json.loads(meta.read_text())
        if info.get("off"):  # not the corpus's doing: the run must not be skipped as if it were
            raise ValueError(f"this model reads features {name!r}, which its stage left out: {info['skipped']}. "
                             f"Run the stage again once a run DVC sees reads it (dvc repro feature_demand "
                             f"features@{name}), or set features.{name}.enabled: true")
        if "skipped" in info:
            raise CorpusMismatch(f"this model reads features {name!r}, which this corpus cannot give: "
                                 f"{info['skipped']}")
        if name not in per_session and info.get("unit", layout.DEFAULT_UNIT) != unit:
            raise ValueError(f"features {name!r} are computed on unit {info.get('unit', layout.DEFAULT_UNIT)!r}, "
                             f"but the model reads unit {unit!r}: name a feature stage of that unit "
                             f"(params `unit_features`)")


def load_task(unit: str | None = None) -> dict:
    """The unit's task.json: {"task": its default task, "targets": [...], "classes": [...],
    "tasks": {task: targets, ...}, "sequence": session | independent} (pipeline/window.py)."""
    path = layout.unit_dir(unit) / "task.json"
    if not path.exists():
        stage = "window" if unit in (None, layout.DEFAULT_UNIT) else f"units@{unit}"
        raise FileNotFoundError(f"{path} missing: run the {stage} stage")
    task = json.loads(path.read_text())
    if "skipped" in task:  # a unit this corpus could not make (or one not cut): {"skipped": why}
        return task
    task.setdefault("tasks", {task["task"]: task["targets"]})
    task.setdefault("sequence", "session")
    return task


def _stage_block(session_id: str, name: str, n_units: int, unit: str | None,
                 folder: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One stage's (values, mask) for a session: (T, D) or (T, words, D), and (T,) or (T, words);
    from `folder` instead of data/features/<name> when given (a fold's refitted stage)."""
    path = (folder or layout.FEATURES / name) / f"{session_id}.npy"
    if not path.exists():
        raise FileNotFoundError(f"session {session_id}: features {path} missing: run features@{name}")
    block = np.load(path, allow_pickle=False)
    if len(block) != n_units:
        raise ValueError(f"session {session_id}: {path} has {len(block)} rows for {n_units} units of "
                         f"{layout.unit_dir(unit)}: the feature stage {name} was computed on another unit, "
                         f"or before the unit stage last ran")
    mask_path = path.with_suffix(".mask.npy")
    mask = (np.load(mask_path, allow_pickle=False).astype(bool) if mask_path.exists()
            else all_valid(block))
    if mask.shape != block.shape[:mask.ndim] or mask.ndim not in (1, 2):
        raise ValueError(f"session {session_id}: {mask_path} has shape {mask.shape} for features {block.shape}")
    return block, mask


def _session_input(session_id: str, name: str, stages: list[str], n_units: int, unit: str | None,
                   folders: dict[str, Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(values, model mask, element validity of a vector input) of one input of a session."""
    blocks = [_stage_block(session_id, stage, n_units, unit, folders.get(stage)) for stage in stages]
    if len(blocks) > 1 and any(b.ndim != 2 for b, _ in blocks):
        raise ValueError(f"input {name!r}: features {stages}: only per-unit vectors can be concatenated; "
                         f"shapes {[b.shape[1:] for b, _ in blocks]}")
    values = np.concatenate([b for b, _ in blocks], axis=1).astype(np.float32)
    if values.ndim != 2:
        return values, blocks[0][1], None
    valid = np.concatenate([np.repeat(m[:, None] if m.ndim == 1 else m.all(1, keepdims=True), b.shape[1], axis=1)
                            for b, m in blocks], axis=1)
    return values, valid.all(axis=1), valid


def load_sequences(features: list[str] | dict, targets: list[str], unit: str | None = None,
                   folders: dict[str, Path] | None = None) -> list[SessionSequence]:
    """One sequence per session of the unit's rows (windows, segments): its inputs, masks and
    labels. `folders`: {stage: folder} read instead of data/features/<stage> (the stages a fold
    of the k-fold protocol refitted: pipeline/fold_features.py)."""
    inputs, folders = model_inputs(features), folders or {}
    require_features(features, unit)
    windows = pd.read_csv(layout.unit_dir(unit) / "windows.csv", dtype={"group": str})
    missing = [t for t in targets if t not in windows.columns]
    if missing:
        raise CorpusMismatch(f"targets {missing} are not labels of this corpus (windows.csv has "
                             f"{[c for c in windows.columns if c not in WINDOW_KEYS]})")
    sequences = []
    for session_id, rows in windows.groupby("session", sort=True):
        rows = rows.sort_values("index")
        group = rows.group.iloc[0] if "group" in rows else None
        x, mask, valid = {}, {}, {}
        for name, stages in inputs.items():
            if isinstance(stages, dict):
                x[name] = load_inner(stages["stage"], stages["per"], str(session_id), rows,
                                     folders.get(stages["stage"]))
                continue
            x[name], mask[name], element = _session_input(str(session_id), name, stages, len(rows), unit, folders)
            if element is not None:
                valid[name] = element
        sequences.append(SessionSequence(str(session_id), rows.split.iloc[0], rows.start.to_numpy(), x,
                                         rows[targets].to_numpy(np.float32), None if pd.isna(group) else group,
                                         mask, valid))
    return sequences


Normaliser = dict[str, tuple[np.ndarray, np.ndarray]]  # input name -> (mean, std)


def fit_normaliser(sequences: list[SessionSequence]) -> Normaliser:
    """Per input: mean and std of every feature over the train split's valid values (identity
    for matrices; none for word vectors inside units, used as they are; one scalar mean and std
    for raw samples, applied as their batches are built)."""
    train = [s for s in sequences if s.split == "train"]
    norm = {}
    for name, first in train[0].x.items():
        if isinstance(first, InnerSequence):
            if first.standardise == "scalar":  # raw samples: one mean and std, summed a unit at a time
                n, total, squares = np.sum([s.x[name].covered_moments() for s in train], axis=0)
                mean = total / max(n, 1)
                std = np.sqrt(max(squares / max(n, 1) - mean ** 2, 0.0))
                norm[name] = np.float32([mean]), np.float32([max(std, 1e-6)])
            elif first.standardise == "columns":
                values = np.concatenate([s.x[name].covered() for s in train])
                norm[name] = values.mean(axis=0), np.maximum(values.std(axis=0), 1e-6)
            continue  # "none": word vectors, as they are
        values = np.concatenate([s.x[name] for s in train])
        if values.ndim != 2:
            norm[name] = np.zeros(1, np.float32), np.ones(1, np.float32)
            continue
        valid = np.concatenate([s.valid[name] if name in s.valid else np.ones(s.x[name].shape, bool) for s in train])
        if valid.all():
            norm[name] = values.mean(axis=0), np.maximum(values.std(axis=0), 1e-6)
            continue
        if not valid.any(axis=0).all():
            raise ValueError(f"input {name!r}: columns {np.flatnonzero(~valid.any(axis=0)).tolist()} have no "
                             f"valid value in the train split (every train unit masked)")
        mean = values.mean(axis=0, where=valid)
        norm[name] = mean.astype(np.float32), np.maximum(values.std(axis=0, where=valid), 1e-6).astype(np.float32)
    return norm


def normalise(sequences: list[SessionSequence], norm: Normaliser) -> None:
    for s in sequences:
        for name, (mean, std) in norm.items():
            if isinstance(s.x[name], InnerSequence):
                inner = s.x[name]
                s.x[name] = (replace(inner, scale=(mean, std)) if inner.standardise == "scalar"
                             else inner.with_values(((inner.values - mean) / std).astype(np.float32)))
                continue
            values = ((s.x[name] - mean) / std).astype(np.float32)
            if name in s.valid:
                values[~s.valid[name]] = 0.0  # the train mean: a masked value is no information
            s.x[name] = values


def input_shapes(sequence: SessionSequence) -> dict[str, list[int]]:
    """Each input's shape per unit: [D], [words, D], or [-1, D] for frames or words inside a unit
    ([-1, H, W, 3] for face crops)."""
    return {k: [-1, *v.values.shape[1:]] if isinstance(v, InnerSequence) else list(v.shape[1:])
            for k, v in sequence.x.items()}


def as_arrays(x: dict, mask: dict) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One session's inputs and masks as arrays: frames, words and samples inside units padded
    to the longest unit, with their mask and their times (`<name>.times`; samples have none)."""
    arrays, masks = {}, dict(mask)
    for k, v in x.items():
        if isinstance(v, InnerSequence):
            arrays[k], masks[k], times = v.padded()
            if times is not None:
                arrays[f"{k}.times"] = times
        else:
            arrays[k] = v
    return arrays, masks


def run_model(model: torch.nn.Module, x: dict[str, torch.Tensor], mask: dict[str, torch.Tensor],
              teacher: torch.Tensor | None = None) -> torch.Tensor:
    """The model's (B, T, outputs) on a batch of named inputs: a one-input model gets its tensor
    (and the gold targets when it is trained with teacher forcing), a named-input model both dicts."""
    if getattr(model, "reads_named_inputs", False):
        return model(x, mask)
    return model(x[DEFAULT_INPUT]) if teacher is None else model(x[DEFAULT_INPUT], teacher=teacher)


def pick_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device is 'cuda' but torch sees no CUDA device")
    return torch.device(requested)


@torch.no_grad()
def predict(model: torch.nn.Module, sequence: SessionSequence, device: torch.device,
            independent: bool = False) -> np.ndarray:
    """(T, targets) predictions for one whole session (autoregressive models feed back their own);
    `independent`: each unit alone, as a sequence of one (segments a model sees one at a time)."""
    model.eval()
    arrays, masks = as_arrays(sequence.x, sequence.mask)
    x = {k: torch.from_numpy(v).to(device) for k, v in arrays.items()}
    mask = {k: torch.from_numpy(v).to(device) for k, v in masks.items()}
    if independent:
        return run_model(model, {k: v[:, None] for k, v in x.items()}, {k: v[:, None] for k, v in mask.items()})[
            :, 0].cpu().numpy()
    return run_model(model, {k: v[None] for k, v in x.items()}, {k: v[None] for k, v in mask.items()})[0].cpu().numpy()
