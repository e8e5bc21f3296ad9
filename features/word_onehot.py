"""One-hot words (Williams et al. 3.1: "GloVe ... as well as one-hot word representations").

The vocabulary is fitted on the train split only: the words seen at least `min_count` times
in its transcripts, the `max_vocabulary` most frequent of them (ties broken alphabetically).
Per session: one row per aligned word ("words", (W, V): a 1 at the word's column, all zeros
for a word outside the vocabulary) with its start/end times ("word_times"), read by models as
`{stage: word_onehot, per: word}`; per unit ("features"): how often each vocabulary word occurs
in it. Words outside the vocabulary are counted per split in meta.json.
"""
import numpy as np

from features import Extracted
from features.session_words import aligned_words
from features.vocabulary import train_word_counts

INPUTS = ("alignment",)  # what the per-session cache key covers (pipeline/feature_cache.py)


def versions(cfg: dict) -> dict:
    return {}


def fit(train_sessions, windows, cfg: dict) -> dict:
    counts = train_word_counts(train_sessions)
    frequent = sorted((w for w, c in counts.items() if c >= int(cfg["min_count"])), key=lambda w: (-counts[w], w))
    if not frequent:
        raise ValueError(f"word_onehot: no word occurs {cfg['min_count']} times in the train split's transcripts")
    vocabulary = sorted(frequent[:int(cfg["max_vocabulary"])])
    return {"vocabulary": vocabulary, "train_words": int(sum(counts.values())),
            "train_words_in_vocabulary": int(sum(counts[w] for w in vocabulary))}


def feature_names(cfg: dict, fitted: dict) -> list[str]:
    return list(fitted["vocabulary"])


def extract(session, windows, cfg: dict, fitted: dict) -> Extracted:
    position = {w: i for i, w in enumerate(fitted["vocabulary"])}
    words = aligned_words(session)
    columns = np.array([position.get(w, -1) for w in words.word], dtype=np.int64)
    onehot = np.zeros((len(words), len(position)), dtype=np.float32)
    known = columns >= 0
    onehot[np.flatnonzero(known), columns[known]] = 1.0
    counts = np.stack([onehot[a:b].sum(axis=0) for a, b in zip(windows.word_first, windows.word_last)]) \
        if len(windows) else np.zeros((0, len(position)), np.float32)
    times = words[["start", "end"]].to_numpy(np.float32).reshape(-1, 2)
    return Extracted({"features": counts.astype(np.float32), "words": onehot, "word_times": times},
                     {"words": int(len(words)), "oov_words": int((~known).sum())})
