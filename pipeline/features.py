"""Stage `features@<extractor>`: features for every window of every session.

Reads:  data/corpus, data/alignment, data/windows/windows.csv; params `features.<extractor>`
Writes: data/features/<extractor>/<session>.npy  (first axis = the session's windows, in
        windows.csv order), <session>.<extra>.npy for per-session extras (e.g. a mask),
        fitted.json when the extractor learns state (fit on the train split only), and
        meta.json (shape, feature names, sessions, seconds, x real time, config hash,
        tool versions, counts per split such as OOV words)
Run:    python -m pipeline.features egemaps   (or `dvc repro features@egemaps`)

A session that fails stops the stage with every failing session and its file named;
nothing is skipped or zero-filled.
"""
import hashlib
import json
import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd
from tqdm import tqdm

from features import Extracted, extractor_module
from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.sessions import Session, load_corpus

log = logging.getLogger("features")


def config_hash(cfg: dict) -> str:
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]


def extract_session(name: str, session: Session, windows: pd.DataFrame, cfg: dict, fitted) -> Extracted:
    out = extractor_module(name).extract(session, windows, cfg, fitted)
    features = out.arrays["features"]
    if features.shape[0] != len(windows):
        raise RuntimeError(f"session {session.id}: {name} gave {features.shape[0]} rows for {len(windows)} windows")
    for key, array in out.arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise RuntimeError(f"session {session.id}: {name} produced NaN/inf values in {key}")
    return out


def extract_all(name: str, corpus, windows: pd.DataFrame, cfg: dict, fitted) -> tuple[dict, tuple]:
    """Writes every session's arrays; returns per-split summed counts and the feature shape."""
    out = layout.FEATURES / name
    counts: dict[str, dict[str, int]] = {}
    failures, shape = {}, None
    with ProcessPoolExecutor(max_workers=int(cfg.get("workers", 1))) as pool:
        futures = {pool.submit(extract_session, name, s, windows[windows.session == s.id], cfg, fitted): s
                   for s in corpus.sessions}
        for future in tqdm(as_completed(futures), total=len(futures), desc=f"features {name}", unit="session"):
            session = futures[future]
            try:
                result = future.result()
            except Exception as err:
                failures[session.id] = str(err)
                continue
            for key, array in result.arrays.items():
                np.save(out / (f"{session.id}.npy" if key == "features" else f"{session.id}.{key}.npy"), array)
            shape = result.arrays["features"].shape[1:]
            split = counts.setdefault(session.split, {})
            for key, value in result.counts.items():
                split[key] = split.get(key, 0) + value
    if failures:
        listing = "\n".join(f"  {sid}: {msg}" for sid, msg in sorted(failures.items()))
        raise RuntimeError(f"features@{name}: {len(failures)} of {len(corpus.sessions)} sessions failed:\n{listing}")
    return counts, shape


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m pipeline.features <extractor>")
    name = argv[0]
    cfg = section(load_params(), f"features.{name}")
    module = extractor_module(name)
    corpus = load_corpus()
    windows = pd.read_csv(layout.WINDOWS / "windows.csv")
    out = layout.FEATURES / name
    out.mkdir(parents=True, exist_ok=True)

    began = time.perf_counter()
    fitted = None
    if hasattr(module, "fit"):
        fitted = module.fit(corpus.split("train"), windows, cfg)
        (out / "fitted.json").write_text(json.dumps(fitted))
    counts, shape = extract_all(name, corpus, windows, cfg, fitted)
    seconds = time.perf_counter() - began
    audio_seconds = sum(s.duration_s for s in corpus.sessions)
    meta = {"extractor": name, "shape": list(shape), "dims": int(np.prod(shape)), "sessions": len(corpus.sessions),
            "windows": len(windows), "seconds": round(seconds, 2), "x_realtime": round(audio_seconds / seconds, 1),
            "config": cfg, "config_hash": config_hash(cfg), "versions": module.versions(cfg),
            "fit_on": "train" if fitted is not None else None, "counts": counts,
            "feature_names": module.feature_names(cfg, fitted)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    log.info("features@%s: %d sessions, shape %s per window, %.1f s (%.1fx real time)", name,
             len(corpus.sessions), tuple(shape), seconds, meta["x_realtime"])


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
