"""CMU-MOSEI (Zadeh et al., 2018) as distributed, imported as a manifest corpus (Williams et
al.'s data): full-video audio and video, the timestamped words and the six emotion intensities of
each labelled segment.

Reads the MOSEI folder as downloaded with the CMU Multimodal SDK's files:
- `CMU_MOSEI_Labels.csd`: an HDF5 computational sequence (read with h5py; the SDK itself is
  not needed): one root group (`All Labels`) holding `data/<video>/features` (segments x 7:
  sentiment, happy, sad, anger, surprise, disgust, fear; the order `metadata/dimension names`
  gives when present) and `data/<video>/intervals` (segments x 2: start, end in seconds);
- `CMU_MOSEI_TimestampedWords.csd`: the same layout, `features` one byte string per word
  (`sp` marks a pause) with its interval;
- `Raw/Audio/Full/WAV_16000/<video>.wav`: each video's audio, 16 kHz;
- `Raw/Videos/Full/Combined/<video>.mp4`: each video's video, as the raw download unpacks
  (optional: when the folder is there every labelled video of the folds needs its file, as a
  manifest's sessions share their modalities; without it the corpus has no video and the face
  inputs must be dropped);
- the standard folds: the SDK's `cmu_mosei_std_folds.py` (lists `standard_train_fold`,
  `standard_valid_fold`, `standard_test_fold` of video ids), given with --folds.
(The names and layouts as the SDK and the loaders built on it read them; the test builds
a small folder of this shape with h5py: tests/test_importers.py.)

Writes `corpora/<name>/`: corpus.yaml (task `segments`: the labels are the segments' values,
MOSEI has no rating tracks), sessions.csv (one row per video of the
folds: split train / dev (valid) / test; each video is its own speaker, as MOSEI gives no
speaker ids: the standard folds are the protocol), words/<video>.csv and segments/<video>.csv
(start, end and happiness, sadness, anger, surprise, disgust, fear in [0, 3]: the sentence
units Williams et al. train on; the sentiment score is left out, as they leave it). Videos in
no fold are left out and counted.

Every problem (a labelled video without its audio, video or words, overlapping or empty segment
intervals, a fold file that does not parse) is listed with its path before anything is written.

Run:  python -m importers.mosei /data/CMU_MOSEI corpora/mosei --folds /path/cmu_mosei_std_folds.py
      then add `mosei: {source: manifest, allow_outside_root: true}` under `corpora` in params.yaml
"""
import argparse
import ast
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from importers.common import ImportProblems, Problem, run_import, write_manifest

LABELS, WORDS = "CMU_MOSEI_Labels.csd", "CMU_MOSEI_TimestampedWords.csd"
AUDIO = Path("Raw/Audio/Full/WAV_16000")
VIDEO = Path("Raw/Videos/Full/Combined")
DIMENSIONS = ["sentiment", "happy", "sad", "anger", "surprise", "disgust", "fear"]  # the SDK's label order
EMOTIONS = {"happy": "happiness", "sad": "sadness", "anger": "anger", "surprise": "surprise", "disgust": "disgust",
            "fear": "fear"}  # MOSEI's names -> the generated corpus's
FOLDS = {"standard_train_fold": "train", "standard_valid_fold": "dev", "standard_test_fold": "test"}


def read_folds(path: Path) -> dict[str, str]:
    """video id -> split, from the SDK's fold file (three list literals)."""
    split_of, seen = {}, set()
    for node in ast.parse(path.read_text()).body:
        name = getattr(node.targets[0], "id", "") if isinstance(node, ast.Assign) and len(node.targets) == 1 else ""
        if name in FOLDS:
            seen.add(name)
            for video in ast.literal_eval(node.value):
                split_of[str(video)] = FOLDS[name]
    missing = [name for name in FOLDS if name not in seen]
    if missing:
        raise ValueError(f"lacks {missing}")
    return split_of


def sequences(path: Path) -> tuple[dict, list[str] | None]:
    """{video: (features, intervals)} of a computational sequence, and its dimension names."""
    import h5py

    with h5py.File(path, "r") as f:
        root = f[next(iter(f.keys()))]
        names = None
        if "metadata" in root and "dimension names" in root["metadata"]:
            raw = root["metadata"]["dimension names"][0]
            names = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        data = {video: (group["features"][()], group["intervals"][()]) for video, group in root["data"].items()}
    return data, names


def segment_table(features: np.ndarray, intervals: np.ndarray, names: list[str]) -> tuple[pd.DataFrame, str | None]:
    """A video's labelled segments in time order, and why they cannot be units (or None)."""
    table = pd.DataFrame({"start": intervals[:, 0], "end": intervals[:, 1]})
    for j, name in enumerate(names):
        if name in EMOTIONS:
            table[EMOTIONS[name]] = features[:, j]
    table = table.sort_values("start", kind="stable").reset_index(drop=True)
    if (table.end <= table.start).any():
        return table, f"segments ending before they start at {table.start[table.end <= table.start].tolist()[:3]} s"
    if (table.start.to_numpy()[1:] < table.end.to_numpy()[:-1] - 1e-6).any():
        return table, "overlapping segment intervals"
    return table, None


def word_table(features: np.ndarray, intervals: np.ndarray) -> pd.DataFrame:
    words = [w.decode() if isinstance(w, bytes) else str(w) for w in np.asarray(features).reshape(len(features), -1)[:, 0]]
    table = pd.DataFrame({"word": [w.lower() for w in words], "start": intervals[:, 0], "end": intervals[:, 1]})
    return table[table.word != "sp"].reset_index(drop=True)


def import_corpus(root: Path, out: Path, folds: Path) -> dict:
    """Writes the manifest corpus; returns what it found (videos per split, segments, left out)."""
    problems: list[Problem] = []
    for name in (LABELS, WORDS):
        if not (root / name).is_file():
            problems.append(Problem(root / name, None, "missing: MOSEI's computational sequence"))
    try:
        split_of = read_folds(folds)
    except (OSError, SyntaxError, ValueError) as err:
        problems.append(Problem(folds, None, f"not the SDK's fold file: {err}"))
        split_of = {}
    if problems:
        raise ImportProblems(problems, "CMU-MOSEI")
    labels, names = sequences(root / LABELS)
    words, _ = sequences(root / WORDS)
    names = names or DIMENSIONS
    has_video = (root / VIDEO).is_dir()
    kept, left_out = [], 0
    for video in sorted(labels):
        if video not in split_of:
            left_out += 1
            continue
        table, why = segment_table(*labels[video], names)
        if why:
            problems.append(Problem(root / LABELS, None, f"video {video}: {why}"))
        audio = root / AUDIO / f"{video}.wav"
        if not audio.is_file():
            problems.append(Problem(audio, None, f"missing: the audio of labelled video {video}"))
        mp4 = root / VIDEO / f"{video}.mp4"
        if has_video and not mp4.is_file():
            problems.append(Problem(mp4, None, f"missing: the video of labelled video {video} (with a {VIDEO} "
                                               "folder every labelled video of the folds needs one)"))
        if video not in words:
            problems.append(Problem(root / WORDS, None, f"video {video} has labels but no words"))
            continue
        kept.append((video, split_of[video], audio, mp4, table, word_table(*words[video])))
    if problems:
        raise ImportProblems(problems, "CMU-MOSEI")
    for sub in ("words", "segments"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rows = []
    for video, split, audio, mp4, table, word_rows in kept:
        word_rows.to_csv(out / "words" / f"{video}.csv", index=False)
        table.to_csv(out / "segments" / f"{video}.csv", index=False, float_format="%.4f")
        rows.append({"id": video, "speaker": video, "split": split, "audio": str(audio.resolve()),
                     **({"video": str(mp4.resolve())} if has_video else {}),
                     "words": f"words/{video}.csv", "segments": f"segments/{video}.csv"})
    sessions = write_manifest(out, rows, {"task": "segments"})
    return {"videos": len(sessions), "segments": int(sum(len(k[4]) for k in kept)),
            "per_split": sessions.split.value_counts().to_dict(), "left_out_in_no_fold": left_out,
            "video": f"{VIDEO}/<video>.mp4" if has_video else f"none: no {VIDEO} folder (drop the face inputs)"}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m importers.mosei", description=__doc__.splitlines()[0])
    parser.add_argument("mosei", type=Path, help="the folder with the .csd files and Raw/")
    parser.add_argument("out", type=Path, help="the corpus folder to write, e.g. corpora/mosei")
    parser.add_argument("--folds", type=Path, required=True, help="the SDK's cmu_mosei_std_folds.py")
    args = parser.parse_args(argv)
    run_import(lambda: import_corpus(args.mosei, args.out, args.folds), args.out, outside_root=True)


if __name__ == "__main__":
    main(sys.argv[1:])
