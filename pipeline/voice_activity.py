"""Voice-activity segments of a recording that has neither a segments file nor a transcript
(`predict` with a run on segments: pipeline/recordings.py).

A frame is voiced when its RMS level is within TOP_DB of the recording's loudest frame and
above FLOOR_DBFS (a room's noise floor, so a recording of noise alone has no voice activity,
which a level relative to the loudest frame could not tell); voiced stretches are joined
across pauses shorter than the sentence gap the project uses wherever no segments file says
where sentences end (SENTENCE_GAP_S, 0.5 s), and stretches shorter than MIN_SEGMENT_S after
joining (a click, a breath) are not segments: how many were left out is logged.
"""
import logging

import librosa
import numpy as np

from features.session_words import SENTENCE_GAP_S

log = logging.getLogger("voice_activity")
TOP_DB = 30.0  # below the loudest frame: quiet speech is above it, pauses below
FLOOR_DBFS = -45.0  # a frame quieter than this is silence whatever the loudest frame
MIN_SEGMENT_S = 0.25
FRAME, HOP = 1024, 256  # 64 ms frames every 16 ms at 16 kHz


def voiced_frames(audio: np.ndarray, top_db: float = TOP_DB, floor_dbfs: float = FLOOR_DBFS) -> np.ndarray:
    """(frames,) bool: each HOP-spaced frame's RMS level is within `top_db` of the loudest frame's
    and above `floor_dbfs`."""
    level = librosa.amplitude_to_db(librosa.feature.rms(y=audio, frame_length=FRAME, hop_length=HOP)[0],
                                    ref=1.0, amin=1e-10)
    return level > max(level.max() - top_db, floor_dbfs)


def voice_segments(audio: np.ndarray, rate: int, name: str, top_db: float = TOP_DB, floor_dbfs: float = FLOOR_DBFS,
                   gap_s: float = SENTENCE_GAP_S, min_s: float = MIN_SEGMENT_S) -> np.ndarray:
    """(S, 2) start and end seconds of the voiced stretches of `audio` (mono); an error naming
    the recording `name` when there is none."""
    voiced = np.r_[False, voiced_frames(audio, top_db, floor_dbfs), False]
    edges = np.flatnonzero(np.diff(voiced.astype(np.int8)))  # frame indices where voicing starts / stops
    starts, stops = edges[0::2], edges[1::2]
    # a frame is centred on index * HOP: its stretch is [start frame's centre, last frame's centre + HOP)
    stretches = np.stack([starts * HOP, np.minimum(stops * HOP, len(audio))], axis=1) / rate
    joined: list[list[float]] = []
    for start, end in stretches:
        if joined and start - joined[-1][1] < gap_s:
            joined[-1][1] = float(end)
        else:
            joined.append([float(start), float(end)])
    segments = [s for s in joined if s[1] - s[0] >= min_s]
    if len(segments) < len(joined):
        log.info("recording %s: %d voiced stretch(es) shorter than %.2f s left out", name,
                 len(joined) - len(segments), min_s)
    if not segments:
        raise ValueError(f"recording {name}: no voice activity of {min_s} s or more (frames above {floor_dbfs} dBFS "
                         f"and within {top_db} dB of the loudest): give --segments")
    return np.round(np.array(segments), 3)
