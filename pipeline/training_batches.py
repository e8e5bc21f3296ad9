"""One epoch's mini-batches of a training run (pipeline/trainer.py): chunks of consecutive
units or whole sessions, with frames and words inside units padded per batch; and the
shuffled-words control."""
from collections.abc import Iterable

import numpy as np

from pipeline.inner_sequences import InnerSequence
from pipeline.inner_sequences import stack as stack_inner
from pipeline.model_inputs import DEFAULT_INPUT
from pipeline.sequences import SessionSequence

Batch = tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]  # inputs, masks, gold: (B, T, ...)


def _stack(pieces: list[tuple[dict, dict, np.ndarray]]) -> Batch:
    """A batch of equally long pieces; frames and words inside units padded to the batch's longest."""
    x, mask = {}, {k: np.stack([p[1][k] for p in pieces]) for k in pieces[0][1]}
    for k, first in pieces[0][0].items():
        if isinstance(first, InnerSequence):
            x[k], mask[k], times = stack_inner([p[0][k] for p in pieces])
            if times is not None:
                x[f"{k}.times"] = times
        else:
            x[k] = np.stack([p[0][k] for p in pieces])
    return x, mask, np.stack([p[2] for p in pieces])


def _piece(s: SessionSequence, a: int, b: int) -> tuple[dict, dict, np.ndarray]:
    return {k: v[a:b] for k, v in s.x.items()}, {k: v[a:b] for k, v in s.mask.items()}, s.y[a:b]


def training_chunks(rng: np.random.Generator, sequences: list[SessionSequence], length: int) -> list:
    """Non-overlapping chunks of `length` windows from a random offset in every session, shuffled."""
    pieces = []
    for s in sequences:
        offset = int(rng.integers(0, max(1, len(s) - length + 1)))
        offset = offset % length if len(s) >= 2 * length else offset
        pieces += [_piece(s, a, a + length) for a in range(offset, len(s) - length + 1, length)]
    return [pieces[k] for k in rng.permutation(len(pieces))]


def training_batches(rng: np.random.Generator, sequences: list[SessionSequence], chunk: int,
                     batch: int) -> Iterable[Batch]:
    """One epoch's mini-batches: shuffled chunks of `chunk` consecutive units; with chunk 0,
    whole sessions, each batched with sessions of its length, so a CCC loss is one CCC per
    session (the EmoNet paper sums CCC over whole videos)."""
    if chunk:
        pieces = training_chunks(rng, sequences, chunk)  # stacked as the epoch reaches them: raw samples
        return (_stack(pieces[a:a + batch]) for a in range(0, len(pieces), batch))  # are read lazily
    by_length: dict[int, list[SessionSequence]] = {}
    for k in rng.permutation(len(sequences)):
        by_length.setdefault(len(sequences[k]), []).append(sequences[k])
    batches = [_stack([_piece(s, 0, len(s)) for s in same[a:a + batch]])
               for same in by_length.values() for a in range(0, len(same), batch)]
    return [batches[k] for k in rng.permutation(len(batches))]


def shuffle_words_across_sessions(rng: np.random.Generator, sequences: list[SessionSequence]) -> None:
    """Control condition: the train split's words (non-zero rows of the window word matrices)
    are permuted across all its sessions and windows, so text no longer matches ratings."""
    if DEFAULT_INPUT not in sequences[0].x or sequences[0].x[DEFAULT_INPUT].ndim != 3:
        raise ValueError("the shuffled_words control needs a one-input model on word-matrix features (glove)")
    words = [s.x[DEFAULT_INPUT] for s in sequences]
    slots = [(k, i, j) for k, x in enumerate(words) for i, j in zip(*np.nonzero(np.abs(x).sum(-1)))]
    vectors = np.stack([words[k][i, j] for k, i, j in slots])
    for (k, i, j), v in zip(slots, vectors[rng.permutation(len(slots))]):
        words[k][i, j] = v
