"""Baseline sequence regressors over window features: (B, T, D) -> (B, T, targets), and
`modality_lstm`, the same recurrent model over named inputs with one encoder per modality.

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


@dataclass
class ModalityConfig(RecurrentConfig):
    embed: int = 32  # each modality's dense layer


class ModalityEncoders(nn.Module):
    """One dense ReLU layer per named input, over its vector or (for a word matrix) the mean of
    its valid words; a unit whose input is masked (no face, no word) contributes zeros, never
    the values stored for it. Inputs are taken in sorted name order."""

    def __init__(self, input_shapes: dict[str, tuple[int, ...]], embed: int):
        super().__init__()
        bad = {k: s for k, s in input_shapes.items() if len(s) not in (1, 2)}
        if not input_shapes or bad:
            raise ValueError(f"every input needs a vector or a word matrix per unit, got shapes {input_shapes}")
        self.names = sorted(input_shapes)
        self.layers = nn.ModuleDict({k: nn.Sequential(nn.Linear(input_shapes[k][-1], embed), nn.ReLU())
                                     for k in self.names})
        self.out_dim = embed * len(self.names)

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        encoded = []
        for k in self.names:
            x, mask = inputs[k], masks[k].to(inputs[k].dtype)
            if x.dim() == 4:  # (B, T, words, D): mean over the valid words
                x = (x * mask[..., None]).sum(2) / mask.sum(2, keepdim=True).clamp(min=1)
                mask = (mask.sum(2) > 0).to(x.dtype)
            encoded.append(self.layers[k](x) * mask[..., None])
        return torch.cat(encoded, dim=-1)


class ModalityRecurrent(nn.Module):
    """Per-modality encoders -> concatenation -> the baseline recurrent regressor."""

    def __init__(self, input_shapes: dict[str, tuple[int, ...]], n_targets: int, cfg: ModalityConfig):
        super().__init__()
        self.encoders = ModalityEncoders(input_shapes, cfg.embed)
        self.recurrent = RecurrentRegressor(self.encoders.out_dim, n_targets, cfg)

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.recurrent(self.encoders(inputs, masks))


@register_model(named_inputs=True)
def modality_lstm(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    """The worked example of named inputs (README, "Models"): e.g. {audio: [egemaps], video: [face]}."""
    return ModalityRecurrent(input_shape, n_targets, ModalityConfig(**hparams))
