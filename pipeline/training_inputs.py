"""Stage `training_inputs`: one content digest of everything the training stages share: the data
they read from data/ and the code they all import.

Reads:  data/windows, data/units, data/features (every file, by content); the training code
        (TRAINING_CODE: the modules and code folders that train, evaluate, benchmark@<run> and
        pretrain@<run> all import)
Writes: data/training_inputs.json: `data`: for the windows folder, each unit folder and each
        feature stage folder (and any file lying directly in data/units or data/features), a
        sha256 over its files' relative paths and their own sha256s; `code`: the same for each
        entry of TRAINING_CODE. A function of those files only.
Run:    python -m pipeline.training_inputs

Why a stage: the training stages read whichever unit and feature folders their model names,
which DVC cannot list per stage, so each used to depend on the three whole folders, and DVC
walked their ~1,600 files once for each of those ~40 stages, on every `dvc repro` and `dvc
status`. They also each listed the ~25 code files and folders they share: DVC wrote each of
those into dvc.lock once per stage (a third of its 338 kB), and parses and rewrites the whole
dvc.lock after every stage it runs (about 2 s a stage at that size). They depend on this small
file instead, beside their own module: it changes when a file under the three folders or of
the shared code changes (or appears, or goes), so DVC re-runs them on the same changes as
before, walks the folders once for all of them, and keeps one line per stage in dvc.lock.
The digests: pipeline/content_digest.py.
"""
import json
import logging
from pathlib import Path

from tqdm import tqdm

from pipeline import layout
from pipeline.config import run_stage
from pipeline.content_digest import code_digests, entry_digest

log = logging.getLogger("training_inputs")
OUT = layout.DATA / "training_inputs.json"
# the code that train, evaluate, benchmark@<run> and pretrain@<run> all import (paths from the repository
# root; dvc.yaml lists them as this stage's deps, a test keeps the two lists and the imports in step). The
# modules only some of them import (their own module, the attention figures) stay in their own deps.
TRAINING_CODE = (
    "pipeline/trainer.py", "pipeline/model_spec.py", "pipeline/repro_runs.py", "pipeline/training_batches.py",
    "pipeline/protocols.py",
    "pipeline/fold_features.py", "pipeline/features.py", "pipeline/feature_cache.py", "pipeline/trained_model.py",
    "pipeline/figures.py", "pipeline/sequences.py", "pipeline/model_inputs.py", "pipeline/inner_sequences.py",
    "pipeline/splits.py", "pipeline/train_progress.py", "pipeline/sessions.py",
    "features/__init__.py", "features/registry.py", "features/audio_io.py", "features/file_hash.py",
    "features/window_frames.py", "features/face_frames.py", "features/word_alignment.py", "features/waveform.py",
    "features/imagenet_cnn.py",
    "models", "metrics", "training")


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
    return {entry.relative_to(data).as_posix(): entry_digest(entry)
            for entry in tqdm(training_entries(data), desc="training_inputs", unit="folder")}


def main() -> None:
    result = {"data": digests(), "code": code_digests(TRAINING_CODE, "TRAINING_CODE (pipeline/training_inputs.py)")}
    OUT.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    log.info("%d data folders and %d code entries digested into %s", len(result["data"]), len(result["code"]), OUT)


if __name__ == "__main__":
    run_stage(main)
