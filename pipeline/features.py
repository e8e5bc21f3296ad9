"""Stage `features@<extractor>`: one feature row per window for every session.

Reads:  data/corpus, data/windows/windows.csv; params `features.<extractor>`
Writes: data/features/<extractor>/<session>.npy  (windows x dims, float32, rows in
        windows.csv order) and meta.json (dims, feature names, sessions, seconds,
        x real time, config hash, tool versions)
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

from features import extractor_module
from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.sessions import Session, load_corpus

log = logging.getLogger("features")


def config_hash(cfg: dict) -> str:
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]


def extract_session(name: str, session: Session, windows: pd.DataFrame, cfg: dict) -> np.ndarray:
    features = extractor_module(name).extract(session, windows, cfg)
    if features.shape[0] != len(windows):
        raise RuntimeError(f"session {session.id}: {name} gave {features.shape[0]} rows for {len(windows)} windows")
    if not np.isfinite(features).all():
        raise RuntimeError(f"session {session.id}: {name} produced NaN/inf values")
    return features


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

    began, failures, dims = time.perf_counter(), {}, None
    with ProcessPoolExecutor(max_workers=int(cfg.get("workers", 1))) as pool:
        futures = {pool.submit(extract_session, name, s, windows[windows.session == s.id], cfg): s
                   for s in corpus.sessions}
        for future in tqdm(as_completed(futures), total=len(futures), desc=f"features {name}", unit="session"):
            session = futures[future]
            try:
                features = future.result()
            except Exception as err:
                failures[session.id] = str(err)
                continue
            np.save(out / f"{session.id}.npy", features)
            dims = features.shape[1]
    seconds = time.perf_counter() - began
    if failures:
        listing = "\n".join(f"  {sid}: {msg}" for sid, msg in sorted(failures.items()))
        raise RuntimeError(f"features@{name}: {len(failures)} of {len(corpus.sessions)} sessions failed:\n{listing}")

    audio_seconds = sum(s.duration_s for s in corpus.sessions)
    meta = {"extractor": name, "dims": dims, "sessions": len(corpus.sessions), "windows": len(windows),
            "seconds": round(seconds, 2), "x_realtime": round(audio_seconds / seconds, 1),
            "config": cfg, "config_hash": config_hash(cfg), "versions": module.VERSIONS,
            "feature_names": module.feature_names(cfg)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    log.info("features@%s: %d sessions, %d dims, %.1f s (%.1fx real time)", name, len(corpus.sessions), dims,
             seconds, meta["x_realtime"])


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
