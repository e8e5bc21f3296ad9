"""A session video read as a stream: opened with its frame rate, then decoded one RGB frame at a time.

The frame rate is the container's (cv2.CAP_PROP_FPS) and frame i is at time i / fps; the whole
video is never held in memory. Every face stage reads its video this way (features/face.py,
face_pyfeat.py, face_deep.py). A file OpenCV cannot open, or a frame rate that cannot time the
frames, is a ValueError naming the file.
"""
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np


def open_video(path: Path) -> tuple[cv2.VideoCapture, float]:
    """(capture, frame rate); the caller releases the capture."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise ValueError(f"cannot open video {path}: OpenCV cannot decode it (corrupt, truncated "
                         "or not a video)")
    try:
        fps = checked_frame_rate(capture.get(cv2.CAP_PROP_FPS), path)
    except ValueError:
        capture.release()
        raise
    return capture, fps


def checked_frame_rate(fps: float, path: Path) -> float:
    """The container's frame rate, or ValueError when it cannot time the frames."""
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"video {path} reports an invalid frame rate ({fps}); frame times "
                         "cannot be known")
    return float(fps)


def rgb_frames(capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
    """RGB frames until the stream ends or stops decoding."""
    while True:
        ok, bgr = capture.read()
        if not ok:
            return
        yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
