"""Reading the normalised corpus that the `corpus` stage writes (data/corpus/manifest.json)."""
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import layout


@dataclass(frozen=True)
class Session:
    id: str
    speaker: str
    split: str
    duration_s: float
    files: dict[str, str] = field(repr=False)  # kind -> path relative to the corpus folder
    root: Path = field(repr=False)
    label: str | None = None  # the session's class (manifest key `class`), in a categorical corpus
    group: str | None = None  # the speaker's group (manifest key `group`, e.g. culture): per-group metrics

    def path(self, kind: str) -> Path:
        """Absolute path of this session's `kind` file; a clear error if it has none or it is gone."""
        if not self.files.get(kind):
            raise FileNotFoundError(f"session {self.id} has no {kind} in {self.root / 'manifest.json'}")
        path = self.root / self.files[kind]
        if not path.exists():
            raise FileNotFoundError(f"session {self.id}: {kind} file {path} is missing")
        return path

    def gold(self) -> pd.DataFrame:
        return pd.read_csv(self.path("gold"))


@dataclass(frozen=True)
class Corpus:
    name: str
    dimensions: list[str]
    sessions: list[Session]
    task: str = "continuous"  # continuous (label tracks over time) | categorical (one class per session)
    classes: list[str] = field(default_factory=list)
    modalities: list[str] = field(default_factory=lambda: ["audio", "video", "transcript"])

    def lacks(self, modality: str) -> str | None:
        """Why a stage needing `modality` cannot run on this corpus, or None if it can."""
        if modality in self.modalities:
            return None
        return f"corpus {self.name!r} has no {modality} (its modalities: {', '.join(self.modalities) or 'none'})"

    def split(self, name: str) -> list[Session]:
        return [s for s in self.sessions if s.split == name]

    @property
    def has_groups(self) -> bool:
        return any(s.group is not None for s in self.sessions)


SPLITS = ("train", "dev", "test")

# words: word timings a corpus provides (used instead of alignment); reference_words: timings
# known only to score the aligner (the generator's ground truth)
FILE_KINDS = ("audio", "video", "transcript", "words", "reference_words", "ratings", "gold", "latent", "segments",
              "openface")  # openface: a corpus's OpenFace 2.x CSV, used instead of the video


def load_corpus(root: Path = layout.CORPUS) -> Corpus:
    manifest_path = root / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"{manifest_path} not found: run the corpus stage first (dvc repro corpus)")
    manifest = json.loads(manifest_path.read_text())
    sessions = [Session(e["id"], e["speaker"], e["split"], float(e["duration_s"]),
                        {k: e[k] for k in FILE_KINDS if e.get(k)}, root, e.get("class"), e.get("group"))
                for e in manifest["sessions"]]
    return Corpus(manifest["corpus"], list(manifest["dimensions"]), sessions, manifest.get("task", "continuous"),
                  list(manifest.get("classes", [])),
                  list(manifest.get("modalities", ["audio", "video", "transcript"])))
