"""SENDv1 (the Stanford Emotional Narratives Dataset, Ong et al. 2019) as distributed to
researchers, imported as a manifest corpus (EmoNet's data): the word-aligned transcripts and the
observers' valence ratings.

Reads `SENDv1_featuresRatings_pw/` as the feature-and-ratings release unpacks it:
- `features/<split>/linguistic/ID<n>_vid<m>_aligned.tsv` (`linguistic-word-level/` in some
  copies), split one of train, valid, test: tab-separated with a header, one word per line,
  columns `time-onset`, `time-offset` (seconds from the video's start) and `word`;
- `ratings/<split>/observer_EWE/results_<n>_<m>.csv`: the observers' evaluator-weighted
  estimate of valence every 0.5 s, columns `time` and `evaluatorWeightedEstimate` (0-100).
(The names and columns as the dataset's own loaders read them; the test builds a small folder of
this shape: tests/test_importers.py.)

Writes `corpora/<name>/`: corpus.yaml (continuous, dimension `valence`), sessions.csv (one row
per video: speaker ID<n>, split train / dev (SEND's valid) / test as released, the words and
the ratings), words/<video>.csv (word, start, end) and labels/<video>.csv (time, valence: the
estimate rescaled from 0-100 to -1..1 as value / 50 - 1). The videos themselves are shared
separately and are not imported: the sessions are timed text (pipeline/text_only.py), which is
what EmoNet reads. The observers' individual ratings are not in this release, so the corpus has
a gold standard and no human baseline.

Every problem (a transcript without its ratings, a line that does not parse, a missing column)
is listed with its path and line before anything is written.

Run:  python -m importers.send /data/SENDv1_featuresRatings_pw corpora/send
      then add `send: {source: manifest}` under `corpora` in params.yaml
"""
import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from importers.common import ImportProblems, Problem, run_import, write_manifest

SPLITS = {"train": "train", "valid": "dev", "test": "test"}
LINGUISTIC = ("linguistic", "linguistic-word-level")
VIDEO_ID = re.compile(r"^ID(\d+)_vid(\d+)_aligned\.tsv$")


def read_words(path: Path, problems: list[Problem]) -> pd.DataFrame:
    """(word, start, end) of one aligned transcript; bad lines become problems."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    header = [h.strip() for h in lines[0].split("\t")] if lines else []
    missing = [c for c in ("time-onset", "time-offset", "word") if c not in header]
    if missing:
        problems.append(Problem(path, 1, f"the header lacks {missing} (has {header})"))
        return pd.DataFrame(columns=["word", "start", "end"])
    at = {name: header.index(name) for name in ("time-onset", "time-offset", "word")}
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        try:
            start, end = float(cells[at["time-onset"]]), float(cells[at["time-offset"]])
            word = cells[at["word"]].strip()
        except (IndexError, ValueError):
            problems.append(Problem(path, number, f"not `time-onset<TAB>time-offset<TAB>word`: {line.strip()[:80]!r}"))
            continue
        if word:
            rows.append({"word": word.lower(), "start": start, "end": end})
    return pd.DataFrame(rows, columns=["word", "start", "end"])


def read_ratings(path: Path, problems: list[Problem]) -> pd.DataFrame:
    """(time, valence in -1..1) of one observer_EWE file."""
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        problems.append(Problem(path, None, f"cannot be read as CSV: {err}"))
        return pd.DataFrame(columns=["time", "valence"])
    missing = [c for c in ("time", "evaluatorWeightedEstimate") if c not in table.columns]
    if missing:
        problems.append(Problem(path, 1, f"the header lacks {missing} (has {list(table.columns)})"))
        return pd.DataFrame(columns=["time", "valence"])
    values = table[["time", "evaluatorWeightedEstimate"]].apply(pd.to_numeric, errors="coerce")
    for index in values.index[values.isna().any(axis=1)][:5]:
        problems.append(Problem(path, int(index) + 2, "time or evaluatorWeightedEstimate is not a number"))
    return pd.DataFrame({"time": values.time, "valence": values.evaluatorWeightedEstimate / 50.0 - 1.0})


def import_corpus(root: Path, out: Path) -> dict:
    """Writes the manifest corpus; returns what it found (videos per split, hours of ratings)."""
    problems: list[Problem] = []
    videos = []
    for folder, split in SPLITS.items():
        linguistic = next((root / "features" / folder / name for name in LINGUISTIC
                           if (root / "features" / folder / name).is_dir()), None)
        if linguistic is None:
            problems.append(Problem(root / "features" / folder / LINGUISTIC[0], None,
                                    f"missing: the {folder} split's aligned transcripts"))
            continue
        for path in sorted(linguistic.glob("*.tsv")):
            match = VIDEO_ID.match(path.name)
            if not match:
                problems.append(Problem(path, None, "not named ID<n>_vid<m>_aligned.tsv"))
                continue
            person, video = match.groups()
            ratings = root / "ratings" / folder / "observer_EWE" / f"results_{person}_{video}.csv"
            if not ratings.is_file():
                problems.append(Problem(ratings, None, f"missing: the ratings of {path.name}"))
                continue
            videos.append((f"ID{person}_vid{video}", f"ID{person}", split, read_words(path, problems),
                           read_ratings(ratings, problems)))
    if not videos and not problems:
        problems.append(Problem(root, None, "no aligned transcripts found (features/<split>/linguistic/*.tsv)"))
    if problems:
        raise ImportProblems(problems, "SENDv1")
    for sub in ("words", "labels"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rows, seconds = [], 0.0
    for video, person, split, words, ratings in videos:
        words.to_csv(out / "words" / f"{video}.csv", index=False)
        ratings.to_csv(out / "labels" / f"{video}.csv", index=False, float_format="%.4f")
        seconds += float(ratings.time.max())
        rows.append({"id": video, "speaker": person, "split": split, "words": f"words/{video}.csv",
                     "labels": f"labels/{video}.csv"})
    table = write_manifest(out, rows, {"task": "continuous", "dimensions": ["valence"]})
    return {"videos": len(table), "hours": round(seconds / 3600, 3), "per_split": table.split.value_counts().to_dict(),
            "speakers": int(table.speaker.nunique())}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m importers.send", description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="the SENDv1_featuresRatings_pw folder")
    parser.add_argument("out", type=Path, help="the corpus folder to write, e.g. corpora/send")
    args = parser.parse_args(argv)
    run_import(lambda: import_corpus(args.release, args.out), args.out, outside_root=False)


if __name__ == "__main__":
    main(sys.argv[1:])
