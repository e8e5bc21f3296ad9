"""AVEC 2019 CES (the Cross-cultural Emotion Sub-challenge: SEWA video chats of German, Hungarian
and Chinese subjects), imported as a manifest corpus (Raju et al.'s data): audio, video, arousal,
valence and liking every 100 ms, and OpenFace output where you have it; culture as the group.

Reads the challenge folder (AVEC2019_CES_traindeveltest/) as the baseline scripts of
github.com/AudioVisualEmotionChallenge/AVEC2019 read it (Baseline_systems/CES/CES_data.py,
Baseline_features_extraction/Low-Level-Descriptors/):
- `audio/<recording>.wav` and `video/<recording>.avi` (video optional: all recordings or none),
  recordings named `<Train|Devel|Test>_<DE|HU|CN>_<NN>` (Train_DE_01 ... Devel_HU_14, Test_CN_70);
- `labels/<recording>.csv`: `;`-separated, a header line, one line per 100 ms, columns
  `name;timestamp;arousal;valence;liking` (the baseline reads the dimensions by these names with
  sep=';'; the header and the quoted name `'Train_DE_01'` follow the prediction files it writes,
  which the challenge asked to be in the labels' format: the label files themselves were not
  seen). Train and Devel only: AVEC did not release Test's.
- with --openface DIR: `DIR/<recording>.csv`, OpenFace 2.x FeatureExtraction output (the columns
  features/openface_import.py reads, gaze and head pose among them) for the `openface` column.
  The `visual_features/` files the challenge ships are not that: its extraction script reduces
  OpenFace to `name;frameTime;confidence;AU01_r;...;AU45_r` (17 AU intensities, no gaze, no
  pose), which the face stage cannot read; given as DIR they are refused, file by file, with that
  reason. Without --openface the face stages decode video/.

Writes `corpora/<name>/`: corpus.yaml (continuous: arousal, valence, liking), sessions.csv (one
row per imported recording: speaker = the recording (each is one subject), group German /
Hungarian / Chinese, audio, video and OpenFace CSVs referenced in place, so params needs
`allow_outside_root: true`) and labels/<recording>.csv (time, arousal, valence, liking, as read).
Protocol (importers/avec.py), as Raju et al.: AVEC's Devel is the test split, a dev split is
carved from Train: the last --dev-share (default 20 %) of each culture's Train recordings in
name order (Train_DE_28..34 and Train_HU_28..34 of 34 each); Test is left out and counted.
--test avec keeps AVEC's partitions as released (needs Test's labels).

Every problem (a recording without its labels or video, a label line that does not parse, an
OpenFace file without the needed columns) is listed with its path and line before anything is
written.

Run:  python -m importers.avec2019 /data/AVEC2019_CES_traindeveltest corpora/avec2019 \
          [--openface /data/openface] [--dev-share 0.2] [--test devel|avec]
      then add `avec2019: {source: manifest, allow_outside_root: true}` under `corpora` in params.yaml
"""
import argparse
import re
import sys
from pathlib import Path


from features.openface_import import REQUIRED
from importers.avec import (TEST_CHOICES, Recording, attach_videos, audio_hours, find_recordings, label_path, left_out,
                            protocol, read_labels, recording_row, split_recordings)
from importers.common import ImportProblems, Problem, run_import, write_manifest

DIMENSIONS = ["arousal", "valence", "liking"]
CULTURES = {"DE": "German", "HU": "Hungarian", "CN": "Chinese"}
NAME = re.compile(r"^(Train|Devel|Test)_(DE|HU|CN)_(\d+)$")


def openface_problem(path: Path) -> str | None:
    """Why an OpenFace CSV cannot stand in for the video (None when it can): its header is read."""
    if not path.is_file():
        return "missing: the OpenFace output of this recording"
    with path.open(encoding="utf-8", errors="replace") as f:
        header = f.readline()
    missing = [c for c in REQUIRED if c not in {h.strip() for h in header.split(",")}]
    if not missing:
        return None
    why = (" (a `;`-separated AU file like AVEC's visual_features/: run OpenFace 2.x FeatureExtraction on the "
           "video instead)") if ";" in header else ""
    return f"not OpenFace 2.x FeatureExtraction output: lacks {', '.join(missing[:6])}" + \
        (f" and {len(missing) - 6} more" if len(missing) > 6 else "") + why


def collect(root: Path, openface: Path | None, test: str, dev_share: float):
    """The recordings with their splits, labels and OpenFace files, the carved dev recordings,
    whether there is video, and every problem found."""
    problems: list[Problem] = []
    recordings = [Recording(m.group(0), m.group(1), CULTURES[m.group(2)], root / "audio" / f"{m.group(0)}.wav")
                  for m in find_recordings(root, NAME, "<Train|Devel|Test>_<DE|HU|CN>_<NN>", problems)]
    carved = split_recordings(recordings, test, dev_share)
    kept = [r for r in recordings if r.split]
    has_video = attach_videos(root, kept, problems)
    labels, faces = {}, {}
    for r in kept:
        path = label_path(root, r, test, problems)
        if path:
            labels[r.name] = read_labels(path, None, DIMENSIONS, problems)
        if openface:
            faces[r.name] = openface / f"{r.name}.csv"
            why = openface_problem(faces[r.name])
            if why:
                problems.append(Problem(faces[r.name], 1 if faces[r.name].is_file() else None, why))
    if problems:
        raise ImportProblems(problems, "AVEC 2019 CES")
    return recordings, carved, has_video, labels, faces


def import_corpus(root: Path, out: Path, openface: Path | None = None, test: str = "devel",
                  dev_share: float = 0.2) -> dict:
    """Writes the manifest corpus; returns what it found (recordings per split and culture, hours,
    the dev recordings, what was left out)."""
    recordings, carved, has_video, labels, faces = collect(root, openface, test, dev_share)
    kept = [r for r in recordings if r.split]
    (out / "labels").mkdir(parents=True, exist_ok=True)
    rows = []
    for r in kept:
        rows.append({**recording_row(r, labels[r.name], out, has_video),
                     **({"openface": str(faces[r.name].resolve())} if faces else {}), "group": r.group})
    table = write_manifest(out, rows, {"task": "continuous", "dimensions": DIMENSIONS})
    return {"recordings": len(table), "hours": audio_hours(kept), "per_split": table.split.value_counts().to_dict(),
            "per_culture": {split: group.group.value_counts().to_dict() for split, group in table.groupby("split")},
            "protocol": protocol(test, dev_share, grouped=True), "dev_carved_from_train": carved,
            "left_out_without_labels": left_out(recordings), "video": has_video,
            "openface": str(openface) if openface else "not given: the face stages decode the video"}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m importers.avec2019", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the challenge folder (audio/, video/, labels/)")
    parser.add_argument("out", type=Path, help="the corpus folder to write, e.g. corpora/avec2019")
    parser.add_argument("--openface", type=Path, help="a folder of OpenFace 2.x CSVs, <recording>.csv")
    parser.add_argument("--test", choices=TEST_CHOICES, default="devel",
                        help="devel: Devel is the test split, dev carved from Train (Raju et al.); "
                             "avec: AVEC's partitions (needs Test's labels)")
    parser.add_argument("--dev-share", type=float, default=0.2,
                        help="with --test devel: the share of each culture's Train recordings that is dev")
    args = parser.parse_args(argv)
    run_import(lambda: import_corpus(args.folder, args.out, args.openface, args.test, args.dev_share), args.out,
               outside_root=True)


if __name__ == "__main__":
    main(sys.argv[1:])
