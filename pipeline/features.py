"""Stages `features@<extractor>` (the default unit's windows), `unit_features@<key>` (an
extractor on a named unit spec) and `derived_features@<key>`: features for every unit of
every session.

Reads:  data/corpus, data/alignment, the unit's windows.csv (data/windows, or
        data/units/<unit> for `unit_features.<key>.unit`); params `features.<extractor>`
        (`unit_features.<key>`: {extractor, unit, optional config: overrides of
        features.<extractor>}; `derived_features.<key>`: {extractor, optional unit (default: the
        window stage's windows), the extractor's params}); for a `features` stage with
        `enabled: auto`, data/feature_demand/<key>.json (whether a run reads it:
        pipeline/feature_demand.py)
Writes: data/features/<key>/<session>.npy  (first axis = the session's units, in
        windows.csv order), <session>.<extra>.npy for per-session extras (e.g. a mask),
        fitted.json when the extractor learns state (fit on the train split only), and
        <session>.json (shapes, config hash, versions, input checksums of that session),
        meta.json (shape, feature names, sessions, config hash, tool versions, counts per
        split such as OOV words): every output is a function of the stage's inputs only,
        byte for byte, whether its sessions were computed now or came from the cache;
        data/run_log/<stage>.json (not a DVC output): seconds, x real time, cache counts
Keeps:  the per-session feature cache in the scratch cache (pipeline/feature_cache.py,
        pipeline/scratch.py): sessions whose inputs, windows, config, code and fitted state
        are unchanged are copied from there, so adding a session computes that session only
        and an interrupted run resumes.
Run:    python -m pipeline.features egemaps   (or `dvc repro features@egemaps`);
        python -m pipeline.features face_boaw (`dvc repro derived_features@face_boaw`);
        python -m pipeline.features egemaps_sentences (`dvc repro unit_features@egemaps_sentences`)

A session that fails stops the stage with every failing session and its file named;
nothing is skipped or zero-filled. On a corpus without the modality the extractor reads
(no video for `face`, no transcript for `glove`), or when its params say `enabled: false`
(or `auto` and no run reads it), the stage writes only a meta.json that says it was skipped
and why.
"""
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import Extracted
from features.registry import extractor_module
from features.worker_pool import map_sessions
from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.feature_cache import FeatureCache, extractor_inputs
from pipeline.params_check import check, check_extractor
from pipeline.scratch import write_run_log
from pipeline.sessions import Session, load_corpus

log = logging.getLogger("features")
# the corpus modalities that can provide each extractor input; a stage runs when its corpus
# has at least one of the modalities its inputs need (face: video or OpenFace CSVs)
MODALITIES_OF_INPUT = {"audio": ("audio",), "video": ("video",), "openface": ("openface",),
                       "alignment": ("transcript",), "recognised": ("audio",), "face_frames": ("video", "openface")}


def missing_modality(corpus, inputs: tuple[str, ...]) -> str | None:
    """Why the extractor with these inputs cannot run on this corpus, or None."""
    needed = [m for kind in inputs for m in MODALITIES_OF_INPUT.get(kind, ())]
    if not needed or any(corpus.lacks(m) is None for m in needed):
        return None
    return corpus.lacks(needed[0]) if len(set(needed)) == 1 else (
        f"corpus {corpus.name!r} has none of {', '.join(dict.fromkeys(needed))} "
        f"(its modalities: {', '.join(corpus.modalities) or 'none'})")


STAGE_GROUPS = ("features", "derived_features", "unit_features")


@dataclass(frozen=True)
class FeatureStage:
    """One feature stage: `group@key` in dvc.yaml, the extractor it runs, its config, its unit."""
    group: str  # features | derived_features | unit_features
    key: str  # the stage key and output folder data/features/<key>
    extractor: str
    config: dict  # the extractor's params (without `enabled`)
    unit: str = layout.DEFAULT_UNIT
    enabled: bool = True  # false: the stage writes only why it computed nothing
    auto: bool = False  # `enabled: auto`: it computes when a run reads it (pipeline/feature_demand.py)

    @property
    def name(self) -> str:
        return f"{self.group}@{self.key}"


def feature_stage(params: dict, key: str) -> FeatureStage:
    """The stage `key` names: a `unit_features` or `derived_features` entry, else `features.<key>`."""
    if key in (params.get("unit_features") or {}):
        check(params, f"unit_features.{key}")
        entry = params["unit_features"][key]
        cfg = {**section(params, f"features.{entry['extractor']}"), **(entry.get("config") or {})}
        config, enabled = _enabled(cfg)
        return FeatureStage("unit_features", key, entry["extractor"], config, entry["unit"], enabled)
    if key in (params.get("derived_features") or {}):
        entry = section(params, f"derived_features.{key}")
        check(params, f"derived_features.{key}")
        # the extractor's params: the entry without its stage keys
        cfg = {k: v for k, v in entry.items() if k not in ("extractor", "unit")}
        config, enabled = _enabled(cfg)
        return FeatureStage("derived_features", key, entry["extractor"], config,
                            entry.get("unit", layout.DEFAULT_UNIT), enabled)
    cfg = section(params, f"features.{key}")
    config, enabled = _enabled(cfg)
    return FeatureStage("features", key, key, config, enabled=enabled, auto=cfg.get("enabled") == "auto")


def _enabled(cfg: dict) -> tuple[dict, bool]:
    """The extractor's params without `enabled`, and whether the stage computes (default true:
    `enabled: false` makes a base config that only unit stages compute, e.g. raw waveforms). A unit
    or derived stage whose base config says `auto` computes: its unit decides (`units.<unit>.enabled`)."""
    return {k: v for k, v in cfg.items() if k != "enabled"}, cfg.get("enabled", True) is not False


def auto_skipped(key: str) -> str | None:
    """Why the `enabled: auto` stage features@<key> computes nothing in this repro, or None if it
    computes: its file from the feature_demand stage (pipeline/feature_demand.py)."""
    path = layout.feature_demand_file(key)
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: features.{key}.enabled is auto, and the feature_demand "
                                f"stage decides whether it computes (dvc repro feature_demand)")
    entry = json.loads(path.read_text())
    return None if entry.get("computed", entry.get("enabled")) else entry.get("why", f"{path} says not computed")


def unit_skipped(unit: str) -> str | None:
    """Why the unit stage made no units on this corpus (e.g. no segments files), or None."""
    task = layout.unit_dir(unit) / "task.json"
    info = json.loads(task.read_text()) if task.exists() else {}
    return f"unit {unit!r}: {info['skipped']}" if "skipped" in info else None


def stage_name(params: dict, key: str) -> str:
    """`features@<key>`, `unit_features@<key>` or `derived_features@<key>` (an extractor built on
    another feature stage's output: a separate DVC stage that depends on that output)."""
    return feature_stage(params, key).name


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


def write_session(out, session_id: str, result: Extracted, entry: dict) -> None:
    for key, array in result.arrays.items():
        np.save(out / (f"{session_id}.npy" if key == "features" else f"{session_id}.{key}.npy"), array)
    (out / f"{session_id}.json").write_text(json.dumps(entry, indent=1))


def extract_all(stage: FeatureStage, corpus, windows: pd.DataFrame, fitted, fitted_key,
                cache: FeatureCache, engine: dict | None = None, out=None) -> tuple[dict, tuple, set]:
    """Writes every session's arrays into `out` (default data/features/<key>; from the cache
    when its key matches; the others computed on `engine`, the params' `engine` section);
    returns per-split summed counts, the feature shape and the ids of the sessions that came
    from the cache."""
    name, cfg = stage.extractor, stage.config
    out = layout.FEATURES / stage.key if out is None else out
    hash_of_config = config_hash(cfg)
    counts: dict[str, dict[str, int]] = {}
    shape, reused = None, set()

    def collect(session, result: Extracted) -> None:
        nonlocal shape
        shape = result.arrays["features"].shape[1:]
        split = counts.setdefault(session.split, {})
        for key, value in result.counts.items():  # numbers are summed, lists of session ids merged
            split[key] = sorted(split.get(key, []) + value) if isinstance(value, list) else split.get(key, 0) + value

    pending = {}
    for session in corpus.sessions:
        session_windows = windows[windows.session == session.id]
        key = cache.session_key(session, session_windows, fitted_key)
        cached = cache.load(session.id, key)
        if cached is None:
            pending[session.id] = (session, session_windows, key)
            continue
        reused.add(session.id)
        result, entry = cached
        # the entry may come from a run with other `workers`, which the key leaves out
        write_session(out, session.id, result, {**entry, "config_hash": hash_of_config})
        collect(session, result)
    if reused:
        log.info("%s: %d of %d sessions unchanged (from %s)", stage.name, len(reused), len(corpus.sessions),
                 cache.root)
    if pending:
        def store(session_id: str, result) -> None:  # as each session arrives: a kill keeps what is done
            session, _, key = pending[session_id]
            entry = cache.store(session, key, result, hash_of_config)
            write_session(out, session_id, result, entry)
            collect(session, result)

        jobs = {sid: (name, s, w, cfg, fitted) for sid, (s, w, key) in pending.items()}
        # failures counted against the whole corpus, the cached sessions included
        map_sessions(extract_session, jobs, int(cfg.get("workers", 1)), stage.name, each=store,
                     total=len(corpus.sessions), engine=engine)
    # sessions arrive in completion order: sort, so the same inputs always give the same meta.json
    counts = {split: dict(sorted(c.items())) for split, c in sorted(counts.items())}
    return counts, shape, reused


def fit_on_train(module, cache: FeatureCache, corpus, windows: pd.DataFrame, cfg: dict) -> tuple[dict | None, str | None]:
    """The extractor's state fit on the corpus's train split (cached under the train sessions' keys)."""
    return fit_on(module, cache, corpus.split("train"), windows, cfg)


def fit_on(module, cache: FeatureCache, train: list[Session], windows: pd.DataFrame,
           cfg: dict) -> tuple[dict | None, str | None]:
    """The extractor's state fit on `train` (a fold's training sessions: pipeline/fold_features.py),
    and its cache key; (None, None) for an extractor that learns nothing."""
    if not hasattr(module, "fit"):
        return None, None
    key = cache.fit_key(train, windows)
    fitted = cache.load_fit(key)
    if fitted is None:
        fitted = module.fit(train, windows, cfg)
        cache.store_fit(key, fitted)
    else:
        log.info("features@%s: fitted state unchanged (train sessions and config as before)", cache.name)
    return fitted, key


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m pipeline.features <stage key>")
    params = load_params()
    check(params, "engine")
    stage = feature_stage(params, argv[0])
    name, cfg, out = stage.extractor, stage.config, layout.FEATURES / stage.key
    check_extractor(name, cfg)  # before the corpus is read
    corpus = load_corpus()
    units_csv = layout.unit_dir(stage.unit) / "windows.csv"
    if not units_csv.exists():
        raise FileNotFoundError(f"{units_csv} missing: run the stage of unit {stage.unit!r} first")
    windows = pd.read_csv(units_csv)
    out.mkdir(parents=True, exist_ok=True)
    off = None if stage.enabled else (f"{stage.name} has enabled: false (a base config; the unit_features "
                                      f"stages on `{name}` set enabled: true)")
    off = off or (auto_skipped(stage.key) if stage.auto else None)
    # a stage that is off skips before its extractor is imported (a CNN's imports take seconds, and
    # the default repro has a dozen such stages); the others ask the extractor
    module = None if (early := off or unit_skipped(stage.unit)) else extractor_module(name)
    if reason := (early or missing_modality(corpus, extractor_inputs(module, cfg))
                  or (module.skipped(cfg) if hasattr(module, "skipped") else None)):
        # DVC runs every stage; this one records why it has nothing, and models reading it refuse: a
        # stage its params left out (`off`) fails them, one the corpus cannot give skips them
        (out / "meta.json").write_text(json.dumps({"extractor": name, "skipped": reason,
                                                   **({"off": True} if off else {}),
                                                   "sessions": len(corpus.sessions)}, indent=1))
        log.warning("%s skipped: %s", stage.name, reason)
        return

    if hasattr(module, "preflight"):  # models or tools it needs, checked before any session
        module.preflight(cfg)
    began = time.perf_counter()
    cache = FeatureCache(name, module, cfg)
    fitted, fitted_key = fit_on_train(module, cache, corpus, windows, cfg)
    if fitted is not None:
        (out / "fitted.json").write_text(json.dumps(fitted))
    counts, shape, reused = extract_all(stage, corpus, windows, fitted, fitted_key, cache, params.get("engine"))
    meta = {"extractor": name, **({"unit": stage.unit} if stage.unit != layout.DEFAULT_UNIT else {}),
            "shape": list(shape), "dims": int(np.prod(shape)), "sessions": len(corpus.sessions),
            "windows": len(windows), "config": cfg, "config_hash": config_hash(cfg), "versions": cache.versions,
            "fit_on": "train" if fitted is not None else None, "counts": counts,
            "feature_names": module.feature_names(cfg, fitted)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    seconds = time.perf_counter() - began
    computed_audio_seconds = sum(s.duration_s for s in corpus.sessions if s.id not in reused)
    # speed over the sessions this run computed; None when every session came from the cache
    x_realtime = round(computed_audio_seconds / seconds, 1) if computed_audio_seconds else None
    write_run_log(stage.name, seconds=round(seconds, 2), x_realtime=x_realtime,
                  sessions=len(corpus.sessions), sessions_reused=len(reused),
                  sessions_computed=len(corpus.sessions) - len(reused),
                  computed_audio_seconds=round(computed_audio_seconds, 2), cache=str(cache.root))
    log.info("%s: %d sessions (%d computed), shape %s per unit, %.1f s", stage.name,
             len(corpus.sessions), len(corpus.sessions) - len(reused), tuple(shape), seconds)


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
