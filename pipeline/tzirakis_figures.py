"""Tzirakis et al.'s pictures for a trained model (their Fig. 3 and 4), written by the `train`
and `benchmark`/`pretrain` stages beside the checkpoint for models that have them:
- text_attention.png: the text network's selector, its weight on each word of a few sentences
  of the first test session (mean over the projections), as Fig. 3;
- fusion_attention.png: the fusion's weight on each modality (hierarchical attention: the pairs'
  weights, or inside the pair when there are two modalities; cross-modal attention: the top
  attention's members; the self-attention fusions: alpha, mean over heads)
  over the steps of the first test session, with the steps that have no sentence shaded.
Other models get none.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipeline import layout
from pipeline.figures import pyplot, save_figure
from pipeline.sequences import as_arrays, normalise
from pipeline.trained_model import checkpoint_sequences, load_trained

SENTENCES = 3


def text_network(model):
    from models.tzirakis import TextNetwork

    networks = getattr(model, "networks", None) or {"features": getattr(model, "features", None)}
    return next((n for n in networks.values() if isinstance(n, TextNetwork)), None)


def fusion_weights(model) -> tuple[np.ndarray, list[str]] | None:
    """(T, members) weights of the last call of a multimodal model's fusion, and the members' names."""
    fusion = getattr(model, "fusion", None)
    names = sorted(getattr(model, "networks", {}) or [])
    if hasattr(fusion, "pairs") and len(fusion.pairs) == 1:  # hierarchical over two modalities: inside the pair
        (i, j), = fusion.pairs
        return fusion.pair_attention[0].last_weights[0].numpy(), [names[i], names[j]]
    if hasattr(fusion, "top") and fusion.top.last_weights is not None:
        weights = fusion.top.last_weights[0].numpy()
        if hasattr(fusion, "pairs"):  # hierarchical: the pairs of modalities
            return weights, [f"{names[i]}+{names[j]}" for i, j in fusion.pairs]
        return weights, names
    if getattr(fusion, "last_weights", None) is not None:  # self-attention: (B, T, M, heads)
        return fusion.last_weights[0].mean(-1).numpy(), names
    return None


def first_test_session(checkpoint: Path):
    model, meta, norm = load_trained(checkpoint)
    sequences = checkpoint_sequences(checkpoint, meta)
    session = next(s for s in sequences if s.split == "test")
    normalise([session], norm)
    return model, meta, session


def plot_tzirakis(checkpoint: Path, folder: Path) -> list[str]:
    """Writes the pictures the checkpoint's model has; returns their file names."""
    model, meta, session = first_test_session(checkpoint)
    text, fused = text_network(model), hasattr(model, "fusion")
    if text is None and not fused:
        return []
    arrays, masks = as_arrays(session.x, session.mask)
    x = {k: torch.from_numpy(v)[None] for k, v in arrays.items()}
    mask = {k: torch.from_numpy(v)[None] for k, v in masks.items()}
    model.eval()
    with torch.no_grad():
        model(x, mask)
    written = []
    if text is not None and text.last_attention is not None and len(text.last_attention):
        plot_text_attention(text.last_attention.mean(1).numpy(), session, meta, folder / "text_attention.png")
        written.append("text_attention.png")
    found = fusion_weights(model) if fused else None
    if found is not None:
        text_steps = masks["text"].any(-1) if "text" in masks else None
        plot_fusion(*found, session, text_steps, meta, folder / "fusion_attention.png")
        written.append("fusion_attention.png")
    return written


def plot_text_attention(weights: np.ndarray, session, meta: dict, path: Path) -> None:
    """weights: (sentences encoded, L) in the order the text network met them (one per run of
    steps reading one sentence: pipeline/models TextNetwork)."""
    words = pd.read_csv(layout.ALIGNMENT / f"{session.id}.csv", keep_default_na=False, dtype={"word": str}).word
    ranges = session.x["text"].ranges
    runs = [r for k, r in enumerate(ranges) if r[1] > r[0] and (k == 0 or tuple(ranges[k - 1]) != tuple(r))]
    count = min(SENTENCES, len(runs), len(weights))
    plt = pyplot()
    fig, axes = plt.subplots(count, 1, figsize=(10, 1.4 * count + 0.6), squeeze=False)
    for i, ax in enumerate(axes[:, 0]):
        a, b = int(runs[i][0]), int(runs[i][1])
        ax.bar(range(b - a), weights[i, :b - a], color="firebrick")
        ax.axhline(1 / (b - a), color="grey", linewidth=0.8, linestyle="--")  # uniform weight
        ax.set_xticks(range(b - a), words.iloc[a:b], fontsize=8, rotation=30)
        ax.set_ylabel("weight", fontsize=7)
    fig.suptitle(f"{meta['model']}: the selector's weight on each word ({session.id}, mean over projections; "
                 f"dashed: uniform)", fontsize=9)
    save_figure(fig, path)


def plot_fusion(weights: np.ndarray, names: list[str], session, text_steps, meta: dict, path: Path) -> None:
    steps = np.arange(len(weights)) * float(np.median(np.diff(session.start))) if len(weights) > 1 else [0.0]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 3))
    ax.stackplot(steps, weights.T, labels=names, alpha=0.85)
    if text_steps is not None:
        silent = ~np.asarray(text_steps[0] if np.ndim(text_steps) == 2 else text_steps, bool)
        ax.fill_between(steps, 0, 1, where=silent, color="grey", alpha=0.15, step="mid", label="no sentence")
    ax.set_xlim(steps[0], steps[-1])
    ax.set_ylim(0, 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("fusion weight")
    ax.legend(loc="upper right", fontsize=7, ncol=len(names) + 1)
    ax.set_title(f"{meta['model']} ({meta['hparams'].get('fusion', '')}): weight of each modality over "
                 f"{session.id}", fontsize=9)
    save_figure(fig, path)
