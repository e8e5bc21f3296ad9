"""The alignment a trained model learned, drawn: for a few test utterances, each word's
attention over the speech frames (Xu et al.'s learned alignment, mean over its heads; the
hard alignment's overlap weights for `xu_hard_align`), with the forced alignment's word
boundaries drawn over it. Written by the `train`/`evaluate` and `benchmark` stages beside the
checkpoint (`attention.png` in data/train or data/benchmark/<run>) for models that align
words to frames (they have an `alignment` method); other models get none.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipeline import layout
from pipeline.figures import pyplot, save_figure
from pipeline.sequences import as_arrays, normalise
from pipeline.trained_model import checkpoint_sequences, load_trained

UTTERANCES = 3


def aligns_words(model) -> bool:
    return hasattr(model, "alignment") and getattr(model, "kind", "") in ("attention_align", "hard_align")


def plot_alignment(checkpoint: Path, path: Path, utterances: int = UTTERANCES) -> bool:
    """Draws the first `utterances` test units of the checkpoint's first test session; False
    (nothing written) when the model aligns no words to frames, or its words have no times
    (the recognised words as a per-sentence matrix)."""
    model, meta, norm = load_trained(checkpoint)
    text = (meta["features"] or {}).get("text") if isinstance(meta["features"], dict) else None
    if not aligns_words(model) or not isinstance(text, dict):  # ASR text: a word matrix, without word times
        return False
    sequences = checkpoint_sequences(checkpoint, meta)
    session = next(s for s in sequences if s.split == "test")
    normalise([session], norm)
    arrays, masks = as_arrays(session.x, session.mask)
    count = min(utterances, len(session))
    x = {k: torch.from_numpy(v[:count])[:, None] for k, v in arrays.items()}
    mask = {k: torch.from_numpy(v[:count])[:, None] for k, v in masks.items()}
    model.eval()
    with torch.no_grad():
        weights = model.alignment(x, mask).mean(1).numpy()  # (utterances, words, frames)
    words = pd.read_csv(layout.ALIGNMENT / f"{session.id}.csv", keep_default_na=False, dtype={"word": str})
    units = session.x["text"]
    plt = pyplot()
    fig, axes = plt.subplots(count, 1, figsize=(10, 2.6 * count), squeeze=False)
    for i, ax in enumerate(axes[:, 0]):
        n_frames, n_words = int(masks["speech"][i].sum()), int(masks["text"][i].sum())
        frame_times = arrays["speech.times"][i, :n_frames]
        word_times = arrays["text.times"][i, :n_words]
        hop = float(np.median(np.diff(frame_times))) if n_frames > 1 else 0.01
        extent = (frame_times[0] - hop / 2, frame_times[-1] + hop / 2, n_words - 0.5, -0.5)
        ax.imshow(weights[i, :n_words, :n_frames], aspect="auto", cmap="magma", extent=extent,
                  interpolation="nearest")
        for j, (start, end) in enumerate(word_times):  # the forced alignment's interval of each word
            ax.plot([start, end], [j, j], color="cyan", linewidth=1.5)
            ax.axvline(start, color="cyan", linewidth=0.3, alpha=0.5)
        first = int(units.ranges[i, 0])
        ax.set_yticks(range(n_words), words.word.iloc[first:first + n_words], fontsize=7)
        ax.set_title(f"{session.id}, unit {i}: attention of each word over the speech frames "
                     "(cyan: forced-alignment interval)", fontsize=8)
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle(f"{meta['model']}: learned alignment (mean over heads)" if model.kind == "attention_align"
                 else f"{meta['model']}: hard alignment (overlap weights)", fontsize=9)
    save_figure(fig, path)
    return True
