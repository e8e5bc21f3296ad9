"""Synthetic face video of a session.

Each frame warps a real face photo (scikit-image's astronaut, public domain):
the smile follows valence, brows and eyelids follow arousal, and the jaw
follows the speech envelope.
"""

from __future__ import annotations

from functools import lru_cache
from os import PathLike
from typing import Union

import cv2
import numpy as np
from skimage import data as skimage_data

# The face is small in the 512x512 astronaut photo; this 192x192 square
# (x 128..320, y 28..220, centred near x=224, y=124) holds the whole head
# with some margin so that FaceMesh still sees a complete face.
CROP_X0, CROP_Y0 = 128, 28
CROP_SIZE = 192

# MediaPipe FaceMesh landmarks measured once on the full 512x512 astronaut
# image (static_image_mode=True, refine_landmarks=True), converted to crop
# coordinates. Hard-coded so generation needs no detector.
_FULL_IMAGE_LANDMARKS: dict[str, tuple[float, float]] = {
    "mouth_corner_left": (201.8, 139.2),  # 61
    "mouth_corner_right": (245.0, 141.0),  # 291
    "upper_lip": (223.5, 143.2),  # 13
    "lower_lip": (223.0, 150.1),  # 14
    "lower_lip_bottom": (222.7, 154.6),  # 17
    "chin": (221.3, 177.4),  # 152
    "brow_left_outer": (198.8, 86.9),  # 105
    "brow_left_inner": (206.8, 87.9),  # 66
    "brow_right_outer": (253.0, 90.7),  # 334
    "brow_right_inner": (245.1, 90.8),  # 296
    "upper_eyelid_left": (202.8, 97.6),  # 159
    "upper_eyelid_right": (248.3, 99.7),  # 386
    "lower_eyelid_left": (203.4, 104.3),  # 145
    "lower_eyelid_right": (246.6, 106.7),  # 374
    "nose_tip": (223.4, 130.0),  # 1: never moved, a fixed reference for measuring
}

FACE_CONTROL_POINTS: dict[str, tuple[float, float]] = {
    name: (x - CROP_X0, y - CROP_Y0) for name, (x, y) in _FULL_IMAGE_LANDMARKS.items()
}

# Displacements in pixels at CROP_SIZE (image y grows downwards), per unit of
# valence, arousal and mouth_open. Tuned by measuring with FaceMesh (see
# tests/test_face_video.py): smaller moves get lost in the detector's face
# prior and in mp4v compression; larger ones distort the face visibly.
_VALENCE_MOVES: dict[str, tuple[float, float]] = {
    "mouth_corner_left": (-2.25, -6.0),
    "mouth_corner_right": (2.25, -6.0),
}
_AROUSAL_MOVES: dict[str, tuple[float, float]] = {
    "brow_left_outer": (0.0, -3.0),
    "brow_left_inner": (0.0, -3.0),
    "brow_right_outer": (0.0, -3.0),
    "brow_right_inner": (0.0, -3.0),
    "upper_eyelid_left": (0.0, -1.5),
    "upper_eyelid_right": (0.0, -1.5),
    "lower_eyelid_left": (0.0, 0.5),
    "lower_eyelid_right": (0.0, 0.5),
}
# The upper lip sits 7 px above the lower lip, so the lower lip's Gaussian
# pulls it down too; -3 leaves it rising slightly (~0.4 px) while the gap opens.
_MOUTH_OPEN_MOVES: dict[str, tuple[float, float]] = {
    "upper_lip": (0.0, -3.0),
    "lower_lip": (0.0, 6.0),
    "lower_lip_bottom": (0.0, 6.0),
    "chin": (0.0, 6.0),
}
# Gaussian reach of each control point at CROP_SIZE: wide enough for a smooth
# warp, narrow enough that brows do not drag the eyes along.
_SIGMA_PX = 5.0
# The jaw drops as a whole: its Gaussians are this many times wider than tall,
# otherwise only the lip centre sags and the mouth opens into a V.
_JAW_WIDENING = 2.5

ArrayLike = Union[np.ndarray, list, tuple]


def _scale(size: int) -> float:
    return size / CROP_SIZE


@lru_cache(maxsize=4)
def _base_face(size: int) -> np.ndarray:
    """The unwarped face crop, RGB uint8, resized to size."""
    photo = skimage_data.astronaut()
    crop = photo[CROP_Y0 : CROP_Y0 + CROP_SIZE, CROP_X0 : CROP_X0 + CROP_SIZE]
    if size != CROP_SIZE:
        interpolation = cv2.INTER_AREA if size < CROP_SIZE else cv2.INTER_CUBIC
        crop = cv2.resize(crop, (size, size), interpolation=interpolation)
    crop = np.ascontiguousarray(crop)
    crop.setflags(write=False)
    return crop


def _gaussian_weight(size: int, centre: tuple[float, float], widening: float) -> np.ndarray:
    scale = _scale(size)
    cx, cy = centre[0] * scale, centre[1] * scale
    sigma_y = _SIGMA_PX * scale
    sigma_x = sigma_y * widening
    xs = np.arange(size, dtype=np.float32)
    wx = np.exp(-((xs - cx) ** 2) / (2 * sigma_x**2))
    wy = np.exp(-((xs - cy) ** 2) / (2 * sigma_y**2))
    return np.outer(wy, wx).astype(np.float32)


def _displacement_basis(size: int, moves: dict[str, tuple[float, float]],
                        widening: float) -> np.ndarray:
    """(2, size, size) displacement field for a unit of one control signal."""
    scale = _scale(size)
    field = np.zeros((2, size, size), dtype=np.float32)
    for name, (dx, dy) in moves.items():
        weight = _gaussian_weight(size, FACE_CONTROL_POINTS[name], widening)
        field[0] += dx * scale * weight
        field[1] += dy * scale * weight
    return field


@lru_cache(maxsize=4)
def _warp_bases(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Identity sampling grid plus one displacement basis per control signal.

    The displacement is linear in (valence, arousal, mouth_open), so a frame
    only needs three multiply-adds over precomputed fields and one remap.
    """
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    identity = np.stack([xs, ys])
    bases = (
        _displacement_basis(size, _VALENCE_MOVES, widening=1.0),
        _displacement_basis(size, _AROUSAL_MOVES, widening=1.0),
        _displacement_basis(size, _MOUTH_OPEN_MOVES, widening=_JAW_WIDENING),
    )
    for array in (identity, *bases):
        array.setflags(write=False)
    return (identity, *bases)


def _check_range(name: str, values: np.ndarray, low: float, high: float) -> None:
    # Written as "not inside" so that NaN, which fails every comparison, is rejected too.
    outside = ~((values >= low) & (values <= high))
    if outside.any():
        first = int(np.argmax(outside))
        raise ValueError(f"{name} must lie in [{low}, {high}]; {int(outside.sum())} value(s) "
                         f"outside, the first at index {first}: {values[first]}")


def _check_size(size: int) -> None:
    if int(size) != size or size < 32:
        raise ValueError(f"size must be an integer >= 32, got {size}")


def _warp(valence: float, arousal: float, mouth_open: float, size: int) -> np.ndarray:
    identity, valence_basis, arousal_basis, mouth_basis = _warp_bases(size)
    displacement = valence * valence_basis + arousal * arousal_basis + mouth_open * mouth_basis
    # Backward mapping: each output pixel samples where its content came
    # from; for small smooth fields, subtracting the forward displacement is
    # an accurate enough inverse.
    source = identity - displacement
    return cv2.remap(_base_face(size), source[0], source[1],
                     interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def face_frame(valence: float, arousal: float, mouth_open: float, size: int = 192) -> np.ndarray:
    """One RGB uint8 frame of shape (size, size, 3) showing the given expression."""
    _check_size(size)
    _check_range("valence", np.asarray([valence], dtype=float), -1.0, 1.0)
    _check_range("arousal", np.asarray([arousal], dtype=float), -1.0, 1.0)
    _check_range("mouth_open", np.asarray([mouth_open], dtype=float), 0.0, 1.0)
    return _warp(float(valence), float(arousal), float(mouth_open), int(size))


def _as_signal(name: str, values: ArrayLike) -> np.ndarray:
    signal = np.asarray(values, dtype=np.float64)
    if signal.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per frame), got shape {signal.shape}")
    return signal


def _checked_signals(valence: ArrayLike, arousal: ArrayLike,
                     mouth_open: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    signals = {name: _as_signal(name, values) for name, values in
               (("valence", valence), ("arousal", arousal), ("mouth_open", mouth_open))}
    lengths = {name: len(signal) for name, signal in signals.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"valence, arousal and mouth_open need one value per frame; lengths differ: {lengths}")
    _check_range("valence", signals["valence"], -1.0, 1.0)
    _check_range("arousal", signals["arousal"], -1.0, 1.0)
    _check_range("mouth_open", signals["mouth_open"], 0.0, 1.0)
    return signals["valence"], signals["arousal"], signals["mouth_open"]


def render_face_video(path: Union[str, PathLike], valence: ArrayLike, arousal: ArrayLike,
                      mouth_open: ArrayLike, fps: float, size: int = 192) -> dict:
    """Stream one warped frame per value to an mp4v .mp4 at path.

    Returns {"frames", "fps", "width", "height"} of the written video.
    """
    _check_size(size)
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps}")
    valence, arousal, mouth_open = _checked_signals(valence, arousal, mouth_open)
    size = int(size)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (size, size))
    if not writer.isOpened():
        raise RuntimeError(f"cannot open video writer for {path}")
    try:
        for v, a, m in zip(valence, arousal, mouth_open):
            frame = _warp(float(v), float(a), float(m), size)
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return {"frames": int(len(valence)), "fps": fps, "width": size, "height": size}
