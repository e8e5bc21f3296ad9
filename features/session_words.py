"""The aligned words of a session (data/alignment/<session>.csv), as windows.csv indexes them,
the words a speech recogniser heard in it (data/recognised/<session>.csv), and the sentence
each word belongs to."""
import numpy as np
import pandas as pd

SENTENCE_GAP_S = 0.5  # a pause this long ends a sentence, where no segments file says where sentences are

from pipeline import layout


def aligned_words(session) -> pd.DataFrame:
    path = layout.ALIGNMENT / f"{session.id}.csv"
    if not path.exists():
        raise FileNotFoundError(f"session {session.id}: {path} missing: run the align stage first")
    return pd.read_csv(path, keep_default_na=False, dtype={"word": str})  # the word "null" is a word


def recognised_words(session) -> pd.DataFrame:
    path = layout.RECOGNISED / f"{session.id}.csv"
    if not path.exists():
        raise FileNotFoundError(f"session {session.id}: {path} missing: run the recognise stage first")
    return pd.read_csv(path, keep_default_na=False, dtype={"word": str})


def window_word_lists(words: pd.DataFrame, windows: pd.DataFrame) -> list[list[str]]:
    tokens = list(words.word)
    return [tokens[a:b] for a, b in zip(windows.word_first, windows.word_last)]


def word_segments(session, times: np.ndarray) -> np.ndarray:
    """(W,) index of the segment (row of the session's segments file) holding each word's
    midpoint (`times`: (W, 2) start/end), else -1; all -1 for a session without segments."""
    index = np.full(len(times), -1, dtype=np.int32)
    if not session.files.get("segments"):
        return index
    segments = pd.read_csv(session.path("segments"))
    middle = np.asarray(times, float).reshape(-1, 2).mean(axis=1)
    for row, (start, end) in enumerate(zip(segments.start, segments.end)):
        index[(middle >= start) & (middle <= end)] = row
    return index


def word_sentences(session, times: np.ndarray, gap_s: float = SENTENCE_GAP_S) -> np.ndarray:
    """(W,) sentence number of each word, counted from 0 in time order: the session's segments
    (sentences, utterances) where it has a segments file; words outside every segment, and
    every word of a session without one, are cut into sentences at pauses longer than `gap_s`."""
    times = np.asarray(times, float).reshape(-1, 2)
    if not len(times):
        return np.zeros(0, np.int64)
    segment = word_segments(session, times)
    pause = times[1:, 0] - times[:-1, 1] > gap_s
    # a new sentence where the segment changes, or where a pause splits words outside every segment
    new = (segment[1:] != segment[:-1]) | ((segment[1:] < 0) & pause)
    return np.r_[0, np.cumsum(new)].astype(np.int64)


def sentence_ranges(sentence: np.ndarray) -> np.ndarray:
    """(S, 2) [first, last) word rows of each sentence number of `word_sentences`."""
    if not len(sentence):
        return np.zeros((0, 2), np.int64)
    starts = np.flatnonzero(np.r_[True, sentence[1:] != sentence[:-1]])
    return np.stack([starts, np.r_[starts[1:], len(sentence)]], axis=1).astype(np.int64)


def sentence_at(session, words: pd.DataFrame, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[first, last) word rows of the sentence being spoken at each of `times` (from its first
    word's start to its last word's end); an empty range (at the next word) where none is."""
    spans = words[["start", "end"]].to_numpy(float).reshape(-1, 2)
    ranges = sentence_ranges(word_sentences(session, spans))
    nothing = np.searchsorted(spans.mean(axis=1), times, side="left")
    if not len(ranges):
        return nothing, nothing
    begin, finish = spans[ranges[:, 0], 0], spans[ranges[:, 1] - 1, 1]
    k = np.clip(np.searchsorted(begin, times, side="right") - 1, 0, None)  # the last sentence begun by then
    inside = (times >= begin[k]) & (times < finish[k])
    return np.where(inside, ranges[k, 0], nothing), np.where(inside, ranges[k, 1], nothing)
