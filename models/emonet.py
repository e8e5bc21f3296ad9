"""EmoNet (paper: "EmoNet ... text-only valence over time", SENDv1): GloVe words of each
window -> CNN + highway window embedding -> encoder -> local attention (l = 3) -> decoder.

Four variants differ in encoder and decoder (paper 3.3.1-3.3.2):
  emonet_lstm         LSTM encoder, linear decoder on c_t                     (eq. 5)
  emonet_ar_lstm      LSTM encoder, linear decoder on [c_t, y_{t-1}]          (eq. 6)
                      (teacher forcing in training, its own predictions at test time)
  emonet_ed_lstm      LSTM encoder, LSTM decoder over c_t                     (eq. 7)
  emonet_transformer  6-layer Transformer encoder (d 128, ff 128, dropout 0.1), ED-LSTM decoder
Defaults are the paper's: window embedding 256, hidden 256, input dropout 0.1, l = 3.

Readings where the paper is silent (README, "Models"):
- AR-LSTM, eq. 6: y_{t-1} is the gold label in training (teacher forcing) and the model's own
  prediction at test time; every training chunk and every test session starts from y = 0.
- Transformer positions: the paper names no positional encoding. `positional_encoding: none`
  (our default, measured beside `sinusoidal` in the benchmark) relies on the causal mask
  alone, which still tells positions apart (step t attends over t + 1 inputs);
  `sinusoidal` adds the encoding of Vaswani et al. (the Transformer the paper cites),
  counted from the first window of the sequence: a training chunk starts at 0 like a test
  session does, although the chunk sits mid-session.
Input: (B, T, W, E) padded word vectors per window; output (B, T, targets).
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from models.blocks import Highway, LocalAttention
from models.registry import register_model


@dataclass
class EmoNetConfig:
    embedding: int = 256  # window embedding from the CNN + highway
    kernel: int = 3  # CNN kernel over words
    hidden: int = 256  # encoder (and decoder) size
    attention: int = 3  # local attention length l
    input_dropout: float = 0.1
    transformer_dim: int = 128
    transformer_ff: int = 128
    transformer_layers: int = 6
    transformer_heads: int = 4  # the paper says multi-head without a number
    transformer_dropout: float = 0.1
    positional_encoding: str = "none"  # none | sinusoidal (see the module docstring)


class WindowEmbedding(nn.Module):
    """1-D convolution over a window's words, max-pooled over words, then a highway layer."""

    def __init__(self, word_dim: int, cfg: EmoNetConfig):
        super().__init__()
        self.conv = nn.Conv1d(word_dim, cfg.embedding, cfg.kernel, padding=cfg.kernel // 2)
        self.highway = Highway(cfg.embedding)

    def forward(self, words: torch.Tensor) -> torch.Tensor:  # (B, T, W, E)
        b, t, w, e = words.shape
        conv = self.conv(words.reshape(b * t, w, e).transpose(1, 2))  # (B*T, C, W)
        return self.highway(conv.max(dim=2).values).reshape(b, t, -1)  # (B, T, C)


POSITIONAL_ENCODINGS = ("none", "sinusoidal")


def sinusoidal_positions(length: int, dim: int, device=None) -> torch.Tensor:
    """(length, dim) PE[t, 2i] = sin(t / 10000^(2i/dim)), PE[t, 2i+1] = cos(...) (Vaswani et al., 3.5)."""
    position = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dim))
    encoding = torch.zeros(length, dim, device=device)
    encoding[:, 0::2] = torch.sin(position * frequency)
    encoding[:, 1::2] = torch.cos(position * frequency[: dim // 2])
    return encoding


class CausalTransformer(nn.Module):
    """Self-attention encoder over windows; each step sees only the past, h_t = Encoder(X_1:t)."""

    def __init__(self, input_dim: int, cfg: EmoNetConfig):
        super().__init__()
        if cfg.positional_encoding not in POSITIONAL_ENCODINGS:
            raise ValueError(f"positional_encoding must be one of {POSITIONAL_ENCODINGS} "
                             f"(got {cfg.positional_encoding!r})")
        self.positional = cfg.positional_encoding
        # the window embeddings differ little from window to window; normalising the projected
        # input keeps those differences from vanishing under six post-norm layers
        self.project = nn.Sequential(nn.Linear(input_dim, cfg.transformer_dim), nn.LayerNorm(cfg.transformer_dim))
        layer = nn.TransformerEncoderLayer(cfg.transformer_dim, cfg.transformer_heads, cfg.transformer_ff,
                                           cfg.transformer_dropout, batch_first=True, norm_first=True)
        # pre-norm layers (and a final norm): six post-norm layers did not train on this data
        self.encoder = nn.TransformerEncoder(layer, cfg.transformer_layers, norm=nn.LayerNorm(cfg.transformer_dim),
                                             enable_nested_tensor=False)
        self.out_dim = cfg.transformer_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D)
        causal = nn.Transformer.generate_square_subsequent_mask(x.shape[1], device=x.device)
        z = self.project(x)  # (B, T, d)
        if self.positional == "sinusoidal":
            z = z + sinusoidal_positions(x.shape[1], z.shape[-1], x.device)
        return self.encoder(z, mask=causal, is_causal=True)  # (B, T, d)


class EmoNet(nn.Module):
    def __init__(self, word_dim: int, n_targets: int, encoder: str, decoder: str, cfg: EmoNetConfig):
        super().__init__()
        self.embed = WindowEmbedding(word_dim, cfg)
        self.dropout = nn.Dropout(cfg.input_dropout)
        if encoder == "lstm":
            self.encoder = nn.LSTM(cfg.embedding, cfg.hidden, batch_first=True)
            encoded = cfg.hidden
        else:
            self.encoder = CausalTransformer(cfg.embedding, cfg)
            encoded = self.encoder.out_dim
        self.attention = LocalAttention(cfg.embedding, cfg.attention)
        self.decoder_kind = decoder
        self.n_targets = n_targets
        if decoder == "linear":
            self.decoder = nn.Linear(encoded, n_targets)
        elif decoder == "autoregressive":
            self.decoder = nn.Linear(encoded + n_targets, n_targets)
        else:
            self.decoder_rnn = nn.LSTM(encoded, cfg.hidden, batch_first=True)
            self.decoder = nn.Linear(cfg.hidden, n_targets)

    @property
    def uses_teacher_forcing(self) -> bool:
        return self.decoder_kind == "autoregressive"

    def encode(self, words: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.embed(words))  # (B, T, C)
        h = self.encoder(x)
        h = h[0] if isinstance(h, tuple) else h  # (B, T, H)
        return self.attention(x, h)  # (B, T, H) context vectors

    def forward(self, words: torch.Tensor, teacher: torch.Tensor | None = None) -> torch.Tensor:
        c = self.encode(words)
        if self.decoder_kind == "linear":
            return self.decoder(c)
        if self.decoder_kind == "lstm":
            return self.decoder(self.decoder_rnn(c)[0])
        if teacher is not None:  # teacher forcing: y_{t-1} is the gold label
            previous = nn.functional.pad(teacher[:, :-1], (0, 0, 1, 0))
            return self.decoder(torch.cat([c, previous], dim=-1))
        outputs, previous = [], c.new_zeros(c.shape[0], self.n_targets)
        for t in range(c.shape[1]):
            previous = self.decoder(torch.cat([c[:, t], previous], dim=-1))
            outputs.append(previous)
        return torch.stack(outputs, dim=1)


def _emonet(input_shape, n_targets, encoder, decoder, **hparams) -> EmoNet:
    if len(input_shape) != 2:
        raise ValueError(f"EmoNet needs per-window word matrices (words, dim), got per-window shape {input_shape}: "
                         "use the glove features")
    return EmoNet(input_shape[-1], n_targets, encoder, decoder, EmoNetConfig(**hparams))


@register_model(input_rank=2)
def emonet_lstm(input_shape, n_targets, **hparams) -> nn.Module:
    return _emonet(input_shape, n_targets, "lstm", "linear", **hparams)


@register_model(input_rank=2)
def emonet_ar_lstm(input_shape, n_targets, **hparams) -> nn.Module:
    return _emonet(input_shape, n_targets, "lstm", "autoregressive", **hparams)


@register_model(input_rank=2)
def emonet_ed_lstm(input_shape, n_targets, **hparams) -> nn.Module:
    return _emonet(input_shape, n_targets, "lstm", "lstm", **hparams)


@register_model(input_rank=2)
def emonet_transformer(input_shape, n_targets, **hparams) -> nn.Module:
    return _emonet(input_shape, n_targets, "transformer", "lstm", **hparams)
