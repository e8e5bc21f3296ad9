"""Deep face features: aligned face crops through an ImageNet CNN, averaged per window
(Raju et al. use VGG16 fc6 / ResNet-50 pooled features of the face).

Reads:    the session video, streamed (features/video.py: never held in memory), sampled at
          `sample_fps` frames per second (frame i is at i / fps, as in the face stage).
Computes: per sampled frame, MediaPipe FaceMesh landmarks (features/face_mesh.py, as the face
          stage) and from them an eye-aligned 224 x 224 crop (features/face_align.py: head
          roll, face size and position removed). Crops go through the backbone of
          features/imagenet_cnn.py (default EfficientNet-Lite0, offline, 1280-d; VGG16 /
          ResNet-50 and others from `weights_path`) in batches padded to a few bucket sizes,
          on CUDA when present.
Gives:    per window the mean embedding of the sampled face frames in [start, end), a mask
          (False: no face frame in the window; its row is 0, it is counted as
          `windows_without_face` and the session's masked windows are logged), and counts of
          sampled frames and frames with a face.
A video that cannot be opened or yields no frame is an error naming the session and file;
so is one that shows no face at all, unless `on_no_face: mask`: then all its windows are
masked, a warning names it and `sessions_without_face` lists it (as in features.face).
"""
import logging

import mediapipe as mp
import numpy as np
import pandas as pd
import torch
import torchvision

from features import Extracted
from features.face_align import sampled_face_crops
from features.face_frames import allow_faceless
from features.file_hash import file_sha256
from features.imagenet_cnn import INPUT_SIZE, backbone_spec, configure_torch, embed, load_network, resolve_device, \
    weights_file
from features.window_frames import frame_ranges
from pipeline.params_check import check_extractor

log = logging.getLogger("features.face_deep")

INPUTS = ("video",)  # what the per-session cache key covers (pipeline/feature_cache.py)
DEFAULTS = {"on_no_face": "error"}


def versions(cfg: dict) -> dict:
    path = weights_file(cfg["backbone"], cfg.get("weights_path"), "face_deep")
    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "mediapipe": mp.__version__,
            "backbone": cfg["backbone"], "weights": path.name, "weights_sha256": file_sha256(str(path))}


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return [f"face_{cfg['backbone']}_{i}" for i in range(backbone_spec(cfg["backbone"], "face_deep").dims)]


def check_config(cfg: dict) -> dict:
    """cfg with defaults filled in; ParamsError (a ValueError) naming every bad key (pipeline/params_check.py)."""
    cfg = {**DEFAULTS, **cfg}
    check_extractor("face_deep", cfg)
    return cfg


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    cfg = check_config(cfg)
    path = session.path("video")
    batch_size, device = int(cfg["batch_size"]), resolve_device(cfg["device"])
    configure_torch(device, int(cfg.get("workers", 1)))
    network = load_network(cfg["backbone"], cfg.get("weights_path"), cfg["device"], "face_deep")
    times, embeddings, pending, pending_times, sampled = [], [], [], [], 0

    def flush() -> None:
        images = torch.from_numpy(np.stack(pending)).permute(0, 3, 1, 2).float() / 255.0
        embeddings.append(embed(network, images, batch_size, device).numpy())
        times.extend(pending_times)
        pending.clear()
        pending_times.clear()

    try:
        for time, crop in sampled_face_crops(path, cfg["sample_fps"], cfg["min_detection_confidence"],
                                             INPUT_SIZE):
            sampled += 1
            if crop is not None:
                pending.append(crop)
                pending_times.append(time)
            if len(pending) == batch_size:  # one batch of crops in memory at a time
                flush()
    except ValueError as err:
        raise ValueError(f"session {session.id}: {err}") from err
    if pending:
        flush()
    if sampled == 0:
        raise ValueError(f"session {session.id}: no frame could be decoded from video {path}")
    if not times:
        allow_faceless(session.id, ValueError(f"no face found in any of the {sampled} sampled frames of {path}"),
                       cfg["on_no_face"])
    features, mask = window_means(np.asarray(times), embeddings, windows, backbone_spec(cfg["backbone"], "face_deep").dims)
    if not mask.all():
        log.warning("session %s: %d of %d windows masked (no face in their sampled frames of %s)", session.id,
                    int((~mask).sum()), len(mask), path)
    return Extracted({"features": features, "mask": mask},
                     {"frames_sampled": sampled, "frames_with_face": len(times),
                      "windows_without_face": int((~mask).sum()),
                      "sessions_without_face": [] if times else [session.id]})


def window_means(times: np.ndarray, embeddings: list[np.ndarray], windows: pd.DataFrame,
                 dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(features (windows, dims) float32, mask): the mean embedding of the face frames in each
    window [start, end) (features/window_frames.py); windows without one are zeros with mask False."""
    first, last = frame_ranges(times, windows.start.to_numpy(float), windows.end.to_numpy(float)).T
    mask = last > first
    features = np.zeros((len(windows), dims), np.float32)
    vectors = np.concatenate(embeddings) if embeddings else np.zeros((0, dims), np.float32)
    for row in np.flatnonzero(mask):
        features[row] = vectors[first[row]:last[row]].mean(axis=0)
    return features, mask
