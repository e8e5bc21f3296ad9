"""How long a manifest's recordings really are: audio from its header, video by decoding it.

A video's header can claim more than its data holds: an mp4 with its index (moov atom) at
the front, cut short, still declares its full length, and ffmpeg converts what it can
without complaint. So a video's length is the number of frames that actually decode
(OpenCV's grab() loop: it decodes every frame but skips the colour conversion; about 1-3 s
per minute of 640x480 video on one core, a few per cent of the re-encoding the `corpus`
stage does anyway, and no process to start per file as with `ffprobe -count_frames`), and
a video whose decoded length falls short of its declared one is refused, naming both.
"""
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import soundfile as sf

# decoded frames may fall short of the header by this much: containers round the last
# frame's duration, and some (mkv, webm) declare no frame count, only a duration
TRUNCATION_TOLERANCE_S = 0.5


def audio_duration(path: Path) -> float:
    info = sf.info(str(path))
    if info.frames == 0:
        raise ValueError("has no samples")
    return info.frames / info.samplerate


@dataclass(frozen=True)
class VideoLength:
    declared_frames: int  # from the header (or its duration x frame rate, where it has no count)
    decoded_frames: int
    fps: float

    @property
    def declared_s(self) -> float:
        return self.declared_frames / self.fps

    @property
    def decoded_s(self) -> float:
        return self.decoded_frames / self.fps


def probe_video(path: Path) -> VideoLength:
    """The video's declared length and how many of its frames decode."""
    capture = cv2.VideoCapture(str(path))
    try:
        fps, declared = capture.get(cv2.CAP_PROP_FPS), capture.get(cv2.CAP_PROP_FRAME_COUNT)
        decoded = 0
        while capture.grab():
            decoded += 1
    finally:
        capture.release()
    if decoded == 0:
        raise ValueError("cannot be decoded (no frame could be read)")
    if not (np.isfinite(fps) and fps > 0 and declared > 0):
        raise ValueError(f"reports no usable frame rate/count (fps {fps}, frames {declared})")
    return VideoLength(int(declared), decoded, fps)


def video_duration(path: Path) -> float:
    """Seconds of video that decode; refuses a video shorter than its header declares."""
    length = probe_video(path)
    if length.declared_s - length.decoded_s > TRUNCATION_TOLERANCE_S:
        raise ValueError(f"is truncated: its header declares {length.declared_s:.2f} s ({length.declared_frames} "
                         f"frames) but only {length.decoded_frames} frames ({length.decoded_s:.2f} s at "
                         f"{length.fps:g} fps) decode")
    return length.decoded_s
