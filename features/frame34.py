"""Xu et al.'s 34 frame-level acoustic descriptors (pyAudioAnalysis short-term features).

Xu et al. (IEMOCAP) describe speech by pyAudioAnalysis' short-term feature set, computed
on 20 ms frames at a 10 ms hop (Giannakopoulos 2015). Re-implemented here with numpy and
librosa, in pyAudioAnalysis' column order:

  zcr, energy, energy_entropy, spectral_centroid, spectral_spread, spectral_entropy,
  spectral_flux, spectral_rolloff, mfcc_1..13, chroma_1..12, chroma_std   (34)

As in pyAudioAnalysis the session is first centred and scaled to a peak of 1, frames are
unwindowed (rectangular), the spectrum is |FFT| / (N/2) over the first N/2 bins, the
entropies use 10 sub-blocks, the roll-off is at 90 % of the spectral energy, centroid and
spread are fractions of the Nyquist frequency and the flux of the first frame is 0.
Returned per session: "frames" (n_frames, 34) and "frame_times" (centres, s), for models
that read the frame sequence, and "features", the mean of the frames centred in each window.
"""
import librosa
import numpy as np
import pandas as pd
import scipy
from scipy.fft import dct

from features import Extracted
from features.audio_io import load_audio
from features.lld import window_means

FRAME_WINDOW_S = 0.020
FRAME_HOP_S = 0.010
SUB_BLOCKS = 10
ROLLOFF_FRACTION = 0.90
N_MFCC = 13
MFCC_BANDS = 40  # pyAudioAnalysis' filter bank has 13 linear + 27 log bands from 133.33 Hz
MFCC_FMIN_HZ = 133.33
EPS = np.finfo(np.float64).eps

FEATURE_NAMES = (["zcr", "energy", "energy_entropy", "spectral_centroid", "spectral_spread", "spectral_entropy",
                  "spectral_flux", "spectral_rolloff"] + [f"mfcc_{i}" for i in range(1, N_MFCC + 1)]
                 + [f"chroma_{i}" for i in range(1, 13)] + ["chroma_std"])


INPUTS = ("audio",)  # what the per-session cache key covers (pipeline/feature_cache.py)


def versions(cfg: dict) -> dict:
    return {"numpy": np.__version__, "librosa": librosa.__version__, "scipy": scipy.__version__}


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return list(FEATURE_NAMES)


def peak_normalised(audio: np.ndarray) -> np.ndarray:
    # pyAudioAnalysis removes DC and scales by the session's peak before framing
    signal = audio.astype(np.float64)
    return (signal - signal.mean()) / (np.abs(signal).max() + 1e-10)


def frame_signal(signal: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_frames, window) full frames from the start (no padding) and each frame's centre time."""
    window = round(FRAME_WINDOW_S * sample_rate)
    hop = round(FRAME_HOP_S * sample_rate)
    if len(signal) < window:
        raise ValueError(f"audio of {len(signal) / sample_rate:.3f} s is shorter than one {window}-sample frame")
    frames = librosa.util.frame(signal, frame_length=window, hop_length=hop, axis=0)
    times = (np.arange(len(frames)) * hop + window / 2) / sample_rate
    return frames, times


def zero_crossing_rate(frames: np.ndarray) -> np.ndarray:
    return np.abs(np.diff(np.sign(frames), axis=1)).sum(axis=1) / 2 / (frames.shape[1] - 1)


def block_entropy(values: np.ndarray) -> np.ndarray:
    """Entropy (bits) of how the energy of each row is spread over SUB_BLOCKS equal blocks."""
    width = values.shape[1] // SUB_BLOCKS
    blocks = (values[:, :width * SUB_BLOCKS] ** 2).reshape(len(values), SUB_BLOCKS, width).sum(axis=2)
    shares = blocks / ((values ** 2).sum(axis=1, keepdims=True) + EPS)
    return -(shares * np.log2(shares + EPS)).sum(axis=1)


def centroid_and_spread(magnitude: np.ndarray, sample_rate: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    nyquist = sample_rate / 2.0
    # bin k is k * sr / N (pyAudioAnalysis labels it (k + 1) * sr / N, one bin high)
    frequencies = np.arange(magnitude.shape[1]) * sample_rate / window
    peak = magnitude.max(axis=1, keepdims=True)
    weights = magnitude / np.where(peak > 0, peak, EPS)
    total = weights.sum(axis=1) + EPS
    centroid = (weights * frequencies).sum(axis=1) / total
    spread = np.sqrt((weights * (frequencies - centroid[:, None]) ** 2).sum(axis=1) / total)
    return centroid / nyquist, spread / nyquist


def spectral_flux(magnitude: np.ndarray) -> np.ndarray:
    shares = magnitude / (magnitude + EPS).sum(axis=1, keepdims=True)
    flux = np.zeros(len(magnitude))
    flux[1:] = ((shares[1:] - shares[:-1]) ** 2).sum(axis=1)
    return flux


def spectral_rolloff(magnitude: np.ndarray) -> np.ndarray:
    power = magnitude ** 2
    above = np.cumsum(power, axis=1) + EPS > ROLLOFF_FRACTION * power.sum(axis=1, keepdims=True)
    return above.argmax(axis=1) / magnitude.shape[1]


def mfcc(magnitude_full: np.ndarray, sample_rate: int, window: int) -> np.ndarray:
    """pyAudioAnalysis-style MFCC: DCT-II of log10 mel energies of the magnitude spectrum."""
    bank = librosa.filters.mel(sr=sample_rate, n_fft=window, n_mels=MFCC_BANDS, fmin=MFCC_FMIN_HZ)
    return dct(np.log10(magnitude_full @ bank.T + EPS), type=2, norm="ortho", axis=1)[:, :N_MFCC]


def chroma(magnitude_full: np.ndarray, sample_rate: int, window: int) -> np.ndarray:
    """12 pitch-class energies as shares of the frame's spectral energy, then their std (13 columns)."""
    power = magnitude_full ** 2
    classes = power @ librosa.filters.chroma(sr=sample_rate, n_fft=window, n_chroma=12).T
    classes /= power.sum(axis=1, keepdims=True) + EPS
    return np.hstack([classes, classes.std(axis=1, keepdims=True)])


def frame_features(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_frames, 34) float32 descriptors and (n_frames,) frame centre times in seconds."""
    frames, times = frame_signal(peak_normalised(audio), sample_rate)
    window = frames.shape[1]
    # |FFT| / (N/2) over the N/2 + 1 real-FFT bins; the spectral statistics use the first N/2
    magnitude_full = np.abs(np.fft.rfft(frames, axis=1)) / (window / 2)
    magnitude = magnitude_full[:, :window // 2]
    centroid, spread = centroid_and_spread(magnitude, sample_rate, window)
    columns = [zero_crossing_rate(frames), (frames ** 2).mean(axis=1), block_entropy(frames), centroid, spread,
               block_entropy(magnitude), spectral_flux(magnitude), spectral_rolloff(magnitude)]
    table = np.hstack([np.stack(columns, axis=1), mfcc(magnitude_full, sample_rate, window),
                       chroma(magnitude_full, sample_rate, window)])
    return table.astype(np.float32), times


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    rate = int(cfg["sample_rate"])
    audio = load_audio(session, rate)
    try:
        frames, times = frame_features(audio, rate)
    except ValueError as err:
        raise ValueError(f"session {session.id}: {err}") from err
    return Extracted({"features": window_means(frames, times, windows, session.id),
                      "frames": frames, "frame_times": times.astype(np.float64)},
                     {"frames": len(times)})
