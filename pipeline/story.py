"""Stage `story`: EmoNet's story reconstruction (paper 4.4) - valence over a plain text.

Reads:  a text file (params `story.text_file`), a trained EmoNet checkpoint
        (data/benchmark/<story.run>/model.pt), params `story`, `window`, `features.glove`
Writes: reports/plots/story_valence.png (predicted valence per window, the words that
        drive its largest turns marked), reports/story_valence.csv
Run:    python -m pipeline.story

As in the paper, the text has no audio: each word is given 0.1 s per character with a
0.2 s pause between words, then windowed like the corpus and embedded with GloVe.
"""
import logging
import textwrap

import numpy as np
import pandas as pd
import torch

from alignment.text import normalise_transcript
from features.glove import load_word_vectors, window_matrices
from pipeline import layout
from pipeline.config import load_params, require, run_stage, section
from pipeline.figures import pyplot, save_figure
from pipeline.params_check import check
from pipeline.sequences import SessionSequence, normalise, predict
from pipeline.trained_model import load_trained
from pipeline.window import assign_words, window_settings, window_starts

log = logging.getLogger("story")
SECONDS_PER_CHARACTER, PAUSE_S = 0.1, 0.2
PLOT = layout.REPORTS / "plots" / "story_valence.png"
TABLE = layout.REPORTS / "story_valence.csv"


def story_timings(text: str) -> pd.DataFrame:
    rows, t = [], 0.0
    for word in normalise_transcript(text):
        rows.append({"word": word, "start": t, "end": t + SECONDS_PER_CHARACTER * len(word)})
        t = rows[-1]["end"] + PAUSE_S
    if not rows:
        raise ValueError("the story text has no words")
    return pd.DataFrame(rows)


def turning_words(words: pd.DataFrame, last: np.ndarray, valence: np.ndarray, count: int) -> list[tuple[int, str]]:
    """The `count` windows where predicted valence moves most, each with (up to 3 of) the words
    that entered the window there."""
    change = np.abs(np.diff(valence, prepend=valence[0]))
    marked = []
    for i in sorted(np.argsort(-change, kind="stable")[:count]):
        entering = words.word.iloc[last[i - 1] if i else 0: last[i]]
        marked.append((int(i), " ".join(entering.tail(3)) or "(no new word)"))
    return marked


def plot_story(starts, valence, marks, path=PLOT) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot(starts, valence, color="tab:blue")
    for i, text in marks:
        ax.annotate(text, (starts[i], valence[i]), textcoords="offset points", xytext=(0, 12), ha="center",
                    fontsize=8, arrowprops={"arrowstyle": "-", "color": "grey"})
    ax.set_xlabel("window start (s)")
    ax.set_ylabel("predicted valence")
    ax.set_title("Story reconstruction (EmoNet 4.4): predicted valence, words at the largest turns")
    save_figure(fig, path)


def write_skipped(reason: str) -> None:
    """The table (header only) and a figure that say why there is no story curve."""
    pd.DataFrame(columns=["start", "valence", "words"]).to_csv(TABLE, index=False)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 1.5))
    ax.axis("off")
    ax.text(0.01, 0.5, "\n".join(textwrap.wrap(f"skipped: {reason}", 110)), va="center", fontsize=8)
    save_figure(fig, PLOT)
    log.warning("story skipped: %s", reason)


def main() -> None:
    params = load_params()
    check(params, "story", "window", "features.glove")
    cfg = section(params, "story")
    skipped = layout.DATA / "benchmark" / cfg["run"] / "SKIPPED"
    if skipped.exists():
        write_skipped(f"story.run {cfg['run']!r} was skipped on this corpus: {skipped.read_text().strip()}")
        return
    model, meta, norm = load_trained(layout.DATA / "benchmark" / cfg["run"] / "model.pt")
    require(meta["features"] == ["glove"], f"story.run {cfg['run']!r} is not a text model (features {meta['features']})")
    settings = window_settings(section(params, "window"))
    glove = section(params, "features.glove")
    words = story_timings(open(cfg["text_file"], encoding="utf-8").read())
    length = float(settings["length_s"])
    starts = window_starts(float(words.end.iloc[-1]) + PAUSE_S, length, float(settings["hop_s"]), 0.0)
    require(starts.size > 0, f"{cfg['text_file']} is shorter than one window")
    first, last = assign_words(words, starts, length)
    vectors, _ = load_word_vectors(glove["vectors"]).lookup(list(words.word), glove["oov"])
    matrices, _, _ = window_matrices(vectors, first, last, int(glove["max_words"]))
    sequence = SessionSequence("story", "story", starts, matrices.astype(np.float32),
                               np.zeros((len(starts), 1), np.float32))
    normalise([sequence], norm)
    valence = predict(model, sequence, torch.device("cpu"))[:, meta["targets"].index("valence")]
    marks = turning_words(words, last, valence, int(cfg["marked_turns"]))
    pd.DataFrame({"start": starts, "valence": valence,
                  "words": [" ".join(words.word.iloc[a:b]) for a, b in zip(first, last)]}).to_csv(
        TABLE, index=False, float_format="%.4f")
    plot_story(starts, valence, marks)
    log.info("story: %d words, %d windows; turns at %s", len(words), len(starts), "; ".join(t for _, t in marks))


if __name__ == "__main__":
    run_stage(main)
