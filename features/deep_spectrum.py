"""Deep Spectrum features: ImageNet CNN activations of each window's mel-spectrogram image.

Follows DeepSpectrum (Amiriparian et al. 2017), used for AVEC 2019 by Raju et al. and the
AVEC baseline: per window a 128-band mel power spectrogram (25 ms / 10 ms frames) in dB,
min-max scaled and drawn with the viridis colour map, low frequencies at the bottom, as
DeepSpectrum plots it; the RGB image is resized to the network's input, ImageNet-
normalised and passed through a pretrained CNN (features/imagenet_cnn.py: EfficientNet-
Lite0 offline by default; VGG16/AlexNet fc7, DenseNet or ResNet-50 pooling from a local
weights file) whose activations are the features. Inference is batched, in eval mode
under torch.no_grad, on CUDA when available.
"""

import logging

import librosa
import matplotlib
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
import torchvision

from features import Extracted
from features.audio_io import load_audio
from features.file_hash import file_sha256
from features.imagenet_cnn import (INPUT_SIZE, backbone_spec, configure_torch, embed, load_network, resolve_device,
                                   weights_file)
from features.lld import mfcc_frame_params, window_frame_ranges

log = logging.getLogger("features.deep_spectrum")

TOP_DB = 80.0  # librosa's default dynamic range; DeepSpectrum plots power_to_db(ref=max)

INPUTS = ("audio",)  # what the per-session cache key covers (pipeline/feature_cache.py)


def versions(cfg: dict) -> dict:
    path = weights_file(cfg["backbone"], cfg.get("weights_path"))
    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "librosa": librosa.__version__,
            "backbone": cfg["backbone"], "weights": path.name, "weights_sha256": file_sha256(str(path))}


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return [f"{cfg['backbone']}_{i}" for i in range(backbone_spec(cfg["backbone"]).dims)]


def mel_power(audio: np.ndarray, sample_rate: int, n_mels: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_mels, n_frames) mel power spectrogram of the whole session and each frame's centre time."""
    params = {k: v for k, v in mfcc_frame_params(sample_rate).items() if k != "n_mels"}
    power = librosa.feature.melspectrogram(y=audio, sr=sample_rate, n_mels=n_mels, **params)
    times = librosa.frames_to_time(np.arange(power.shape[1]), sr=sample_rate, hop_length=params["hop_length"])
    return power, times


def spectrogram_image(power: np.ndarray, colour_map: str) -> torch.Tensor:
    """(3, 224, 224) float tensor in [0, 1]: the window's dB mel spectrogram as a colour-mapped image."""
    decibels = librosa.power_to_db(power, ref=np.max, top_db=TOP_DB)
    span = decibels.max() - decibels.min()
    # min-max scaling as matplotlib's colour normalisation does for a plotted spectrogram
    scaled = (decibels - decibels.min()) / span if span > 0 else np.zeros_like(decibels)
    rgb = matplotlib.colormaps[colour_map](scaled[::-1])[..., :3]  # low frequencies at the bottom
    image = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)
    return F.interpolate(image[None], size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                         align_corners=False, antialias=True)[0].clamp_(0.0, 1.0)


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    rate, batch_size = int(cfg["sample_rate"]), int(cfg["batch_size"])
    # the audio and the windows are checked before the network is loaded, to fail fast
    power, times = mel_power(load_audio(session, rate), rate, int(cfg["n_mels"]))
    ranges = window_frame_ranges(times, windows, session.id)
    device = resolve_device(cfg["device"])
    configure_torch(device, int(cfg.get("workers", 1)))
    network = load_network(cfg["backbone"], cfg.get("weights_path"), cfg["device"])
    rows = []
    for begin in range(0, len(ranges), batch_size):  # one batch of images in memory at a time
        images = torch.stack([spectrogram_image(power[:, first:last], cfg["colour_map"])
                              for first, last in ranges[begin:begin + batch_size]])
        rows.append(embed(network, images, batch_size, device).numpy())
    return Extracted({"features": np.concatenate(rows).astype(np.float32)})
