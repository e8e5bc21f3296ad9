"""Text-only manifest sessions: a transcript or per-sentence text with no audio and no video.

Such a session has no clock, so its words are placed on a positional time axis: word k (from 0)
spans [k * word_s, (k + 1) * word_s) with `word_s` = params `corpora.<name>.text_word_s`
(default 0.3 s, about the pace of read speech, so that the window presets cut windows of a
sensible number of words: EmoNet's 5 s windows hold about 17). Everything downstream then
reads the session as it reads a spoken one: the `words` file gives the alignment, the
`segments` file the sentences, gold.csv the continuous labels; the audio and face stages skip
the corpus as they skip any missing modality.

A text-only session gives either
- `segments`: a CSV with a `text` column (one sentence per row, in order) and value columns
  (a continuous corpus: every declared dimension; they become the sentence's label, and gold.csv
  holds each word's sentence value at the word's midpoint), and no start/end; or
- `transcript`: plain text (a categorical corpus: the session's `class` labels the whole text).
Words are normalised as the aligner normalises transcripts (alignment/text.py), so word vectors
see the same tokens in spoken and written corpora.

A text-only session that gives `words` (word, start, end: e.g. SENDv1's transcripts, whose
videos are not shared) keeps its own clock: its `labels` are time tracks as a recording's, and
it lasts until its last word or label time (`timed_duration`).
"""
from pathlib import Path

import numpy as np
import pandas as pd

from alignment.text import normalise_transcript
from pipeline.manifest_files import read_table

WORD_S = 0.3  # default of corpora.<name>.text_word_s


def is_text_only(kinds) -> bool:
    return not ({"audio", "video"} & set(kinds))


def is_positional(kinds) -> bool:
    """Text only, with no word times: words are placed by position."""
    return is_text_only(kinds) and "words" not in kinds


def timed_duration(files: dict[str, list[Path]]) -> float:
    """A timed text-only session's length: its last word's end or label time, whichever is later
    (0 when nothing can be read: the file checks then say why)."""
    ends = []
    for kind, column in (("words", "end"), ("labels", "time")):
        for path in files.get(kind, []):
            try:
                ends.append(float(pd.to_numeric(pd.read_csv(path)[column], errors="coerce").max()))
            except (ValueError, KeyError, OSError, pd.errors.ParserError):
                continue
    ends = [e for e in ends if e == e]
    return max(ends) if ends else 0.0


def sentences(files: dict[str, list[Path]]) -> list[list[str]]:
    """The session's sentences as normalised words: the segments' `text` rows, or the whole
    transcript as one."""
    if "segments" in files:
        table = pd.read_csv(files["segments"][0], keep_default_na=False)
        return [normalise_transcript(str(t)) for t in table["text"]]
    return [normalise_transcript(files["transcript"][0].read_text(encoding="utf-8"))]


def duration_s(files: dict[str, list[Path]], word_s: float) -> float:
    return sum(len(s) for s in sentences(files)) * word_s


def check_text_segments(path: Path, dimensions: list[str], continuous: bool) -> list[str]:
    """A text-only session's segments file: text, no times, one value per declared dimension."""
    table, error = read_table(path, ["text"])
    if error:
        return [error]
    found = []
    if {"start", "end"} & set(table.columns):
        found.append("a text-only session's segments have no times (start/end): their order gives the positions")
    missing = [d for d in dimensions if d not in table.columns] if continuous else []
    if missing:
        found.append(f"lacks the dimensions {missing}: a text-only session's labels are its sentences' values")
    empty = [i + 1 for i, t in enumerate(table["text"]) if not normalise_transcript(str(t) if t == t else "")]
    if empty:
        found.append(f"sentences without a word on data lines {empty[:5]}" + (" ..." if len(empty) > 5 else ""))
    values = table.drop(columns=[c for c in ("text", "class") if c in table.columns])
    if values.apply(pd.to_numeric, errors="coerce").isna().any().any():
        found.append("NaN or non-numeric segment values")
    return found


def write_text_session(files: dict[str, list[Path]], folder: Path, dimensions: list[str], word_s: float) -> dict:
    """words.csv and (with segments) segments.csv with positional times and gold.csv; returns
    the files written, as the manifest entry names them."""
    said = sentences(files)
    first = np.cumsum([0] + [len(s) for s in said])[:-1]
    words = [w for s in said for w in s]
    starts = np.arange(len(words)) * word_s
    pd.DataFrame({"word": words, "start": np.round(starts, 6), "end": np.round(starts + word_s, 6)}).to_csv(
        folder / "words.csv", index=False)
    written = {"words": "words.csv"}
    if "segments" not in files:
        return written
    table = pd.read_csv(files["segments"][0], keep_default_na=False)
    spans = pd.DataFrame({"start": np.round(first * word_s, 6),
                          "end": np.round((first + [len(s) for s in said]) * word_s, 6)})
    pd.concat([spans, table], axis=1).to_csv(folder / "segments.csv", index=False)
    written["segments"] = "segments.csv"
    if dimensions:
        sentence_of_word = np.repeat(np.arange(len(said)), [len(s) for s in said])
        gold = pd.DataFrame({"time": np.round(starts + word_s / 2, 6),
                             **{d: table[d].to_numpy(float)[sentence_of_word] for d in dimensions}})
        gold.to_csv(folder / "gold.csv", index=False, float_format="%.6f")
        written["gold"] = "gold.csv"
    return written
