"""Per-frame face features from OpenFace 2.x CSV output, for corpora that ship them.

Reads:    a CSV written by OpenFace 2.x FeatureExtraction (or FaceLandmarkVidMulti): a header
          such as `frame, face_id, timestamp, confidence, success, gaze_0_x, ...,
          gaze_angle_x, gaze_angle_y, ..., pose_Rx, pose_Ry, pose_Rz, ..., AU01_r, ...,
          AU45_r, AU01_c, ..., AU45_c`; OpenFace separates fields with ", ", so names and
          values may carry leading spaces.
Computes: the per-frame table that features.face.per_frame_features builds from a video
          (columns features.face_frames.FRAME_COLUMNS, same names and order), and, with
          `window_features`, the same window summaries as features.face.extract, so such
          corpora skip video extraction.

Mapping (OpenFace -> this table):
- time = timestamp (s); face = success == 1 and confidence >= min_confidence;
  confidence = OpenFace's landmark confidence (0 where face is False, as the extractor);
- AUxx = AUxx_r for the 16 AUs of features.face_frames.ACTION_UNITS. Same names, different
  quantities: OpenFace's are FACS intensities (0-5) from trained regressors, the
  extractor's are geometric proxies in inter-ocular units; normalise per feature before
  mixing corpora. AU14_r and the AU*_c presence columns have no counterpart and are ignored.
- gaze_x = degrees(gaze_angle_x), gaze_y = -degrees(gaze_angle_y): OpenFace computes
  atan2(g.x, -g.z) and atan2(g.y, -g.z) in camera coordinates with y down, so its x is
  already positive towards the image's right and its y positive downwards; the table's y is
  positive upwards.
- pose_pitch = -degrees(pose_Rx), pose_yaw = -degrees(pose_Ry), pose_roll = -degrees(pose_Rz):
  OpenFace's R = Rx Ry Rz acts in camera coordinates (x right, y down, z away from the
  camera), where positive Rx tips the face down, positive Ry turns it towards the image's
  left and positive Rz rotates it clockwise on screen; the table's signs are the opposite
  (chin up, towards the image's right, counter-clockwise). These signs follow OpenFace's
  rotation code; no video has been run through both tools to compare them.
Rows where OpenFace failed (success 0) keep their time and get NaN features. With several
faces per frame (face_id), the frame's successful row of highest confidence is kept and the
others are counted in the log. A missing required column, an empty file or timestamps that
do not increase raise ValueError naming the file.
"""
from __future__ import annotations

import logging
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from features import Extracted
from features.face_frames import ACTION_UNITS, DEFAULTS, FRAME_COLUMNS, allow_faceless, summarise_windows, summarised

log = logging.getLogger("features.openface_import")

GAZE_COLUMNS = ("gaze_angle_x", "gaze_angle_y")
POSE_COLUMNS = ("pose_Rx", "pose_Ry", "pose_Rz")
REQUIRED = ("timestamp", "confidence", "success", *GAZE_COLUMNS, *POSE_COLUMNS,
            *(f"{au}_r" for au in ACTION_UNITS))
# (table column, OpenFace column, sign) for the angles, in radians there
_ANGLES = (("gaze_x", "gaze_angle_x", 1.0), ("gaze_y", "gaze_angle_y", -1.0),
           ("pose_pitch", "pose_Rx", -1.0), ("pose_yaw", "pose_Ry", -1.0), ("pose_roll", "pose_Rz", -1.0))


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"OpenFace CSV {path} not found")
    try:
        raw = pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError as err:
        raise ValueError(f"OpenFace CSV {path} is empty") from err
    raw.columns = raw.columns.str.strip()
    missing = [name for name in REQUIRED if name not in raw.columns]
    if missing:
        raise ValueError(f"OpenFace CSV {path} lacks required column(s) {', '.join(missing)} "
                         f"(has {len(raw.columns)} columns: {', '.join(raw.columns[:8])}, ...)")
    if raw.empty:
        raise ValueError(f"OpenFace CSV {path} has a header but no rows")
    return raw


def _one_face_per_frame(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Keeps, per frame, the successful row of highest confidence (multi-face output)."""
    if "frame" not in raw.columns or not raw["frame"].duplicated().any():
        return raw
    best = (raw.sort_values(["frame", "success", "confidence"], ascending=[True, False, False])
               .drop_duplicates("frame", keep="first"))
    log.info("%s: %d rows of other faces dropped (one face per frame kept)", path, len(raw) - len(best))
    return best


def _frame_rate(times: np.ndarray, path: Path) -> float:
    steps = np.diff(times)
    if len(steps) == 0 or not (steps > 0).all():
        raise ValueError(f"OpenFace CSV {path}: timestamps must increase over at least two rows "
                         "to give the frame rate")
    return float(1.0 / np.median(steps))


def read_openface_csv(csv_path: str | PathLike, min_confidence: float = 0.0) -> pd.DataFrame:
    """The per-frame table of features.face_frames.FRAME_COLUMNS from an OpenFace 2.x CSV.

    attrs: fps (from the median timestamp step), path, frames_declared (rows read).
    """
    path = Path(csv_path)
    raw = _one_face_per_frame(_read(path), path)
    raw = raw.sort_values("timestamp", kind="stable").reset_index(drop=True)
    face = (raw["success"].to_numpy() == 1) & (raw["confidence"].to_numpy() >= min_confidence)
    table = pd.DataFrame({"time": raw["timestamp"].to_numpy(dtype=np.float64), "face": face,
                          "confidence": np.where(face, raw["confidence"].to_numpy(dtype=np.float64), 0.0)})
    for au in ACTION_UNITS:
        table[au] = raw[f"{au}_r"].to_numpy(dtype=np.float64)
    for column, source, sign in _ANGLES:
        table[column] = sign * np.degrees(raw[source].to_numpy(dtype=np.float64))
    table.loc[~face, list(FRAME_COLUMNS[3:])] = np.nan
    table = table[list(FRAME_COLUMNS)]
    table.attrs.update(fps=_frame_rate(table["time"].to_numpy(), path), path=str(path),
                       frames_declared=len(table))
    return table


def window_features(csv_path: str | PathLike, windows: pd.DataFrame, cfg: dict,
                    session_id: str = "?") -> Extracted:
    """features.face.extract's output, computed from an OpenFace CSV instead of the video."""
    cfg = {**DEFAULTS, **cfg}
    try:
        frames = read_openface_csv(csv_path)
    except ValueError as err:
        raise ValueError(f"session {session_id}: {err}") from err
    if not frames["face"].any():
        allow_faceless(session_id, ValueError(f"OpenFace found no face in any of the {len(frames)} frames of "
                                              f"{csv_path}"), cfg["on_no_face"])
    features, mask, counts = summarise_windows(frames, windows, float(cfg["min_face_fraction"]),
                                               frames.attrs["fps"], summarised(cfg))
    counts["frames_unread"] = 0
    counts["sessions_without_face"] = [] if frames["face"].any() else [session_id]
    # per-frame table as the video path keeps it; frames without a face are flagged by `face`
    # (their NaN values become 0 there, as features.face's own no-face rows)
    per_frame = frames[list(FRAME_COLUMNS)].to_numpy(np.float32)
    return Extracted({"features": features, "mask": mask, "frames": np.nan_to_num(per_frame)}, counts)
