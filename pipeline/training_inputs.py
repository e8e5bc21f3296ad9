"""Stage `training_inputs`: one content digest of everything the training stages read from data/.

Reads:  data/windows, data/units, data/features (every file, by content)
Writes: data/training_inputs.json: a sha256 per folder (the windows, each unit, each feature
        stage) over its files' relative paths and bytes. A function of those files only.
Run:    python -m pipeline.training_inputs

Why a stage: `train`, `evaluate`, `benchmark@<run>` and `pretrain@<run>` read whichever unit and
feature folders their model names, which DVC cannot list per stage, so each used to depend on
the three whole folders, and DVC walked their ~1,600 files once for each of those ~40 stages, on
every `dvc repro` and `dvc status` (about a third of a no-op repro). They depend on this small
file instead: it changes exactly when a file under the three folders changes, so DVC re-runs
them on the same changes as before, and walks the folders once.
"""
import hashlib
import json
import logging
from pathlib import Path

from tqdm import tqdm

from pipeline import layout
from pipeline.config import run_stage

log = logging.getLogger("training_inputs")
OUT = layout.DATA / "training_inputs.json"
CHUNK = 1 << 20


def folder_digest(folder: Path) -> str:
    """sha256 over each file's path relative to `folder` and its bytes, in sorted path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def training_folders(data: Path = layout.DATA) -> list[Path]:
    """The default windows, each named unit and each feature stage, in a stable order."""
    folders = [data / layout.WINDOWS.name]
    for parent in (data / layout.UNITS.name, data / layout.FEATURES.name):
        if parent.is_dir():
            folders += sorted(p for p in parent.iterdir() if p.is_dir())
    return folders


def digests(data: Path = layout.DATA) -> dict[str, str]:
    """{folder relative to data/: sha256} for every folder the training stages may read."""
    folders = training_folders(data)
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} not found: run `dvc repro` for the stages that write it")
    return {f.relative_to(data).as_posix(): folder_digest(f)
            for f in tqdm(folders, desc="training_inputs", unit="folder")}


def main() -> None:
    result = digests()
    OUT.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    log.info("%d folders digested into %s", len(result), OUT)


if __name__ == "__main__":
    run_stage(main)
