"""What the two AVEC importers share (importers/avec2019.py, importers/sewa.py): the challenge
folder's recordings (`audio/<recording>.wav`, `video/<recording>.avi`, `labels/<recording>.csv`,
recordings named `<Partition>_...` with Partition one of Train, Devel, Test), its `;`-separated
label files, and the splits built from its partitions.

AVEC did not release its test labels, so the papers train on Train and report on Devel. With
`test="devel"` Devel becomes the test split and a dev split (for model selection) is carved from
Train: of each group's Train recordings (each culture's, or all of them without groups), in name
order, the last `dev_share` of them (at least one, and never all); Test recordings are left out.
With `test="avec"` the three partitions are train, dev and test as released, and Test needs its
label files (some copies have them; the importers say which are missing). Each AVEC recording is
one subject, so any set of recordings is speaker-disjoint.
"""
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import soundfile as sf

from importers.common import Problem

TEST_CHOICES = ("devel", "avec")
VIDEO_SUFFIXES = (".avi", ".mp4")  # .avi as AVEC 2019's extraction scripts read; .mp4 for re-encoded copies
TIME = "timestamp"  # the time column of AVEC's label files (as its baseline writes predictions)


@dataclass
class Recording:
    name: str            # e.g. Train_DE_01 or Train_01
    partition: str       # Train, Devel or Test
    group: str | None    # the culture, where the corpus has several
    audio: Path
    video: Path | None = None
    split: str | None = None  # train / dev / test, or None: left out


def find_recordings(root: Path, name: re.Pattern, shape: str, problems: list[Problem]) -> list[re.Match]:
    """The names of `audio/*.wav` that match `name` (its group 1 the partition), in name order;
    a wav named otherwise is a problem (`shape` says how names look)."""
    audio = root / "audio"
    if not audio.is_dir():
        problems.append(Problem(audio, None, "missing: the recordings' audio folder (audio/<recording>.wav)"))
        return []
    found = []
    for path in sorted(audio.glob("*.wav")):
        match = name.match(path.stem)
        if match:
            found.append(match)
        else:
            problems.append(Problem(path, None, f"not named like an AVEC recording ({shape})"))
    if not found and not problems:
        problems.append(Problem(audio, None, f"holds no recording ({shape}.wav)"))
    return found


def attach_videos(root: Path, recordings: list[Recording], problems: list[Problem]) -> bool:
    """Each recording's `video/<recording>.avi` (or .mp4), when the folder has a video/ folder:
    then every recording needs one (a manifest's sessions share their modalities)."""
    folder = root / "video"
    if not folder.is_dir():
        return False
    for r in recordings:
        r.video = next((folder / f"{r.name}{s}" for s in VIDEO_SUFFIXES if (folder / f"{r.name}{s}").is_file()), None)
        if r.video is None:
            problems.append(Problem(folder / f"{r.name}{VIDEO_SUFFIXES[0]}", None,
                                    f"missing: the video of {r.name} (video/ holds other recordings' videos)"))
    return True


def split_recordings(recordings: list[Recording], test: str, dev_share: float) -> list[str]:
    """Sets each recording's split by the protocol (module docstring); returns the dev recordings
    carved from Train (none with test="avec")."""
    if test not in TEST_CHOICES:
        raise ValueError(f"test must be one of {TEST_CHOICES} (got {test!r})")
    if test == "avec":
        for r in recordings:
            r.split = {"Train": "train", "Devel": "dev", "Test": "test"}[r.partition]
        return []
    if not 0 < dev_share < 1:
        raise ValueError(f"dev_share must be between 0 and 1 (got {dev_share})")
    carved = []
    for r in recordings:
        r.split = {"Train": "train", "Devel": "test", "Test": None}[r.partition]
    groups = sorted({r.group or "" for r in recordings if r.partition == "Train"})
    for group in groups:
        train = sorted((r for r in recordings if r.partition == "Train" and (r.group or "") == group),
                       key=lambda r: r.name)
        count = min(len(train) - 1, max(1, math.floor(dev_share * len(train) + 0.5)))
        for r in train[len(train) - count:]:
            r.split = "dev"
            carved.append(r.name)
    return carved


def label_path(root: Path, r: Recording, test: str, problems: list[Problem]) -> Path | None:
    """labels/<recording>.csv of a recording that has a split; a missing one is a problem."""
    path = root / "labels" / f"{r.name}.csv"
    if path.is_file():
        return path
    hint = (" (--test avec needs AVEC's test labels, which the challenge did not release with the data; "
            "--test devel uses Devel as the test split)") if r.partition == "Test" else ""
    problems.append(Problem(path, None, f"missing: the labels of {r.name}{hint}"))
    return None


def read_labels(path: Path, columns: list[str] | None, keep: list[str], problems: list[Problem]) -> pd.DataFrame:
    """(time, *keep) of one AVEC label file: one line per 100 ms step, fields separated by ';'.
    `columns` names the fields of a file without a header line (AVEC 2017); None reads the names
    from its first line (AVEC 2019). Names are compared in lower case, quotes stripped."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    first = 1 if columns is None else 0
    if columns is None:
        names = [f.strip().strip("'\"").lower() for f in lines[0].split(";")] if lines else []
    else:
        names = columns
    missing = [c for c in (TIME, *keep) if c not in names]
    if missing:
        problems.append(Problem(path, 1, f"the header lacks {missing} (has {names})"))
        return pd.DataFrame(columns=["time", *keep])
    at = [names.index(c) for c in (TIME, *keep)]
    rows, shape = [], ";".join(names)
    for number, line in enumerate(lines[first:], start=first + 1):
        if not line.strip():
            continue
        fields = line.split(";")
        try:
            values = [float(fields[i]) for i in at]
        except (IndexError, ValueError):
            problems.append(Problem(path, number, f"not a `{shape}` line: {line.strip()[:80]!r}"))
            continue
        if rows and values[0] <= rows[-1][0]:
            problems.append(Problem(path, number, f"time {values[0]} does not follow {rows[-1][0]}"))
            continue
        rows.append(values)
    if not rows and not any(p.path == path for p in problems):
        problems.append(Problem(path, None, "holds no label line"))
    return pd.DataFrame(rows, columns=["time", *keep])


def recording_row(r: Recording, labels: pd.DataFrame, out: Path, has_video: bool) -> dict:
    """A kept recording's sessions.csv columns the two corpora share (its media referenced in
    place), its labels written to `out`/labels/<recording>.csv."""
    labels.to_csv(out / "labels" / f"{r.name}.csv", index=False, float_format="%.6f")
    return {"id": r.name, "speaker": r.name, "split": r.split, "audio": str(r.audio.resolve()),
            **({"video": str(r.video.resolve())} if has_video else {}), "labels": f"labels/{r.name}.csv"}


def left_out(recordings: list[Recording]) -> dict[str, int]:
    """How many recordings of each partition no split kept (Test, without its labels)."""
    return pd.Series([r.partition for r in recordings if not r.split]).value_counts().to_dict()


def audio_hours(recordings: list[Recording]) -> float:
    return round(sum(sf.info(str(r.audio)).duration for r in recordings) / 3600, 3)


def protocol(test: str, dev_share: float, grouped: bool) -> str:
    """The split protocol in words, for the importer's report."""
    if test == "avec":
        return "AVEC's partitions as released: Train is train, Devel dev, Test test"
    within = "each culture's" if grouped else "the"
    return (f"test = AVEC's Devel (Test's labels were not released with the challenge); dev = the last "
            f"{dev_share:.0%} of {within} Train recordings in name order; train = the other Train recordings; "
            "Test left out")
