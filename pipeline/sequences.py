"""Window features and labels as one sequence per session, for training and evaluation.

Per-window feature vectors are z-scored with statistics of the train split only;
per-window matrices (GloVe words of a window) are used as they are, zero padding
included, as the papers do.
"""
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from pipeline import layout


@dataclass
class SessionSequence:
    id: str
    split: str
    start: np.ndarray  # (T,) window start times
    x: np.ndarray  # (T, *feature shape)
    y: np.ndarray  # (T, targets) gold labels
    group: str | None = None  # the speaker's group (e.g. culture), for per-group metrics


WINDOW_KEYS = ("session", "split", "group", "index", "start", "end", "word_first", "word_last")  # not labels


class CorpusMismatch(ValueError):
    """A model cannot run on this corpus: it reads a modality or predicts a label the corpus lacks."""


def require_features(feature_sets: list[str], unit: str | None = None) -> None:
    """A clear error when a feature set was skipped for this corpus (e.g. glove without transcripts),
    or was computed on another unit than the model's."""
    unit = unit or layout.DEFAULT_UNIT
    for name in feature_sets:
        meta = layout.FEATURES / name / "meta.json"
        if not meta.exists():
            continue
        info = json.loads(meta.read_text())
        if "skipped" in info:
            raise CorpusMismatch(f"this model reads features {name!r}, which this corpus cannot give: "
                                 f"{info['skipped']}")
        if info.get("unit", layout.DEFAULT_UNIT) != unit:
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
    task.setdefault("tasks", {task["task"]: task["targets"]})
    task.setdefault("sequence", "session")
    return task


def _session_features(session_id: str, feature_sets: list[str], n_windows: int, unit: str | None) -> np.ndarray:
    blocks = []
    for name in feature_sets:
        path = layout.FEATURES / name / f"{session_id}.npy"
        if not path.exists():
            raise FileNotFoundError(f"session {session_id}: features {path} missing: run features@{name}")
        block = np.load(path, allow_pickle=False)
        if len(block) != n_windows:
            raise ValueError(f"session {session_id}: {path} has {len(block)} rows for {n_windows} units of "
                             f"{layout.unit_dir(unit)}: the feature stage {name} was computed on another unit, "
                             f"or before the unit stage last ran")
        blocks.append(block)
    if len(blocks) > 1 and any(b.ndim != 2 for b in blocks):
        raise ValueError(f"features {feature_sets}: only per-window vectors can be concatenated; "
                         f"shapes {[b.shape[1:] for b in blocks]}")
    return np.concatenate(blocks, axis=1).astype(np.float32)


def load_sequences(feature_sets: list[str], targets: list[str], unit: str | None = None) -> list[SessionSequence]:
    """One sequence per session of the unit's rows (windows, segments), features and labels."""
    require_features(feature_sets, unit)
    windows = pd.read_csv(layout.unit_dir(unit) / "windows.csv", dtype={"group": str})
    missing = [t for t in targets if t not in windows.columns]
    if missing:
        raise CorpusMismatch(f"targets {missing} are not labels of this corpus (windows.csv has "
                             f"{[c for c in windows.columns if c not in WINDOW_KEYS]})")
    sequences = []
    for session_id, rows in windows.groupby("session", sort=True):
        rows = rows.sort_values("index")
        group = rows.group.iloc[0] if "group" in rows else None
        sequences.append(SessionSequence(str(session_id), rows.split.iloc[0], rows.start.to_numpy(),
                                         _session_features(str(session_id), feature_sets, len(rows), unit),
                                         rows[targets].to_numpy(np.float32), None if pd.isna(group) else group))
    return sequences


def fit_normaliser(sequences: list[SessionSequence]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of every feature over the train split's windows (identity for matrices)."""
    train = np.concatenate([s.x for s in sequences if s.split == "train"])
    if train.ndim != 2:
        return np.zeros(1, np.float32), np.ones(1, np.float32)
    return train.mean(axis=0), np.maximum(train.std(axis=0), 1e-6)


def normalise(sequences: list[SessionSequence], mean: np.ndarray, std: np.ndarray) -> None:
    for s in sequences:
        s.x = ((s.x - mean) / std).astype(np.float32)


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
    x = torch.from_numpy(sequence.x).to(device)
    if independent:
        return model(x[:, None])[:, 0].cpu().numpy()
    return model(x[None])[0].cpu().numpy()
