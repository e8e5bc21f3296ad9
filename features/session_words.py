"""The aligned words of a session (data/alignment/<session>.csv), as windows.csv indexes them,
and the words a speech recogniser heard in it (data/recognised/<session>.csv)."""
import pandas as pd

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
