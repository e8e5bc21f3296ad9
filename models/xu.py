"""Xu et al. (Interspeech 2019, IEMOCAP): learning the alignment of speech frames to words with
attention; four emotion classes from speech and text; the baselines of their Tables 1 and 2.

Inputs (params.yaml `models.xu_*.features`, named inputs inside each utterance,
pipeline/inner_sequences.py): `speech`, the 34-d acoustic frames (20 ms / 10 ms, features@frame34,
`per: frame`), and `text`, the words' GloVe vectors with their forced-alignment times
(features@glove, `per: word`; the paper's 300-d GloVe is any GloVe file by path, ours the
packaged 50-d by default). Frame and word times reach the model as `speech.times` and
`text.times` (hard alignment uses them; the learned alignment does not).

The models (`hidden` units per direction: 100, as section 4.2):
- `xu_attention_align` (section 3): a speech BiLSTM over frames and a text BiLSTM over words;
  for each word j, attention over all speech states i (eq. 7-9):
  a_ji = tanh(u . s_i + v . h_j + b), alpha_j = softmax_i(a_j), s~_j = sum_i alpha_ji s_i;
  [s~_j, h_j] into a multimodal BiLSTM; max-pooling over the words; a fully connected layer
  to the classes with a ReLU (eq. 13-14, as written: z = ReLU(W c~), softmax in the
  cross-entropy). The 5 heads of "40 weights" each (4.2) are read as: the 200-d states
  split into five 40-d slices, each head with its own u, v, b over its slice, the five
  aligned 40-d slices concatenated back to 200-d. Eq. 7 is additive, so within a head every
  word ranks the frames alike (u . s_i) and differs only in how sharply it attends (v . h_j
  shifts the tanh); `score: dot` (ours, not the paper's) scores each pair by a scaled dot
  product of projected states instead, so that words can attend to different frames.
- `xu_hard_align` (Table 2): the same, with each word's speech vector the mean of the speech
  states of its forced-alignment interval instead of attention: the frames weighted by their
  overlap with the word (features/word_alignment.py's `overlap_seconds`, the weights
  Williams et al.'s word-aligned features use), so a frame straddling a word boundary counts
  by its share; a word no frame overlaps gets zeros.
- `xu_speech`, `xu_text` (Table 1): one BiLSTM with attention pooling (Mirsamadi et al.:
  alpha_t = softmax(w . h_t)) and the same output layer;
- `xu_concat` (Tables 1-2, Yoon et al.'s "Concat"): both encoders, each attention-pooled,
  the two utterance vectors concatenated.

Not in the paper, ours: dropout (`dropout`, 0.2) on the encoders' outputs (the paper names
none; the default corpus has ~170 training utterances), and `logit_relu: false` to drop the
ReLU on the class scores. Padded frames and words never enter a recurrence (BiLSTM
below) nor an attention or a pooling.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from features.word_alignment import overlap_seconds
from models.blocks import masked_softmax
from models.registry import register_model

KINDS = ("attention_align", "hard_align", "concat", "speech", "text")
INPUTS = {"attention_align": ("speech", "text"), "hard_align": ("speech", "text"), "concat": ("speech", "text"),
          "speech": ("speech",), "text": ("text",)}


@dataclass
class XuConfig:
    hidden: int = 100  # per direction: 200-d BiLSTM states (4.2)
    heads: int = 5  # attention heads, each over a hidden*2/heads slice (5 x 40 = 200)
    score: str = "additive"  # eq. 7 | dot (ours: scaled dot product of projected slices)
    dropout: float = 0.2  # ours: the paper gives none
    logit_relu: bool = True  # eq. 14: z = ReLU(W c~)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each row's first `lengths` steps in reverse order, the padding after them left in place."""
    steps = torch.arange(x.shape[1], device=x.device)[None]
    index = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return torch.gather(x, 1, index[..., None].expand(-1, -1, x.shape[2]))


class BiLSTM(nn.Module):
    """A bidirectional LSTM over padded sequences that never reads the padding: (N, L, D) and an
    (N, L) prefix mask -> (N, L, 2 * hidden), zeros at padded steps. The backward direction is a
    second LSTM over each row's valid steps reversed in place; a packed sequence would do the
    same, but its backward pass is ~40x slower on CPU (PyTorch 2.x: 10.8 s against 0.26 s for
    16 utterances of 1132 frames)."""

    def __init__(self, input_dim: int, hidden: int):
        super().__init__()
        self.forward_rnn = nn.LSTM(input_dim, hidden, batch_first=True)
        self.backward_rnn = nn.LSTM(input_dim, hidden, batch_first=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(1)
        ahead, _ = self.forward_rnn(x)  # padding comes after the valid steps: it cannot reach them
        behind, _ = self.backward_rnn(reverse_padded(x, lengths))
        out = torch.cat([ahead, reverse_padded(behind, lengths)], dim=-1)
        return out * mask[..., None].to(out.dtype)


class AlignmentAttention(nn.Module):
    """Attention from each word's text state over all speech-frame states (eq. 7-9), per head."""

    def __init__(self, dim: int, heads: int, score: str):
        super().__init__()
        if dim % heads:
            raise ValueError(f"the states' {dim} dimensions do not split into {heads} heads")
        if score not in ("additive", "dot"):
            raise ValueError(f"score must be additive (eq. 7) or dot, got {score!r}")
        self.heads, self.head_dim, self.score = heads, dim // heads, score
        if score == "additive":
            self.u = nn.Parameter(torch.randn(heads, self.head_dim) / self.head_dim ** 0.5)
            self.v = nn.Parameter(torch.randn(heads, self.head_dim) / self.head_dim ** 0.5)
            self.b = nn.Parameter(torch.zeros(heads))
        else:
            self.query, self.key = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def weights(self, speech: torch.Tensor, speech_mask: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """(N, heads, words, frames) attention weights; each word's sum to 1 over its valid frames."""
        n, frames, words = speech.shape[0], speech.shape[1], text.shape[1]
        if self.score == "additive":
            s = speech.view(n, frames, self.heads, self.head_dim)
            h = text.view(n, words, self.heads, self.head_dim)
            su = torch.einsum("nihd,hd->nhi", s, self.u)
            hv = torch.einsum("njhd,hd->nhj", h, self.v)
            scores = torch.tanh(su[:, :, None, :] + hv[..., None] + self.b[None, :, None, None])
        else:
            k = self.key(speech).view(n, frames, self.heads, self.head_dim)
            q = self.query(text).view(n, words, self.heads, self.head_dim)
            scores = torch.einsum("njhd,nihd->nhji", q, k) / self.head_dim ** 0.5
        return masked_softmax(scores, speech_mask[:, None, None, :])

    def forward(self, speech: torch.Tensor, speech_mask: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        alpha = self.weights(speech, speech_mask, text)
        s = speech.view(*speech.shape[:2], self.heads, self.head_dim)
        return torch.einsum("nhji,nihd->njhd", alpha, s).flatten(2)  # (N, words, dim)


def hard_alignment_weights(frame_times: torch.Tensor, frame_mask: torch.Tensor,
                           word_times: torch.Tensor) -> torch.Tensor:
    """(N, words, frames): each word's valid frames weighted by their overlap with its interval,
    normalised to sum to 1 (all zeros for a word no frame overlaps). frame_times (N, frames)
    centres; word_times (N, words, 2) start and end."""
    valid = frame_mask.to(frame_times.dtype)
    steps = (frame_times[:, 1:] - frame_times[:, :-1])[(valid[:, 1:] * valid[:, :-1]) > 0]
    hop = float(steps.median()) if len(steps) else 0.01  # frame34's 10 ms when no row has two frames
    overlap = overlap_seconds(frame_times[:, None, :], hop, word_times[..., :1], word_times[..., 1:], xp=torch)
    overlap = overlap * valid[:, None, :]
    return overlap / overlap.sum(-1, keepdim=True).clamp(min=1e-9)


class AttentionPooling(nn.Module):
    """Mirsamadi et al.'s attention pooling: softmax_t(w . h_t) over the valid steps, weighted sum."""

    def __init__(self, dim: int):
        super().__init__()
        self.score = nn.Linear(dim, 1)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        alpha = masked_softmax(self.score(states).squeeze(-1), mask)
        return torch.einsum("nt,ntd->nd", alpha, states)


class XuModel(nn.Module):
    def __init__(self, input_shapes: dict[str, tuple[int, ...]], n_targets: int, kind: str, cfg: XuConfig):
        super().__init__()
        needed = INPUTS[kind]
        if sorted(input_shapes) != sorted(needed) or any(len(input_shapes[k]) != 2 for k in needed):
            raise ValueError(f"xu_{kind} reads the named inputs {list(needed)} ({{stage, per: frame}} for speech, "
                             f"{{stage, per: word}} for text), got {input_shapes}")
        self.kind, self.logit_relu = kind, cfg.logit_relu
        dim = 2 * cfg.hidden
        self.encoders = nn.ModuleDict({k: BiLSTM(input_shapes[k][-1], cfg.hidden) for k in needed})
        self.dropout = nn.Dropout(cfg.dropout)
        if kind == "attention_align":
            self.attention = AlignmentAttention(dim, cfg.heads, cfg.score)
        if kind in ("attention_align", "hard_align"):
            self.fusion = BiLSTM(2 * dim, cfg.hidden)
            pooled = dim
        else:
            self.pools = nn.ModuleDict({k: AttentionPooling(dim) for k in needed})
            pooled = dim * len(needed)
        self.head = nn.Linear(pooled, n_targets)

    def encode(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]):
        """Each input's states (N, L, dim) and masks (N, L), utterances flattened from (B, T)."""
        states, flat_masks = {}, {}
        for k, encoder in self.encoders.items():
            x, mask = inputs[k].flatten(0, 1), masks[k].flatten(0, 1).bool()
            states[k], flat_masks[k] = self.dropout(encoder(x, mask)), mask
        return states, flat_masks

    def alignment(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        """(N, heads, words, frames) attention of the learned alignment, or (N, 1, words, frames)
        weights of the hard alignment, for utterances flattened from (B, T)."""
        states, flat = self.encode(inputs, masks)
        return self._weights(states, flat, inputs)

    def _weights(self, states, flat, inputs) -> torch.Tensor:
        if self.kind == "attention_align":
            return self.attention.weights(states["speech"], flat["speech"], states["text"])
        if self.kind == "hard_align":
            missing = [k for k in ("speech.times", "text.times") if k not in inputs]
            if missing:
                raise ValueError(f"xu_hard_align needs the times of frames and words ({missing} missing): give speech "
                                 "and text as {stage, per: frame | word}; a word matrix per unit such as "
                                 "glove_sentences_asr (recognised words) carries no times")
            return hard_alignment_weights(inputs["speech.times"].flatten(0, 1), flat["speech"],
                                          inputs["text.times"].flatten(0, 1))[:, None]
        raise ValueError(f"xu_{self.kind} aligns no words to frames")

    def forward(self, inputs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> torch.Tensor:
        batch, steps = inputs[next(iter(self.encoders))].shape[:2]
        states, flat = self.encode(inputs, masks)
        if self.kind in ("attention_align", "hard_align"):
            if self.kind == "attention_align":
                aligned = self.attention(states["speech"], flat["speech"], states["text"])
            else:
                aligned = torch.einsum("nji,nid->njd", self._weights(states, flat, inputs)[:, 0], states["speech"])
            words = flat["text"]
            fused = self.dropout(self.fusion(torch.cat([aligned, states["text"]], dim=-1), words))
            pooled = fused.masked_fill(~words[..., None], float("-inf")).amax(dim=1)
            pooled = torch.nan_to_num(pooled, neginf=0.0)  # an utterance without words
        else:
            pooled = torch.cat([self.pools[k](states[k], flat[k]) for k in self.encoders], dim=-1)
        logits = self.head(pooled)
        if self.logit_relu:
            logits = torch.relu(logits)
        return logits.view(batch, steps, -1)


@register_model(named_inputs=True)
def xu_attention_align(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    return XuModel(input_shape, n_targets, "attention_align", XuConfig(**hparams))


@register_model(named_inputs=True, timed_inputs="speech:frame text:word")
def xu_hard_align(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    return XuModel(input_shape, n_targets, "hard_align", XuConfig(**hparams))


@register_model(named_inputs=True)
def xu_concat(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    return XuModel(input_shape, n_targets, "concat", XuConfig(**hparams))


@register_model(named_inputs=True)
def xu_speech(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    return XuModel(input_shape, n_targets, "speech", XuConfig(**hparams))


@register_model(named_inputs=True)
def xu_text(input_shape: dict[str, tuple[int, ...]], n_targets: int, **hparams) -> nn.Module:
    return XuModel(input_shape, n_targets, "text", XuConfig(**hparams))
