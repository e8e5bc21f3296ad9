"""A trained run with everything `predict` needs to apply it to new recordings, as one file.

Reads:  the run's checkpoint (`train`: data/train/model.pt; a benchmark or pretrain run:
        data/benchmark/<run>/model.pt, data/pretrain/<run>/model.pt; a k-fold run:
        fold<k>/model.pt), for every feature stage the model reads (and the stage a derived
        one is built on) data/features/<stage>/meta.json (extractor, config, versions) and
        fitted.json (codebook, vocabulary: fitted on the train split), data/corpus/manifest.json
        (the corpus's audio rate and video frame rate); params: the run's unit spec (the window
        preset, or `units.<name>`) and `align`, `recognise`
Writes: (python -m pipeline.bundle <run> [--fold K] --out FILE) one torch file, loadable with
        torch.load(weights_only=True): the checkpoint's bytes as train wrote them (weights,
        normaliser, spec) and a JSON description of the stages, the unit and the ingest settings
Run:    python -m pipeline.bundle lstm_ccc --out lstm_ccc.bundle.pt
        (python -m pipeline.predict --run <run> builds the same bundle in memory)

The bundle is exported from a reproduced workspace: a feature stage whose config in
params.yaml differs from the one its outputs were computed with is refused (run `dvc repro`
first), so the fitted state and the weights always belong together.
"""
import argparse
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.features import feature_stage
from pipeline.fold_features import fold_folders
from pipeline.model_inputs import feature_stages
from pipeline.protocols import checkpoints
from pipeline.trained_model import load_trained
from pipeline.window import window_settings, window_starts

FORMAT = 1  # the bundle layout's version: a reader refuses one it does not know


@dataclass
class Bundle:
    checkpoint: bytes  # model.pt as written by pipeline/trainer.py's train_model
    spec: dict  # run, fold, corpus, sample_rate, video_fps, unit, align, recognise, stages

    def trained(self):
        """(model, meta, normaliser) of the bundled checkpoint (pipeline/trained_model.py)."""
        return load_trained(io.BytesIO(self.checkpoint))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"format": FORMAT, "checkpoint": torch.frombuffer(bytearray(self.checkpoint), dtype=torch.uint8),
                    "spec": json.dumps(self.spec)}, path)

    @classmethod
    def load(cls, path: Path) -> "Bundle":
        if not Path(path).exists():
            raise FileNotFoundError(f"bundle {path} not found (python -m pipeline.bundle <run> --out {path})")
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            raise ValueError(f"{path} is not a prediction bundle of format {FORMAT} (python -m pipeline.bundle)")
        return cls(saved["checkpoint"].numpy().tobytes(), json.loads(saved["spec"]))


def run_folder(run: str) -> Path:
    """Where a run's checkpoints are: `train` (the `model` param's run), or a benchmark or pretrain run."""
    if run == "train":
        return layout.TRAIN
    for group in ("benchmark", "pretrain"):
        if (layout.DATA / group / run).is_dir():
            return layout.DATA / group / run
    trained = sorted(p.parent.name for group in ("benchmark", "pretrain")
                     for p in (layout.DATA / group).glob("*/*model.pt")) if layout.DATA.exists() else []
    raise FileNotFoundError(f"run {run!r} has no checkpoint under {layout.DATA}/benchmark or {layout.DATA}/pretrain "
                            f"(trained runs here: train{', ' if trained else ''}{', '.join(trained)}); "
                            f"train it with `dvc repro benchmark@{run}` (or pretrain@{run})")


def run_checkpoint(run: str, fold: int | None) -> Path:
    """The checkpoint of `run`; of fold `fold` for a run trained with k folds (which has k models)."""
    found = checkpoints(run_folder(run))
    if len(found) > 1 and fold is None:
        raise ValueError(f"run {run!r} was trained with {len(found)} folds, one model each: choose one (--fold 0 to "
                         f"{len(found) - 1})")
    if fold is not None and not 0 <= fold < len(found):
        raise ValueError(f"run {run!r} has {len(found)} fold(s): --fold {fold} is not one of them")
    path = found[fold or 0]
    if not path.exists():
        folder = run_folder(run)
        metrics = layout.REPORTS / folder.relative_to(layout.DATA) / "metrics.json"
        skipped = json.loads(metrics.read_text()).get("skipped") if metrics.exists() else None
        if skipped:
            raise ValueError(f"run {run!r} was skipped on this corpus, so it has no model: {skipped}")
        raise FileNotFoundError(f"{path} missing: train the run first (dvc repro)")
    return path


def stage_entries(features: list | dict, params: dict, folders: dict[str, Path] | None = None) -> list[dict]:
    """{key, extractor, config, fitted} of every stage the model reads, a derived stage's source
    first; refuses a stage whose outputs are missing, skipped or computed with another config.
    `folders`: the stages a fold refitted (their fitted state is the fold's)."""
    entries: dict[str, dict] = {}
    folders = folders or {}

    def add(key: str) -> None:
        if key in entries:
            return
        meta_path = layout.FEATURES / key / "meta.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"{meta_path} missing: run the feature stage {key!r} first (dvc repro)")
        meta = json.loads(meta_path.read_text())
        if "skipped" in meta:
            raise ValueError(f"feature stage {key!r} computed nothing on this corpus: {meta['skipped']}")
        configured = feature_stage(params, key).config
        if meta["config"] != configured:
            raise ValueError(f"feature stage {key!r}: params.yaml's config {configured} differs from the one its "
                             f"outputs were computed with {meta['config']}: run `dvc repro` before exporting")
        if source := meta["config"].get("source"):  # a derived stage reads its source's per-frame output
            add(source)
        fitted = folders.get(key, layout.FEATURES / key) / "fitted.json"
        entries[key] = {"key": key, "extractor": meta["extractor"], "config": with_absolute_paths(meta["config"]),
                        "unit": meta.get("unit", layout.DEFAULT_UNIT), "versions": meta.get("versions", {}),
                        "fitted": json.loads(fitted.read_text()) if fitted.exists() else None}

    for key in feature_stages(features):
        add(key)
    return list(entries.values())


PATH_KEYS = ("vectors", "weights_path", "model")  # config keys that may name a file or folder (params.yaml)


def with_absolute_paths(config: dict) -> dict:
    """The config with each path it names (word vectors, CNN weights, a local transformers model
    folder) made absolute: predict works in a folder of its own. Only PATH_KEYS: other values
    (`words: alignment`) may happen to match a folder's name."""
    return {k: str(Path(v).resolve()) if k in PATH_KEYS and isinstance(v, str) and v and Path(v).exists() else v
            for k, v in config.items()}


def unit_spec(params: dict, unit: str | None, corpus_task: str) -> dict:
    """How predict cuts a recording into the run's units: {name, kind, settings...}."""
    name = unit or layout.DEFAULT_UNIT
    spec = ({"kind": "window", **window_settings(section(params, "window"))} if name == layout.DEFAULT_UNIT
            else section(params, f"units.{name}"))
    if spec["kind"] == "window" and corpus_task == "categorical":  # one utterance-level window per session
        return {"name": name, "kind": "session"}
    return {"name": name, **spec}


def check_unit(spec: dict, manifest: dict) -> None:
    """Refuses a window spec that would not cut the unit stage's windows: params changed since
    the unit stage last ran (the window count of the first session, shift included, differs)."""
    if spec["kind"] != "window":
        return
    path = layout.unit_dir(spec["name"]) / "windows.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run the unit's stage first (dvc repro)")
    windows = pd.read_csv(path, usecols=["session"])
    first = windows.session.iloc[0]
    duration = next(float(s["duration_s"]) for s in manifest["sessions"] if s["id"] == first)
    cut = window_starts(duration, float(spec["length_s"]), float(spec["hop_s"]), float(spec["label_shift_s"]))
    if len(cut) != int((windows.session == first).sum()):
        raise ValueError(f"unit {spec['name']!r}: params.yaml's settings {spec} cut {len(cut)} windows from session "
                         f"{first}, {path} holds {int((windows.session == first).sum())}: run `dvc repro` before "
                         f"exporting")


def export(run: str, fold: int | None = None) -> Bundle:
    """The bundle of a trained run in this workspace."""
    path = run_checkpoint(run, fold)
    _, meta, _ = load_trained(path)
    params = load_params()
    manifest = json.loads((layout.CORPUS / "manifest.json").read_text())
    unit = unit_spec(params, meta["unit"], manifest.get("task", "continuous"))
    check_unit(unit, manifest)
    spec = {"run": run, "fold": fold, "model": meta["model"], "corpus": manifest["corpus"],
            "corpus_source": manifest.get("source", "manifest"),
            "corpus_has_segments": any(s.get("segments") for s in manifest["sessions"]),
            "sample_rate": int(manifest.get("sample_rate", 16000)), "video_fps": float(manifest.get("video_fps", 25)),
            "unit": unit,
            "align": section(params, "align"), "recognise": section(params, "recognise"),
            "stages": stage_entries(meta["features"], params, fold_folders(path, meta.get("stage_folders")))}
    return Bundle(path.read_bytes(), spec)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.bundle", description=__doc__.split("\n")[0])
    parser.add_argument("run", help="`train` (the `model` param's run) or a benchmark or pretrain run's name")
    parser.add_argument("--fold", type=int, help="the fold of a run trained with k folds")
    parser.add_argument("--out", type=Path, required=True, help="the bundle file to write")
    args = parser.parse_args()
    bundle = export(args.run, args.fold)
    bundle.save(args.out)
    print(f"{args.out}: run {args.run} (model {bundle.spec['model']}, unit {bundle.spec['unit']['name']}, "
          f"stages {', '.join(s['key'] for s in bundle.spec['stages'])})")


if __name__ == "__main__":
    run_stage(main)
