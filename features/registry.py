"""The feature extractors by name: params `features.<name>` and `extractor:` entries pick one.

Kept apart from features/__init__.py, which every extractor imports (its source is part of
every cached session's key), so that registering an extractor re-computes nothing.
"""
import importlib

EXTRACTORS = ("egemaps", "egemaps_lld", "mfcc", "boaw", "deep_spectrum", "frame34", "glove", "botw", "face",
              "face_deep", "face_crops", "face_boaw", "waveform", "contextual_words", "word_onehot")


def extractor_module(name: str):
    if name not in EXTRACTORS:
        raise KeyError(f"unknown feature extractor {name!r}; known: {', '.join(EXTRACTORS)}")
    return importlib.import_module(f"features.{name}")
