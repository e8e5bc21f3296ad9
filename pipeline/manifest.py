"""A researcher's own corpus: the manifest format, its validator and its split rules.

A manifest corpus lives in `corpora/<name>/` (the `corpus` stage depends on that folder):

    corpora/<name>/corpus.yaml   task (continuous | categorical), dimensions, classes,
                                 sessions (the CSV below, relative to this folder)
    corpora/<name>/sessions.csv  one row per session: id, speaker, split, audio, video,
                                 transcript, words, labels, segments, openface, class

Paths in the CSV are relative to corpora/<name>/ and may not leave it unless
`corpora.<name>.allow_outside_root` is true. `labels` holds one continuous-track CSV
(`time` + one column per dimension: a gold standard) or several separated by `;` (one per
annotator; their mean on the first file's time grid is the gold standard and their
leave-one-out agreement the human baseline). `segments` is a CSV of start, end and any
value columns (e.g. six-emotion intensities). `openface` is an OpenFace 2.x CSV (the
format AVEC ships): the face stage reads it instead of decoding video. `class` is one of
`classes`. See README.

`validate` reports every problem at once, each naming the file and the CSV row
(row 1 = the first session, the line after the header); nothing is written before the
whole manifest is valid.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import soundfile as sf
import yaml

from pipeline.sessions import SPLITS

CORPORA = Path("corpora")
DECLARATION = "corpus.yaml"
TASKS = ("continuous", "categorical")
COLUMNS = ("id", "speaker", "split", "audio", "video", "transcript", "words", "labels", "segments", "openface",
           "class")
MEDIA_KINDS = ("audio", "video", "transcript", "words", "labels", "segments", "openface")
SPLIT_RULES = ("column", "speaker_ratio", "speaker_kfold")
TIME_TOLERANCE_S = 0.5  # label times may overrun the media by this much (a last rating after the end)


class ManifestError(ValueError):
    """The manifest has problems; the message lists every one with its file and row."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"the corpus manifest has {len(problems)} problem(s):\n{listing}")


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}" + (f", row {self.row}" if self.row is not None else "") + f": {self.message}"


@dataclass
class Declaration:
    task: str
    dimensions: list[str]
    classes: list[str]
    sessions_file: Path


@dataclass
class ManifestSession:
    row: int
    id: str
    speaker: str
    split: str
    duration_s: float
    files: dict[str, list[Path]] = field(default_factory=dict)  # kind -> resolved paths (labels: 1+)
    label: str | None = None


@dataclass
class ValidManifest:
    folder: Path
    declaration: Declaration
    sessions: list[ManifestSession]
    modalities: list[str]


def corpus_folder(name: str) -> Path:
    return CORPORA / name


def read_declaration(folder: Path, problems: list[Problem]) -> Declaration | None:
    path = folder / DECLARATION
    if not path.exists():
        problems.append(Problem(str(path), None, "missing: every manifest corpus needs corpus.yaml"))
        return None
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        problems.append(Problem(str(path), None, f"not valid YAML: {err}"))
        return None
    before = len(problems)
    task = spec.get("task")
    if task not in TASKS:
        problems.append(Problem(str(path), None, f"task must be one of {TASKS} (got {task!r})"))
    dimensions, classes = list(spec.get("dimensions") or []), [str(c) for c in spec.get("classes") or []]
    if task == "continuous" and not dimensions:
        problems.append(Problem(str(path), None, "a continuous task needs `dimensions` (the label columns)"))
    if task == "categorical" and len(classes) < 2:
        problems.append(Problem(str(path), None, "a categorical task needs `classes` (at least two)"))
    if len(set(classes)) != len(classes):
        problems.append(Problem(str(path), None, f"classes has duplicates: {classes}"))
    if "sessions" not in spec:
        problems.append(Problem(str(path), None, "needs `sessions`: the sessions CSV, relative to this folder"))
    if len(problems) > before:
        return None
    return Declaration(task, dimensions, classes, folder / str(spec["sessions"]))


def resolve(folder: Path, text: str, allow_outside: bool) -> tuple[Path, str | None]:
    """The path a manifest cell names, and why it cannot be used (None when it can)."""
    path = (folder / text).resolve() if not Path(text).is_absolute() else Path(text).resolve()
    if not allow_outside and not path.is_relative_to(folder.resolve()):
        return path, f"{text} is outside the corpus folder {folder} (set allow_outside_root: true to allow it)"
    if not path.is_file():
        return path, f"{text} does not exist"
    return path, None


def audio_duration(path: Path) -> float:
    info = sf.info(str(path))
    if info.frames == 0:
        raise ValueError("has no samples")
    return info.frames / info.samplerate


def video_duration(path: Path) -> float:
    capture = cv2.VideoCapture(str(path))
    try:
        ok, _ = capture.read()
        fps, frames = capture.get(cv2.CAP_PROP_FPS), capture.get(cv2.CAP_PROP_FRAME_COUNT)
    finally:
        capture.release()
    if not ok:
        raise ValueError("cannot be decoded (no frame could be read)")
    if not (np.isfinite(fps) and fps > 0 and frames > 0):
        raise ValueError(f"reports no usable frame rate/count (fps {fps}, frames {frames})")
    return frames / fps


def times_problems(times: np.ndarray, duration_s: float, what: str) -> list[str]:
    found = []
    if np.isnan(times).any():
        found.append(f"{what} has NaN times")
        return found
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


def check_labels(path: Path, dimensions: list[str], duration_s: float) -> list[str]:
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


def check_segments(path: Path, duration_s: float) -> list[str]:
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


def check_words(path: Path, duration_s: float) -> list[str]:
    table, error = read_table(path, ["word", "start", "end"])
    if error:
        return [error]
    found = times_problems(table.start.to_numpy(float), duration_s, "word start")
    if (table.end < table.start).any() or table.end.isna().any():
        found.append("word end times missing or before their start")
    return found


def check_openface(path: Path, duration_s: float) -> list[str]:
    from features.openface_import import read_openface_csv

    try:
        table = read_openface_csv(path)
    except (ValueError, FileNotFoundError) as err:
        return [str(err)]
    return times_problems(table.time.to_numpy(float), duration_s, "OpenFace timestamp")


def cell(row: pd.Series, column: str) -> str:
    value = row.get(column)
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def validate(name: str, allow_outside_root: bool = False, folder: Path | None = None) -> ValidManifest:
    """The manifest of corpora/<name>/, checked; raises ManifestError listing every problem."""
    folder = folder or corpus_folder(name)
    problems: list[Problem] = []
    if not folder.is_dir():
        raise ManifestError([Problem(str(folder), None, f"corpus folder missing (corpora.{name} has "
                                                         "source: manifest)")])
    declaration = read_declaration(folder, problems)
    if declaration is None:
        raise ManifestError(problems)
    csv_name = str(declaration.sessions_file)
    table, error = (read_table(declaration.sessions_file, ["id", "speaker"]) if declaration.sessions_file.exists()
                    else (None, "does not exist"))
    if error:
        raise ManifestError([*problems, Problem(csv_name, None, error)])
    table = table.astype(object)
    unknown = [c for c in table.columns if c not in COLUMNS]
    if unknown:
        problems.append(Problem(csv_name, None, f"unknown columns {unknown} (known: {', '.join(COLUMNS)})"))
    if table.empty:
        problems.append(Problem(csv_name, None, "has no sessions"))

    sessions, seen_ids = [], {}
    for index, row in table.iterrows():
        number = int(index) + 1

        def report(message: str, file: str = csv_name) -> None:
            problems.append(Problem(file, number, message))

        session_id, speaker = cell(row, "id"), cell(row, "speaker")
        if not session_id:
            report("empty id")
        elif session_id in seen_ids:
            report(f"duplicate id {session_id!r} (also row {seen_ids[session_id]})")
        elif not all(c.isalnum() or c in "-_." for c in session_id):
            report(f"id {session_id!r} may only hold letters, digits, '-', '_' and '.'")
        seen_ids.setdefault(session_id, number)
        if not speaker:
            report("empty speaker")
        files: dict[str, list[Path]] = {}
        for kind in MEDIA_KINDS:
            texts = [t.strip() for t in cell(row, kind).split(";") if t.strip()] if kind == "labels" else (
                [cell(row, kind)] if cell(row, kind) else [])
            for text in texts:
                path, why = resolve(folder, text, allow_outside_root)
                if why:
                    report(f"{kind}: {why}")
                else:
                    files.setdefault(kind, []).append(path)
        duration = None
        for kind, measure in (("audio", audio_duration), ("video", video_duration)):
            if kind in files:
                try:
                    seconds = measure(files[kind][0])
                    duration = duration if duration is not None else seconds
                except Exception as err:  # soundfile/OpenCV raise several types for unreadable media
                    report(f"unreadable {kind}: {err}", str(files[kind][0]))
        if not cell(row, "audio") and not cell(row, "video"):
            report("has neither audio nor video")
        if "transcript" in files and "words" not in files and not cell(row, "audio"):
            report("a plain transcript is aligned to the audio, and this session has none (give `words`)")
        label = cell(row, "class") or None
        if declaration.task == "categorical":
            if label is None:
                report("empty class (the task is categorical)")
            elif label not in declaration.classes:
                report(f"unknown class {label!r} (classes: {', '.join(declaration.classes)})")
        if declaration.task == "continuous" and not cell(row, "labels"):
            report("no labels file (the task is continuous)")
        if duration is not None:
            checks = {"labels": lambda p: check_labels(p, declaration.dimensions, duration),
                      "segments": lambda p: check_segments(p, duration),
                      "words": lambda p: check_words(p, duration),
                      "openface": lambda p: check_openface(p, duration)}
            for kind, check in checks.items():
                for path in files.get(kind, []):
                    for message in check(path):
                        report(message, str(path))
            if "transcript" in files:
                try:
                    files["transcript"][0].read_text(encoding="utf-8")
                except UnicodeDecodeError as err:
                    report(f"transcript is not UTF-8 text: {err}", str(files["transcript"][0]))
        sessions.append(ManifestSession(number, session_id, speaker, cell(row, "split"), duration or 0.0,
                                        files, label))

    modalities = [k for k in MEDIA_KINDS if any(cell(r, k) for _, r in table.iterrows())]
    for kind in ("audio", "video", "transcript", "words", "segments", "openface"):
        if kind in modalities:
            for s, (_, r) in zip(sessions, table.iterrows()):
                if not cell(r, kind):
                    problems.append(Problem(csv_name, s.row, f"no {kind} while other sessions have it: every "
                                                             "session needs the same modalities"))
    if problems:
        raise ManifestError(problems)
    return ValidManifest(folder, declaration, sessions, modalities)


def assign_splits(sessions: list[ManifestSession], rule, csv_name: str) -> None:
    """Sets each session's split from the `split` column or a speaker-independent rule."""
    rule = {"rule": "column"} if rule in (None, "column") else dict(rule)
    kind = rule.get("rule")
    if kind not in SPLIT_RULES:
        raise ManifestError([Problem("params.yaml", None, f"split rule must be one of {SPLIT_RULES} (got {kind!r})")])
    if kind == "column":
        problems, speaker_split = [], {}
        for s in sessions:
            if s.split not in SPLITS:
                problems.append(Problem(csv_name, s.row, f"split {s.split!r} must be one of {SPLITS} "
                                                         "(or give corpora.<name>.split a rule)"))
            elif speaker_split.setdefault(s.speaker, (s.split, s.row))[0] != s.split:
                first = speaker_split[s.speaker]
                problems.append(Problem(csv_name, s.row, f"speaker {s.speaker!r} is in {s.split} here and in "
                                                         f"{first[0]} on row {first[1]}: splits must be "
                                                         "speaker-independent"))
        present = {s.split for s in sessions}
        problems += [Problem(csv_name, None, f"no session in the {name} split") for name in SPLITS
                     if name not in present and not problems]
        if problems:
            raise ManifestError(problems)
        return
    speakers = sorted({s.speaker for s in sessions})
    order = [speakers[i] for i in np.random.default_rng(int(rule.get("seed", 0))).permutation(len(speakers))]
    if kind == "speaker_ratio":
        n_test = max(1, round(float(rule.get("test", 0.2)) * len(order)))
        n_dev = max(1, round(float(rule.get("dev", 0.2)) * len(order)))
        groups = {"test": order[:n_test], "dev": order[n_test:n_test + n_dev], "train": order[n_test + n_dev:]}
    else:
        folds, fold = int(rule.get("folds", 5)), int(rule.get("fold", 0))
        if not 0 <= fold < folds or folds < 3:
            raise ManifestError([Problem("params.yaml", None, f"speaker_kfold needs folds >= 3 and 0 <= fold < "
                                                              f"folds (got folds={folds}, fold={fold})")])
        parts = [order[i::folds] for i in range(folds)]
        groups = {"test": parts[fold], "dev": parts[(fold + 1) % folds],
                  "train": [sp for i, p in enumerate(parts) if i not in (fold, (fold + 1) % folds) for sp in p]}
    empty = [name for name, members in groups.items() if not members]
    if empty:
        raise ManifestError([Problem(csv_name, None, f"{len(speakers)} speakers are too few for rule {rule}: "
                                                     f"no speaker left for {empty}")])
    split_of = {sp: name for name, members in groups.items() for sp in members}
    for s in sessions:
        s.split = split_of[s.speaker]
