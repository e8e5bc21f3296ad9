"""A researcher's own corpus: the manifest format, its validator and its split rules.

A manifest corpus lives in `corpora/<name>/` (the `corpus` stage depends on that folder):

    corpora/<name>/corpus.yaml   task (continuous | categorical | segments), dimensions, classes,
                                 sessions (the CSV below, relative to this folder)
    corpora/<name>/sessions.csv  one row per session: id, speaker, split, audio, video,
                                 transcript, words, labels, segments, openface, class, group

Paths in the CSV are relative to corpora/<name>/ and may not leave it unless
`corpora.<name>.allow_outside_root` is true. `labels` holds one continuous-track CSV
(`time` + one column per dimension: a gold standard) or several separated by `;` (one per
annotator; their mean on the first file's time grid is the gold standard and their
leave-one-out agreement the human baseline). `segments` is a CSV of start, end and any
value columns (e.g. six-emotion intensities). `openface` is an OpenFace 2.x FeatureExtraction
CSV (AUs, gaze and head pose; AVEC 2019's reduced AU-only files are not: importers/avec2019.py):
the face stage reads it instead of decoding video. `class` is one of
`classes`. `group` (optional) is the speaker's group, e.g. culture or language: metrics
are also reported per group; a speaker has one group. A row with neither audio nor video
is a text-only session (pipeline/text_only.py): its `segments` carry a `text` column and no
times, or its `transcript` is labelled by `class`. See README.

`validate` reports every problem at once (files, media lengths, contents, modalities and
splits), each naming the file and the CSV row (row 1 = the first session, the line after
the header); nothing is written before the whole manifest is valid. The checks of each
kind of file are in pipeline/manifest_files.py, media lengths in pipeline/media_probe.py
and the split rules in pipeline/splits.py.

Longer than the project's other modules (about 360 lines) because the format's one
definition (the declaration, the columns, what a row may hold for each task) and the row
checks that read it stay together; what checks a file's content is already elsewhere.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from pipeline import text_only
from pipeline.manifest_files import CONTENT_CHECKS, read_table
from pipeline.media_probe import audio_duration, video_duration
from pipeline.splits import assign_splits, split_rule

CORPORA = Path("corpora")
DECLARATION = "corpus.yaml"
TASKS = ("continuous", "categorical", "segments")  # segments: labels only as the segments' values (CMU-MOSEI)
COLUMNS = ("id", "speaker", "split", "audio", "video", "transcript", "words", "labels", "segments", "openface",
           "class", "group")
MEDIA_KINDS = ("audio", "video", "transcript", "words", "labels", "segments", "openface")
# default of `corpora.<name>.av_tolerance_s`: a session's audio and video may differ in length
# by this much (recorders start and stop a few frames apart); beyond it, windows past the
# shorter one would have no face or no voice
AV_TOLERANCE_S = 1.0


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
    group: str | None = None  # the speaker's group (e.g. culture): per-group metrics
    written: dict[str, list[str]] = field(default_factory=dict)  # kind -> the paths as sessions.csv gives them


@dataclass
class ValidManifest:
    folder: Path
    declaration: Declaration
    sessions: list[ManifestSession]
    modalities: list[str]


def corpus_folder(name: str) -> Path:
    return CORPORA / name


def in_repository(path: Path) -> str | None:
    """`path` relative to the repository root (the stages' working directory), or None
    outside it: what outputs may record, since the root differs between clones."""
    root = Path.cwd().resolve()
    path = path.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else None


def shown(path: Path) -> str:
    return in_repository(path) or str(path)


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
    if task == "segments" and (dimensions or classes):
        problems.append(Problem(str(path), None, "a segments task takes its labels from the segments files: "
                                                 "no `dimensions` or `classes`"))
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


def cell(row: pd.Series, column: str) -> str:
    value = row.get(column)
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def cell_paths(row: pd.Series, kind: str) -> list[str]:
    """The paths a cell names: `labels` may hold several, separated by ';'."""
    text = cell(row, kind)
    return [t.strip() for t in text.split(";") if t.strip()] if kind == "labels" else ([text] if text else [])


def identity_problems(row: pd.Series, seen_ids: dict[str, int]) -> list[str]:
    session_id, found = cell(row, "id"), []
    if not session_id:
        found.append("empty id")
    elif session_id in seen_ids:
        found.append(f"duplicate id {session_id!r} (also row {seen_ids[session_id]})")
    elif not all(c.isalnum() or c in "-_." for c in session_id):
        found.append(f"id {session_id!r} may only hold letters, digits, '-', '_' and '.'")
    if not cell(row, "speaker"):
        found.append("empty speaker")
    return found


def text_only_problems(row: pd.Series, declaration: Declaration) -> list[str]:
    """A session with neither audio nor video: text on a positional time axis, or timed words
    (pipeline/text_only.py)."""
    if not cell(row, "transcript") and not cell(row, "segments") and not cell(row, "words"):
        return ["has no audio, no video and no text (`transcript`, `words` or `segments` with a text column)"]
    if cell(row, "words"):  # timed words: the session keeps its clock
        found = ["a text-only session has no video for `openface`"] if cell(row, "openface") else []
        if declaration.task == "continuous" and not cell(row, "labels") and not cell(row, "segments"):
            found.append("no labels file (the task is continuous)")
        return found
    found = [f"a text-only session has no time axis for `{kind}`" + (": give each sentence's values in `segments`"
                                                                      if kind == "labels" else ", or give timed `words`")
             for kind in ("labels", "openface") if cell(row, kind)]
    if declaration.task == "continuous" and not cell(row, "segments"):
        found.append("a text-only session of a continuous corpus gives its sentences and their values in `segments` "
                     "(or timed `words` and `labels`)")
    if cell(row, "transcript") and cell(row, "segments"):
        found.append("a text-only session gives its text once: `transcript` or the `text` of `segments`")
    return found


def task_problems(row: pd.Series, declaration: Declaration) -> list[str]:
    found, label = [], cell(row, "class")
    text_only = not cell(row, "audio") and not cell(row, "video")
    if text_only:
        found += text_only_problems(row, declaration)
    elif cell(row, "transcript") and not cell(row, "words") and not cell(row, "audio"):
        found.append("a plain transcript is aligned to the audio, and this session has none (give `words`)")
    if declaration.task == "categorical" and not label:
        found.append("empty class (the task is categorical)")
    elif declaration.task == "categorical" and label not in declaration.classes:
        found.append(f"unknown class {label!r} (classes: {', '.join(declaration.classes)})")
    if declaration.task == "continuous" and not cell(row, "labels") and not text_only:
        found.append("no labels file (the task is continuous)")
    if declaration.task == "segments" and not cell(row, "segments"):
        found.append("no segments file (the task is segments: the segments' values are the labels)")
    return found


def media_lengths(files: dict[str, list[Path]]) -> tuple[dict[str, float], list[tuple[Path, str]]]:
    """Seconds of audio and of (decodable) video, and (file, message) for media that cannot be used."""
    lengths, found = {}, []
    for kind, measure in (("audio", audio_duration), ("video", video_duration)):
        if kind in files:
            try:
                lengths[kind] = measure(files[kind][0])
            except Exception as err:  # soundfile/OpenCV raise several types for unusable media
                found.append((files[kind][0], f"unreadable {kind}: {err}"))
    return lengths, found


def av_problem(lengths: dict[str, float], tolerance_s: float, key: str) -> str | None:
    if "audio" in lengths and "video" in lengths and abs(lengths["audio"] - lengths["video"]) > tolerance_s:
        return (f"audio lasts {lengths['audio']:.2f} s and video {lengths['video']:.2f} s: they differ by more than "
                f"{tolerance_s:g} s ({key})")
    return None


def check_row(number: int, row: pd.Series, valid: ValidManifest, spec: dict, seen_ids: dict[str, int],
              csv_name: str) -> tuple[ManifestSession, list[Problem]]:
    """One sessions.csv row as a session, with every problem it has."""
    messages = identity_problems(row, seen_ids) + task_problems(row, valid.declaration)
    problems = [Problem(csv_name, number, m) for m in messages]
    session = ManifestSession(number, cell(row, "id"), cell(row, "speaker"), cell(row, "split"), 0.0,
                              label=cell(row, "class") or None, group=cell(row, "group") or None)
    for kind in MEDIA_KINDS:
        for text in cell_paths(row, kind):
            path, why = resolve(valid.folder, text, bool(spec.get("allow_outside_root", False)))
            if why:
                problems.append(Problem(csv_name, number, f"{kind}: {why}"))
            else:
                session.files.setdefault(kind, []).append(path)
                session.written.setdefault(kind, []).append(text)
    lengths, unusable = media_lengths(session.files)
    problems += [Problem(shown(path), number, message) for path, message in unusable]
    mismatch = av_problem(lengths, float(spec.get("av_tolerance_s", AV_TOLERANCE_S)),
                          f"corpora.{valid.folder.name}.av_tolerance_s")
    if mismatch:
        problems.append(Problem(csv_name, number, mismatch))
    if not cell(row, "audio") and not cell(row, "video"):
        if "words" in session.files:  # timed text: its words and labels give the length
            lengths = {"text": text_only.timed_duration(session.files)}
        else:  # positions instead of a clock
            problems += text_session_problems(session, valid.declaration, spec)
    if lengths:  # contents are checked against the media's length (audio's, when there is audio)
        session.duration_s = lengths.get("audio", lengths.get("video", lengths.get("text")))
        for kind, check in CONTENT_CHECKS.items():
            for path in session.files.get(kind, []):
                problems += [Problem(shown(path), number, m)
                             for m in check(path, session.duration_s, valid.declaration.dimensions)]
    return session, problems


def text_session_problems(session: ManifestSession, declaration: Declaration, spec: dict) -> list[Problem]:
    """A text-only session's files, checked; sets its duration on the positional time axis."""
    found = []
    for kind, check in (("transcript", CONTENT_CHECKS["transcript"]), ("segments", None)):
        for path in session.files.get(kind, []):
            messages = (check(path, 0.0, declaration.dimensions) if check else
                        text_only.check_text_segments(path, declaration.dimensions, declaration.task == "continuous"))
            found += [Problem(shown(path), session.row, m) for m in messages]
    if not found and ({"transcript", "segments"} & set(session.files)):
        session.duration_s = text_only.duration_s(session.files, float(spec.get("text_word_s", text_only.WORD_S)))
        if session.duration_s == 0:
            text = session.files.get("transcript", session.files.get("segments"))[0]
            found.append(Problem(shown(text), session.row, "holds no word"))
    return found


def modality_problems(table: pd.DataFrame, csv_name: str) -> tuple[list[str], list[Problem]]:
    """The modalities some session has, and a problem for each session lacking one of them."""
    modalities = [k for k in MEDIA_KINDS if any(cell(r, k) for _, r in table.iterrows())]
    problems = [Problem(csv_name, int(index) + 1, f"no {kind} while other sessions have it: every session needs "
                                                  "the same modalities")
                for kind in ("audio", "video", "transcript", "words", "segments", "openface") if kind in modalities
                for index, row in table.iterrows() if not cell(row, kind)]
    return modalities, problems


def group_problems(sessions: list[ManifestSession], csv_name: str) -> list[Problem]:
    """A speaker belongs to one group; with a `group` column every session names one."""
    if not any(s.group for s in sessions):
        return []
    found = [Problem(csv_name, s.row, "empty group while other sessions have one") for s in sessions if not s.group]
    first: dict[str, ManifestSession] = {}
    for s in sessions:
        if s.group and first.setdefault(s.speaker, s).group != s.group:
            found.append(Problem(csv_name, s.row, f"speaker {s.speaker!r} is in group {s.group!r} here and in "
                                                  f"{first[s.speaker].group!r} on row {first[s.speaker].row}"))
    return found


def read_sessions_table(folder: Path, name: str) -> tuple[Declaration, pd.DataFrame, list[Problem]]:
    """corpus.yaml and sessions.csv; raises when either cannot be read at all."""
    if not folder.is_dir():
        raise ManifestError([Problem(str(folder), None, f"corpus folder missing (corpora.{name} has "
                                                         "source: manifest)")])
    problems: list[Problem] = []
    declaration = read_declaration(folder, problems)
    if declaration is None:
        raise ManifestError(problems)
    csv_name = str(declaration.sessions_file)
    table, error = (read_table(declaration.sessions_file, ["id", "speaker"]) if declaration.sessions_file.exists()
                    else (None, "does not exist"))
    if error:
        raise ManifestError([*problems, Problem(csv_name, None, error)])
    unknown = [c for c in table.columns if c not in COLUMNS]
    if unknown:
        problems.append(Problem(csv_name, None, f"unknown columns {unknown} (known: {', '.join(COLUMNS)})"))
    if table.empty:
        problems.append(Problem(csv_name, None, "has no sessions"))
    return declaration, table.astype(object), problems


def validate(name: str, spec: dict | None = None, folder: Path | None = None) -> ValidManifest:
    """The manifest of corpora/<name>/ with `spec` (params `corpora.<name>`: split,
    allow_outside_root, av_tolerance_s), checked and split; raises ManifestError listing
    every problem."""
    spec = spec or {}
    rule = split_rule(spec.get("split", "column"), f"corpora.{name}.split")
    folder = folder or corpus_folder(name)
    declaration, table, problems = read_sessions_table(folder, name)
    csv_name = str(declaration.sessions_file)
    modalities, missing = modality_problems(table, csv_name)
    valid, seen_ids = ValidManifest(folder, declaration, [], modalities), {}
    for index, row in table.iterrows():
        session, found = check_row(int(index) + 1, row, valid, spec, seen_ids, csv_name)
        seen_ids.setdefault(session.id, session.row)
        valid.sessions.append(session)
        problems += found
    problems += missing + group_problems(valid.sessions, csv_name)
    problems += [Problem(csv_name, row, message) for row, message in assign_splits(valid.sessions, rule)]
    if problems:
        raise ManifestError(sorted(problems, key=lambda p: p.row or 0))
    return valid
