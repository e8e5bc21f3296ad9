"""Baseline sequence regressors over window features: (B, T, D) -> (B, T, targets).

Not from a paper: the simplest recurrent models the papers' attention models build on,
used to check that the pipeline learns before the paper models are added.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from models.registry import register_model


@dataclass
class RecurrentConfig:
    hidden: int = 64
    layers: int = 1
    dropout: float = 0.1
    bidirectional: bool = False


class RecurrentRegressor(nn.Module):
    """Input dropout -> (B)LSTM -> linear head per time step."""

    def __init__(self, input_dim: int, n_targets: int, cfg: RecurrentConfig):
        super().__init__()
        self.input_dropout = nn.Dropout(cfg.dropout)
        self.rnn = nn.LSTM(input_dim, cfg.hidden, num_layers=cfg.layers, batch_first=True,
                           bidirectional=cfg.bidirectional, dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.head = nn.Linear(cfg.hidden * (2 if cfg.bidirectional else 1), n_targets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D)
        h, _ = self.rnn(self.input_dropout(x))  # (B, T, H)
        return self.head(h)  # (B, T, targets)


def _vector_input(input_shape: tuple[int, ...]) -> int:
    if len(input_shape) != 1:
        raise ValueError(f"this model reads one feature vector per window, got per-window shape {input_shape}")
    return input_shape[0]


@register_model
def lstm(input_shape: tuple[int, ...], n_targets: int, **hparams) -> nn.Module:
    return RecurrentRegressor(_vector_input(input_shape), n_targets, RecurrentConfig(**hparams, bidirectional=False))


@register_model
def blstm(input_shape: tuple[int, ...], n_targets: int, **hparams) -> nn.Module:
    return RecurrentRegressor(_vector_input(input_shape), n_targets, RecurrentConfig(**hparams, bidirectional=True))
