"""`predict`: apply a trained run to new recordings, as a user does after training.

Reads:  a trained run of this workspace (`--run`: `train`, or a benchmark or pretrain run; its
        checkpoint, its feature stages' fitted state and configs, its unit spec:
        pipeline/bundle.py) or an exported bundle (`--bundle FILE`); recordings: an audio file
        with --video / --openface / --transcript / --words / --segments as the run needs them,
        or a folder of audio files with same-stem companions (pipeline/recordings.py)
Writes: <out>/<recording>.csv: one row per unit (start, end, `time`: the moment the prediction
        describes, the unit's centre plus the run's label shift), the predicted value of each
        target (`<target>_pred`), or for a classifier `class_pred` and each class's probability
        (`p_<class>`); <out>/<recording>.png: the predictions over time
Run:    python -m pipeline.predict --run lstm_ccc talk.wav --transcript talk.txt --out predictions/
        python -m pipeline.predict --run williams_blstm_trimodal recordings/ --out predictions/
        python -m pipeline.predict --bundle lstm_ccc.bundle.pt talk.wav

Each recording goes through what the pipeline's stages do to a session: audio converted to
the run's rate, a video re-encoded at its frame rate (one already at it is read as it is),
the transcript force-aligned with the run's `align` settings, the run's units cut (windows of
its preset, as the window stage cuts them: none in the last label-shift seconds; segments from
--segments, else the transcript's sentences; the whole recording for a per-session run), every
feature stage's extractor with the run's config and fitted state (codebooks, vocabularies: from
the train split), the run's normaliser, the model. A run needing a modality a recording lacks is
refused before any work, naming the recording, the option and the stages that read it. Nothing
computed here enters the feature cache or DVC's outputs: the work is done in a temporary folder.
"""
import argparse
import contextlib
import json
import logging
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from features.registry import extractor_module
from pipeline import layout
from pipeline.bundle import Bundle, export
from pipeline.config import run_stage
from pipeline.feature_cache import extractor_inputs
from pipeline.features import extract_session, write_session
from pipeline.figures import pyplot, save_figure
from pipeline.recordings import (COMPANIONS, Recording, in_folder, ingest, missing_inputs, recording_id, segment_units,
                                 transcript_sentences, write_words)
from pipeline.sequences import load_sequences, normalise, predict
from pipeline.sessions import Corpus
from pipeline.trained_model import task_of
from pipeline.window import cut_windows

log = logging.getLogger("predict")


@contextlib.contextmanager
def workspace():
    """A temporary folder as the working directory: the stages' relative paths (pipeline/layout.py)
    then point into it, and nothing of the user's workspace is read or written."""
    before = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="emorepro-predict-") as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(before)


def stage_inputs(bundle: Bundle) -> dict[str, tuple[str, ...]]:
    """Each of the bundle's stages -> the input kinds its extractor reads (pipeline/feature_cache.py)."""
    return {s["key"]: extractor_inputs(extractor_module(s["extractor"]), s["config"]) for s in bundle.spec["stages"]}


def check_recordings(bundle: Bundle, recordings: list[Recording]) -> None:
    """Refuses, before any work, recordings that lack what the run reads."""
    inputs = stage_inputs(bundle)
    problems = [f"recording {r.id} (given: {', '.join(r.given())}) needs {need}"
                for r in recordings for need in missing_inputs(r, inputs)]
    if problems:
        raise ValueError(f"run {bundle.spec['run']} reads what some recordings lack:\n  " + "\n  ".join(problems))


def with_sentences(session, words: pd.DataFrame):
    """The session with its transcript's sentences as its segments file (text stages and
    `words: sentence` units read sentences from it), for a run whose corpus had segments files."""
    if session.files.get("segments") or words.empty:
        return session
    sentences = pd.DataFrame(transcript_sentences(session, words), columns=["start", "end"])
    sentences.to_csv(session.root / "sessions" / session.id / "segments.csv", index=False)
    return replace(session, files={**session.files, "segments": f"sessions/{session.id}/segments.csv"})


def cut_units(session, words: pd.DataFrame, unit: dict) -> pd.DataFrame:
    """The recording's units as the run's unit stage cuts a session's."""
    if unit["kind"] == "window":
        settings = {k: v for k, v in unit.items() if k not in ("name", "kind", "enabled")}
        return cut_windows(Corpus("predict", [], [session], task="segments"), settings)[0]
    if unit["kind"] == "segment":
        return segment_units(session, words)
    return pd.DataFrame({"session": [session.id], "split": session.split, "index": 0, "start": 0.0,
                         "end": session.duration_s, "word_first": 0, "word_last": len(words)})


def predict_recording(bundle: Bundle, trained, recording: Recording) -> pd.DataFrame:
    """One recording's predictions, computed in the current (temporary) working directory."""
    model, meta, norm = trained
    spec, unit = bundle.spec, bundle.spec["unit"]
    session = ingest(recording, spec["sample_rate"], spec["video_fps"], spec["corpus_source"] != "synthetic")
    asr = any("recognised" in kinds for kinds in stage_inputs(bundle).values())
    words = write_words(session, spec["align"], spec["recognise"] if asr else None)
    if spec["corpus_has_segments"] or unit["kind"] == "segment":
        session = with_sentences(session, words)
    units = cut_units(session, words, unit)
    for target in meta["targets"]:
        units[target] = np.nan  # no labels: load_sequences reads the columns, predict never uses them
    folder = layout.unit_dir(unit["name"])
    folder.mkdir(parents=True, exist_ok=True)
    units.to_csv(folder / "windows.csv", index=False, float_format="%.5f")  # as the unit stages write it
    units = pd.read_csv(folder / "windows.csv")
    for stage in spec["stages"]:
        out = layout.FEATURES / stage["key"]
        out.mkdir(parents=True, exist_ok=True)
        result = extract_session(stage["extractor"], session, units, stage["config"], stage["fitted"])
        write_session(out, session.id, result, {})
        (out / "meta.json").write_text(json.dumps({  # what the data layer reads of a stage's meta.json
            "extractor": stage["extractor"], "config": stage["config"],
            **({"unit": stage["unit"]} if stage["unit"] != layout.DEFAULT_UNIT else {})}))
    [sequence] = load_sequences(meta["features"], meta["targets"], meta["unit"])
    normalise([sequence], norm)
    outputs = predict(model, sequence, torch.device("cpu"), meta["sequence"] == "independent")
    shift = float(unit.get("label_shift_s", 0.0)) if unit["kind"] == "window" else 0.0
    table = pd.DataFrame({"start": units.start, "end": units.end, "time": (units.start + units.end) / 2 + shift})
    task = task_of(meta)
    if task.logits:
        probabilities = torch.softmax(torch.from_numpy(outputs), dim=-1).numpy()
        table["class_pred"] = [meta["classes"][j] for j in probabilities.argmax(-1)]
        for j, name in enumerate(meta["classes"]):
            table[f"p_{name}"] = probabilities[:, j]
    else:
        for j, target in enumerate(task.targets):
            table[f"{target}_pred"] = outputs[:, j]
    return table


def plot_predictions(table: pd.DataFrame, title: str, path: Path) -> None:
    """Each target's prediction over time; a classifier's class probabilities per unit."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 3.5))
    probability = [c for c in table.columns if c.startswith("p_")]
    if probability:
        bottom = np.zeros(len(table))
        for column in probability:
            ax.bar(table.start, table[column], width=table.end - table.start, bottom=bottom, align="edge",
                   label=column[2:], edgecolor="white", linewidth=0.5)
            bottom += table[column].to_numpy()
        ax.set_ylabel("class probability")
    else:
        for column in (c for c in table.columns if c.endswith("_pred")):
            ax.plot(table.time, table[column], marker="o" if len(table) < 30 else None, label=column[:-5])
        ax.set_ylabel("prediction")
    ax.set_xlabel("time (s)")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, ncol=3)
    save_figure(fig, path)


def predict_all(bundle: Bundle, recordings: list[Recording], out: Path) -> list[Path]:
    """Writes <out>/<id>.csv and .png for every recording; the model is loaded once."""
    check_recordings(bundle, recordings)
    trained = bundle.trained()
    for stage in bundle.spec["stages"]:  # models or tools an extractor needs, before any recording
        module = extractor_module(stage["extractor"])
        if hasattr(module, "preflight"):
            module.preflight(stage["config"])
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for recording in tqdm(recordings, desc="predict", unit="recording", disable=len(recordings) < 2):
        with workspace():
            try:
                table = predict_recording(bundle, trained, recording)
            except (ValueError, RuntimeError, FileNotFoundError) as err:  # name the user's file, not the copy
                raise RuntimeError(f"recording {recording.id} ({recording.audio}): {err}") from err
        csv = out / f"{recording.id}.csv"
        table.to_csv(csv, index=False, float_format="%.6f")
        plot_predictions(table, f"{recording.id}: run {bundle.spec['run']} ({bundle.spec['model']})",
                         csv.with_suffix(".png"))
        log.info("%s: %d units -> %s", recording.id, len(table), csv)
        written.append(csv)
    return written


def recordings_of(args) -> list[Recording]:
    source = args.recording.resolve()
    if source.is_dir():
        given = [o for o in COMPANIONS if getattr(args, o)]
        if given:
            raise ValueError(f"{source} is a folder: its recordings' files are found by name (talk.wav, talk.mp4, "
                             f"talk.txt...), not given with {', '.join('--' + o for o in given)}")
        return in_folder(source)
    if not source.exists():
        raise FileNotFoundError(f"recording {source} not found")
    optional = {o: getattr(args, o).resolve() if getattr(args, o) else None for o in COMPANIONS}
    missing = [f"--{o} {p}" for o, p in optional.items() if p is not None and not p.exists()]
    if missing:
        raise FileNotFoundError(f"not found: {', '.join(missing)}")
    return [Recording(recording_id(source), source, **optional)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.predict", description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", help="a trained run of this workspace: `train` or a benchmark/pretrain run")
    which.add_argument("--bundle", type=Path, help="a bundle written by python -m pipeline.bundle")
    parser.add_argument("--fold", type=int, help="the fold's model of a run trained with k folds")
    parser.add_argument("recording", type=Path, help="an audio file, or a folder of recordings")
    parser.add_argument("--video", type=Path)
    parser.add_argument("--openface", type=Path, help="an OpenFace 2.x CSV, for runs trained on them")
    parser.add_argument("--transcript", type=Path)
    parser.add_argument("--words", type=Path, help="word timings (word, start, end) instead of forced alignment")
    parser.add_argument("--segments", type=Path, help="start, end of each segment (runs on segments)")
    parser.add_argument("--out", type=Path, default=Path("predictions"))
    args = parser.parse_args()
    if args.bundle and args.fold is not None:
        raise ValueError("--fold picks a fold's model of --run; a bundle holds one model (pipeline.bundle --fold)")
    bundle = Bundle.load(args.bundle) if args.bundle else export(args.run, args.fold)
    written = predict_all(bundle, recordings_of(args), args.out)
    print(f"{len(written)} recording(s): predictions in {args.out}/ (<recording>.csv, <recording>.png)")


if __name__ == "__main__":
    run_stage(main)
