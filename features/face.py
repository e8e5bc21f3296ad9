"""Face features per window from the session video: action-unit proxies, gaze and head pose.

Reads:    the session's video (`session.path("video")`), streamed frame by frame with
          cv2.VideoCapture (features/video.py: the whole video is never held in memory); the
          frame rate comes from the container (cv2.CAP_PROP_FPS) and frame i is at time i / fps.
Computes: per frame (`per_frame_features`), MediaPipe FaceMesh landmarks (478 with the
          iris points, one face, tracking mode) and from them the columns of FRAME_COLUMNS
          (features/face_frames.py, the table every backend fills): `time`, `face` (a face was
          found), `confidence`, 16 action-unit proxies, gaze and head pose. Per window
          (`extract`, by features/face_frames.py's summarise_windows), the mean and std (ddof
          0) of every per-frame feature over the frames whose time lies in [start, end) and
          that have a face, plus the window's face fraction: "features" (windows, 45) float32
          (39 with `head_pose: false`, which leaves out the head pose) and "mask" (windows,)
          bool, with counts of frames and masked windows; and "frames", the per-frame table
          (frames, FRAME_COLUMNS) float32 that the face bag-of-words quantises. The per-frame
          table of the mediapipe backend is computed once per video content and detection
          setting and kept in the scratch cache (`session_frames`): other units and window
          presets only summarise it (the pyfeat backend computes its table at every call).

Face-aligned frame. The pixel landmarks (x right, y up, z towards the camera) are fitted
with a similarity transform (Umeyama: scale, rotation, translation) to the same 23 rigid
landmarks (forehead, nose ridge, eye corners, face outline) of MediaPipe's canonical face
model (`_CANONICAL_CM`, from mediapipe/modules/face_geometry/data/canonical_face_model.obj,
Apache-2.0). Undoing that transform removes head pose and face size; coordinates are then
expressed in units of the canonical inter-ocular distance (outer eye corners 33-263,
"IOD"). Every AU below is measured in that frame and given relative to the same measure on
the canonical (neutral, closed-mouth) face, so 0 is the generic neutral face and positive
means "more of the action". Landmarks named R/L are the subject's right/left (right is on
the image's left): eye corners outer 33/263, inner 133/362; upper lid 159/386, lower lid
145/374; brow, outer to inner, 70,63,105,66,107 / 300,293,334,296,336; cheek 117/346; nose
wing 98/327; subnasale 2; lips: upper outer 0, upper inner 13, lower inner 14, lower outer
17, corners 61/291; chin 152. `y(.)`, `x(.)` are aligned coordinates (y up); the table names
the R landmark of a pair and the value is the mean of R and its mirrored L counterpart;
"eye line" is the mean y of a side's two eye corners.

| AU   | name                 | proxy (IOD units, minus the canonical face's value)                     |
|------|----------------------|-------------------------------------------------------------------------|
| AU01 | inner brow raiser    | y(inner brow 107,66) - y(inner eye corner 133)                          |
| AU02 | outer brow raiser    | y(outer brow 70,63,105) - y(outer eye corner 33)                        |
| AU04 | brow lowerer         | -(mean brow height above the eye line) - (inner-brow gap x(336)-x(107)) |
| AU05 | upper lid raiser     | y(upper lid 159) - eye line                                             |
| AU06 | cheek raiser         | y(cheek 117) - eye line                                                 |
| AU07 | lid tightener        | y(lower lid 145) - eye line                                             |
| AU09 | nose wrinkler        | -(y(inner eye corner 133) - y(nose wing 98))                            |
| AU10 | upper lip raiser     | -(y(subnasale 2) - y(upper lip 0))                                      |
| AU12 | lip corner puller    | y(lip corners 61) - y(subnasale 2)                                      |
| AU15 | lip corner depressor | y(upper lip 0) - y(lip corners 61)                                      |
| AU17 | chin raiser          | -(y(lower lip 17) - y(chin 152))                                        |
| AU20 | lip stretcher        | mouth width x(291) - x(61)                                              |
| AU23 | lip tightener        | -((y(0) - y(13)) + (y(14) - y(17))), lip-red thickness                  |
| AU25 | lips part            | y(13) - y(14), inner-lip gap                                            |
| AU26 | jaw drop             | y(subnasale 2) - y(chin 152)                                            |
| AU45 | blink                | 1 - aperture / canonical aperture, aperture = (y(159)-y(145)) / |33-133| |

These are geometric proxies of the muscle actions, NOT FACS-coded intensities (OpenFace's
0-5 AU*_r): they share names with OpenFace's columns (see features.openface_import) but not
their scale, include each person's resting face shape as an offset, and several move
together (AU12/AU15, AU05/AU07/AU45, AU25/AU26 share landmarks). AU14 (dimpler) and AU28 are
not estimated: they need depth or texture that the landmarks do not carry reliably.

Gaze (`gaze_x`, `gaze_y`, degrees): per eye, the iris centre (468 R, 473 L) relative to the
midpoint of the eye corners (horizontal) and of the lids (vertical), divided by half the eye
width, read as an eye-in-head angle on a 12 mm eyeball behind a 15 mm half-width eye opening
(asin(offset * 15 / 12)), averaged over both eyes, then rotated by the head pose into camera
coordinates, as OpenFace's gaze_angle_x/y. Positive gaze_x: towards the image's right (the
subject's left); positive gaze_y: up.

Head pose (`pose_pitch`, `pose_yaw`, `pose_roll`, degrees): Euler angles of the fitted
rotation (R = Rz(roll) Ry(yaw) Rx(-pitch), canonical face -> this frame). Signs: pitch > 0
chin up; yaw > 0 the face turned towards the image's right (the subject's left); roll > 0
the face rotated counter-clockwise as the image is displayed, the same sense as a positive
angle of cv2.getRotationMatrix2D.

Confidence: MediaPipe's face-mesh solution exposes no per-face score, so `confidence` is
exp(-(residual / 0.15)^2), the residual being the RMS distance (IOD units) between the 23
rigid landmarks and the fitted canonical face: about 0.9 for the synthetic corpus's face,
falling towards 0 for meshes that are not face-shaped. It is a plausibility score of the
mesh, not a detection probability. `min_detection_confidence` is FaceMesh's own detector
threshold. Frames without a face have `face` False, `confidence` 0 and NaN elsewhere.

Bad input (the errors of the first four name the session and the file):
- no video in the manifest or the file is gone: FileNotFoundError (from Session.path);
- a file OpenCV cannot open (corrupt, random bytes, truncated before the header or the
  index it needs) or from which not one frame decodes: ValueError;
- a container frame rate that is 0, negative or not finite: ValueError;
- no face in any frame: ValueError naming the session and file, by default
  (`on_no_face: error`); with `on_no_face: mask` (a camera that was off, an occluded face)
  the session's windows are all masked (zeros, mask False, counted in "windows_without_face"),
  a warning names it and "sessions_without_face" lists its id, so meta.json and
  reports/features.json name every such session; it is never masked silently;
- a video shorter than the session (truncated, or shorter than the audio): windows not
  fully covered by the frames read (end > n_frames / fps + half a frame) get mask False and
  are counted in "windows_beyond_video"; frames the container announces but that did not
  decode are counted in "frames_unread" (and logged).
- called in a process forked from one that has already run FaceMesh: RuntimeError (MediaPipe
  is not fork-safe; such a child would corrupt its heap: features/face_mesh.py). Only importing
  this module before forking is safe, which is what pipeline/features.py's parent process does.
Windows with too few face frames (< `min_face_fraction` of their frames) get mask False and
are counted in "windows_without_face". Masked windows hold zeros (finite values are required
downstream); nothing is dropped.

Backends (`backend`): "mediapipe" (the default; everything above) or "pyfeat": py-feat's
Detectorv2 in place of FaceMesh and the landmark formulas, from models already in py-feat's
local cache, checked before any session (see features/face_pyfeat.py for its columns' mapping
and what it needs). Both fill the same per-frame table and window summaries
(features/face_frames.py); bad input is handled as above.

Config (`features.face`): min_face_fraction (0.5), min_detection_confidence (0.5), backend
("mediapipe"), pyfeat_batch_size (16 frames per py-feat call) and device ("auto": cuda when
available) for the pyfeat backend, on_no_face ("error" | "mask", above), workers (sessions in
parallel, used by pipeline/features.py). Their allowed values: pipeline/params_check.py.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
import pandas as pd

from features import Extracted
from features.face_frames import (ACTION_UNITS, DEFAULTS, FRAME_COLUMNS, NoFaceFound, allow_faceless, summarise_windows,
                                  summarised, summary_names)
from features.face_mesh import face_mesh
from features.openface_import import window_features
from features.video import open_video, rgb_frames
from pipeline.params_check import check_extractor

log = logging.getLogger("features.face")

# Vertices of MediaPipe's canonical face model (cm; x right, y up, z towards the viewer),
# only those used here; the index is the FaceMesh landmark index.
_CANONICAL_CM: dict[int, tuple[float, float, float]] = {
    0: (0.000000, -3.406404, 5.979507), 2: (0.000000, -2.089024, 6.058267),
    4: (0.000000, -0.463170, 7.586580), 5: (0.000000, 0.365669, 7.242870),
    6: (0.000000, 2.473255, 5.788627), 8: (0.000000, 4.019042, 5.284764),
    9: (0.000000, 4.885979, 5.385258), 10: (0.000000, 8.261778, 4.481535),
    13: (0.000000, -3.994436, 5.219482), 14: (0.000000, -4.542400, 5.404754),
    17: (0.000000, -5.365123, 5.535441), 33: (-4.445859, 2.663991, 3.173422),
    61: (-2.456206, -4.342621, 4.283884), 63: (-4.985894, 4.802461, 3.751977),
    66: (-2.760292, 5.100971, 5.015990), 70: (-5.720968, 4.254584, 2.830852),
    93: (-7.542244, -1.049282, -2.431321), 98: (-1.405627, -1.714196, 5.241087),
    105: (-3.986562, 5.109487, 4.466315), 107: (-1.395634, 5.011963, 5.316032),
    117: (-5.258659, 0.945811, 2.974312), 127: (-7.743095, 2.364999, -2.005167),
    129: (-1.785794, -0.978284, 4.850470), 133: (-1.856432, 2.585245, 3.757904),
    145: (-3.177186, 2.294265, 3.775704), 151: (0.000000, 6.545390, 5.027311),
    152: (0.000000, -9.403378, 4.264492), 159: (-3.177186, 2.964136, 3.876973),
    168: (0.000000, 3.271027, 5.236015), 195: (0.000000, 1.059413, 6.774605),
    197: (0.000000, 1.728369, 6.316750), 234: (-7.664182, 0.673132, -2.435867),
    263: (4.445859, 2.663991, 3.173422), 291: (2.456206, -4.342621, 4.283884),
    293: (4.985894, 4.802461, 3.751977), 296: (2.760292, 5.100971, 5.015990),
    300: (5.720968, 4.254584, 2.830852), 323: (7.542244, -1.049282, -2.431321),
    327: (1.405627, -1.714196, 5.241087), 334: (3.986562, 5.109487, 4.466315),
    336: (1.395634, 5.011963, 5.316032), 346: (5.258659, 0.945811, 2.974312),
    356: (7.743095, 2.364999, -2.005167), 358: (1.785794, -0.978284, 4.850470),
    362: (1.856432, 2.585245, 3.757904), 374: (3.177186, 2.294265, 3.775704),
    386: (3.177186, 2.964136, 3.876973), 454: (7.664182, 0.673132, -2.435867),
}
# Landmarks that expressions barely move: forehead and nose midline, eye corners, face outline.
RIGID = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 2, 33, 133, 263, 362, 234, 454, 127, 356, 93, 323, 129, 358)
N_LANDMARKS = 478  # FaceMesh with refine_landmarks=True: 468 mesh points + 2 x 5 iris points


@dataclass(frozen=True)
class Side:
    """Landmark indices of one side of the face (the subject's right or left)."""
    outer_eye: int
    inner_eye: int
    upper_lid: int
    lower_lid: int
    iris: int
    brow: tuple[int, int, int, int, int]  # outer to inner
    cheek: int
    nose_wing: int
    lip_corner: int


RIGHT = Side(33, 133, 159, 145, 468, (70, 63, 105, 66, 107), 117, 98, 61)
LEFT = Side(263, 362, 386, 374, 473, (300, 293, 334, 296, 336), 346, 327, 291)
SUBNASALE, UPPER_LIP, UPPER_LIP_INNER, LOWER_LIP_INNER, LOWER_LIP, CHIN = 2, 0, 13, 14, 17, 152

# Eye model for reading the iris offset as an angle (as OpenFace, a 12 mm eyeball).
EYEBALL_RADIUS_MM = 12.0
EYE_HALF_WIDTH_MM = 15.0
# RMS rigid-fit residual (IOD units) at which confidence falls to 1/e: the synthetic corpus's
# well-tracked face sits near 0.04 (confidence ~0.93); a residual of 0.3 gives ~0.02.
RESIDUAL_SCALE = 0.15


def _canonical_points() -> np.ndarray:
    points = np.full((N_LANDMARKS, 3), np.nan)
    for index, xyz in _CANONICAL_CM.items():
        points[index] = xyz
    return points


_CANONICAL = _canonical_points()
_CANONICAL_IOD = float(np.linalg.norm(_CANONICAL[33] - _CANONICAL[263]))


# ---------------------------------------------------------------- geometry of one frame

@dataclass(frozen=True)
class Fit:
    """observed ~ scale * rotation @ canonical + translation (pixels, x right, y up, z towards camera)."""
    scale: float
    rotation: np.ndarray
    translation: np.ndarray
    residual_iod: float


def fit_canonical(observed: np.ndarray) -> Fit:
    """Umeyama similarity fit of the canonical rigid landmarks to the observed ones."""
    source, target = _CANONICAL[list(RIGID)], observed[list(RIGID)]
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    a, b = source - source_mean, target - target_mean
    u, singular, vt = np.linalg.svd(b.T @ a / len(a))
    # a reflection would mirror the face: force a proper rotation
    signs = np.array([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ np.diag(signs) @ vt
    scale = float((singular * signs).sum() / (a ** 2).sum() * len(a))
    translation = target_mean - scale * rotation @ source_mean
    fitted = scale * source @ rotation.T + translation
    rms = float(np.sqrt(((fitted - target) ** 2).sum(axis=1).mean()))
    return Fit(scale, rotation, translation, rms / (scale * _CANONICAL_IOD))


def aligned_landmarks(observed: np.ndarray, fit: Fit) -> np.ndarray:
    """Landmarks in the canonical face's frame, in IOD units: head pose and size removed."""
    return (observed - fit.translation) @ fit.rotation / (fit.scale * _CANONICAL_IOD)


def head_pose_degrees(rotation: np.ndarray) -> tuple[float, float, float]:
    """(pitch, yaw, roll) with R = Rz(roll) Ry(yaw) Rx(-pitch); signs in the module docstring."""
    yaw = np.arcsin(np.clip(-rotation[2, 0], -1.0, 1.0))
    nod_down = np.arctan2(rotation[2, 1], rotation[2, 2])  # about x, y up: positive tips the face down
    roll = np.arctan2(rotation[1, 0], rotation[0, 0])
    return float(np.degrees(-nod_down)), float(np.degrees(yaw)), float(np.degrees(roll))


def _both(values: tuple[float, float]) -> float:
    return (values[0] + values[1]) / 2


def _eye_line(y: np.ndarray, side: Side) -> float:
    return (y[side.outer_eye] + y[side.inner_eye]) / 2


def _brow_height(y: np.ndarray, side: Side) -> float:
    return float(np.mean(y[list(side.brow)])) - _eye_line(y, side)


def _aperture(points: np.ndarray, side: Side) -> float:
    width = np.linalg.norm(points[side.outer_eye, :2] - points[side.inner_eye, :2])
    return (points[side.upper_lid, 1] - points[side.lower_lid, 1]) / width


def raw_action_units(points: np.ndarray) -> np.ndarray:
    """The AU measures of the docstring's table before the canonical face's value is removed."""
    x, y = points[:, 0], points[:, 1]
    sides = (RIGHT, LEFT)
    corners_y = _both(tuple(y[s.lip_corner] for s in sides))
    measures = {
        "AU01": _both(tuple(np.mean(y[list(s.brow[3:])]) - y[s.inner_eye] for s in sides)),
        "AU02": _both(tuple(np.mean(y[list(s.brow[:3])]) - y[s.outer_eye] for s in sides)),
        "AU04": -_both(tuple(_brow_height(y, s) for s in sides)) - (x[LEFT.brow[4]] - x[RIGHT.brow[4]]),
        "AU05": _both(tuple(y[s.upper_lid] - _eye_line(y, s) for s in sides)),
        "AU06": _both(tuple(y[s.cheek] - _eye_line(y, s) for s in sides)),
        "AU07": _both(tuple(y[s.lower_lid] - _eye_line(y, s) for s in sides)),
        "AU09": -_both(tuple(y[s.inner_eye] - y[s.nose_wing] for s in sides)),
        "AU10": -(y[SUBNASALE] - y[UPPER_LIP]),
        "AU12": corners_y - y[SUBNASALE],
        "AU15": y[UPPER_LIP] - corners_y,
        "AU17": -(y[LOWER_LIP] - y[CHIN]),
        "AU20": x[LEFT.lip_corner] - x[RIGHT.lip_corner],
        "AU23": -((y[UPPER_LIP] - y[UPPER_LIP_INNER]) + (y[LOWER_LIP_INNER] - y[LOWER_LIP])),
        "AU25": y[UPPER_LIP_INNER] - y[LOWER_LIP_INNER],
        "AU26": y[SUBNASALE] - y[CHIN],
        "AU45": _both(tuple(_aperture(points, s) for s in sides)),  # eye aperture, see action_units
    }
    return np.array([measures[name] for name in ACTION_UNITS], dtype=np.float64)


_NEUTRAL = raw_action_units(_CANONICAL / _CANONICAL_IOD)
_BLINK = ACTION_UNITS.index("AU45")


def action_units(points: np.ndarray) -> np.ndarray:
    """AU proxies of aligned landmarks (IOD units), 0 = the canonical neutral face."""
    raw = raw_action_units(points)
    values = raw - _NEUTRAL
    # blink is a closure fraction, so the canonical aperture scales instead of shifting it
    values[_BLINK] = 1.0 - raw[_BLINK] / _NEUTRAL[_BLINK]
    return values


def _eye_in_head_offset(points: np.ndarray, side: Side) -> np.ndarray:
    """Iris centre offset (horizontal, vertical) in half eye widths, y up."""
    half_width = np.linalg.norm(points[side.outer_eye, :2] - points[side.inner_eye, :2]) / 2
    centre_x = (points[side.outer_eye, 0] + points[side.inner_eye, 0]) / 2
    centre_y = (points[side.upper_lid, 1] + points[side.lower_lid, 1]) / 2
    iris = points[side.iris]
    return np.array([iris[0] - centre_x, iris[1] - centre_y]) / half_width


def gaze_degrees(points: np.ndarray, rotation: np.ndarray) -> tuple[float, float]:
    """(gaze_x, gaze_y): gaze direction in camera coordinates, degrees; signs in the docstring."""
    offset = (_eye_in_head_offset(points, RIGHT) + _eye_in_head_offset(points, LEFT)) / 2
    angles = np.arcsin(np.clip(offset * EYE_HALF_WIDTH_MM / EYEBALL_RADIUS_MM, -1.0, 1.0))
    in_head = np.array([np.tan(angles[0]), np.tan(angles[1]), 1.0])  # towards the camera is +z
    in_camera = rotation @ in_head
    return (float(np.degrees(np.arctan2(in_camera[0], in_camera[2]))),
            float(np.degrees(np.arctan2(in_camera[1], in_camera[2]))))


def frame_values(observed: np.ndarray) -> np.ndarray:
    """One face's row of FRAME_COLUMNS[2:] (confidence, AUs, gaze, pose) from its pixel landmarks."""
    fit = fit_canonical(observed)
    points = aligned_landmarks(observed, fit)
    confidence = np.exp(-(fit.residual_iod / RESIDUAL_SCALE) ** 2)
    return np.concatenate([[confidence], action_units(points), gaze_degrees(points, fit.rotation),
                           head_pose_degrees(fit.rotation)])


def landmarks_to_pixels(face_landmarks, width: int, height: int) -> np.ndarray:
    """(478, 3) pixel coordinates, x right, y up, z towards the camera (MediaPipe's z is
    depth away from the camera, in about the units of x)."""
    raw = np.array([(p.x, p.y, p.z) for p in face_landmarks.landmark], dtype=np.float64)
    return raw * np.array([width, -height, -width])


# ---------------------------------------------------------------- the video, frame by frame

def _no_face_row() -> np.ndarray:
    row = np.full(len(FRAME_COLUMNS) - 2, np.nan)
    row[0] = 0.0  # confidence
    return row


def _face_row(mesh, rgb: np.ndarray, path: Path, index: int) -> np.ndarray | None:
    """The frame's values, or None when FaceMesh finds no face (or a degenerate one)."""
    result = mesh.process(rgb)
    if not result.multi_face_landmarks:
        return None
    row = frame_values(landmarks_to_pixels(result.multi_face_landmarks[0], rgb.shape[1], rgb.shape[0]))
    if not np.isfinite(row).all():
        # a collapsed mesh cannot be aligned; finite values are required downstream
        log.warning("%s: frame %d has a degenerate face mesh; counted as no face", path, index)
        return None
    return row


def per_frame_features(video_path: str | PathLike, cfg: dict) -> pd.DataFrame:
    """One row per decoded frame with FRAME_COLUMNS; attrs: fps, path, frames_declared.

    Raises FileNotFoundError when the file is missing, ValueError when it cannot be read,
    has no valid frame rate, yields no frame, or shows no face in any frame.
    """
    cfg = {**DEFAULTS, **cfg}
    path = Path(video_path)
    if not path.exists():
        raise FileNotFoundError(f"video {path} not found")
    capture, fps = open_video(path)
    declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    faces, rows = [], []
    try:
        with face_mesh(cfg["min_detection_confidence"]) as mesh:
            for rgb in rgb_frames(capture):
                row = _face_row(mesh, rgb, path, len(rows))
                faces.append(row is not None)
                rows.append(_no_face_row() if row is None else row)
    finally:
        capture.release()
    if not rows:
        raise ValueError(f"no frame could be decoded from video {path} (corrupt or truncated?)")
    table = pd.DataFrame(np.vstack(rows), columns=list(FRAME_COLUMNS[2:]))
    table.insert(0, "face", np.array(faces))
    table.insert(0, "time", np.arange(len(rows)) / fps)
    table.attrs.update(fps=fps, path=str(path), frames_declared=declared)
    if not any(faces):
        raise no_face_found(table)
    return table


def no_face_found(table: pd.DataFrame) -> NoFaceFound:
    return NoFaceFound(f"no face found in any of the {len(table)} frames of video {table.attrs['path']}", table)


# ---------------------------------------------------------------- extractor contract

INPUTS = ("video", "openface")  # what the per-session cache key covers (pipeline/feature_cache.py)


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return summary_names(summarised(cfg))


def versions(cfg: dict) -> dict:
    cfg = check_config(cfg)
    tools = {"mediapipe": mp.__version__, "opencv": cv2.__version__}
    if cfg["backend"] == "pyfeat":
        from features import face_pyfeat
        tools.update(face_pyfeat.versions())
    return tools


def check_config(cfg: dict) -> dict:
    """cfg with defaults filled in; ParamsError (a ValueError) naming every bad key (pipeline/params_check.py)."""
    cfg = {**DEFAULTS, **cfg}
    check_extractor("face", cfg)
    return cfg


def preflight(cfg: dict) -> None:
    """Before any session (pipeline/features.py): the pyfeat backend's package and models are
    present, or features.face_pyfeat.PyFeatUnavailable says exactly what is missing."""
    if check_config(cfg)["backend"] == "pyfeat":
        from features import face_pyfeat
        face_pyfeat.preflight()


def session_frames(session, cfg: dict) -> pd.DataFrame:
    """per_frame_features of the session's video, read by MediaPipe once per video content, detection
    setting, tool versions and code: the table does not depend on the windows, so every unit and
    window preset after the first (Raju et al.'s 4 s windows, a preset switched back and forth)
    summarises a table from the scratch cache instead of decoding and meshing the video again.
    The entry lies beside the stage's own session entries (pipeline/feature_cache.py,
    `frames-<key>`), float64 as computed, so a table from the cache equals a fresh one bit for bit;
    `python -m pipeline.scratch prune` treats it like them. A video without a face raises
    NoFaceFound from the cache as when computed."""
    import sys

    from pipeline.feature_cache import FeatureCache, digest, input_checksums, module_sources

    path = session.path("video")
    # the cache of this extractor (this module: its versions and source), under a key of its own
    cache = FeatureCache("face", sys.modules[__name__], cfg)
    key = "frames-" + digest({"video": input_checksums(session, ("video",)),
                              "min_detection_confidence": cfg["min_detection_confidence"],
                              "versions": cache.versions, "code": module_sources("face")})[:24]
    hit = cache.load(session.id, key)
    if hit is None:
        try:
            table = per_frame_features(path, cfg)
        except NoFaceFound as err:
            table = err.frames
        counts = {"fps": float(table.attrs["fps"]), "frames_declared": int(table.attrs["frames_declared"])}
        cache.store(session, key, Extracted({"table": table[list(FRAME_COLUMNS)].to_numpy(np.float64)}, counts),
                    config_hash="")
    else:
        stored, counts = hit[0].arrays["table"], hit[0].counts
        table = pd.DataFrame(stored, columns=list(FRAME_COLUMNS))
        table["face"] = table["face"].astype(bool)
        table.attrs.update(fps=counts["fps"], path=str(path), frames_declared=counts["frames_declared"])
    if not table["face"].any():
        raise no_face_found(table)
    return table


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    """Window summaries of the session video's per-frame face features (see module docstring).
    A session whose corpus ships OpenFace output (manifest column `openface`) is summarised
    from that CSV instead (features.openface_import), and its video is not decoded."""
    cfg = check_config(cfg)
    if session.files.get("openface"):
        return window_features(session.path("openface"), windows, cfg, session.id)
    path = session.path("video")
    try:
        if cfg["backend"] == "pyfeat":
            from features import face_pyfeat  # imports torch: only when the backend is asked for
            frames = face_pyfeat.per_frame_features(path, cfg)
        else:
            frames = session_frames(session, cfg)
    except NoFaceFound as err:
        allow_faceless(session.id, err, cfg["on_no_face"])
        frames = err.frames
    except ValueError as err:
        raise ValueError(f"session {session.id}: {err}") from err
    features, mask, counts = summarise_windows(frames, windows, float(cfg["min_face_fraction"]),
                                               frames.attrs["fps"], summarised(cfg))
    counts["sessions_without_face"] = [] if frames["face"].any() else [session.id]
    if cfg["backend"] == "pyfeat":
        counts["aus_not_estimated"] = len(frames.attrs["aus_not_estimated"])
    counts["frames_unread"] = max(0, frames.attrs["frames_declared"] - counts["frames"])
    if counts["frames_unread"]:
        log.warning("session %s: %d of the %d frames %s announces did not decode", session.id,
                    counts["frames_unread"], frames.attrs["frames_declared"], path)
    if not mask.all():
        log.warning("session %s: %d of %d windows masked (%d with too few face frames, %d beyond "
                    "the end of %s)", session.id, int((~mask).sum()), len(mask),
                    counts["windows_without_face"], counts["windows_beyond_video"], path)
    # the per-frame table too: the face bag-of-words (features/face_boaw.py) quantises it
    # (frames without a face are flagged by `face`; their NaN values are stored as 0)
    per_frame = np.nan_to_num(frames[list(FRAME_COLUMNS)].to_numpy(np.float32))
    return Extracted({"features": features, "mask": mask, "frames": per_frame}, counts)
