"""The py-feat backend of the face stage (`features.face.backend: pyfeat`).

Reads:    the session video, streamed by features/video.py (cv2, RGB frames), in batches
          of `pyfeat_batch_size` frames: one batch is in memory at a time.
Computes: per frame, py-feat 2.1.5's `Detectorv2` (RetinaFace ResNet-34 face detection, then
          its multitask network: action units, gaze, head pose; the identity branch off) on
          each batch passed as a uint8 tensor, and from its output the per-frame table of
          features.face_frames.FRAME_COLUMNS (`frame_table`), which features.face summarises per
          window exactly as it does its own MediaPipe table.
Run:      `dvc exp run -S features.face.backend=pyfeat` once the models are in place (below).

Models. py-feat fetches its weights from the Hugging Face hub into its resource folder
(<site-packages>/feat/resources, in the hub's cache layout) the first time a detector is
built. This pipeline never contacts the hub: the module sets HF_HUB_OFFLINE=1, and `preflight`
(run by pipeline/features.py before any session) checks that every file listed in
MODEL_FILES is in that folder. When one is not, the stage stops before extracting anything,
with every missing repo and file, the folder, and the command that fetches them on a machine
with network access. MODEL_FILES is read from py-feat 2.1.5's source (Retinaface in
feat/face_detectors/Retinaface/Retinaface_test.py, HF_REPO/HF_WEIGHTS_FILE in
feat/multitask/inference.py); other py-feat versions load other files, so preflight also
refuses an installed version other than PYFEAT_VERSION (requirements.txt pins it).

Mapping of py-feat's columns to the table (py-feat's angles are radians, the table's degrees):
- face = a detection in the frame (py-feat's own threshold, `min_detection_confidence`);
  several faces: the one with the highest FaceScore; confidence = that FaceScore;
- AUxx = py-feat's AUxx (its multitask head's activations in [0, 1], not FACS 0-5 intensities
  and not the MediaPipe backend's geometric proxies) for the AUs of features.face_frames.ACTION_UNITS.
  An AU the loaded checkpoint does not predict (py-feat's 20-AU head has no AU45) is set to 0
  in every frame, named in a warning and counted as "aus_not_estimated" in meta.json;
- gaze_x = -degrees(gaze_yaw), gaze_y = degrees(gaze_pitch): py-feat's yaw is positive towards
  the subject's right (the image's left) and its pitch positive up;
- pose_pitch = degrees(Pitch), pose_yaw = -degrees(Yaw), pose_roll = degrees(Roll): py-feat's
  +Pitch is up, +Yaw a turn to the subject's right, +Roll a tilt to the subject's right, which
  is counter-clockwise on screen.
These signs follow py-feat's comments (feat/detector_v2.py); no video has been run through
both backends to compare them, and the detection path itself has not run here: the models
cannot be fetched on this machine (see the README's known limits).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
from dataclasses import dataclass
from itertools import islice
from os import PathLike
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before huggingface_hub is imported: never reach for the hub

import cv2
import numpy as np
import pandas as pd
import torch

from features.face_frames import ACTION_UNITS, FRAME_COLUMNS, NoFaceFound
from features.file_hash import file_sha256
from features.imagenet_cnn import configure_torch, resolve_device
from features.video import open_video, rgb_frames

log = logging.getLogger("features.face_pyfeat")

PYFEAT_VERSION = "2.1.5"


@dataclass(frozen=True)
class HubFile:
    repo: str
    filenames: tuple[str, ...]  # alternatives, in the order py-feat tries them
    role: str
    override_env: str | None = None  # an environment variable py-feat reads instead of the hub


MODEL_FILES = (
    HubFile("py-feat/retinaface_r34", ("model.safetensors", "retinaface_r34.safetensors"),
            "face detector (RetinaFace, ResNet-34)"),
    HubFile("py-feat/face_multitask_v2", ("face_multitask_v28.safetensors",),
            "multitask network (action units, gaze, head pose)", "FEAT_MULTITASK_WEIGHTS"),
)


class PyFeatUnavailable(RuntimeError):
    """py-feat, or one of the model files it needs, is not installed here."""


def installed_version() -> str | None:
    try:
        return importlib.metadata.version("py-feat")
    except importlib.metadata.PackageNotFoundError:
        return None


def model_cache_dir() -> Path:
    """py-feat's resource folder (feat.utils.io.get_resource_path), found without importing
    feat, which takes ~10 s."""
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        raise PyFeatUnavailable("py-feat is not installed in this environment")
    return Path(list(spec.submodule_search_locations)[0]) / "resources"


def resolve(spec: HubFile, cache_dir: Path) -> Path | None:
    """The local file py-feat would load for `spec`, or None when it is not present."""
    if spec.override_env and os.environ.get(spec.override_env):
        path = Path(os.environ[spec.override_env])
        return path if path.is_file() else None
    from huggingface_hub import try_to_load_from_cache
    for name in spec.filenames:
        found = try_to_load_from_cache(spec.repo, name, cache_dir=str(cache_dir))
        if isinstance(found, str):  # else None (never fetched) or a "known missing" marker
            return Path(found)
    return None


def _describe(spec: HubFile, cache_dir: Path) -> str:
    names = " (or ".join(spec.filenames) + ")" * (len(spec.filenames) - 1)
    line = f"  - {spec.repo}: {names} -- {spec.role}"
    if spec.override_env:
        line += f"; or a file named by ${spec.override_env}"
        if os.environ.get(spec.override_env):
            line += f" (set to {os.environ[spec.override_env]}, which is not a file)"
    return line + f"\n      fetch: hf download {spec.repo} {spec.filenames[0]} --cache-dir {cache_dir}"


def preflight(cache_dir: str | PathLike | None = None) -> dict[str, Path]:
    """{repo: local file} for every model of MODEL_FILES; PyFeatUnavailable saying exactly
    what is missing (the package, its version, or which files in which folder) otherwise."""
    version = installed_version()
    if version is None:
        raise PyFeatUnavailable(
            "features.face.backend is 'pyfeat' but py-feat is not installed in this environment; "
            f"install it with `pip install py-feat=={PYFEAT_VERSION}` (requirements.txt pins it), or "
            "use features.face.backend: mediapipe (the default, fully offline)")
    if version != PYFEAT_VERSION:
        raise PyFeatUnavailable(
            f"features.face.backend 'pyfeat' is built for py-feat {PYFEAT_VERSION} (its model files are "
            f"those of that release), but py-feat {version} is installed; install py-feat=={PYFEAT_VERSION}")
    cache = Path(cache_dir) if cache_dir is not None else model_cache_dir()
    found = {spec.repo: resolve(spec, cache) for spec in MODEL_FILES}
    missing = [spec for spec in MODEL_FILES if found[spec.repo] is None]
    if missing:
        raise PyFeatUnavailable(
            f"features.face.backend 'pyfeat': py-feat {version} needs {len(missing)} model file(s) that "
            f"are not in its local model cache {cache} (py-feat downloads them from the Hugging Face "
            "hub, which this pipeline never contacts):\n"
            + "\n".join(_describe(spec, cache) for spec in missing)
            + "\nRun those commands on a machine with network access and copy the models--py-feat--* "
            f"folders into {cache}, or use features.face.backend: mediapipe (the default, fully offline).")
    return found


def versions() -> dict:
    """py-feat's version and a checksum of each model file (part of the per-session cache key)."""
    return {"py-feat": installed_version(),
            "pyfeat_models": {repo: f"{path.name}:{file_sha256(str(path))[:16]}"
                              for repo, path in preflight().items()}}


# ---------------------------------------------------------------- py-feat output -> table

def frame_table(detections: pd.DataFrame, n_frames: int, fps: float) -> tuple[pd.DataFrame, list[str]]:
    """(per-frame table of features.face_frames.FRAME_COLUMNS, the ACTION_UNITS the detections lack).

    `detections`: py-feat's per-face rows with a 0-based `frame` column over the n_frames
    frames; a frame without a face has a row with NaN face box (py-feat's placeholder) or none.
    """
    found = detections[np.isfinite(detections["FaceRectX"].to_numpy(dtype=np.float64))]
    best = (found.sort_values(["frame", "FaceScore"], ascending=[True, False], kind="stable")
                 .drop_duplicates("frame", keep="first").set_index("frame"))
    frames = np.arange(n_frames)
    face = np.isin(frames, best.index.to_numpy())
    rows = best.reindex(frames)
    table = pd.DataFrame({"time": frames / fps, "face": face,
                          "confidence": np.where(face, rows["FaceScore"].to_numpy(dtype=np.float64), 0.0)})
    lacking = [au for au in ACTION_UNITS if au not in detections.columns]
    for au in ACTION_UNITS:
        table[au] = 0.0 if au in lacking else rows[au].to_numpy(dtype=np.float64)
    radians = {column: rows[column].to_numpy(dtype=np.float64)
               for column in ("gaze_yaw", "gaze_pitch", "Pitch", "Yaw", "Roll")}
    table["gaze_x"] = -np.degrees(radians["gaze_yaw"])
    table["gaze_y"] = np.degrees(radians["gaze_pitch"])
    table["pose_pitch"] = np.degrees(radians["Pitch"])
    table["pose_yaw"] = -np.degrees(radians["Yaw"])
    table["pose_roll"] = np.degrees(radians["Roll"])
    table.loc[~face, list(FRAME_COLUMNS[3:])] = np.nan  # as the MediaPipe backend's no-face rows
    return table[list(FRAME_COLUMNS)], lacking


# ---------------------------------------------------------------- the detector

_DETECTORS: dict[tuple, object] = {}


def detector(cfg: dict):
    """py-feat's Detectorv2, built once per process and device, from local files only."""
    device = resolve_device(cfg["device"])
    key = (str(device), float(cfg["min_detection_confidence"]))
    if key not in _DETECTORS:
        preflight()
        import huggingface_hub.constants
        huggingface_hub.constants.HF_HUB_OFFLINE = True  # in case the hub client was imported before us
        from feat import Detectorv2
        configure_torch(device, int(cfg.get("workers", 1)))
        try:
            _DETECTORS[key] = Detectorv2(device=str(device), identity_model=None,
                                         face_detection_threshold=key[1])
        except OSError as err:  # huggingface_hub's LocalEntryNotFoundError is one
            raise PyFeatUnavailable(f"py-feat could not load its models offline although preflight found "
                                    f"{', '.join(str(p) for p in preflight().values())}: {err}") from err
    return _DETECTORS[key]


def per_frame_features(video_path: str | PathLike, cfg: dict) -> pd.DataFrame:
    """features.face.per_frame_features with py-feat as the detector; attrs also carry
    `aus_not_estimated`, the ACTION_UNITS the checkpoint does not predict (set to 0)."""
    path = Path(video_path)
    if not path.exists():
        raise FileNotFoundError(f"video {path} not found")
    model = detector(cfg)
    capture, fps = open_video(path)
    declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    batch_size, parts, n_frames = int(cfg["pyfeat_batch_size"]), [], 0
    stream = rgb_frames(capture)
    try:
        while batch := list(islice(stream, batch_size)):
            images = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).contiguous()  # uint8 (B, 3, H, W)
            rows = pd.DataFrame(model.detect(images, data_type="tensor", batch_size=len(batch),
                                             progress_bar=False))
            rows["frame"] = rows["frame"].to_numpy() + n_frames
            parts.append(rows)
            n_frames += len(batch)
    finally:
        capture.release()
    if not n_frames:
        raise ValueError(f"no frame could be decoded from video {path} (corrupt or truncated?)")
    table, lacking = frame_table(pd.concat(parts, ignore_index=True), n_frames, fps)
    table.attrs.update(fps=fps, path=str(path), frames_declared=declared, aus_not_estimated=lacking)
    if not table["face"].any():
        raise NoFaceFound(f"no face found in any of the {n_frames} frames of video {path}", table)
    if lacking:
        log.warning("%s: py-feat's checkpoint does not predict %s; set to 0 in every frame",
                    path, ", ".join(lacking))
    return table
