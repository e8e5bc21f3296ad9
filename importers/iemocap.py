"""IEMOCAP (Busso et al., 2008) as distributed, imported as a manifest corpus (Xu et al.'s data).

Reads `IEMOCAP_full_release/Session1..5/` as the release unpacks it:
- `dialog/EmoEvaluation/<dialog>.txt`: one line per utterance,
  `[START - END]<TAB><utterance id><TAB><category><TAB>[V, A, D]`, followed by the evaluators'
  lines (`C-E1:`, `A-E2:`, ...: not read); the category is the majority label (neu, hap, exc,
  sad, ang, fru, sur, fea, dis, oth, or xxx where the evaluators did not agree);
- `sentences/wav/<dialog>/<utterance id>.wav`: the utterance's audio (16 kHz);
- `sentences/ForcedAlignment/<dialog>/<utterance id>.wdseg`: the release's word alignment,
  Sphinx's `SFrm EFrm SegAScr Word` table at 100 frames a second, with `<s>`, `</s>`, `<sil>`
  and `++NOISE++` tokens and pronunciation variants written `WORD(2)`.
(The layout and formats as the release's README and the files describe them; the test builds
a small folder of this shape: tests/test_importers.py.)

Writes `corpora/<name>/`: corpus.yaml (categorical: neutral, happy, sad, angry, the four classes
of Xu et al.), sessions.csv (one row per utterance of those classes; its wav referenced in place,
so params needs `allow_outside_root: true`), and words/<utterance>.csv (word, start, end from
the wdseg, in seconds). The speaker is the session and the utterance's own gender letter
(Ses01F_impro01_M003 is Ses01M). `excited` merged into `happy` with --merge-excited (many
papers do; Xu et al. name four emotions and no merge). Split: the test session's two speakers
test (default Session5), the dev session's two are dev (default Session4: Xu et al. train on
the four other sessions and name no dev set; one is carved here for model selection), the
rest train; leave-one-session-out is five imports with --test-session 1..5, one corpus each.

Every problem (a dialog without its label file, a label line that does not parse, a labelled
utterance without its wav or word alignment) is listed with its path and line before anything
is written.

Run:  python -m importers.iemocap /data/IEMOCAP_full_release corpora/iemocap [--merge-excited]
      then add `iemocap: {source: manifest, allow_outside_root: true}` under `corpora` in params.yaml
"""
import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import soundfile as sf

from importers.common import ImportProblems, Problem, run_import, write_manifest

CLASSES = {"neu": "neutral", "hap": "happy", "sad": "sad", "ang": "angry"}
LABEL_LINE = re.compile(r"^\[(\d+(?:\.\d+)?) - (\d+(?:\.\d+)?)\]\t(\S+)\t(\S+)\t\[([^\]]*)\]\s*$")
FRAMES_PER_S = 100  # Sphinx's 10 ms frames


@dataclass
class Utterance:
    id: str
    session: int
    category: str
    wav: Path
    wdseg: Path

    @property
    def speaker(self) -> str:  # the session and the speaking actor's gender
        return f"Ses{self.session:02d}{self.id.rsplit('_', 1)[1][0]}"


def read_labels(path: Path, session: int, root: Path, problems: list[Problem]) -> list[Utterance]:
    """The utterance lines of one EmoEvaluation file; a line that starts like one but does not parse
    is a problem."""
    found = []
    dialog = path.stem
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.startswith("["):
            continue
        match = LABEL_LINE.match(line)
        if not match:
            problems.append(Problem(path, number, f"not an utterance line `[START - END]<TAB>ID<TAB>CAT<TAB>[V, A, D]`: "
                                                  f"{line.strip()[:80]!r}"))
            continue
        utterance, category = match.group(3), match.group(4)
        sentences = root / f"Session{session}" / "sentences"
        found.append(Utterance(utterance, session, category, sentences / "wav" / dialog / f"{utterance}.wav",
                               sentences / "ForcedAlignment" / dialog / f"{utterance}.wdseg"))
    return found


def read_wdseg(path: Path) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """(word, start, end) of a Sphinx word segmentation, silences and noises dropped, variants
    `WORD(2)` as WORD, lower case; and (line, text) of lines that do not parse."""
    rows, bad = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0] == "SFrm" or line.strip().startswith("Total"):
            continue
        if len(parts) != 4 or not (parts[0].isdigit() and parts[1].isdigit()):
            bad.append((number, line.strip()[:80]))
            continue
        word = re.sub(r"\(\d+\)$", "", parts[3])
        if word.startswith("<") or word.startswith("++"):
            continue
        rows.append({"word": word.lower(), "start": int(parts[0]) / FRAMES_PER_S,
                     "end": (int(parts[1]) + 1) / FRAMES_PER_S})
    return pd.DataFrame(rows, columns=["word", "start", "end"]), bad


def split_of(session: int, test_session: int, dev_session: int) -> str:
    return "test" if session == test_session else "dev" if session == dev_session else "train"


def collect(root: Path, merge_excited: bool) -> tuple[list[Utterance], list[Problem]]:
    """The utterances of the four classes in every session folder, and every problem found."""
    problems: list[Problem] = []
    sessions = sorted(p for p in root.glob("Session[1-5]") if p.is_dir())
    if not sessions:
        raise ImportProblems([Problem(root, None, "no Session1..Session5 folders: give the IEMOCAP_full_release folder")],
                             "IEMOCAP")
    classes = {**CLASSES, **({"exc": "happy"} if merge_excited else {})}
    kept = []
    for folder in sessions:
        session = int(folder.name[-1])
        dialogs = sorted(p.name for p in (folder / "sentences" / "wav").glob("*") if p.is_dir())
        labels = folder / "dialog" / "EmoEvaluation"
        for dialog in dialogs:
            path = labels / f"{dialog}.txt"
            if not path.is_file():
                problems.append(Problem(path, None, f"missing: the labels of dialog {dialog} (its wavs are in "
                                                    f"{folder / 'sentences' / 'wav' / dialog})"))
                continue
            for utterance in read_labels(path, session, root, problems):
                if utterance.category not in classes:
                    continue
                utterance.category = classes[utterance.category]
                for kind, file in (("audio", utterance.wav), ("word alignment", utterance.wdseg)):
                    if not file.is_file():
                        problems.append(Problem(file, None, f"missing: the {kind} of {utterance.id} ({path})"))
                kept.append(utterance)
    return kept, problems


def import_corpus(root: Path, out: Path, merge_excited: bool = False, test_session: int = 5,
                  dev_session: int = 4) -> dict:
    """Writes the manifest corpus; returns what it found (utterances per split and class, hours)."""
    if test_session == dev_session or not {test_session, dev_session} <= set(range(1, 6)):
        raise ValueError(f"test and dev sessions must be two of 1-5 (got {test_session} and {dev_session})")
    utterances, problems = collect(root, merge_excited)
    words = {}
    for u in utterances:
        if u.wdseg.is_file():
            table, bad = read_wdseg(u.wdseg)
            problems += [Problem(u.wdseg, number, f"not a `SFrm EFrm SegAScr Word` row: {text!r}")
                         for number, text in bad]
            words[u.id] = table
    if problems:
        raise ImportProblems(problems, "IEMOCAP")
    (out / "words").mkdir(parents=True, exist_ok=True)
    rows, seconds = [], 0.0
    for u in utterances:
        words[u.id].to_csv(out / "words" / f"{u.id}.csv", index=False)
        seconds += sf.info(str(u.wav)).duration
        rows.append({"id": u.id, "speaker": u.speaker, "split": split_of(u.session, test_session, dev_session),
                     "audio": str(u.wav.resolve()), "words": f"words/{u.id}.csv", "class": u.category})
    table = write_manifest(out, rows, {"task": "categorical", "classes": list(CLASSES.values())})
    return {"utterances": len(table), "hours": round(seconds / 3600, 3),
            "per_split": table.split.value_counts().to_dict(),
            "per_class": {split: group["class"].value_counts().to_dict() for split, group in table.groupby("split")}}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m importers.iemocap", description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="the IEMOCAP_full_release folder")
    parser.add_argument("out", type=Path, help="the corpus folder to write, e.g. corpora/iemocap")
    parser.add_argument("--merge-excited", action="store_true", help="label `exc` utterances happy")
    parser.add_argument("--test-session", type=int, default=5)
    parser.add_argument("--dev-session", type=int, default=4)
    args = parser.parse_args(argv)
    run_import(lambda: import_corpus(args.release, args.out, args.merge_excited, args.test_session,
                                     args.dev_session), args.out, outside_root=True)


if __name__ == "__main__":
    main(sys.argv[1:])
