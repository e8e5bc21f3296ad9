"""Raju et al. (AVEC 2019, cross-cultural affect): EAF, AED and EMAFN, attention RNNs that
predict arousal, valence and liking every 100 ms from audio-visual feature streams.

Inputs (params.yaml `models.raju_*.features`): named streams, one vector per 4 s window at a
100 ms hop (the `raju` unit); within a stream the feature stages are concatenated, as the
paper concatenates its feature sets per modality (IV-B). Our streams beside the paper's:

| stream | paper (dims) | ours (stages, dims) |
|---|---|---|
| hand-crafted audio | eGeMAPS + MFCC mean/std + BoAW, 386 | egemaps_lld_raju 50 + mfcc_raju 78 + boaw_raju 100 + boaw_mfcc_raju 100 = 328 |
| hand-crafted video | OpenFace AUs + gaze mean/std + BoW, 153 | face_raju 39 (16 AU proxies, gaze, confidence: mean/std; face fraction) + face_boaw_raju 100 = 139 |
| deep audio | Deep Spectrum VGG16 + AlexNet fc7, DenseNet-121/201 pool, 11136 | deep_spectrum_raju: EfficientNet-Lite0 1280 (VGG16/AlexNet/DenseNet when their weights file is given) |
| deep video | VGG16 fc6 + ResNet-50 pool, pre-trained on Aff-Wild, 6144 | face_deep_raju: EfficientNet-Lite0 on aligned face crops, ImageNet weights, 1280 |

The default streams follow the paper's EAF (III-A: "Deep Spectrum and facial features for
video whilst using MFCC features for audio"): `audio` = MFCC, `deep_audio` = Deep Spectrum,
`video` = face AUs + gaze and their bag of words; all three models read the same streams, so
they differ only in the network. A run may name a subset (an ablation) or other stages.

Our readings where the paper is vague (kept the same across the three models):
- EAF's modality attention: each stream passes its own fully connected layer (tanh) to `embed`
  dims; a shared vector scores each embedded stream and a softmax over the streams gives one
  weight per stream and window; the fused vector is the weighted sum. A stream a window lacks
  (masked: no face) gets no weight.
- EAF's "one fixed-length vector from the final hidden state": we predict every window, each
  from the 2-layer BiLSTM's state at that window (its forward state is the final state of the
  sequence up to the window).
- AED (Bahdanau et al.): a BiLSTM encoder; at step t the decoder's previous state scores every
  encoder state additively (v . tanh(W s_{t-1} + U h_j)), the softmax gives the context c_t,
  and the LSTM decoder reads [c_t; h_t] (the encoder state of its own window: a regression
  decoder has no previous word to read; feeding its previous prediction back would train on
  gold values and test on its own). Output y_t = linear([s_t; c_t]); s_0 = tanh(linear(mean
  of the encoder states)). AED's input is the streams concatenated (no modality attention).
- EMAFN: EAF's modality attention, then AED's attention encoder-decoder in place of the BiLSTM.
- Sizes the paper does not give (ours): embed 64, hidden 64 per direction, attention 64,
  dropout 0.2; training (params.yaml `models.raju_*.train`): sequences of 100 windows (10 s),
  lr 0.001, batch 16. Targets arousal, valence and liking together, CCC loss (eq. 1).
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from models.blocks import masked_softmax
from models.registry import register_model


@dataclass
class RajuConfig:
    embed: int = 64  # each stream's fully connected layer (EAF, EMAFN) / the input projection (AED)
    hidden: int = 64  # per direction of the BiLSTMs, and the decoder's size
    layers: int = 2  # EAF's BiLSTM: "two layer bi-directional LSTM"
    attention: int = 64  # additive attention's hidden size (AED, EMAFN)
    dropout: float = 0.2


def stream_shapes(name: str, input_shape: dict[str, tuple[int, ...]]) -> dict[str, int]:
    """Each named stream's vector size; a clear error for anything but one vector per window."""
    bad = {k: s for k, s in input_shape.items() if len(s) != 1}
    if not input_shape or bad:
        raise ValueError(f"{name} reads one feature vector per window in every named stream (e.g. {{audio: "
                         f"[mfcc_raju], video: [face_raju, face_boaw_raju]}}), got shapes {input_shape}")
    return {k: s[0] for k, s in input_shape.items()}


class ModalityAttention(nn.Module):
    """EAF's front end: per-stream FC (tanh) -> a softmax over the streams per window ->
    the weighted sum (B, T, embed). `last_weights`: the (B, T, streams) weights of the last call."""

    def __init__(self, dims: dict[str, int], embed: int, dropout: float):
        super().__init__()
        self.names = sorted(dims)
        self.dropout = nn.Dropout(dropout)
        self.project = nn.ModuleDict({k: nn.Linear(dims[k], embed) for k in self.names})
        self.score = nn.Linear(embed, 1, bias=False)
        self.out_dim = embed
        self.last_weights: torch.Tensor | None = None

    def weights_and_embeddings(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]):
        embedded = torch.stack([torch.tanh(self.project[k](self.dropout(inputs[k]))) for k in self.names], dim=2)
        present = torch.stack([masks[k].bool() for k in self.names], dim=2)  # (B, T, streams)
        weights = masked_softmax(self.score(embedded).squeeze(-1), present)
        return weights, embedded

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        weights, embedded = self.weights_and_embeddings(inputs, masks)
        self.last_weights = weights.detach()
        return (weights.unsqueeze(-1) * embedded).sum(dim=2)


class ConcatenatedStreams(nn.Module):
    """AED's input: the streams concatenated (a masked stream contributes zeros, never the values
    stored for it), projected to `embed` dims."""

    def __init__(self, dims: dict[str, int], embed: int, dropout: float):
        super().__init__()
        self.names = sorted(dims)
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(sum(dims.values()), embed)
        self.out_dim = embed

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        x = torch.cat([inputs[k] * masks[k].to(inputs[k].dtype).unsqueeze(-1) for k in self.names], dim=-1)
        return torch.tanh(self.project(self.dropout(x)))


def additive_scores(query: torch.Tensor, w_query: nn.Linear, projected_keys: torch.Tensor,
                    v: nn.Linear) -> torch.Tensor:
    """Bahdanau's e_j = v . tanh(W s + U h_j): query s (B, Q) and the keys already projected,
    U h_j (B, T, A) -> (B, T) scores."""
    return v(torch.tanh(w_query(query).unsqueeze(1) + projected_keys)).squeeze(-1)


class AttentionEncoderDecoder(nn.Module):
    """AED's recurrent part (module docstring): (B, T, D) -> (B, T, targets); `last_attention`:
    the (B, T decoder steps, T encoder states) weights of the last call."""

    def __init__(self, input_dim: int, n_targets: int, cfg: RajuConfig):
        super().__init__()
        self.encoder = nn.LSTM(input_dim, cfg.hidden, batch_first=True, bidirectional=True)
        states = 2 * cfg.hidden
        self.init_state = nn.Linear(states, cfg.hidden)
        self.w_query = nn.Linear(cfg.hidden, cfg.attention, bias=False)
        self.w_keys = nn.Linear(states, cfg.attention)
        self.v = nn.Linear(cfg.attention, 1, bias=False)
        self.decoder = nn.LSTMCell(2 * states, cfg.hidden)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden + states, n_targets)
        self.last_attention: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        encoded, _ = self.encoder(x)  # (B, T, 2H)
        encoded = self.dropout(encoded)
        keys = self.w_keys(encoded)  # U h_j, once for every decoder step
        state = torch.tanh(self.init_state(encoded.mean(dim=1)))
        cell = torch.zeros_like(state)
        outputs, attention = [], []
        for t in range(encoded.shape[1]):
            alpha = torch.softmax(additive_scores(state, self.w_query, keys, self.v), dim=-1)  # (B, T)
            context = torch.einsum("bt,bth->bh", alpha, encoded)
            state, cell = self.decoder(torch.cat([context, encoded[:, t]], dim=-1), (state, cell))
            outputs.append(self.head(torch.cat([self.dropout(state), context], dim=-1)))
            attention.append(alpha)
        self.last_attention = torch.stack(attention, dim=1).detach()
        return torch.stack(outputs, dim=1)


class BiLSTMHead(nn.Module):
    """EAF's recurrent part: a `layers`-layer BiLSTM and a linear output per window."""

    def __init__(self, input_dim: int, n_targets: int, cfg: RajuConfig):
        super().__init__()
        self.rnn = nn.LSTM(input_dim, cfg.hidden, num_layers=cfg.layers, batch_first=True, bidirectional=True,
                           dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(2 * cfg.hidden, n_targets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(x)
        return self.head(self.dropout(h))


class RajuModel(nn.Module):
    """A fusion front end (modality attention or concatenation) and a recurrent part."""

    def __init__(self, fusion: nn.Module, recurrent: nn.Module):
        super().__init__()
        self.fusion, self.recurrent = fusion, recurrent

    def modality_weights(self) -> torch.Tensor | None:
        """The last call's (B, T, streams) modality weights (streams in sorted name order), or None."""
        return getattr(self.fusion, "last_weights", None)

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.recurrent(self.fusion(inputs, masks))


@register_model(named_inputs=True)
def raju_eaf(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    """Early Attention Fusion (III-A): modality attention -> 2-layer BiLSTM."""
    cfg = RajuConfig(**hparams)
    fusion = ModalityAttention(stream_shapes("raju_eaf", input_shape), cfg.embed, cfg.dropout)
    return RajuModel(fusion, BiLSTMHead(fusion.out_dim, n_targets, cfg))


@register_model(named_inputs=True)
def raju_aed(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    """Attention-based Encoder-Decoder (III-B) over the concatenated streams."""
    cfg = RajuConfig(**hparams)
    fusion = ConcatenatedStreams(stream_shapes("raju_aed", input_shape), cfg.embed, cfg.dropout)
    return RajuModel(fusion, AttentionEncoderDecoder(fusion.out_dim, n_targets, cfg))


@register_model(named_inputs=True)
def raju_emafn(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    """Extended Multi-Attention Fusion Network (III-C): modality attention -> AED's attention
    encoder-decoder (attention at the feature and the model level)."""
    cfg = RajuConfig(**hparams)
    fusion = ModalityAttention(stream_shapes("raju_emafn", input_shape), cfg.embed, cfg.dropout)
    return RajuModel(fusion, AttentionEncoderDecoder(fusion.out_dim, n_targets, cfg))
