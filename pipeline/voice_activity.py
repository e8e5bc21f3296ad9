"""Voice-activity segments of a recording that has neither a segments file nor a transcript
(`predict` with a run on segments: pipeline/recordings.py).

The stretches of audio whose short-time energy is within TOP_DB of the recording's loudest
frame (librosa's `effects.split`), joined across pauses shorter than the sentence gap the
project uses wherever no segments file says where sentences end (SENTENCE_GAP_S, 0.5 s);
stretches shorter than MIN_SEGMENT_S after joining (a click, a breath) are not segments, and
how many were left out is logged.
"""
import logging

import librosa
import numpy as np

from features.session_words import SENTENCE_GAP_S

log = logging.getLogger("voice_activity")
TOP_DB = 30.0  # below the loudest frame: a room's noise floor is further down, quiet speech is not
MIN_SEGMENT_S = 0.25
FRAME, HOP = 1024, 256  # 64 ms frames every 16 ms at 16 kHz


def voice_segments(audio: np.ndarray, rate: int, name: str, top_db: float = TOP_DB,
                   gap_s: float = SENTENCE_GAP_S, min_s: float = MIN_SEGMENT_S) -> np.ndarray:
    """(S, 2) start and end seconds of the voiced stretches of `audio` (mono); an error naming
    the recording `name` when there is none."""
    intervals = librosa.effects.split(audio, top_db=top_db, frame_length=FRAME, hop_length=HOP) / rate
    joined: list[list[float]] = []
    for start, end in intervals:
        if joined and start - joined[-1][1] < gap_s:
            joined[-1][1] = float(end)
        else:
            joined.append([float(start), float(end)])
    segments = [s for s in joined if s[1] - s[0] >= min_s]
    if len(segments) < len(joined):
        log.info("recording %s: %d voiced stretch(es) shorter than %.2f s left out", name,
                 len(joined) - len(segments), min_s)
    if not segments:
        raise ValueError(f"recording {name}: no voice activity of {min_s} s or more (within {top_db} dB of its "
                         f"loudest frame): give --segments")
    return np.round(np.array(segments), 3)
