"""Window features and labels as one sequence per session, for training and evaluation.

The normaliser (per-feature mean and standard deviation) is fit on the train split only.
"""
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
    x: np.ndarray  # (T, D) features
    y: np.ndarray  # (T, targets) gold labels


def load_sequences(feature_sets: list[str], targets: list[str]) -> list[SessionSequence]:
    windows = pd.read_csv(layout.WINDOWS / "windows.csv")
    missing = [t for t in targets if t not in windows.columns]
    if missing:
        raise ValueError(f"targets {missing} are not labels of this corpus (windows.csv has "
                         f"{[c for c in windows.columns if c not in ('session', 'split', 'index', 'start', 'end')]})")
    sequences = []
    for session_id, rows in windows.groupby("session", sort=True):
        rows = rows.sort_values("index")
        blocks = []
        for name in feature_sets:
            path = layout.FEATURES / name / f"{session_id}.npy"
            if not path.exists():
                raise FileNotFoundError(f"session {session_id}: features {path} missing: run features@{name}")
            block = np.load(path, allow_pickle=False)
            if block.ndim != 2:
                raise ValueError(f"features {name} hold a {block.shape[1:]} array per window, not a vector: "
                                 f"choose a model that embeds them (train.features lists {feature_sets})")
            if len(block) != len(rows):
                raise ValueError(f"session {session_id}: {path} has {len(block)} rows for {len(rows)} windows; "
                                 f"re-run features@{name} after the window stage")
            blocks.append(block)
        sequences.append(SessionSequence(str(session_id), rows.split.iloc[0], rows.start.to_numpy(),
                                         np.concatenate(blocks, axis=1).astype(np.float32),
                                         rows[targets].to_numpy(np.float32)))
    return sequences


def fit_normaliser(sequences: list[SessionSequence]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of every feature over the train split's windows."""
    train = np.concatenate([s.x for s in sequences if s.split == "train"])
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
def predict(model: torch.nn.Module, sequence: SessionSequence, device: torch.device) -> np.ndarray:
    """(T, targets) predictions for one whole session."""
    model.eval()
    return model(torch.from_numpy(sequence.x)[None].to(device))[0].cpu().numpy()
