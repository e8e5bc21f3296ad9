"""Williams et al. (CMU-MOSEI, ACL 2018 Grand Challenge): early fusion of word-aligned audio,
video and text; LSTM, BLSTM and 1-D CNN; six emotion intensities in [0, 3]; MAE loss.

Inputs (params.yaml `models.williams_*.features`): named inputs of words inside each sentence
(pipeline/inner_sequences.py, `per: word`): eGeMAPS LLD and MFCC frames averaged over each
word weighted by their overlap (the CMU Multimodal SDK's alignment; COVAREP is not available),
the face stage's per-frame AUs, gaze and head pose averaged the same way (FACET is not
available; our video is 25 fps, theirs 30 Hz), and each word's GloVe vector. Early fusion
(section 4.2): the inputs are concatenated per word, whichever of them a run names (the
unimodal and bimodal ablations are runs that override `features`).

Architecture (4.4): the last `maxlen` words of the segment, padded at the front with zeros as
Keras pads by default; an LSTM or BLSTM of 64 units (its final output), or `conv_layers` blocks
of a 1-D convolution (kernel 3, ReLU) and max-pooling (2), flattened; `layers` fully connected
layers of 100 units, each with batch normalisation, ReLU and dropout; 6 outputs bounded to
[0, 3] by 3 * sigmoid (the paper says only "a linear activation bounded between 0 and 3"; a
clamp would pass no gradient outside the range). The number of CNN filters is not given: 64.

The paper's random baseline (5.1, Table 1) is metrics/intensity.py's `random_intensities`; every
run of the intensity task reports it beside its own numbers (training/tasks.py).
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from models.registry import register_model

MAX_INTENSITY = 3.0


@dataclass
class WilliamsConfig:
    maxlen: int = 20  # the paper explores 15-30 (the average segment has ~12 words)
    units: int = 64
    layers: int = 1  # fully connected layers of 100 units: 1, 2 or 3
    dense: int = 100
    dropout: float = 0.2  # 0.1 or 0.2
    conv_layers: int = 1  # CNN only: 1, 2 or 3 blocks
    filters: int = 64  # CNN only; not given in the paper


def keep_last_words(x: torch.Tensor, present: torch.Tensor, maxlen: int) -> torch.Tensor:
    """(N, F, D) words -> (N, maxlen, D): the last `maxlen` words of each row, padded with zeros
    at the front (Keras' pad_sequences defaults). `present`: (N, F) which positions hold a word;
    a row's words are its first positions up to the last present one."""
    positions = torch.arange(1, x.shape[1] + 1, device=x.device)
    lengths = (present.to(positions.dtype) * positions).amax(dim=1)  # one past the last word
    source = lengths[:, None] - maxlen + torch.arange(maxlen, device=x.device)[None]  # (N, maxlen)
    kept = source >= 0
    gathered = torch.gather(x, 1, source.clamp(min=0)[..., None].expand(-1, -1, x.shape[2]))
    return gathered * kept[..., None].to(x.dtype)


class BatchNorm(nn.BatchNorm1d):
    """Batch normalisation that passes a training batch of one segment through unchanged (Keras
    normalises it to zeros, PyTorch refuses it): the last batch of an epoch may hold one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.training and x.shape[0] == 1 else super().forward(x)


class WilliamsEarlyFusion(nn.Module):
    def __init__(self, input_shapes: dict[str, tuple[int, ...]], n_targets: int, encoder: str, cfg: WilliamsConfig):
        super().__init__()
        bad = {k: s for k, s in input_shapes.items() if len(s) != 2}
        if not input_shapes or bad:
            raise ValueError(f"every input must be the words inside a unit ({{stage, per: word}}), got per-window "
                             f"shapes {input_shapes}")
        self.names, self.maxlen, self.encoder_kind = sorted(input_shapes), cfg.maxlen, encoder
        width = sum(input_shapes[k][-1] for k in self.names)
        if encoder == "cnn":
            blocks, channels, length = [], width, cfg.maxlen
            for _ in range(cfg.conv_layers):
                blocks += [nn.Conv1d(channels, cfg.filters, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool1d(2)]
                channels, length = cfg.filters, length // 2
            if length < 1:
                raise ValueError(f"maxlen {cfg.maxlen} is too short for {cfg.conv_layers} pooling layers")
            self.encoder = nn.Sequential(*blocks, nn.Flatten())
            encoded = channels * length
        else:
            self.encoder = nn.LSTM(width, cfg.units, batch_first=True, bidirectional=encoder == "blstm")
            encoded = cfg.units * (2 if encoder == "blstm" else 1)
        dense = []
        for _ in range(cfg.layers):
            dense += [nn.Linear(encoded, cfg.dense), BatchNorm(cfg.dense), nn.ReLU(), nn.Dropout(cfg.dropout)]
            encoded = cfg.dense
        self.dense = nn.Sequential(*dense)
        self.head = nn.Linear(encoded, n_targets)

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        batch, steps = inputs[self.names[0]].shape[:2]
        words = torch.cat([inputs[k] for k in self.names], dim=-1).flatten(0, 1)  # (B*T, F, D)
        present = torch.stack([masks[k] for k in self.names]).any(0).flatten(0, 1)  # (B*T, F)
        words = keep_last_words(words, present, self.maxlen)
        if self.encoder_kind == "cnn":
            encoded = self.encoder(words.transpose(1, 2))
        else:
            _, (hidden, _) = self.encoder(words)  # (directions, B*T, units): each direction's final state
            encoded = hidden.transpose(0, 1).flatten(1)
        out = MAX_INTENSITY * torch.sigmoid(self.head(self.dense(encoded)))
        return out.view(batch, steps, -1)


@register_model(named_inputs=True)
def williams_lstm(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    return WilliamsEarlyFusion(input_shape, n_targets, "lstm", WilliamsConfig(**hparams))


@register_model(named_inputs=True)
def williams_blstm(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    return WilliamsEarlyFusion(input_shape, n_targets, "blstm", WilliamsConfig(**hparams))


@register_model(named_inputs=True)
def williams_cnn(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    return WilliamsEarlyFusion(input_shape, n_targets, "cnn", WilliamsConfig(**hparams))
