"""Speech of a synthetic story: espeak-ng TTS per word, prosody driven by the latent state.

Each word is synthesised on its own with pitch, rate and amplitude set from the latent
arousal (and partly valence) at that moment, trimmed to its voiced extent and placed on
the session timeline with short gaps. The placement *is* the ground-truth word timing
that the aligner is later scored against.
"""
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

ESPEAK_RATE_HZ = 22050  # espeak-ng writes 22.05 kHz only


@dataclass(frozen=True)
class Voice:
    """A synthetic speaker: an espeak-ng voice and its resting prosody."""

    espeak_voice: str
    base_pitch: int  # espeak -p, 0..99
    base_rate_wpm: int  # espeak -s


@dataclass(frozen=True)
class Prosody:
    pitch: int
    rate_wpm: int
    amplitude: int


def prosody_for(voice: Voice, valence: float, arousal: float) -> Prosody:
    """Aroused speech is higher, faster and louder; positive valence raises pitch a little."""
    pitch = voice.base_pitch + 22.0 * arousal + 6.0 * valence
    rate = voice.base_rate_wpm * (1.0 + 0.3 * arousal)
    amplitude = 100.0 * (1.0 + 0.5 * arousal)
    return Prosody(int(np.clip(round(pitch), 0, 99)), int(np.clip(round(rate), 80, 400)),
                   int(np.clip(round(amplitude), 10, 200)))


def require_espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise RuntimeError("espeak-ng not found on PATH: install it (`apt-get install espeak-ng`) "
                           "or run `bash run.sh setup`.")
    return path


def synthesize_word(word: str, voice: Voice, prosody: Prosody, sample_rate: int,
                    workdir: Path) -> np.ndarray:
    """One word as float32 audio at `sample_rate`, trimmed to where it is audible."""
    out = workdir / "word.wav"
    cmd = [require_espeak(), "-v", voice.espeak_voice, "-p", str(prosody.pitch),
           "-s", str(prosody.rate_wpm), "-a", str(prosody.amplitude), "-w", str(out), word]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"espeak-ng failed for word {word!r} with voice "
                           f"{voice.espeak_voice}: {result.stderr.strip()}")
    audio, rate = sf.read(out, dtype="float32")
    factor = gcd(sample_rate, rate)
    audio = resample_poly(audio, sample_rate // factor, rate // factor).astype(np.float32)
    return trim_silence(audio, sample_rate, word)


def trim_silence(audio: np.ndarray, sample_rate: int, word: str, threshold_db: float = -40.0) -> np.ndarray:
    """Cut leading/trailing samples whose 5 ms envelope is `threshold_db` below the word's peak."""
    hop = max(1, sample_rate // 200)
    frames = np.abs(audio[: len(audio) // hop * hop]).reshape(-1, hop).max(axis=1)
    if frames.size == 0 or frames.max() <= 0:
        raise RuntimeError(f"espeak-ng produced silence for word {word!r}")
    loud = np.flatnonzero(frames >= frames.max() * 10 ** (threshold_db / 20))
    return audio[loud[0] * hop:(loud[-1] + 1) * hop]


@dataclass
class TimedWord:
    word: str
    start: float
    end: float
    sentence: int


class SpeechTrack:
    """Accumulates sentences on a session timeline of fixed length."""

    def __init__(self, seconds: float, sample_rate: int, voice: Voice):
        self.sample_rate = sample_rate
        self.voice = voice
        self.audio = np.zeros(int(round(seconds * sample_rate)), dtype=np.float32)
        self.words: list[TimedWord] = []
        self._workdir = Path(tempfile.mkdtemp(prefix="emorepro_tts_"))

    def __enter__(self) -> "SpeechTrack":
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)

    def place_sentence(self, words: list[str], start: float, sentence: int,
                       prosody_at: Callable[[float], Prosody], gaps_s: np.ndarray,
                       latest_end: float) -> float | None:
        """Synthesise `words` from `start` with the prosody of each word's onset time and
        `gaps_s[i]` of silence after word i. Returns the end of the last word, or None (and
        places nothing) when the sentence would end after `latest_end`."""
        placed, t = [], start
        for word, gap in zip(words, gaps_s):
            samples = synthesize_word(word, self.voice, prosody_at(t), self.sample_rate, self._workdir)
            first = int(round(t * self.sample_rate))
            placed.append((word, first, samples))
            t = (first + len(samples)) / self.sample_rate + gap
        word, first, samples = placed[-1]
        end = (first + len(samples)) / self.sample_rate
        if end > latest_end:
            return None
        for word, first, samples in placed:
            self.audio[first:first + len(samples)] += samples
            self.words.append(TimedWord(word, first / self.sample_rate,
                                        (first + len(samples)) / self.sample_rate, sentence))
        return end

    def finish(self, rng: np.random.Generator, noise_db: float) -> np.ndarray:
        """The track with a faint noise floor (real recordings are never digitally silent)."""
        peak = float(np.max(np.abs(self.audio))) or 1.0
        noise = rng.normal(0.0, peak * 10 ** (noise_db / 20), size=self.audio.shape)
        audio = self.audio + noise.astype(np.float32)
        return np.clip(audio / max(1.0, float(np.max(np.abs(audio))) / 0.95), -1.0, 1.0)
