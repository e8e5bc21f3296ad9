"""Forced alignment with pocketsphinx: word start/end times of a known transcript in speech.

pocketsphinx ships the en-us acoustic model and the CMU dictionary; words the dictionary
lacks get espeak-ng pronunciations (pronunciations.py). Long recordings are aligned in
chunks of `chunk_s` seconds so memory stays flat: each chunk aligns the words expected
to fit, keeps those ending in its first 60 % and starts the next chunk there.
"""
import re
from dataclasses import dataclass

import numpy as np
from pocketsphinx import Decoder

from alignment.pronunciations import dictionary_words, espeak_pronunciation

FRAME_S = 0.01  # pocketsphinx frames are 10 ms
FILLERS = {"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "++NOISE++", "++BREATH++"}
KEEP_FRACTION = 0.6


class AlignmentError(RuntimeError):
    pass


@dataclass(frozen=True)
class AlignedWord:
    word: str
    start: float
    end: float
    pronunciation: str  # "dictionary" or "g2p" (espeak-ng fallback)
    score: float  # acoustic log-likelihood per frame (higher is a better fit)


class Aligner:
    def __init__(self, sample_rate: int = 16000, chunk_s: float = 120.0):
        self.sample_rate = sample_rate
        self.chunk_s = chunk_s
        # wider beams than pocketsphinx's recognition defaults (1e-48): with the transcript
        # fixed the search is small, and the defaults lost whole sessions whose TTS
        # pronunciations stray from the dictionary's (no path to the end of the text)
        self.decoder = Decoder(samprate=sample_rate, bestpath=False, loglevel="FATAL",
                               beam=1e-80, pbeam=1e-80, wbeam=1e-60)
        self.added: dict[str, list[str]] = {}

    def _pronounce(self, words: list[str]) -> dict[str, str]:
        known = dictionary_words()
        source = {}
        for word in set(words):
            if word in known:
                source[word] = "dictionary"
                continue
            if word not in self.added:
                phones = espeak_pronunciation(word)
                if not phones:
                    raise AlignmentError(f"no pronunciation for {word!r} (not in the dictionary; espeak-ng gave none)")
                self.decoder.add_word(word, " ".join(phones), True)
                self.added[word] = phones
            source[word] = "g2p"
        return source

    def _align_span(self, pcm: np.ndarray, words: list[str], offset_s: float) -> list[tuple[str, float, float, float]]:
        self.decoder.set_align_text(" ".join(words))
        # the front end carries its noise and cepstral-mean estimates from one utterance into
        # the next, so an alignment would depend on what this process aligned before (a pool's
        # scheduling, a retry with fewer words): every utterance starts from a fresh front end
        self.decoder.reinit_feat()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        self.decoder.end_utt()
        segments = self.decoder.seg() or []  # None when no path reaches the end of the text
        aligned = [(re.sub(r"\(\d+\)$", "", s.word), offset_s + s.start_frame * FRAME_S,
                    offset_s + (s.end_frame + 1) * FRAME_S, s.ascore / max(1, s.end_frame - s.start_frame + 1))
                   for s in segments if s.word not in FILLERS]
        if [w for w, *_ in aligned] != words:
            raise AlignmentError(f"pocketsphinx aligned {len(aligned)} of {len(words)} words "
                                 f"in {offset_s:.1f}-{offset_s + len(pcm) / self.sample_rate:.1f} s")
        return aligned

    def _align_chunk(self, pcm: np.ndarray, words: list[str], offset_s: float):
        """Align a prefix of `words` in `pcm`: when slow speech makes them not fit, try fewer."""
        while True:
            try:
                return self._align_span(pcm, words, offset_s)
            except AlignmentError:
                if len(words) <= 2:
                    raise
                words = words[:max(2, int(len(words) * 0.75))]

    def align(self, audio: np.ndarray, words: list[str]) -> list[AlignedWord]:
        """`audio`: int16 mono at `sample_rate`; `words`: normalised transcript words."""
        if not words:
            return []
        source = self._pronounce(words)
        duration = len(audio) / self.sample_rate
        aligned, i, t0 = [], 0, 0.0
        while i < len(words):
            remaining = duration - t0
            first = int(round(t0 * self.sample_rate))
            if remaining <= self.chunk_s:
                aligned += self._align_span(audio[first:], words[i:], t0)
                break
            # words expected in this chunk, from the speaking rate over what is left
            expected = max(2, int(np.ceil((len(words) - i) * self.chunk_s / remaining)))
            chunk = self._align_chunk(audio[first:first + int(self.chunk_s * self.sample_rate)],
                                      words[i:i + expected], t0)
            kept = [w for w in chunk if w[2] <= t0 + KEEP_FRACTION * self.chunk_s] or chunk[:1]
            aligned += kept
            i += len(kept)
            t0 = kept[-1][2]
        return [AlignedWord(w, round(s, 3), round(e, 3), source[w], round(float(sc), 2)) for w, s, e, sc in aligned]
