"""Stage `window`: cut every session into windows, label them and assign words to them.

Reads:  data/corpus (manifest + gold.csv), data/alignment; params `window`
Writes: data/windows/windows.csv, one row per window: session, split, index, start, end,
        word_first, word_last (rows [first, last) of data/alignment/<session>.csv), `group`
        (the speaker's group, for per-group metrics) when the corpus assigns groups, and
        the gold label of each dimension aggregated over the window;
        data/windows/task.json: the task (continuous | categorical), its targets and classes
Run:    python -m pipeline.window   (or `dvc exp run -S window.preset=raju2019`)

A categorical corpus (one class per session, e.g. an IEMOCAP utterance) gets one
utterance-level window per session, spanning it, with the class index in column `class`;
the presets apply to continuous corpora.

`window.preset` names one of `window.presets` (the papers' settings). Every feature
stage computes one row per window of this table, so all modalities line up.
Annotators react late: the label of window [s, e] is read from the gold track over
[s + shift, e + shift]; windows whose shifted span would run past the end of the track
are not made (counted in the log), so no label is extrapolated. A word belongs to every
window that contains its midpoint, so each word of a non-overlapping tiling is counted once;
a unit spec with `words: sentence` gives each window instead the words of the sentence being
spoken at its centre (none between sentences: Tzirakis et al.'s 100 ms steps read the whole
sentence around them; features/session_words.py says what a sentence is).
"""
import json
import logging

import numpy as np
import pandas as pd
from tqdm import tqdm

from features.session_words import sentence_at
from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.params_check import check
from pipeline.sessions import load_corpus

log = logging.getLogger("window")


def window_starts(duration_s: float, length_s: float, hop_s: float, shift_s: float) -> np.ndarray:
    last_start = duration_s - length_s - max(shift_s, 0.0)
    if last_start < 0:
        return np.empty(0)
    # rounding keeps 0.1 s hops on the 0.1 s grid instead of drifting by float error
    return np.round(np.arange(0.0, last_start + 1e-9, hop_s), 6)


def aggregate_labels(gold: pd.DataFrame, dims: list[str], starts: np.ndarray, length_s: float,
                     shift_s: float, how: str) -> np.ndarray:
    """(windows, dims): mean of the gold samples in each shifted window, or the value at its centre."""
    times = gold["time"].to_numpy()
    values = gold[dims].to_numpy()
    if how == "center":
        centre = starts + length_s / 2 + shift_s
        return np.stack([np.interp(centre, times, values[:, j]) for j in range(len(dims))], axis=1)
    lo = np.searchsorted(times, starts + shift_s, side="left")
    hi = np.searchsorted(times, starts + length_s + shift_s, side="left")
    empty = np.full(len(dims), np.nan)  # no gold sample in the window: a gap, reported by the caller
    return np.stack([values[a:b].mean(axis=0) if b > a else empty for a, b in zip(lo, hi)])


def assign_words(words: pd.DataFrame, starts: np.ndarray, ends) -> tuple[np.ndarray, np.ndarray]:
    """[first, last) word rows whose midpoint lies in [start, end) (`ends`: an array, or one
    window length added to every start); words are time-ordered."""
    mid = ((words.start + words.end) / 2).to_numpy()
    ends = starts + ends if np.isscalar(ends) else np.asarray(ends)
    return np.searchsorted(mid, starts, side="left"), np.searchsorted(mid, ends, side="left")


def window_settings(cfg: dict) -> dict:
    """The preset `window.preset` names, checked (ParamsError naming every bad key)."""
    check({"window": cfg}, "window")
    return cfg["presets"][cfg["preset"]]


def utterance_windows(corpus) -> pd.DataFrame:
    """One window per session over its whole duration, labelled with its class index."""
    tables = []
    for session in corpus.sessions:
        if session.label not in corpus.classes:
            raise ValueError(f"session {session.id}: class {session.label!r} is not one of {corpus.classes}")
        words = pd.read_csv(layout.ALIGNMENT / f"{session.id}.csv")
        tables.append(pd.DataFrame({"session": [session.id], "split": session.split, "index": 0, "start": 0.0,
                                    "end": session.duration_s, "word_first": 0, "word_last": len(words),
                                    "class": corpus.classes.index(session.label)}))
    return pd.concat(tables, ignore_index=True)


def write_units(folder, windows: pd.DataFrame, task: dict, corpus) -> dict:
    """windows.csv (with each session's speaker `group` when the corpus has groups) and task.json.
    task.json: the unit's default `task` and `targets`, its `classes`, and `tasks`: every task
    its labels can train (name -> targets), which a model spec may pick with `task:`. Returns it."""
    if corpus.has_groups:
        groups = {s.id: s.group for s in corpus.sessions}
        windows.insert(windows.columns.get_loc("word_last") + 1, "group", windows.session.map(groups))
    folder.mkdir(parents=True, exist_ok=True)
    windows.to_csv(folder / "windows.csv", index=False, float_format="%.5f")
    task = {"tasks": {task["task"]: task["targets"]}, "sequence": "session", **task}
    (folder / "task.json").write_text(json.dumps(task, indent=1) + "\n")
    return task


def cut_windows(corpus, settings: dict) -> tuple[pd.DataFrame, dict]:
    """The windows of a preset over every session (a categorical corpus: one per session) and the task."""
    length, hop, shift, how = (float(settings["length_s"]), float(settings["hop_s"]),
                               float(settings["label_shift_s"]), settings["label_aggregation"])
    if corpus.task == "categorical":
        windows = utterance_windows(corpus)
        log.info("%d utterance-level windows (categorical corpus: one per session, %d classes)",
                 len(windows), len(corpus.classes))
        return windows, {"task": "categorical", "targets": ["class"], "classes": corpus.classes}
    tables, cut = [], 0
    for session in tqdm(corpus.sessions, desc="windowing", unit="session"):
        starts = window_starts(session.duration_s, length, hop, shift)
        if starts.size == 0:
            raise ValueError(f"session {session.id} ({session.duration_s:.1f} s) is shorter than one window "
                             f"({length} s) plus the label shift ({shift} s)")
        cut += int((session.duration_s - starts[-1] - length) // hop)
        labels = (aggregate_labels(session.gold(), corpus.dimensions, starts, length, shift, how)
                  if corpus.dimensions else np.empty((len(starts), 0)))
        if np.isnan(labels).any():
            raise ValueError(f"session {session.id}: gold track {session.path('gold')} has gaps "
                             f"(NaN label in {int(np.isnan(labels).any(axis=1).sum())} windows)")
        words = pd.read_csv(layout.ALIGNMENT / f"{session.id}.csv")
        if settings.get("words", "window") == "sentence":  # the sentence spoken at each window's centre
            first, last = sentence_at(session, words, starts + length / 2)
        else:
            first, last = assign_words(words, starts, length)
        table = pd.DataFrame({"session": session.id, "split": session.split, "index": np.arange(len(starts)),
                              "start": starts, "end": starts + length, "word_first": first, "word_last": last})
        table[corpus.dimensions] = labels
        tables.append(table)
    windows = pd.concat(tables, ignore_index=True)
    log.info("%d windows over %d sessions (%.1f s long, %.2f s hop, labels shifted by %.1f s); "
             "%d windows at session ends not made for lack of shifted labels",
             len(windows), len(corpus.sessions), length, hop, shift, cut)
    if corpus.task == "segments":  # windows to extract features on (words inside them...), nothing to learn on them
        return windows, {"task": "segments", "targets": [], "classes": [],
                         "unlabelled": f"corpus {corpus.name!r} has labels only on its segments (task: segments): "
                                       "train on a segment unit, e.g. model=williams_blstm"}
    return windows, {"task": "continuous", "targets": corpus.dimensions, "classes": []}


def main() -> None:
    settings = window_settings(section(load_params(), "window"))
    corpus = load_corpus()
    windows, task = cut_windows(corpus, settings)
    write_units(layout.WINDOWS, windows, task, corpus)


if __name__ == "__main__":
    run_stage(main)
