"""Stage `window`: cut every session into fixed windows and give each its label.

Reads:  data/corpus (manifest + gold.csv per session); params `window`
Writes: data/windows/windows.csv (one row per window: session, split, index, start, end,
        and the gold label of each dimension aggregated over the window)
Run:    python -m pipeline.window   (or `dvc repro window`)

Every feature stage computes one row per window of this table, so features of all
modalities line up. Annotators react late: the label of window [s, e] is read from the
gold track over [s + shift, e + shift]. Windows whose shifted label span would run past
the end of the track are not made (the count is logged), so no label is extrapolated.
"""
import logging

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline import layout
from pipeline.config import load_params, require, section, run_stage
from pipeline.sessions import load_corpus

log = logging.getLogger("window")
AGGREGATIONS = ("mean", "center")


def window_starts(duration_s: float, length_s: float, hop_s: float, shift_s: float) -> np.ndarray:
    last_start = duration_s - length_s - max(shift_s, 0.0)
    if last_start < 0:
        return np.empty(0)
    return np.arange(0.0, last_start + 1e-9, hop_s)


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


def main() -> None:
    cfg = section(load_params(), "window")
    length, hop, shift, how = (float(cfg["length_s"]), float(cfg["hop_s"]), float(cfg["label_shift_s"]),
                               cfg["label_aggregation"])
    require(length > 0 and hop > 0, f"window.length_s and window.hop_s must be > 0 (got {length}, {hop})")
    require(how in AGGREGATIONS, f"window.label_aggregation must be one of {AGGREGATIONS} (got {how!r})")
    corpus = load_corpus()
    tables = []
    for session in tqdm(corpus.sessions, desc="windowing", unit="session"):
        starts = window_starts(session.duration_s, length, hop, shift)
        if starts.size == 0:
            raise ValueError(f"session {session.id} ({session.duration_s:.1f} s) is shorter than one window "
                             f"({length} s) plus the label shift ({shift} s)")
        labels = aggregate_labels(session.gold(), corpus.dimensions, starts, length, shift, how)
        if np.isnan(labels).any():
            raise ValueError(f"session {session.id}: gold track {session.path('gold')} has gaps "
                             f"(NaN label in {int(np.isnan(labels).any(axis=1).sum())} windows)")
        table = pd.DataFrame({"session": session.id, "split": session.split, "index": np.arange(len(starts)),
                              "start": starts, "end": starts + length})
        table[corpus.dimensions] = labels
        tables.append(table)
    windows = pd.concat(tables, ignore_index=True)
    layout.WINDOWS.mkdir(parents=True, exist_ok=True)
    windows.to_csv(layout.WINDOWS / "windows.csv", index=False, float_format="%.5f")
    log.info("%d windows over %d sessions (%.1f s long, %.1f s hop, labels shifted by %.1f s)",
             len(windows), len(corpus.sessions), length, hop, shift)


if __name__ == "__main__":
    run_stage(main)
