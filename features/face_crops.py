"""Eye-aligned face crops as a raw input, for visual networks trained end to end on them
(Tzirakis et al.'s visual network).

Reads:  the session video, streamed, sampled at `sample_fps` (every round(fps / sample_fps)-th
        frame: at 25 fps, 10 gives every second frame, one or two crops per 100 ms step).
Gives:  per session `images` (N, size, size, 3) uint8 RGB: the eye-aligned crops of the sampled
        frames that show a face (features/face_align.py, the crops of face_deep at `size` px),
        and `image_times` (N,) their frame times; written once and read back memory-mapped: a
        model's `{stage: <this stage>, per: image}` input takes each unit's crops (those whose
        time lies in the unit's [start, end): features/window_frames.py) at load time
        (pipeline/inner_sequences.py), converted to float only inside the batch that needs them;
        per unit the number of its crops (the `features` row every stage has) and a mask (False:
        no crop in the unit, counted as `units_without_face`).
The crops of a session are held in memory while it is extracted (60 s at 10 per second and
96 px: 17 MB). A video that cannot be opened or yields no frame is an error naming the session
and file; so is one that shows no face at all, unless `on_no_face: mask` (as features.face).
"""
import logging

import cv2
import mediapipe as mp
import numpy as np
import pandas as pd

from features import Extracted
from features.face_align import sampled_face_crops
from features.face_frames import allow_faceless
from features.window_frames import frame_ranges
from pipeline.params_check import check_extractor

log = logging.getLogger("features.face_crops")

INPUTS = ("video",)  # what the per-session cache key covers (pipeline/feature_cache.py)
DEFAULTS = {"on_no_face": "error"}


def versions(cfg: dict) -> dict:
    return {"mediapipe": mp.__version__, "opencv": cv2.__version__}


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return ["face_crops"]


def check_config(cfg: dict) -> dict:
    """cfg with defaults filled in; ParamsError (a ValueError) naming every bad key (pipeline/params_check.py)."""
    cfg = {**DEFAULTS, **cfg}
    check_extractor("face_crops", cfg)
    return cfg


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    cfg = check_config(cfg)
    path, size = session.path("video"), int(cfg["size"])
    crops, times, sampled = [], [], 0
    try:
        for time, crop in sampled_face_crops(path, cfg["sample_fps"], cfg["min_detection_confidence"], size):
            sampled += 1
            if crop is not None:
                crops.append(crop)
                times.append(time)
    except ValueError as err:
        raise ValueError(f"session {session.id}: {err}") from err
    if sampled == 0:
        raise ValueError(f"session {session.id}: no frame could be decoded from video {path}")
    if not crops:
        allow_faceless(session.id, ValueError(f"no face found in any of the {sampled} sampled frames of {path}"),
                       cfg["on_no_face"])
    ranges = frame_ranges(np.asarray(times, np.float64), windows.start.to_numpy(float), windows.end.to_numpy(float))
    per_unit = ranges[:, 1] - ranges[:, 0]
    mask = per_unit > 0
    if not mask.all():
        log.warning("session %s: %d of %d units masked (no face in their sampled frames of %s)", session.id,
                    int((~mask).sum()), len(mask), path)
    images = np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)
    return Extracted({"features": per_unit[:, None].astype(np.float32), "mask": mask, "images": images,
                      "image_times": np.asarray(times, np.float64)},
                     {"frames_sampled": sampled, "frames_with_face": len(crops),
                      "units_without_face": int((~mask).sum()), "sessions_without_face": [] if crops else [session.id]})
