"""Feature extractors: one module per extractor, each giving one row per window of a session
(features/registry.py names them; this module holds only what every extractor imports, so adding
an extractor changes no other extractor's cache key: pipeline/feature_cache.py hashes the
sources an extractor imports).

An extractor module exposes
- `INPUTS`: the per-session files it reads ("audio", "video", "segments", ... or "alignment"
  for the aligned words); their content is part of the per-session cache key;
- `versions(cfg) -> dict`: tool versions (and model/vector checksums) recorded beside the tensors;
- `extract(session, windows, cfg, fitted) -> Extracted`: arrays whose first axis is the
  session's windows (key "features"), plus any per-session extras and small counts;
- `feature_names(cfg, fitted) -> list[str] | None`;
- optionally `fit(train_sessions, windows, cfg) -> dict`: state learned on the train split
  only (a codebook, a vocabulary), saved as fitted.json and passed to every `extract`;
- optionally `preflight(cfg)`: raises, before any session is extracted, when a tool or model
  the configuration needs is not installed (the face stage's pyfeat backend).
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Extracted:
    arrays: dict[str, np.ndarray]  # "features": (windows, ...); other keys saved as <session>.<key>.npy
    # summed per split into meta.json; a list (of session ids, e.g. "sessions_without_face") is merged
    counts: dict[str, int | list[str]] = field(default_factory=dict)
