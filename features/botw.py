"""Bag-of-text-words per window, as the AVEC baselines use (openXBOW style).

The vocabulary (words seen at least `min_count` times in the train split's transcripts)
and the inverse document frequencies (over train windows) are fit on the train split
only. Each window's row holds its words' counts, log-compressed (log(1 + tf)) when
`log_weighting` and multiplied by idf when `idf`. Words outside the vocabulary are
counted per split in meta.json.
"""
import numpy as np
import pandas as pd

from features import Extracted
from features.session_words import aligned_words, window_word_lists
from features.vocabulary import train_word_counts


INPUTS = ("alignment",)  # what the per-session cache key covers (pipeline/feature_cache.py)


def versions(cfg: dict) -> dict:
    return {}


def fit(train_sessions, windows: pd.DataFrame, cfg: dict) -> dict:
    counts = train_word_counts(train_sessions)
    documents = [document for session in train_sessions
                 for document in window_word_lists(aligned_words(session), windows[windows.session == session.id])]
    vocabulary = sorted(w for w, c in counts.items() if c >= int(cfg["min_count"]))
    if not vocabulary:
        raise ValueError(f"botw: no word occurs {cfg['min_count']} times in the train split's transcripts")
    position = {w: i for i, w in enumerate(vocabulary)}
    document_frequency = np.zeros(len(vocabulary))
    for document in documents:
        document_frequency[[position[w] for w in set(document) if w in position]] += 1
    idf = np.log((1 + len(documents)) / (1 + document_frequency)) + 1  # smoothed, as in scikit-learn
    return {"vocabulary": vocabulary, "idf": idf.round(6).tolist(), "train_windows": len(documents)}


def feature_names(cfg: dict, fitted: dict) -> list[str]:
    return list(fitted["vocabulary"])


def extract(session, windows, cfg: dict, fitted: dict) -> Extracted:
    position = {w: i for i, w in enumerate(fitted["vocabulary"])}
    rows = np.zeros((len(windows), len(position)), dtype=np.float32)
    words = aligned_words(session)
    for i, document in enumerate(window_word_lists(words, windows)):
        for word in document:
            if word in position:
                rows[i, position[word]] += 1
    if cfg["log_weighting"]:
        rows = np.log1p(rows)
    if cfg["idf"]:
        rows *= np.asarray(fitted["idf"], dtype=np.float32)
    out_of_vocabulary = int(sum(w not in position for w in words.word))
    return Extracted({"features": rows}, {"words": int(len(words)), "oov_words": out_of_vocabulary})
