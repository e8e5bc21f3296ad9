"""Stage `units@<name>`: the units of one named unit spec (params `units.<name>`), beside the
default window unit that the `window` stage cuts (data/windows).

Reads:  data/corpus, data/alignment; params `units.<name>`, and `model`, `models`, `benchmark`,
        `pretrain` (a unit with `enabled: auto` is cut only when a run of this repro trains on it:
        pipeline/repro_runs.py)
Writes: data/units/<name>/windows.csv: one row per unit, the same columns as the window
        stage's (session, split, index, start, end, word_first, word_last, group, labels),
        so every extractor computes one row per unit of any kind;
        data/units/<name>/task.json: the unit's default task, its `tasks` (task -> targets:
        what its labels can train; a model spec picks one with `task:`), classes, `sequence`
Run:    python -m pipeline.units sentences   (or `dvc repro units@sentences`)

A unit is what one label belongs to (DESIGN.md, "Units, inputs, tasks, suites"):
- `window`: {kind: window, length_s, hop_s, label_shift_s, label_aggregation} (the fields of
  a window preset, given here so that changing `window.presets` re-runs no named unit):
  windows as the window stage cuts them, e.g. Raju et al.'s 4 s / 100 ms windows beside
  EmoNet's default preset; optional `words: sentence` gives each window the words of the
  sentence spoken at its centre instead of the words inside it (Tzirakis et al.'s steps);
- `segment`: {kind: segment, values: intensity | utterance, sequence: session | independent}:
  the rows of each session's segments file (the generated corpus's sentences; a manifest's
  `segments` CSV): start, end, numeric values (the generated corpus: six emotion intensities
  in [0, 3], trained as the `intensity` task; others: per-utterance dimensions, the
  `utterance` task) and an optional `class` column (the `categorical` task). With
  `sequence: session` a model sees a session's segments in order as one sequence; with
  `independent`, each segment alone (Williams et al., Xu et al.);
- `session`: {kind: session}: one unit per session spanning it, labelled with its class.
Any kind may say `enabled: auto` (cut only when a run of this repro trains on this
unit: Raju et al.'s 100 ms windows cost the default corpus about an hour of features on 2
cores that the default run never reads), `true` (the default) or `false`. A unit not cut writes outputs that
say why; the feature stages on it skip, and a run reading it is skipped with that reason.
A word belongs to the unit that contains its midpoint, as in the window stage.
"""
import json
import logging
import sys

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.params_check import check
from pipeline.repro_runs import repro_runs, run_entry
from pipeline.sessions import Corpus, Session, load_corpus
from pipeline.window import assign_words, cut_windows, utterance_windows, write_units

log = logging.getLogger("units")
SEGMENT_KEYS = ("segment", "start", "end", "text", "class")  # the other columns of a segments file are values


def segment_values(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in SEGMENT_KEYS]


def segment_table(session: Session) -> pd.DataFrame:
    """A session's segments file, checked: ordered, inside the session, numeric values."""
    path = session.path("segments")
    table = pd.read_csv(path)
    missing = [c for c in ("start", "end") if c not in table.columns]
    if missing or table.empty:
        raise ValueError(f"session {session.id}: segments file {path} has no rows or lacks columns {missing}")
    if (table.end <= table.start).any() or (np.diff(table.start.to_numpy()) < 0).any():
        raise ValueError(f"session {session.id}: segments in {path} must be in time order with end > start")
    if table.start.min() < 0 or table.end.max() > session.duration_s + 0.05:
        raise ValueError(f"session {session.id}: segments in {path} run outside the session "
                         f"(0-{session.duration_s:.2f} s)")
    values = table[segment_values(table)]
    if not values.apply(pd.api.types.is_numeric_dtype).all() or values.isna().any().any():
        raise ValueError(f"session {session.id}: segment values {list(values.columns)} in {path} must be numbers")
    return table


def segment_units(corpus: Corpus, spec: dict) -> tuple[pd.DataFrame, dict]:
    """Every session's segments as units, their values and class (index into `classes`) as labels."""
    tables, names = [], None
    for session in tqdm(corpus.sessions, desc="segments", unit="session"):
        table = segment_table(session)
        if names is None:
            names = segment_values(table)
        elif segment_values(table) != names:
            raise ValueError(f"session {session.id}: segment values {segment_values(table)} differ from the "
                             f"other sessions' {names}")
        words = pd.read_csv(layout.ALIGNMENT / f"{session.id}.csv")
        first, last = assign_words(words, table.start.to_numpy(float), table.end.to_numpy(float))
        unit = pd.DataFrame({"session": session.id, "split": session.split, "index": np.arange(len(table)),
                             "start": table.start.to_numpy(float), "end": table.end.to_numpy(float),
                             "word_first": first, "word_last": last})
        unit[names] = table[names].to_numpy(float)
        if "class" in table:
            unit["class"] = table["class"].astype(str).to_numpy()
        tables.append(unit)
    units = pd.concat(tables, ignore_index=True)
    tasks = {spec.get("values", "utterance"): names} if names else {}
    classes = []
    if "class" in units:
        if units["class"].isna().any() or (units["class"] == "nan").any():
            raise ValueError("segments without a class: give every segment one, or drop the class column")
        classes = list(spec.get("classes") or sorted(units["class"].unique()))
        unknown = sorted(set(units["class"]) - set(classes))
        if unknown:
            raise ValueError(f"segment classes {unknown} are not among units classes {classes}")
        units["class"] = units["class"].map(classes.index)
        tasks["categorical"] = ["class"]
    if not tasks:
        raise ValueError("the segments files have neither values nor a class column: nothing to learn")
    default = next(iter(tasks))
    return units, {"task": default, "targets": tasks[default], "classes": classes, "tasks": tasks,
                   "sequence": spec.get("sequence", "session")}


def make_units(corpus: Corpus, spec: dict, params: dict) -> tuple[pd.DataFrame, dict]:
    if spec["kind"] == "window":
        return cut_windows(corpus, {k: v for k, v in spec.items() if k != "kind"})
    if spec["kind"] == "segment":
        return segment_units(corpus, spec)
    if corpus.task != "categorical":
        raise ValueError(f"session units need a categorical corpus (one class per session); corpus "
                         f"{corpus.name!r} is {corpus.task}")
    return utterance_windows(corpus), {"task": "categorical", "targets": ["class"], "classes": corpus.classes}


def missing_segments(corpus: Corpus, spec: dict) -> str | None:
    """Why a segment unit cannot be made on this corpus (no session has segments), or None; an
    error naming them when only some sessions lack a segments file."""
    if spec["kind"] != "segment":
        return None
    lacking = [s.id for s in corpus.sessions if not s.files.get("segments")]
    if len(lacking) == len(corpus.sessions):
        return f"corpus {corpus.name!r} has no segments files"
    if lacking:
        raise ValueError(f"sessions {lacking} have no segments file, the other sessions of corpus "
                         f"{corpus.name!r} have one: give every session one")
    return None


def trains_on(params: dict, unit: str) -> bool:
    """Whether a run of this repro (`model`, a benchmark run, a pretrain run for `model`) trains on
    `unit` (the run's `unit`, else its model entry's)."""
    return any(run_entry(params, run).get("unit") == unit for run in repro_runs(params).values())


def disabled(params: dict, name: str, spec: dict) -> str | None:
    """Why the unit is not cut (`enabled: false`, or `auto` and nothing trains on it), or None."""
    enabled = spec.get("enabled", True)
    if enabled is False:
        return f"units.{name}.enabled is false"
    if enabled == "auto" and not trains_on(params, name):
        return (f"units.{name}.enabled is auto and no run of this repro (`model`, a benchmark run, a pretrain "
                f"run for `model`) trains on it "
                f"(e.g. dvc exp run -S model=<a model with unit: {name}>)")
    return None


def write_skipped(folder, reason: str) -> None:
    """Outputs saying the unit could not be made: feature stages on it and runs reading it skip too."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "windows.csv").write_text("session,split,index,start,end,word_first,word_last\n")
    (folder / "task.json").write_text(json.dumps({"skipped": reason}, indent=1) + "\n")


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m pipeline.units <unit spec>")
    name = argv[0]
    params = load_params()
    check(params, f"units.{name}")
    spec = section(params, f"units.{name}")
    corpus = load_corpus()
    if reason := (disabled(params, name, spec) or missing_segments(corpus, spec)):
        write_skipped(layout.unit_dir(name), reason)
        log.warning("units@%s skipped: %s", name, reason)
        return
    units, task = make_units(corpus, spec, params)
    task = write_units(layout.unit_dir(name), units, task, corpus)
    log.info("units@%s: %d %s units over %d sessions; tasks %s", name, len(units), spec["kind"],
             units.session.nunique(), json.dumps(task["tasks"]))


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
