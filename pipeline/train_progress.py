"""Training state after each epoch, so an interrupted `train` or `benchmark@<run>` resumes.

Kept in the scratch cache (pipeline/scratch.py), not in a DVC output, as train/<run key>.pt.
The run key is a checksum of everything that shapes the run except `epochs` (so a run can
also be extended): the model spec, the `train` settings, the seed, the device, the
content of every session's features and labels, and the source of the code that turns them
into epochs (TRAINING_CODE: the models, the data layer and its normaliser, the tasks and the
trainer; a run of changed code starts over instead of resuming a state the old code made).
Two runs share a progress file only when they would compute the same epochs, whichever
workspace they run in.
"""
import hashlib
import json
import logging
import tempfile
from pathlib import Path

import numpy as np
import torch

from pipeline.scratch import STAGING_PREFIX

log = logging.getLogger("trainer")
REPO = Path(__file__).resolve().parents[1]
TRAINING_CODE = ("models", "training", "metrics", "pipeline/trainer.py", "pipeline/sequences.py",
                 "pipeline/model_inputs.py", "pipeline/inner_sequences.py", "pipeline/train_progress.py",
                 "features/lld.py", "features/word_alignment.py")


def code_digest() -> str:
    """sha256 over the Python sources of TRAINING_CODE, by path relative to the repository."""
    digest = hashlib.sha256()
    for entry in TRAINING_CODE:
        path = REPO / entry
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(str(source.relative_to(REPO)).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def run_key(spec, cfg: dict, seed: int, sequences, device) -> str:
    """Identifies a training run for resuming; `sequences` as loaded (before shuffling or
    normalising)."""
    data = hashlib.sha256()
    for s in sequences:
        # frames, words or samples inside units (pipeline/inner_sequences.py): values, times (samples: none), ranges
        arrays = {k: tuple(a for a in (v.values, v.times, v.ranges) if a is not None) if hasattr(v, "ranges")
                  else (v,) for k, v in s.x.items()}
        shapes = {k: [list(v[0].shape), str(v[0].dtype)] if len(v) == 1 else [[list(a.shape), str(a.dtype)] for a in v]
                  for k, v in arrays.items()}
        data.update(json.dumps([s.id, s.split, shapes, list(s.y.shape)]).encode())
        for array in (s.start, *(a for v in arrays.values() for a in v), *s.mask.values(), s.y):
            data.update(np.ascontiguousarray(array).tobytes())
    what = {"spec": vars(spec), "cfg": {k: v for k, v in cfg.items() if k != "epochs"}, "seed": seed,
            "device": str(device), "data": data.hexdigest(), "code": code_digest()}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def progress_file(folder: Path | None, key: str) -> Path | None:
    return None if folder is None else folder / f"{key[:32]}.pt"


def save_progress(path: Path, key: str, epoch: int, model, optimiser, rng: np.random.Generator, state: dict) -> None:
    """Everything needed to continue after `epoch`, written atomically (an interrupt mid-write
    leaves the previous epoch's file; a second run of the same key writes its own temporary)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=STAGING_PREFIX, suffix=".tmp", delete=False) as tmp:
        torch.save({"key": key, "epoch": epoch, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                    "best_state": state["best_state"], "torch_rng": torch.get_rng_state(),
                    "json": json.dumps({"rng": rng.bit_generator.state, "best": state["best"],
                                        "stale": state["stale"], "history": state["history"],
                                        "stopped": state["stopped"]})}, tmp)
    Path(tmp.name).replace(path)


def load_progress(path: Path | None, key: str, epochs: int, model, optimiser,
                  rng: np.random.Generator) -> tuple[int, dict] | None:
    """(last finished epoch, training state) from a matching progress file, else None. A file
    past `epochs` (a longer run of the same key) is not used: a shorter run starts over."""
    if path is None or not path.exists():
        return None
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved["key"] != key:
        log.info("ignoring %s: it belongs to another run", path)
        return None
    if saved["epoch"] > epochs:
        log.info("ignoring %s: it is %d epochs into a run of more than %d", path, saved["epoch"], epochs)
        return None
    extra = json.loads(saved["json"])
    model.load_state_dict(saved["model"])
    optimiser.load_state_dict(saved["optimiser"])
    torch.set_rng_state(saved["torch_rng"])
    rng.bit_generator.state = extra["rng"]
    return saved["epoch"], {"best_state": saved["best_state"], "best": extra["best"], "stale": extra["stale"],
                            "history": extra["history"], "stopped": extra["stopped"]}
