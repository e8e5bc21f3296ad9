"""Stage `training_inputs`: one content digest of everything the training stages read from data/.

Reads:  data/windows, data/units, data/features (every file, by content)
Writes: data/training_inputs.json: for the windows folder, each unit folder and each feature
        stage folder (and any file lying directly in data/units or data/features), a sha256
        over its files' relative paths and their own sha256s. A function of those files only.
Run:    python -m pipeline.training_inputs

Why a stage: `train`, `evaluate`, `benchmark@<run>` and `pretrain@<run>` read whichever unit and
feature folders their model names, which DVC cannot list per stage, so each used to depend on
the three whole folders, and DVC walked their ~1,600 files once for each of those ~40 stages, on
every `dvc repro` and `dvc status` (about a third of a no-op repro). They depend on this small
file instead: it changes when a file under the three folders changes (or appears, or goes), so
DVC re-runs them on the same changes as before, and walks the folders once for all of them.
"""
import hashlib
import json
import logging
from pathlib import Path

from tqdm import tqdm

from features.file_hash import file_sha256
from pipeline import layout
from pipeline.config import run_stage

log = logging.getLogger("training_inputs")
OUT = layout.DATA / "training_inputs.json"


def folder_digest(folder: Path) -> str:
    """sha256 over one `<relative path>\\0<sha256 of the file>\\n` line per file, in sorted path
    order (the files' own checksums keep a name and the bytes around it apart)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_sha256(str(path))}\n".encode())
    return digest.hexdigest()


def training_entries(data: Path = layout.DATA) -> list[Path]:
    """The default windows folder, then every entry directly in data/units and data/features (a
    folder per unit and per feature stage; a stray file there counts too), in a stable order."""
    windows = data / layout.WINDOWS.name
    if not windows.is_dir():
        raise FileNotFoundError(f"{windows} not found: run `dvc repro window` first")
    entries = [windows]
    for parent in (data / layout.UNITS.name, data / layout.FEATURES.name):
        if parent.is_dir():
            entries += sorted(parent.iterdir())
    return entries


def digests(data: Path = layout.DATA) -> dict[str, str]:
    """{entry relative to data/: sha256} for every folder and file the training stages may read."""
    return {entry.relative_to(data).as_posix(): folder_digest(entry) if entry.is_dir() else file_sha256(str(entry))
            for entry in tqdm(training_entries(data), desc="training_inputs", unit="folder")}


def main() -> None:
    result = digests()
    OUT.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    log.info("%d folders digested into %s", len(result), OUT)


if __name__ == "__main__":
    run_stage(main)
