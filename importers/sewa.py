"""SEWA as in AVEC 2017 (the Affect Sub-challenge: video chats of German subjects), imported as a
manifest corpus (Tzirakis et al.'s data): audio, video, the transcribed turns and arousal and
valence every 100 ms.

Reads the challenge folder (AVEC2017_SEWA/) as the loaders built on it read it (no AVEC 2017
baseline repository was found; the names and formats follow public loaders that read
`AVEC2017_SEWA/{audio,labels,transcriptions,turns}/<recording>`):
- `audio/<recording>.wav`, recordings named `<Train|Devel|Test>_<NN>` (Train_01..34,
  Devel_01..14, Test_01..16); `video/<recording>.avi` (or .mp4) when there is a video/ folder
  (all recordings or none; the video's name and container were not confirmed);
- `labels/<recording>.csv`: `;`-separated, no header, one line per 100 ms:
  `name;time;arousal;valence;liking` (the loaders take fields 2-4 of every line as floats);
- `transcriptions/<recording>.csv`: `;`-separated, no header, one line per turn:
  `start;end;'text'` in seconds, the text in single quotes (some turns are `<filler>`).
Test's labels were not released with the challenge; some copies have them (--test avec).

Writes `corpora/<name>/`: corpus.yaml (continuous: arousal, valence; liking is in the label files
and left out, as Tzirakis et al. leave it), sessions.csv (one row per imported recording: speaker
= the recording (each is one subject), audio and video referenced in place, so params needs
`allow_outside_root: true`), labels/<recording>.csv (time, arousal, valence) and
words/<recording>.csv (word, start, end). The transcriptions time turns, not words: each turn's
words (lower case, `<...>` tokens and punctuation dropped) share its span evenly. The `align`
stage is not used: its aligner (pocketsphinx, English) has no German model. All subjects are
German, so there is no group column.
Protocol (importers/avec.py): AVEC's Devel is the test split (Tzirakis et al. report on it) and
a dev split is carved from Train: the last --dev-share (default 20 %) of the Train recordings in
name order (Train_28..34 of 34); Test is left out and counted. --test avec keeps AVEC's
partitions as released (needs Test's labels).

Every problem (a recording without its labels, transcription or video, a label or turn line
that does not parse) is listed with its path and line before anything is written.

Run:  python -m importers.sewa /data/AVEC2017_SEWA corpora/sewa [--dev-share 0.2] [--test devel|avec]
      then add `sewa: {source: manifest, allow_outside_root: true}` under `corpora` in params.yaml
"""
import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from importers.avec import (TEST_CHOICES, Recording, attach_videos, audio_hours, find_recordings, label_path, left_out,
                            protocol, read_labels, recording_row, split_recordings)
from importers.common import ImportProblems, Problem, run_import, write_manifest

DIMENSIONS = ["arousal", "valence"]
LABEL_FIELDS = ["name", "timestamp", "arousal", "valence", "liking"]  # no header line in AVEC 2017's files
NAME = re.compile(r"^(Train|Devel|Test)_(\d+)$")
MARKUP = re.compile(r"<[^>]*>")  # <filler>, <laughter>, ...: not words


def read_turns(path: Path, problems: list[Problem]) -> pd.DataFrame:
    """(word, start, end) of a transcription: each turn's words spread evenly over the turn."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(";")
        try:
            start, end = float(fields[0]), float(fields[1])
            text = ";".join(fields[2:]).strip().strip("'")  # a `;` inside the text belongs to it
        except (IndexError, ValueError):
            problems.append(Problem(path, number, f"not a `start;end;'text'` turn: {line.strip()[:80]!r}"))
            continue
        words = re.findall(r"\w+", MARKUP.sub(" ", text).lower())
        if words and end <= start:
            problems.append(Problem(path, number, f"the turn ends ({end}) before it starts ({start})"))
            continue
        step = (end - start) / max(len(words), 1)
        rows += [{"word": w, "start": start + k * step, "end": start + (k + 1) * step} for k, w in enumerate(words)]
    return pd.DataFrame(rows, columns=["word", "start", "end"]).sort_values("start", kind="stable")


def collect(root: Path, test: str, dev_share: float):
    """The recordings with their splits, labels and words, the carved dev recordings, whether
    there is video, and every problem found."""
    problems: list[Problem] = []
    recordings = [Recording(m.group(0), m.group(1), None, root / "audio" / f"{m.group(0)}.wav")
                  for m in find_recordings(root, NAME, "<Train|Devel|Test>_<NN>", problems)]
    carved = split_recordings(recordings, test, dev_share)
    kept = [r for r in recordings if r.split]
    has_video = attach_videos(root, kept, problems)
    labels, words = {}, {}
    for r in kept:
        path = label_path(root, r, test, problems)
        if path:
            labels[r.name] = read_labels(path, LABEL_FIELDS, DIMENSIONS, problems)
        transcript = root / "transcriptions" / f"{r.name}.csv"
        if transcript.is_file():
            words[r.name] = read_turns(transcript, problems)
        else:
            problems.append(Problem(transcript, None, f"missing: the transcription of {r.name}"))
    if problems:
        raise ImportProblems(problems, "SEWA (AVEC 2017)")
    return recordings, carved, has_video, labels, words


def import_corpus(root: Path, out: Path, test: str = "devel", dev_share: float = 0.2) -> dict:
    """Writes the manifest corpus; returns what it found (recordings per split, hours, words, the
    dev recordings, what was left out)."""
    recordings, carved, has_video, labels, words = collect(root, test, dev_share)
    kept = [r for r in recordings if r.split]
    for sub in ("labels", "words"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rows = []
    for r in kept:
        words[r.name].to_csv(out / "words" / f"{r.name}.csv", index=False, float_format="%.3f")
        rows.append({**recording_row(r, labels[r.name], out, has_video), "words": f"words/{r.name}.csv"})
    table = write_manifest(out, rows, {"task": "continuous", "dimensions": DIMENSIONS})
    return {"recordings": len(table), "hours": audio_hours(kept), "per_split": table.split.value_counts().to_dict(),
            "words": int(sum(len(words[r.name]) for r in kept)), "protocol": protocol(test, dev_share, grouped=False),
            "dev_carved_from_train": carved, "left_out_without_labels": left_out(recordings), "video": has_video}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m importers.sewa", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the challenge folder (audio/, labels/, transcriptions/, video/)")
    parser.add_argument("out", type=Path, help="the corpus folder to write, e.g. corpora/sewa")
    parser.add_argument("--test", choices=TEST_CHOICES, default="devel",
                        help="devel: Devel is the test split, dev carved from Train (as Tzirakis et al. report on "
                             "Devel); avec: AVEC's partitions (needs Test's labels)")
    parser.add_argument("--dev-share", type=float, default=0.2,
                        help="with --test devel: the share of the Train recordings that is dev")
    args = parser.parse_args(argv)
    run_import(lambda: import_corpus(args.folder, args.out, args.test, args.dev_share), args.out, outside_root=True)


if __name__ == "__main__":
    main(sys.argv[1:])
