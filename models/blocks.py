"""Building blocks shared by the paper models: highway layer, local attention, masked softmax."""
from typing import Callable

import torch
import torch.nn as nn


class Highway(nn.Module):
    """y = g * H(x) + (1 - g) * x with H = activation(linear(x)); no activation by default (no
    ReLU: GloVe inputs are signed, EmoNet 3.3); Tzirakis et al.'s eq. 2 uses tanh."""

    def __init__(self, dim: int, activation: Callable[[torch.Tensor], torch.Tensor] | None = None):
        super().__init__()
        self.transform = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, dim)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(self.gate(x))
        h = self.transform(x)
        return g * (h if self.activation is None else self.activation(h)) + (1 - g) * x


class LocalAttention(nn.Module):
    """c_t = sum_{j<l} a_{t-j} h_{t-j}, the l weights coming from an MLP of the input x_t
    (EmoNet eq. 3-4). Steps before the sequence start get no weight."""

    def __init__(self, input_dim: int, length: int, hidden: int = 64):
        super().__init__()
        self.length = length
        self.scorer = nn.Sequential(nn.Linear(input_dim, hidden), nn.Tanh(), nn.Linear(hidden, length))

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T, l) softmax weights; column j weights h_{t-j}."""
        scores = self.scorer(x)  # (B, T, l)
        t = torch.arange(x.shape[1], device=x.device)[:, None]
        j = torch.arange(self.length, device=x.device)[None, :]
        return torch.softmax(scores.masked_fill(t - j < 0, float("-inf")), dim=-1)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:  # x (B, T, D), h (B, T, H)
        a = self.weights(x)  # (B, T, l)
        padded = nn.functional.pad(h, (0, 0, self.length - 1, 0))  # (B, l-1+T, H)
        # past[:, t, j] = h_{t-j} (zeros before the start)
        past = torch.stack([padded[:, self.length - 1 - j: self.length - 1 - j + h.shape[1]]
                            for j in range(self.length)], dim=2)  # (B, T, l, H)
        return (a.unsqueeze(-1) * past).sum(dim=2)  # (B, T, H)


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis where `mask` (broadcast) is True; all-masked rows give zeros."""
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return torch.nan_to_num(weights, nan=0.0)
