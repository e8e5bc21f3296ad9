"""Tzirakis et al. (SEWA, end to end): a raw-audio network and a text network, each under a
1-layer LSTM of 256 units, predicting arousal and valence at the label rate.

Steps: the `tzirakis` unit (params.yaml `units.tzirakis`) cuts 100 ms windows at a 100 ms hop,
one per label of a 10 Hz rating track (SEWA's rate, and the generated corpus's); training reads
sequences of 100 steps (10 s), as section 5.2.

Inputs (named, params.yaml `models.tzirakis_*.features`), each read inside every step:
- `audio`: the step's raw samples (`{stage: waveform_tzirakis, per: sample}`: 1600 samples at
  16 kHz; the paper's 22.05 kHz is the waveform stage's `sample_rate` for corpora recorded at it);
- `text`: the contextual embeddings of the words of the sentence being spoken at the step
  (`{stage: contextual_words_tzirakis, per: word}`; the unit's `words: sentence`), none
  between sentences (the step's text is then masked: Fig. 4's frame without text).
  The paper's XLNet (768-d) is not packaged for offline use: all-MiniLM-L6-v2 (384-d), see
  features/contextual_words.py.

Audio network (4.1.2, the architecture of Tzirakis et al. [13]): three blocks of a 1-D
convolution (50, 125, 250 channels; kernels 8, 6, 6; stride 1) and a max-pooling (10, 5, 5,
stride = size), dropout 0.5 after each block. Our readings: the paper names no activation (the
max-pooling is the only non-linearity); dropout follows each block's pooling rather than the
convolution itself (10x less memory for the first block's output, the same regularisation
intent); the paper runs the network over 160 s of signal and reads one vector per frame, we
run it over each step's samples (time reduced by 10 x 5 x 5 = 250: 1600 samples -> 5
positions) and average the remaining positions into the step's 250-d vector.

Text network (4.1.1, Fig. 1), per step over its sentence's L words: dropout 0.1 on the word
vectors; N_k position-wise n-gram convolutions (widths `ngrams`, one map each, tanh, eq. 1)
concatenated with the input (D_e = D + N_k); P linear projections to D_p dims (dropout 0.2);
a 2-layer BiLSTM per projection (the recurrent context generator; dropout 0.3 on its states);
the selector, an attention over the words per projection (masked softmax of v . tanh(W h));
the P selected vectors concatenated and passed through a highway layer with tanh (eq. 2).
N_k, P, D_p and the BiLSTM size are params; ours: n-grams 2, 3, 4 (N_k = 3), P = 4, D_p = 64,
64 units per direction (the paper gives none of them).

On top (5.2): a 1-layer LSTM of 256 units with dropout 0.5 on its output, a linear layer to
the targets; CCC loss; Adam, lr 5e-4. The visual network (face crops) and the five fusions of
the multimodal model (4.2-4.3) are not built yet.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from models.blocks import Highway, masked_softmax
from models.registry import register_model

AUDIO_BLOCKS = ((50, 8, 10), (125, 6, 5), (250, 6, 5))  # (channels, kernel, pooling) of each block


@dataclass
class TzirakisConfig:
    hidden: int = 256  # the LSTM on top (5.2)
    lstm_dropout: float = 0.5  # "each LSTM network ... trained with a dropout of 0.5"
    audio_dropout: float = 0.5  # after each block of the audio network
    ngrams: tuple[int, ...] = (2, 3, 4)  # the text network's n-gram widths (N_k = len)
    projections: int = 4  # P
    projection_dim: int = 64  # D_p
    text_hidden: int = 64  # per direction of each projection's 2-layer BiLSTM
    word_dropout: float = 0.1
    projection_dropout: float = 0.2
    context_dropout: float = 0.3
    audio_steps_at_once: int = 512  # steps through the audio CNN per pass (bounds memory on long sessions)


def audio_positions(samples: int) -> int:
    """Positions left of `samples` after the audio network's three blocks (valid convolutions,
    pooling with stride = size)."""
    for _, kernel, pool in AUDIO_BLOCKS:
        samples = (samples - kernel + 1) // pool
    return samples


def min_audio_samples() -> int:
    """The fewest samples per step that leave one position."""
    n = 1
    while audio_positions(n) < 1:
        n += 1
    return n


class AudioNetwork(nn.Module):
    """(B, T, S, 1) raw samples per step -> (B, T, 250): the three blocks, then the mean over
    the positions left."""

    def __init__(self, dropout: float, steps_at_once: int):
        super().__init__()
        layers, channels = [], 1
        for out, kernel, pool in AUDIO_BLOCKS:
            layers += [nn.Conv1d(channels, out, kernel), nn.MaxPool1d(pool), nn.Dropout(dropout)]
            channels = out
        self.blocks = nn.Sequential(*layers)
        self.out_dim = channels
        self.steps_at_once = steps_at_once

    def forward(self, samples: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, s = samples.shape[:3]
        if audio_positions(s) < 1:
            raise ValueError(f"the audio network needs at least {min_audio_samples()} samples per step, got {s}: "
                             f"use longer steps or a higher sample rate")
        flat = (samples[..., 0] * mask.to(samples.dtype)).reshape(b * t, 1, s)
        chunks = [flat] if self.training else flat.split(self.steps_at_once)  # training needs one graph
        return torch.cat([self.blocks(c).mean(dim=2) for c in chunks]).reshape(b, t, self.out_dim)


class TextNetwork(nn.Module):
    """(B, T, L, D) word vectors of each step's sentence with their (B, T, L) mask ->
    (B, T, P * 2 * text_hidden); a step without words gives zeros. `last_attention`: the
    selector's (steps with words, P, L) weights of the last call."""

    def __init__(self, dim: int, cfg: TzirakisConfig):
        super().__init__()
        self.ngrams = nn.ModuleList(nn.Conv1d(dim, 1, n) for n in cfg.ngrams)
        widths = dim + len(cfg.ngrams)
        self.project = nn.ModuleList(nn.Linear(widths, cfg.projection_dim) for _ in range(cfg.projections))
        self.context = nn.ModuleList(nn.LSTM(cfg.projection_dim, cfg.text_hidden, num_layers=2, batch_first=True,
                                             bidirectional=True) for _ in range(cfg.projections))
        states = 2 * cfg.text_hidden
        self.select = nn.ModuleList(nn.Sequential(nn.Linear(states, states), nn.Tanh(), nn.Linear(states, 1, bias=False))
                                    for _ in range(cfg.projections))
        self.out_dim = cfg.projections * states
        self.highway = Highway(self.out_dim, activation=torch.tanh)
        self.word_dropout = nn.Dropout(cfg.word_dropout)
        self.projection_dropout = nn.Dropout(cfg.projection_dropout)
        self.context_dropout = nn.Dropout(cfg.context_dropout)
        self.last_attention: torch.Tensor | None = None

    def n_gram_maps(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, D) -> (N, L, N_k): f[l] = tanh(H . S~[l : l + n - 1] + b), S padded after the
        last word so that every position has a map (eq. 1)."""
        channels = x.transpose(1, 2)
        return torch.cat([torch.tanh(conv(nn.functional.pad(channels, (0, conv.kernel_size[0] - 1))))
                          for conv in self.ngrams], dim=1).transpose(1, 2)

    def encode(self, words: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(N, L, D) words of N sentences, each with at least one word -> (N, out_dim)."""
        x = self.word_dropout(words * mask.unsqueeze(-1).to(words.dtype))  # n-grams read zeros past the last word
        c = torch.cat([x, self.n_gram_maps(x)], dim=-1)  # C = [S, f^1 .. f^Nk]
        lengths = mask.sum(dim=1).cpu()
        selected, attention = [], []
        for project, context, select in zip(self.project, self.context, self.select):
            v = self.projection_dropout(project(c))
            packed = nn.utils.rnn.pack_padded_sequence(v, lengths, batch_first=True, enforce_sorted=False)
            h, _ = context(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=words.shape[1])
            h = self.context_dropout(h)
            a = masked_softmax(select(h).squeeze(-1), mask)  # (N, L)
            selected.append(torch.einsum("nl,nlh->nh", a, h))
            attention.append(a)
        self.last_attention = torch.stack(attention, dim=1).detach()
        return self.highway(torch.cat(selected, dim=-1))

    def forward(self, words: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, length, dim = words.shape
        flat_words, flat_mask = words.reshape(b * t, length, dim), mask.reshape(b * t, length).bool()
        spoken = flat_mask.any(dim=1)
        out = words.new_zeros(b * t, self.out_dim)
        if spoken.any():
            out[spoken] = self.encode(flat_words[spoken], flat_mask[spoken])
        return out.reshape(b, t, self.out_dim)


class StepLSTM(nn.Module):
    """The recurrent part on top of every network (5.2, 5.3): a 1-layer LSTM, dropout, a linear output."""

    def __init__(self, input_dim: int, n_targets: int, cfg: TzirakisConfig):
        super().__init__()
        self.rnn = nn.LSTM(input_dim, cfg.hidden, batch_first=True)
        self.dropout = nn.Dropout(cfg.lstm_dropout)
        self.head = nn.Linear(cfg.hidden, n_targets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(x)
        return self.head(self.dropout(h))


class UnimodalModel(nn.Module):
    """One modality's feature network (`features`, initialised from by the multimodal model)
    and the LSTM on top."""

    def __init__(self, modality: str, network: nn.Module, n_targets: int, cfg: TzirakisConfig):
        super().__init__()
        self.modality = modality
        self.features = network
        self.recurrent = StepLSTM(network.out_dim, n_targets, cfg)

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.recurrent(self.features(inputs[self.modality], masks[self.modality]))


def config(hparams: dict) -> TzirakisConfig:
    if "ngrams" in hparams:
        hparams = {**hparams, "ngrams": tuple(int(n) for n in hparams["ngrams"])}
    return TzirakisConfig(**hparams)


def require_input(name: str, modality: str, input_shape: dict[str, tuple[int, ...]], example: str) -> tuple[int, ...]:
    """The shape of the one named input a unimodal network reads, or a clear error."""
    if set(input_shape) != {modality}:
        raise ValueError(f"{name} reads one named input, `{modality}` ({example}); got inputs {sorted(input_shape)}")
    shape = input_shape[modality]
    if len(shape) != 2 or shape[0] != -1:
        raise ValueError(f"{name}: input `{modality}` must be a sequence inside each step ({example}), "
                         f"got one of shape {shape} per step")
    return shape


@register_model(named_inputs=True)
def tzirakis_audio(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    """The raw-audio network (4.1.2) and the LSTM on top."""
    cfg = config(hparams)
    shape = require_input("tzirakis_audio", "audio", input_shape, "{stage: waveform_tzirakis, per: sample}")
    if shape[1] != 1:
        raise ValueError(f"tzirakis_audio reads mono samples, got {shape[1]} channels")
    return UnimodalModel("audio", AudioNetwork(cfg.audio_dropout, cfg.audio_steps_at_once), n_targets, cfg)


@register_model(named_inputs=True)
def tzirakis_text(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    """The text network (4.1.1, Fig. 1) and the LSTM on top."""
    cfg = config(hparams)
    shape = require_input("tzirakis_text", "text", input_shape, "{stage: contextual_words_tzirakis, per: word}")
    return UnimodalModel("text", TextNetwork(shape[1], cfg), n_targets, cfg)
