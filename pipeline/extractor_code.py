"""Stage `extractor_code`: one content digest of the code every feature stage shares.

Reads:  EXTRACTOR_CODE: the feature stage driver, the per-session cache and the extractor
        modules other extractors import (paths from the repository root)
Writes: data/extractor_code.json: {entry: sha256 of the file} (pipeline/content_digest.py). A
        function of those files only.
Run:    python -m pipeline.extractor_code

Why a stage: the feature stages (features@, unit_features@, derived_features@, 29 of them)
each listed these ~18 files as dependencies; DVC wrote each into dvc.lock once per stage and
parses and rewrites the whole dvc.lock after every stage it runs (about 2 s a stage at 338 kB,
its size before; see pipeline/training_inputs.py for the training stages' half). They depend on
this small file instead, beside their own extractor's module: it changes when one of the files
does, so DVC re-runs them on the same changes as before. Which sessions a re-run recomputes is
the per-session cache's business (pipeline/feature_cache.py hashes the sources an extractor
imports), as before.
"""
import json
import logging

from pipeline import layout
from pipeline.config import run_stage
from pipeline.content_digest import code_digests

log = logging.getLogger("extractor_code")
OUT = layout.DATA / "extractor_code.json"
# dvc.yaml lists them as this stage's deps (a test keeps the two lists in step); each feature stage keeps
# its own extractor's module (features/<extractor>.py, and a derived stage's source) in its own deps
EXTRACTOR_CODE = (
    "pipeline/features.py", "pipeline/feature_cache.py", "pipeline/sessions.py", "pipeline/model_inputs.py",
    "features/__init__.py", "features/registry.py", "features/audio_io.py",
    "features/file_hash.py", "features/lld.py", "features/bag_of_words.py", "features/imagenet_cnn.py",
    "features/window_frames.py", "features/face.py", "features/face_pyfeat.py", "features/openface_import.py",
    "features/face_frames.py", "features/video.py", "features/face_mesh.py", "features/face_align.py",
    "features/session_words.py", "features/vocabulary.py")


def main() -> None:
    result = code_digests(EXTRACTOR_CODE, "EXTRACTOR_CODE (pipeline/extractor_code.py)")
    OUT.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    log.info("%d code entries digested into %s", len(result), OUT)


if __name__ == "__main__":
    run_stage(main)
