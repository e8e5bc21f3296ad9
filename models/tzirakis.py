"""Tzirakis et al. (SEWA, end to end): a raw-audio, a text and a visual network, each under a
1-layer LSTM of 256 units, predicting arousal and valence at the label rate, and their fusions.

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
  features/contextual_words.py;
- `video`: the step's eye-aligned face crops (`{stage: face_crops_tzirakis, per: image}`:
  96 px, 10 a second, so one or two per step; features/face_crops.py), 0-255, none when no face
  was found (the step's video is then masked, as a step without text).

Audio network (4.1.2, the architecture of Tzirakis et al. [13]): three blocks of a 1-D
convolution (50, 125, 250 channels; kernels 8, 6, 6; stride 1) and a max-pooling (10, 5, 5,
stride = size), dropout 0.5 after each block. Our readings: the paper names no activation; the
authors' own implementation of [13] (the end2you toolkit) puts a leaky ReLU between each
convolution and its pooling, as we do (`audio_activation: none` drops it; without it the
network learned little on the generated corpus); dropout follows each block's pooling rather than the
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

Visual network (4.1.3): the paper's 3-stage HRNet has no offline ImageNet weights here. Ours
(`visual_backbone`): EfficientNet-Lite0's convolutional trunk with its ImageNet weights (the
backbone the project ships, features/imagenet_cnn.py), trained end to end, or `small`, four
blocks of a strided 3 x 3 convolution, batch norm and ReLU (16-128 channels) from scratch, for
CPU runs. Each crop is ImageNet-normalised, then the paper's attentional pooling replaces the
last average pooling: our reading of [45]'s bottom-up attention, a learnt score per position
of the trunk's last map (a 1 x 1 convolution), a softmax over the positions, the weighted sum
of the positions' vectors (96 px: 3 x 3 positions of 1280 channels, or 6 x 6 of 128); the
second attention "between the feature maps" the paper names without details is not built.
A step's vector is the mean over its crops; a step without a crop gives zeros. Only real crops
go through the trunk: padding never enters its batch-norm statistics.

On top (5.2): a 1-layer LSTM of 256 units with dropout 0.5 on its output, a linear layer to
the targets; CCC loss (ours sums 1 - CCC over arousal and valence, the paper averages them:
a constant factor Adam does not see); Adam, lr 5e-4.

Multimodal network (4.2-4.3, 5.3): the unimodal feature networks, initialised from their
trained runs (params `models.tzirakis_multimodal.init_from`: pipeline/pretrain.py), a fusion
of the per-step vectors, and a freshly (Glorot) initialised 1-layer LSTM of 256, all trained
end to end (`freeze_networks: true`, not in the paper: the copied networks stay as trained and
only the fusion and the LSTM learn). Fusions
(`fusion`), each ignoring a modality a step lacks (no sentence spoken, no face found):
- `concat`: [x^t, x^a, ...] (a missing modality contributes zeros);
- `hierarchical_attention` (eq. 3-5): each x^m projected to D_u; Attention over every pair of
  modalities, then Attention over the pairs; Attention(x^1..x^M) = sum_i softmax_i(x^i . q^i /
  sqrt(D_u)) x^i with a learnt q^i per member;
- `self_attention` (eq. 6): the projected modalities as M rows X^c; per head i, A_i =
  softmax(Z1 Z2^T / sqrt(D_s)) Z3 (Z_j = X^c W_j^i); weights alpha_i = A_i q_i, normalised by a
  softmax over the modalities (our reading: the paper sums with alpha_i as they come, which
  would let a missing modality's row weigh in); v_i = sum_k alpha_i[k] A_i[k]; the heads
  concatenated;
- `residual_self_attention` (eq. 7): z_i = W_z v_i + X^c does not close (a D_s vector plus an
  M x D_u matrix). Our reading, the non-local block's residual per row pooled as v_i is:
  z_i = sum_k alpha_i[k] (W_z A_i[k] + X^c[k]);
- `cross_modal_attention` (eq. 8-9): with one vector per modality and step, eq. 8's softmax of a
  scalar is 1. Our reading, as the cross-modal attention of Tsai et al. [30] that the paper
  cites: each modality's projected steps attend over another modality's steps in the
  sequence, a^{m,c} = softmax(x~^m (x~^c)^T / sqrt(D_s)) x~^c (steps where c is missing get no
  weight); v^m = Attention(a^{m,c1}, a^{m,c2}, ...); the result Attention(v^{m1}, ..., v^{mM}).
Sizes the paper does not give (ours): D_u = 128, D_s = 64, 4 heads.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from features.imagenet_cnn import BACKBONES, imagenet_normalise, trainable_trunk
from models.blocks import Highway, masked_softmax
from models.registry import register_model

AUDIO_BLOCKS = ((50, 8, 10), (125, 6, 5), (250, 6, 5))  # (channels, kernel, pooling) of each block
# the `small` visual trunk's blocks, each halving the crop; narrow for CPU memory (a batch of 10 sequences
# holds ~1,500 crops: 2.1 GB peak RSS for a training step of tzirakis_visual)
SMALL_CHANNELS = (16, 32, 64, 128)
# in place: the convolution's output is not kept twice for the backward pass (memory of batch x 100 steps)
ACTIVATIONS = {"leaky_relu": lambda: nn.LeakyReLU(inplace=True), "none": nn.Identity}


@dataclass
class TzirakisConfig:
    hidden: int = 256  # the LSTM on top (5.2)
    lstm_dropout: float = 0.5  # "each LSTM network ... trained with a dropout of 0.5"
    audio_dropout: float = 0.5  # after each block of the audio network
    audio_activation: str = "leaky_relu"  # between each convolution and its pooling | none
    ngrams: tuple[int, ...] = (2, 3, 4)  # the text network's n-gram widths (N_k = len)
    projections: int = 4  # P
    projection_dim: int = 64  # D_p
    text_hidden: int = 64  # per direction of each projection's 2-layer BiLSTM
    word_dropout: float = 0.1
    projection_dropout: float = 0.2
    context_dropout: float = 0.3
    audio_steps_at_once: int = 512  # steps through the audio CNN per pass (bounds memory on long sessions)
    visual_backbone: str = "efficientnet_lite0"  # ImageNet-initialised (the paper's HRNet is) | small: from scratch
    visual_crops_at_once: int = 256  # face crops through the visual trunk per pass outside training
    fusion: str = "hierarchical_attention"  # one of FUSIONS (the multimodal network)
    fusion_dim: int = 128  # D_u
    head_dim: int = 64  # D_s
    heads: int = 4  # the self-attention fusions' projections
    init_from: dict | None = None  # read by the trainer (pipeline/pretrain.py), not by the network
    # the multimodal network: its feature networks stay as init_from copied them (no gradient, eval mode:
    # no dropout, batch-norm statistics as trained); only the fusion and the LSTM on top learn
    freeze_networks: bool = False


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

    def __init__(self, dropout: float, steps_at_once: int, activation: str = "leaky_relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"audio_activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        layers, channels = [], 1
        for out, kernel, pool in AUDIO_BLOCKS:
            layers += [nn.Conv1d(channels, out, kernel), ACTIVATIONS[activation](), nn.MaxPool1d(pool),
                       nn.Dropout(dropout)]
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
    selector's (sentences, P, L) weights of the last call, one row per run of steps that read
    the same sentence."""

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
        mask = mask.bool()
        # consecutive steps inside one sentence read the same words: each run of them is encoded
        # once (a sentence of 3 s spans 30 steps; in training it then shares one dropout draw)
        repeat = torch.zeros(b, t, dtype=torch.bool, device=words.device)
        repeat[:, 1:] = (mask[:, 1:] == mask[:, :-1]).all(-1) & (words[:, 1:] == words[:, :-1]).flatten(2).all(-1)
        first = ~repeat.reshape(-1)
        run = torch.cumsum(first, 0) - 1  # each step's run
        flat_words, flat_mask = words.reshape(b * t, length, dim)[first], mask.reshape(b * t, length)[first]
        spoken = flat_mask.any(dim=1)
        out = words.new_zeros(len(flat_words), self.out_dim)
        if spoken.any():
            out[spoken] = self.encode(flat_words[spoken], flat_mask[spoken])
        return out[run].reshape(b, t, self.out_dim)


def small_trunk() -> nn.Sequential:
    """(N, 3, H, W) -> (N, 128, H / 16, W / 16): four strided convolution blocks."""
    layers, channels = [], 3
    for out in SMALL_CHANNELS:
        layers += [nn.Conv2d(channels, out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(out),
                   nn.ReLU(inplace=True)]
        channels = out
    return nn.Sequential(*layers)


VISUAL_BACKBONES = {  # name -> (trunk, channels of its last map)
    "efficientnet_lite0": lambda: (trainable_trunk("efficientnet_lite0"), BACKBONES["efficientnet_lite0"].dims),
    "small": lambda: (small_trunk(), SMALL_CHANNELS[-1])}


class AttentionalPooling(nn.Module):
    """(N, C, H, W) -> (N, C): softmax over the H * W positions of a learnt score per position,
    the positions' weighted sum; `last_weights` (N, H * W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.score = nn.Conv2d(channels, 1, 1)
        self.last_weights: torch.Tensor | None = None

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.score(maps).flatten(1), dim=1)  # (N, H * W)
        self.last_weights = weights.detach()
        return torch.einsum("ncp,np->nc", maps.flatten(2), weights)


class VisualNetwork(nn.Module):
    """(B, T, F, H, W, 3) face crops (0-255) of each step with their (B, T, F) mask -> (B, T, D):
    each crop through the trunk and the attentional pooling, the mean over the step's crops; a
    step without a crop gives zeros. `last_attention`: the pooling's (crops, positions) weights
    of the last call, one row per real crop."""

    def __init__(self, backbone: str, crops_at_once: int):
        super().__init__()
        if backbone not in VISUAL_BACKBONES:
            raise ValueError(f"visual_backbone must be one of {', '.join(VISUAL_BACKBONES)}, got {backbone!r}")
        self.trunk, self.out_dim = VISUAL_BACKBONES[backbone]()
        self.pool = AttentionalPooling(self.out_dim)
        self.crops_at_once = crops_at_once
        self.last_attention: torch.Tensor | None = None

    def encode(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) crops in 0-255 -> (N, D)."""
        return self.pool(self.trunk(imagenet_normalise(crops.permute(0, 3, 1, 2) / 255.0)))

    def forward(self, crops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.bool()
        real = crops[mask]  # (N, H, W, 3): padding never reaches the trunk
        per_crop = crops.new_zeros(*mask.shape, self.out_dim)  # (B, T, F, D)
        attention = []
        if len(real):
            chunks = [real] if self.training else real.split(self.crops_at_once)  # training needs one graph
            encoded = []
            for chunk in chunks:
                encoded.append(self.encode(chunk))
                attention.append(self.pool.last_weights)
            per_crop[mask] = torch.cat(encoded)
        self.last_attention = torch.cat(attention) if attention else None
        return per_crop.sum(dim=2) / mask.sum(dim=2, keepdim=True).clamp(min=1).to(per_crop.dtype)


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
        if cfg.freeze_networks:
            raise ValueError("freeze_networks is tzirakis_multimodal's: it keeps the networks init_from copies; "
                             "a unimodal network trains its own")
        self.modality = modality
        self.features = network
        self.recurrent = StepLSTM(network.out_dim, n_targets, cfg)

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.recurrent(self.features(inputs[self.modality], masks[self.modality]))


def config(hparams: dict) -> TzirakisConfig:
    if "ngrams" in hparams:
        hparams = {**hparams, "ngrams": tuple(int(n) for n in hparams["ngrams"])}
    cfg = TzirakisConfig(**hparams)
    if not isinstance(cfg.freeze_networks, bool):
        raise ValueError(f"freeze_networks must be true or false, got {cfg.freeze_networks!r}")
    return cfg


def require_input(name: str, modality: str, input_shape: dict[str, tuple[int, ...]], example: str,
                  item_dims: int = 1) -> tuple[int, ...]:
    """The shape of the one named input a unimodal network reads (a sequence inside each step of
    items of `item_dims` dims: samples, words; images have 3), or a clear error."""
    if set(input_shape) != {modality}:
        raise ValueError(f"{name} reads one named input, `{modality}` ({example}); got inputs {sorted(input_shape)}")
    shape = input_shape[modality]
    if len(shape) != 1 + item_dims or shape[0] != -1:
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
    return UnimodalModel("audio", AudioNetwork(cfg.audio_dropout, cfg.audio_steps_at_once, cfg.audio_activation),
                         n_targets, cfg)


@register_model(named_inputs=True)
def tzirakis_text(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    """The text network (4.1.1, Fig. 1) and the LSTM on top."""
    cfg = config(hparams)
    shape = require_input("tzirakis_text", "text", input_shape, "{stage: contextual_words_tzirakis, per: word}")
    return UnimodalModel("text", TextNetwork(shape[1], cfg), n_targets, cfg)


VIDEO_EXAMPLE = "{stage: face_crops_tzirakis, per: image}"


def visual_network(shape: tuple[int, ...], cfg: TzirakisConfig) -> VisualNetwork:
    if shape[-1] != 3:
        raise ValueError(f"the visual network reads RGB crops (H, W, 3), got items of shape {shape[1:]}")
    return VisualNetwork(cfg.visual_backbone, cfg.visual_crops_at_once)


@register_model(named_inputs=True)
def tzirakis_visual(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    """The visual network (4.1.3, on face crops) and the LSTM on top."""
    cfg = config(hparams)
    shape = require_input("tzirakis_visual", "video", input_shape, VIDEO_EXAMPLE, item_dims=3)
    return UnimodalModel("video", visual_network(shape, cfg), n_targets, cfg)


def step_presence(mask: torch.Tensor) -> torch.Tensor:
    """(B, T) whether a step has any sample, word or frame of a modality: its (B, T, F) mask."""
    return mask.bool().any(dim=-1)


class ModalityAttention(nn.Module):
    """Eq. 4: sum_i softmax_i(x^i . q^i / sqrt(D)) x^i over M members (B, T, M, D), a learnt q^i
    per member, members absent at a step left out; `last_weights` (B, T, M)."""

    def __init__(self, members: int, dim: int):
        super().__init__()
        self.q = nn.Parameter(torch.randn(members, dim) / dim ** 0.5)
        self.last_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = masked_softmax((x * self.q).sum(-1) / x.shape[-1] ** 0.5, present)
        self.last_weights = weights.detach()
        return (weights.unsqueeze(-1) * x).sum(dim=2), present.any(dim=2)


class Projections(nn.Module):
    """Eq. 3: each modality projected to D dims (linear)."""

    def __init__(self, dims: dict[str, int], dim: int):
        super().__init__()
        self.names = sorted(dims)
        self.project = nn.ModuleDict({m: nn.Linear(dims[m], dim) for m in self.names})

    def forward(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.stack([self.project[m](x[m]) for m in self.names], dim=2)  # (B, T, M, D)


class ConcatFusion(nn.Module):
    def __init__(self, dims: dict[str, int], cfg: TzirakisConfig):
        super().__init__()
        self.names, self.out_dim = sorted(dims), sum(dims.values())

    def forward(self, x: dict[str, torch.Tensor], present: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([x[m] * present[m].unsqueeze(-1).to(x[m].dtype) for m in self.names], dim=-1)


class HierarchicalAttentionFusion(nn.Module):
    """Eq. 5: attention over each pair of modalities, then over the pairs."""

    def __init__(self, dims: dict[str, int], cfg: TzirakisConfig):
        super().__init__()
        self.project = Projections(dims, cfg.fusion_dim)
        m = len(dims)
        self.pairs = [(i, j) for i in range(m) for j in range(i + 1, m)] or [(0, 0)]
        self.pair_attention = nn.ModuleList(ModalityAttention(2, cfg.fusion_dim) for _ in self.pairs)
        self.top = ModalityAttention(len(self.pairs), cfg.fusion_dim)
        self.out_dim = cfg.fusion_dim

    def forward(self, x: dict[str, torch.Tensor], present: dict[str, torch.Tensor]) -> torch.Tensor:
        projected = self.project(x)
        here = torch.stack([present[m] for m in self.project.names], dim=2)
        fused = [attend(projected[:, :, [i, j]], here[:, :, [i, j]])
                 for (i, j), attend in zip(self.pairs, self.pair_attention)]
        pairs, pairs_here = torch.stack([f for f, _ in fused], dim=2), torch.stack([h for _, h in fused], dim=2)
        return self.top(pairs, pairs_here)[0]


class SelfAttentionFusion(nn.Module):
    """Eq. 6 (and eq. 7 with `residual`): per head, self-attention among the modalities' rows."""

    def __init__(self, dims: dict[str, int], cfg: TzirakisConfig, residual: bool = False):
        super().__init__()
        self.project = Projections(dims, cfg.fusion_dim)
        self.qkv = nn.ModuleList(nn.Linear(cfg.fusion_dim, 3 * cfg.head_dim, bias=False) for _ in range(cfg.heads))
        self.q = nn.Parameter(torch.randn(cfg.heads, cfg.head_dim) / cfg.head_dim ** 0.5)
        self.residual = nn.ModuleList(nn.Linear(cfg.head_dim, cfg.fusion_dim) for _ in range(cfg.heads)) if residual else None
        self.head_dim = cfg.head_dim
        self.out_dim = cfg.heads * (cfg.fusion_dim if residual else cfg.head_dim)
        self.last_weights: torch.Tensor | None = None

    def forward(self, x: dict[str, torch.Tensor], present: dict[str, torch.Tensor]) -> torch.Tensor:
        rows = self.project(x)  # X^c: (B, T, M, D_u)
        here = torch.stack([present[m] for m in self.project.names], dim=2)  # (B, T, M)
        heads, weights = [], []
        for i, qkv in enumerate(self.qkv):
            z1, z2, z3 = qkv(rows).split(self.head_dim, dim=-1)
            attention = masked_softmax(z1 @ z2.transpose(-1, -2) / self.head_dim ** 0.5, here.unsqueeze(-2))
            a = attention @ z3  # A_i: (B, T, M, D_s)
            alpha = masked_softmax(a @ self.q[i], here)  # (B, T, M)
            rows_i = a if self.residual is None else self.residual[i](a) + rows  # eq. 7, per row
            heads.append((alpha.unsqueeze(-1) * rows_i).sum(dim=2))
            weights.append(alpha)
        self.last_weights = torch.stack(weights, dim=-1).detach()
        return torch.cat(heads, dim=-1)


class CrossModalAttentionFusion(nn.Module):
    """Eq. 8-9: each modality's steps attend over each other modality's steps; attention over
    the other modalities, then over the modalities."""

    def __init__(self, dims: dict[str, int], cfg: TzirakisConfig):
        super().__init__()
        self.project = Projections(dims, cfg.head_dim)
        m = len(dims)
        self.others = [[c for c in range(m) if c != k] or [k] for k in range(m)]
        self.per_modality = nn.ModuleList(ModalityAttention(len(o), cfg.head_dim) for o in self.others)
        self.top = ModalityAttention(m, cfg.head_dim)
        self.out_dim = cfg.head_dim

    def forward(self, x: dict[str, torch.Tensor], present: dict[str, torch.Tensor]) -> torch.Tensor:
        steps = self.project(x)  # (B, T, M, D_s)
        here = torch.stack([present[m] for m in self.project.names], dim=2)
        scale = steps.shape[-1] ** 0.5
        fused, fused_here = [], []
        for k, (others, attend) in enumerate(zip(self.others, self.per_modality)):
            crossed = []
            for c in others:
                scores = steps[:, :, k] @ steps[:, :, c].transpose(1, 2) / scale  # (B, T, T)
                crossed.append(masked_softmax(scores, here[:, None, :, c]) @ steps[:, :, c])
            # m's step t attends over c's steps: it needs m at t and c somewhere in the sequence
            crossed_here = here[:, :, k:k + 1] & here[:, :, others].any(dim=1, keepdim=True)
            v, v_here = attend(torch.stack(crossed, dim=2), crossed_here)
            fused.append(v)
            fused_here.append(v_here)
        return self.top(torch.stack(fused, dim=2), torch.stack(fused_here, dim=2))[0]


FUSIONS = {"concat": ConcatFusion, "hierarchical_attention": HierarchicalAttentionFusion,
           "self_attention": SelfAttentionFusion,
           "residual_self_attention": lambda dims, cfg: SelfAttentionFusion(dims, cfg, residual=True),
           "cross_modal_attention": CrossModalAttentionFusion}


class MultimodalModel(nn.Module):
    """The unimodal feature networks (`networks.<modality>`, what init_from fills), a fusion, the
    LSTM on top (5.3)."""

    def __init__(self, networks: dict[str, nn.Module], n_targets: int, cfg: TzirakisConfig):
        super().__init__()
        if cfg.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, got {cfg.fusion!r}")
        self.networks = nn.ModuleDict(networks)
        self.frozen_networks = tuple(networks) if cfg.freeze_networks else ()  # the trainer checks init_from fills them
        self.networks.requires_grad_(not cfg.freeze_networks)
        self.fusion = FUSIONS[cfg.fusion]({m: n.out_dim for m, n in networks.items()}, cfg)
        self.recurrent = StepLSTM(self.fusion.out_dim, n_targets, cfg)
        for name, weight in self.recurrent.rnn.named_parameters():  # Glorot, as 5.3
            if name.startswith("weight"):
                nn.init.xavier_uniform_(weight)

    def train(self, mode: bool = True) -> "MultimodalModel":
        super().train(mode)
        if self.frozen_networks:  # the features the unimodal runs computed at test, in training too
            self.networks.eval()
        return self

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        x = {m: net(inputs[m], masks[m]) for m, net in self.networks.items()}
        present = {m: step_presence(masks[m]) for m in self.networks}
        return self.recurrent(self.fusion(x, present))


NETWORKS = {"audio": ("{stage: waveform_tzirakis, per: sample}", 1,  # (example input, dims of an item, build)
                      lambda shape, cfg: AudioNetwork(cfg.audio_dropout, cfg.audio_steps_at_once, cfg.audio_activation)),
            "text": ("{stage: contextual_words_tzirakis, per: word}", 1, lambda shape, cfg: TextNetwork(shape[1], cfg)),
            "video": (VIDEO_EXAMPLE, 3, visual_network)}


@register_model(named_inputs=True)
def tzirakis_multimodal(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    """The unimodal feature networks of the named inputs (audio, text, video), fused (`fusion`),
    and the LSTM on top; a run naming fewer inputs is an ablation of the same network."""
    cfg = config(hparams)
    unknown = sorted(set(input_shape) - set(NETWORKS))
    if unknown or not input_shape:
        raise ValueError(f"tzirakis_multimodal reads named inputs among {sorted(NETWORKS)}, got {sorted(input_shape)}")
    networks = {}
    for m, shape in input_shape.items():
        example, item_dims, build = NETWORKS[m]
        require_input("tzirakis_multimodal", m, {m: shape}, example, item_dims)
        networks[m] = build(shape, cfg)
    return MultimodalModel(networks, n_targets, cfg)
