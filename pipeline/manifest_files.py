"""Checks of the files a manifest row names besides its media: label tracks, segments,
word timings, OpenFace CSVs and transcripts. Each returns its problems as messages (empty
when the file is usable); pipeline/manifest.py adds the file and row."""
from pathlib import Path

import numpy as np
import pandas as pd

TIME_TOLERANCE_S = 0.5  # label times may overrun the media by this much (a last rating after the end)


def times_problems(times: np.ndarray, duration_s: float, what: str) -> list[str]:
    if np.isnan(times).any():
        return [f"{what} has NaN times"]
    found = []
    if (np.diff(times) <= 0).any():
        at = int(np.argmax(np.diff(times) <= 0)) + 1
        found.append(f"{what} times are not increasing (at data line {at + 1}: {times[at - 1]} then {times[at]})")
    if len(times) and (times.min() < 0 or times.max() > duration_s + TIME_TOLERANCE_S):
        found.append(f"{what} times run from {times.min():.2f} to {times.max():.2f} s, outside the media "
                     f"duration 0-{duration_s:.2f} s")
    return found


def read_table(path: Path, required: list[str]) -> tuple[pd.DataFrame | None, str | None]:
    try:
        table = pd.read_csv(path, keep_default_na=True)
    except Exception as err:  # pandas raises several types for malformed CSV
        return None, f"cannot be read as CSV: {err}"
    missing = [c for c in required if c not in table.columns]
    if missing:
        return None, f"lacks columns {missing} (has {list(table.columns)})"
    return table, None


def check_labels(path: Path, duration_s: float, dimensions: list[str]) -> list[str]:
    table, error = read_table(path, ["time", *dimensions])
    if error:
        return [error]
    found = times_problems(table.time.to_numpy(float), duration_s, "label")
    values = table[dimensions].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        rows = values.index[values.isna().any(axis=1)].tolist()
        found.append(f"NaN or non-numeric label values on data lines {[r + 1 for r in rows[:5]]}"
                     + (" ..." if len(rows) > 5 else ""))
    return found


def check_segments(path: Path, duration_s: float, dimensions: list[str]) -> list[str]:
    table, error = read_table(path, ["start", "end"])
    if error:
        return [error]
    found = times_problems(table.start.to_numpy(float), duration_s, "segment start")
    if (table.end <= table.start).any():
        found.append(f"segments end before they start on data lines {list(table.index[table.end <= table.start] + 1)}")
    if (table.end > duration_s + TIME_TOLERANCE_S).any():
        found.append(f"segment ends run past the media duration {duration_s:.2f} s")
    if table.drop(columns=["start", "end"]).apply(pd.to_numeric, errors="coerce").isna().any().any():
        found.append("NaN or non-numeric segment values")
    return found


def check_words(path: Path, duration_s: float, dimensions: list[str]) -> list[str]:
    table, error = read_table(path, ["word", "start", "end"])
    if error:
        return [error]
    found = times_problems(table.start.to_numpy(float), duration_s, "word start")
    if (table.end < table.start).any() or table.end.isna().any():
        found.append("word end times missing or before their start")
    return found


def check_openface(path: Path, duration_s: float, dimensions: list[str]) -> list[str]:
    from features.openface_import import read_openface_csv  # the face stage's reader, so both agree

    try:
        table = read_openface_csv(path)
    except (ValueError, FileNotFoundError) as err:
        return [str(err)]
    return times_problems(table.time.to_numpy(float), duration_s, "OpenFace timestamp")


def check_transcript(path: Path, duration_s: float, dimensions: list[str]) -> list[str]:
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        return [f"transcript is not UTF-8 text: {err}"]
    return []


# kind -> check(path, session duration in s, the declared dimensions) -> problems
CONTENT_CHECKS = {"labels": check_labels, "segments": check_segments, "words": check_words,
                  "openface": check_openface, "transcript": check_transcript}
