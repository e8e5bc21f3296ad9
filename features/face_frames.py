"""The face stage's per-frame table and its window summaries, shared by everything that fills or
reads the table: the MediaPipe backend (features/face.py), py-feat (features/face_pyfeat.py),
OpenFace CSVs (features/openface_import.py), the face bag-of-words (features/face_boaw.py) and
the frame sequences of models (pipeline/inner_sequences.py). It imports none of them.

The table (a DataFrame, one row per frame, columns FRAME_COLUMNS): `time` (s), `face` (a face
was found), `confidence`, the 16 ACTION_UNITS, GAZE and POSE; frames without a face have
`face` False, `confidence` 0 and NaN elsewhere. attrs: fps, path, frames_declared.

`summarise_windows` gives per window the mean and std (ddof 0) of the SUMMARISED columns over
the window's frames that show a face, and the window's face fraction (`summary_names`); the
module docstring of features/face.py says when a window is masked. A session without any face
is NoFaceFound, which `allow_faceless` turns into the stage's error or, with `on_no_face:
mask`, a warning.
"""
import logging

import numpy as np
import pandas as pd

from features.window_frames import frame_ranges

log = logging.getLogger("features.face")  # the face stage's logger, whichever backend warns

# the config of the face stage (`features.face`) where params.yaml leaves a key out; every
# backend reads it (its allowed values: pipeline/params_check.py)
DEFAULTS = {"min_face_fraction": 0.5, "min_detection_confidence": 0.5, "backend": "mediapipe",
            "pyfeat_batch_size": 16, "device": "auto", "on_no_face": "error", "head_pose": True}

ACTION_UNITS = ("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
                "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45")
GAZE = ("gaze_x", "gaze_y")
POSE = ("pose_pitch", "pose_yaw", "pose_roll")
FRAME_COLUMNS = ("time", "face", "confidence", *ACTION_UNITS, *GAZE, *POSE)
# the per-frame values summarised per window (mean and std over face frames); `head_pose: false`
# leaves out POSE (Raju et al. summarise action units and gaze only)
SUMMARISED = ("confidence", *ACTION_UNITS, *GAZE, *POSE)


def summarised(cfg: dict) -> tuple[str, ...]:
    return SUMMARISED if cfg.get("head_pose", True) else tuple(c for c in SUMMARISED if c not in POSE)


class NoFaceFound(ValueError):
    """Not one frame shows a face; `frames` is the per-frame table (every `face` False), which
    `on_no_face: mask` summarises into all-masked windows."""

    def __init__(self, message: str, frames: pd.DataFrame):
        super().__init__(message)
        self.frames = frames


def allow_faceless(session_id: str, err: ValueError, on_no_face: str) -> None:
    """A session with no face at all: the stage's error, or with `on_no_face: mask` a warning
    (the caller then masks all its windows and lists it in "sessions_without_face")."""
    if on_no_face != "mask":
        raise ValueError(f"session {session_id}: {err} (on_no_face: mask would mask its windows "
                         "instead)") from err
    log.warning("session %s: %s; all its windows are masked (on_no_face: mask)", session_id, err)


def summary_names(columns: tuple[str, ...]) -> list[str]:
    """The names of a window summary's values, in the order of summarise_windows' features."""
    return [f"{name}_{stat}" for name in columns for stat in ("mean", "std")] + ["face_fraction"]


def _window_row(face_values: np.ndarray, n_frames: int) -> np.ndarray:
    """mean, std per summarised feature (interleaved, as summary_names) and the face fraction."""
    stats = np.stack([face_values.mean(axis=0), face_values.std(axis=0)], axis=1)
    return np.concatenate([stats.ravel(), [len(face_values) / n_frames]])


def summarise_windows(frames: pd.DataFrame, windows: pd.DataFrame, min_face_fraction: float,
                      fps: float, columns: tuple[str, ...] = SUMMARISED) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(features (windows, D) float32, mask (windows,) bool, counts) from a per-frame table.

    A window's frames are those with start <= time < end (features/window_frames.py). The video
    covers [0, last frame time + 1 / fps); windows ending beyond that by more than half a frame
    are masked as beyond the video.
    """
    times = frames["time"].to_numpy()
    faces = frames["face"].to_numpy(dtype=bool)
    values = frames[list(columns)].to_numpy(dtype=np.float64)
    video_end = times[-1] + 1.0 / fps
    features = np.zeros((len(windows), 2 * len(columns) + 1), dtype=np.float32)
    mask = np.zeros(len(windows), dtype=bool)
    beyond = without_face = 0
    ends = windows["end"].to_numpy(dtype=np.float64)
    ranges = frame_ranges(times, windows["start"].to_numpy(dtype=np.float64), ends)
    for row, (end, (first, stop)) in enumerate(zip(ends, ranges)):
        if end > video_end + 0.5 / fps:
            beyond += 1
            continue
        in_window = faces[first:stop]
        # at least one face frame even when min_face_fraction is 0: a mean needs values
        if not in_window.any() or in_window.mean() < min_face_fraction:
            without_face += 1
            continue
        features[row] = _window_row(values[first:stop][in_window], stop - first)
        mask[row] = True
    counts = {"frames": len(frames), "frames_with_face": int(faces.sum()),
              "windows_without_face": without_face, "windows_beyond_video": beyond}
    return features, mask, counts
