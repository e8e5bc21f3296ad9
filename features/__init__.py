"""Feature extractors: one module per extractor, each giving one row per window of a session.

An extractor module exposes `VERSIONS` (tool versions recorded beside the tensors) and
`extract(session, windows, cfg) -> np.ndarray` of shape (windows, dims).
"""
import importlib

EXTRACTORS = ("egemaps",)


def extractor_module(name: str):
    if name not in EXTRACTORS:
        raise KeyError(f"unknown feature extractor {name!r}; known: {', '.join(EXTRACTORS)}")
    return importlib.import_module(f"features.{name}")
