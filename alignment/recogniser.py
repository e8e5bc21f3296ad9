"""Speech recognition without the transcript: pocketsphinx's own en-us acoustic model, language
model and dictionary decode the audio (Xu et al.'s "ASR text", where they used Google's
recogniser), and the word error rate against the reference words.
"""
import re
from dataclasses import dataclass

import numpy as np
from pocketsphinx import Decoder

FRAME_S = 0.01  # pocketsphinx frames are 10 ms
_NOT_WORDS = re.compile(r"^(<.*>|\[.*\])$")  # <s>, </s>, <sil>, [NOISE], [SPEECH], ...
_VARIANT = re.compile(r"\(\d+\)$")  # "where(2)": the dictionary's second pronunciation of "where"


@dataclass
class RecognisedWord:
    word: str
    start: float  # seconds from the start of the audio
    end: float


class Recogniser:
    """pocketsphinx with its packaged en-us models and its default search settings."""

    def __init__(self, sample_rate: int = 16000, chunk_s: float = 120.0):
        self.sample_rate, self.chunk_s = sample_rate, chunk_s
        self.decoder = Decoder(samprate=sample_rate, loglevel="FATAL")

    def recognise(self, pcm: np.ndarray) -> list[RecognisedWord]:
        """The words of int16 `pcm`, decoded in consecutive pieces of at most `chunk_s` seconds
        (a word cut by a piece boundary may be lost: memory stays flat for long sessions)."""
        step = int(self.chunk_s * self.sample_rate)
        words = []
        for offset in range(0, max(len(pcm), 1), step):
            piece = pcm[offset:offset + step]
            if len(piece) < self.sample_rate // 10:  # under 100 ms: nothing to decode
                continue
            # a fresh front end (noise and cepstral-mean estimates) for every piece, as the aligner's:
            # else a session's words depend on what this process decoded before
            self.decoder.reinit_feat()
            self.decoder.start_utt()
            self.decoder.process_raw(np.ascontiguousarray(piece, dtype=np.int16).tobytes(), full_utt=True)
            self.decoder.end_utt()
            base = offset / self.sample_rate
            for seg in self.decoder.seg():
                if _NOT_WORDS.match(seg.word):
                    continue
                words.append(RecognisedWord(_VARIANT.sub("", seg.word).lower(), base + seg.start_frame * FRAME_S,
                                            base + (seg.end_frame + 1) * FRAME_S))
        return words


@dataclass
class WordErrors:
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def wer(self) -> float:
        """(S + D + I) / N; 0 for an empty reference recognised as empty, inf if words were inserted."""
        errors = self.substitutions + self.deletions + self.insertions
        return errors / self.reference_words if self.reference_words else (0.0 if not errors else float("inf"))

    def __add__(self, other: "WordErrors") -> "WordErrors":
        return WordErrors(self.substitutions + other.substitutions, self.deletions + other.deletions,
                          self.insertions + other.insertions, self.reference_words + other.reference_words)


def word_errors(reference: list[str], hypothesis: list[str]) -> WordErrors:
    """The minimum edit between the word sequences (Levenshtein over words), split into
    substitutions, deletions and insertions; ties prefer substitutions, as sclite does."""
    n, m = len(reference), len(hypothesis)
    # cost[i][j]: (edits, substitutions, deletions, insertions) turning reference[:i] into hypothesis[:j]
    cost = [[(0, 0, 0, 0)] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = (i, 0, i, 0)
    for j in range(1, m + 1):
        cost[0][j] = (j, 0, 0, j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            e, s, d, k = cost[i - 1][j - 1]
            same = reference[i - 1] == hypothesis[j - 1]
            options = [(e + (not same), s + (not same), d, k)]
            e, s, d, k = cost[i - 1][j]
            options.append((e + 1, s, d + 1, k))
            e, s, d, k = cost[i][j - 1]
            options.append((e + 1, s, d, k + 1))
            cost[i][j] = min(options, key=lambda c: c[0])  # first minimum: substitution before the others
    _, s, d, k = cost[n][m]
    return WordErrors(s, d, k, n)
