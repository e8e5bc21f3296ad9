"""The per-session feature cache that every `features@<extractor>` stage keeps.

Reads/writes, in the scratch cache (pipeline/scratch.py: `$EMOREPRO_CACHE_DIR`, by default
~/.cache/emorepro; not a DVC output):
              features/<extractor>/sessions/<session>/<key>/  (<array>.npy + entry.json)
              features/<extractor>/fitted/<key>.json             (state learned on train)

DVC re-runs a feature stage as a whole whenever any session, param or code changes; this
cache makes that re-run compute only what changed. A session's key is a checksum of
everything its tensors are a function of:

- the content of the files the extractor reads for it (its module's `INPUTS`, or
  `inputs(cfg)` where the config chooses them: media, segments, the aligned or the
  recognised words) and the session's window boundaries;
- the extractor config (less `workers`, which changes no number) and `versions(cfg)`,
  which include tool versions and model/vector file checksums;
- the source of the extractor module and of every `features` module it imports;
- the fitted state (codebook, vocabulary), itself cached under a key over the train
  sessions' keys.

So adding one session computes that session only, an interrupted stage resumes from the
sessions it had finished (each entry is written as soon as its session is done, by
renaming a finished temporary folder: a half-written entry is never read), and every key
seen is kept, so switching a param back and forth recomputes nothing. Entries are never
replaced, so workspaces sharing the cache (queued experiments) cannot disturb each other;
`python -m pipeline.scratch prune` removes the least recently used ones.
"""
import ast
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from features import Extracted
from features.file_hash import file_sha256
from pipeline import layout
from pipeline.scratch import STAGING_PREFIX, scratch_root

WINDOW_COLUMNS = ["index", "start", "end", "word_first", "word_last"]  # labels never reach an extractor
IGNORED_CONFIG = ("workers",)


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


FEATURES_DIR = Path(__file__).resolve().parent.parent / "features"


def feature_module_path(name: str) -> Path:
    return FEATURES_DIR / f"{name.replace('.', '/')}.py"


def imported_feature_modules(source: str) -> list[str]:
    """The `features` modules that Python `source` imports anywhere, function bodies included
    ("__init__" for the package itself), in the order they appear: the edges of the `features`
    import graph, which the cache key follows and tests/test_feature_imports.py keeps acyclic."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("features."):
            names.append(node.module.removeprefix("features."))
        elif isinstance(node, ast.ImportFrom) and node.module == "features":
            names.append("__init__")
            names.extend(alias.name for alias in node.names)  # `from features import face_pyfeat` names a module
        elif isinstance(node, ast.Import):
            names.extend(a.name.removeprefix("features.") for a in node.names if a.name.startswith("features."))
    return [name for name in dict.fromkeys(names) if feature_module_path(name).exists()]


def module_sources(name: str, seen: set | None = None) -> dict[str, str]:
    """Checksums of features/<name>.py and, recursively, the `features` modules it imports."""
    seen = set() if seen is None else seen
    path = feature_module_path(name)
    if name in seen or not path.exists():
        return {}
    seen.add(name)
    sources = {f"features/{name}.py": file_sha256(str(path))}
    for imported in imported_feature_modules(path.read_text()):
        sources.update(module_sources(imported, seen))
    return sources


def extractor_inputs(module, cfg: dict) -> tuple[str, ...]:
    """The per-session files an extractor reads: its INPUTS, or `inputs(cfg)` when its config
    chooses them (GloVe over the aligned or the recognised words)."""
    return tuple(module.inputs(cfg) if hasattr(module, "inputs") else module.INPUTS)


def input_path(session, kind: str) -> Path:
    """The file behind one of an extractor's INPUTS for this session."""
    if kind == "alignment":
        return layout.ALIGNMENT / f"{session.id}.csv"
    if kind == "recognised":  # the speech recogniser's words (pipeline/recognise.py)
        return layout.RECOGNISED / f"{session.id}.csv"
    if kind == "face_frames":  # the face stage's per-frame table (derived_features@face_boaw)
        return layout.FEATURES / "face" / f"{session.id}.frames.npy"
    return session.path(kind)


def input_checksums(session, kinds: tuple[str, ...]) -> dict[str, str | None]:
    """Content checksum per input kind; None for an optional input the session lacks."""
    sums = {}
    for kind in kinds:
        if kind not in ("alignment", "recognised", "face_frames") and not session.files.get(kind):
            sums[kind] = None  # e.g. no segments file: the extractor handles (and reports) that itself
            continue
        path = input_path(session, kind)
        if not path.exists():
            raise FileNotFoundError(f"session {session.id}: {kind} file {path} is missing")
        sums[kind] = file_sha256(str(path))
    return sums


def touch(path: Path) -> None:
    """Marks an entry as used now: `python -m pipeline.scratch prune` drops the least recently used first."""
    try:
        os.utime(path)
    except OSError:  # a read-only shared cache still serves its entries
        pass


class FeatureCache:
    """Cache entries of one extractor; `stage_key` covers what is shared by all its sessions."""

    def __init__(self, name: str, module, cfg: dict, root: Path | None = None):
        self.name, self.module = name, module
        self.root = (root or scratch_root() / "features") / name
        self.inputs = extractor_inputs(module, cfg)
        config = {k: v for k, v in cfg.items() if k not in IGNORED_CONFIG}
        self.versions = module.versions(cfg)  # tool versions, model/vector checksums: recorded in every entry
        self.stage_key = digest({"extractor": name, "config": config, "versions": self.versions,
                                 "code": module_sources(name)})

    def session_key(self, session, windows: pd.DataFrame, fitted_key: str | None) -> str:
        rows = windows[WINDOW_COLUMNS].to_csv(index=False, float_format="%.6f")
        return digest({"stage": self.stage_key, "fitted": fitted_key, "duration_s": session.duration_s,
                       "inputs": input_checksums(session, self.inputs), "windows": rows})[:24]

    # -- fitted state -------------------------------------------------------------------------
    def fit_key(self, train_sessions, windows: pd.DataFrame) -> str:
        return digest({"stage": self.stage_key, "train": [
            (s.id, self.session_key(s, windows[windows.session == s.id], None)) for s in train_sessions]})[:24]

    def load_fit(self, key: str) -> dict | None:
        path = self.root / "fitted" / f"{key}.json"
        if not path.exists():
            return None
        touch(path)
        return json.loads(path.read_text())

    def store_fit(self, key: str, fitted: dict) -> None:
        folder = self.root / "fitted"
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=STAGING_PREFIX, suffix=".tmp", delete=False) as f:
            f.write(json.dumps(fitted))
        Path(f.name).replace(folder / f"{key}.json")  # same key, same content: a concurrent writer is harmless

    # -- per-session tensors ------------------------------------------------------------------
    def entry_dir(self, session_id: str, key: str) -> Path:
        return self.root / "sessions" / session_id / key

    def load(self, session_id: str, key: str) -> tuple[Extracted, dict] | None:
        """The cached arrays and entry of a session, or None on a miss (or an unreadable entry)."""
        folder = self.entry_dir(session_id, key)
        entry_path = folder / "entry.json"
        if not entry_path.exists():
            return None
        entry = json.loads(entry_path.read_text())
        try:
            arrays = {k: np.load(folder / f"{k}.npy") for k in entry["shapes"]}
        except (OSError, ValueError):
            return None
        if any(list(arrays[k].shape) != shape for k, shape in entry["shapes"].items()):
            return None
        touch(entry_path)
        return Extracted(arrays, entry["counts"]), entry

    def store(self, session, key: str, result: Extracted, config_hash: str) -> dict:
        """Writes one session's entry atomically, beside its entries under other keys; returns it."""
        entry = {"session": session.id, "extractor": self.name, "key": key, "config_hash": config_hash,
                 "versions": self.versions, "inputs": input_checksums(session, self.inputs),
                 "shapes": {k: list(a.shape) for k, a in result.arrays.items()}, "counts": result.counts}
        parent = self.root / "sessions" / session.id
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
        for array_key, array in result.arrays.items():
            np.save(staging / f"{array_key}.npy", array)
        (staging / "entry.json").write_text(json.dumps(entry, indent=1))
        target = self.entry_dir(session.id, key)
        if target.exists() and self.load(session.id, key) is None:
            shutil.rmtree(target, ignore_errors=True)  # unreadable (e.g. a damaged file): replace it
        try:
            staging.rename(target)
        except OSError:  # another workspace stored the same key first: same content, keep theirs
            shutil.rmtree(staging, ignore_errors=True)
        return entry
