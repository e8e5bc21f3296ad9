"""Feature stages with fitted state, refitted on one fold's training speakers (the k-fold
protocol of pipeline/protocols.py).

A stage that learns from data (a bag-of-words codebook, a vocabulary: its `fitted.json`) is
fitted by its DVC stage on the corpus's train split, which holds most folds' test speakers.
A k-fold run therefore refits each such stage on the fold's training sessions only (not its
dev or test sessions, as the stage itself fits on train only) and extracts every session
with that state, as the feature stage would (pipeline/features.py: the same extractor,
config, units and per-session cache, keyed by the fitted state, so a second run, or another
run over the same folds, computes nothing).

Writes, into the fold's folder of the run (a DVC output of the run's stage):
    fold<k>/features/<stage>/<session>.npy (+ <session>.mask.npy ...), fitted.json, meta.json
The fold's checkpoint names these folders (meta `stage_folders`, relative to the checkpoint's
folder), so evaluation, figures and `predict --fold` read the fold's features and fitted
state, never the corpus split's, whether a model reads them per unit or inside units
(`per: word | frame`).

The refit reads what the stage reads (its params, extractor, the alignment or source stage);
the run's DVC stage does not list those: they reach it through data/features/<stage>, whose
outputs (config, fitted state, features) change whenever they do.
"""
import json
import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd

from features.registry import extractor_module
from pipeline import layout
from pipeline.config import load_params
from pipeline.feature_cache import FeatureCache
from pipeline.features import config_hash, extract_all, feature_stage, fit_on
from pipeline.model_inputs import feature_stages
from pipeline.sessions import load_corpus

log = logging.getLogger("fold_features")
FOLDER = "features"  # inside a fold's folder


def fitted_stages(features: list[str] | dict) -> list[str]:
    """The stages among a model's inputs whose DVC stage fitted state on the corpus's train split."""
    return [stage for stage in feature_stages(features) if (layout.FEATURES / stage / "fitted.json").exists()]


def refit_for_fold(stages: list[str], split_of: dict[str, str], fold_folder: Path) -> dict[str, str]:
    """Refits each stage on the fold's train sessions and writes its features for every
    session under `fold_folder`/features/<stage>; returns {stage: folder relative to
    `fold_folder`} (what the fold's checkpoint records)."""
    if not stages:
        return {}
    params = load_params()
    corpus = load_corpus()
    missing = sorted(s.id for s in corpus.sessions if s.id not in split_of)
    if missing:
        raise ValueError(f"the fold's split names no split for sessions {missing}")
    # the fold's splits on the sessions: the extractor's per-split counts are the fold's
    fold_corpus = replace(corpus, sessions=[replace(s, split=split_of[s.id]) for s in corpus.sessions])
    train = fold_corpus.split("train")
    folders = {}
    for key in stages:
        stage = feature_stage(params, key)
        module = extractor_module(stage.extractor)
        windows = pd.read_csv(layout.unit_dir(stage.unit) / "windows.csv")
        cache = FeatureCache(stage.extractor, module, stage.config)
        fitted, fitted_key = fit_on(module, cache, train, windows, stage.config)
        if fitted is None:
            raise ValueError(f"feature stage {key!r} has a fitted.json, but its extractor {stage.extractor!r} "
                             f"fits nothing: run `dvc repro` (its outputs are out of date)")
        out = fold_folder / FOLDER / key
        out.mkdir(parents=True, exist_ok=True)
        (out / "fitted.json").write_text(json.dumps(fitted))
        counts, shape, reused = extract_all(stage, fold_corpus, windows, fitted, fitted_key, cache,
                                            params.get("engine"), out=out)
        (out / "meta.json").write_text(json.dumps({
            "extractor": stage.extractor, **({"unit": stage.unit} if stage.unit != layout.DEFAULT_UNIT else {}),
            "shape": list(shape), "sessions": len(corpus.sessions), "config": stage.config,
            "config_hash": config_hash(stage.config), "versions": cache.versions,
            "fit_on": "the fold's train sessions", "train_sessions": sorted(s.id for s in train),
            "counts": counts, "feature_names": module.feature_names(stage.config, fitted)}, indent=1))
        log.info("%s refitted on the fold's %d train sessions (%d of %d sessions' features from the cache)",
                 stage.name, len(train), len(reused), len(corpus.sessions))
        folders[key] = f"{FOLDER}/{key}"
    return folders


def fold_folders(checkpoint: Path, relative: dict[str, str] | None) -> dict[str, Path]:
    """{stage: folder} of the features a checkpoint is trained on in place of data/features/<stage>
    (`relative`: its meta `stage_folders`, relative to the checkpoint's folder)."""
    return {key: checkpoint.parent / folder for key, folder in (relative or {}).items()}
