"""Deep Spectrum with the offline EfficientNet-Lite0: the packaged ImageNet weights really
classify an image, features are deterministic and depend on the audio, and a backbone
whose weights are not on disk fails naming torchvision's checkpoint file."""
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
import torchvision
from skimage import data, transform

from features import deep_spectrum
from features.imagenet_cnn import (MissingWeightsError, bucket_size, embed, imagenet_normalise, load_network,
                                   weights_file)
from pipeline.sessions import Session

RATE = 16000
CFG = {"backbone": "efficientnet_lite0", "weights_path": None, "n_mels": 128, "colour_map": "viridis",
       "batch_size": 2, "device": "auto", "sample_rate": RATE, "workers": 1}
SPANS = [(0.0, 1.0), (0.5, 1.5), (1.0, 2.0)]


def session_with(tmp_path, session_id: str, audio: np.ndarray) -> Session:
    sf.write(tmp_path / f"{session_id}.wav", audio, RATE, subtype="FLOAT")
    return Session(session_id, "spk", "test", len(audio) / RATE, {"audio": f"{session_id}.wav"}, root=tmp_path)


def windows(session_id: str) -> pd.DataFrame:
    return pd.DataFrame({"session": session_id, "start": [s for s, _ in SPANS], "end": [e for _, e in SPANS]})


def chirp(low_hz: float, high_hz: float, seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * (low_hz * t + (high_hz - low_hz) * t ** 2 / (2 * seconds))
    noise = 0.01 * np.random.default_rng(0).standard_normal(len(t))
    return (0.3 * np.sin(phase) + noise).astype(np.float32)


def test_packaged_weights_recognise_an_imagenet_cat():
    """The pooled 1280-d features, fed to the checkpoint's own classifier, name chelsea a cat."""
    network = load_network("efficientnet_lite0", None, "cpu")
    image = transform.resize(data.chelsea(), (224, 224), anti_aliasing=True).astype(np.float32)
    with torch.no_grad():
        features = network(imagenet_normalise(torch.from_numpy(image).permute(2, 0, 1)[None]))
    state = torch.load(weights_file("efficientnet_lite0", None), map_location="cpu", weights_only=True)
    logits = features @ state["_fc.weight"].T + state["_fc.bias"]
    assert features.shape == (1, 1280)
    assert int(logits.argmax()) in range(281, 286)  # ImageNet's domestic cat classes (tabby ... Egyptian cat)


def test_features_are_deterministic_and_depend_on_the_audio(tmp_path):
    rising = session_with(tmp_path, "rising", chirp(200, 3000))
    falling = session_with(tmp_path, "falling", chirp(3000, 200))
    first = deep_spectrum.extract(rising, windows("rising"), CFG).arrays["features"]
    again = deep_spectrum.extract(rising, windows("rising"), CFG).arrays["features"]
    other = deep_spectrum.extract(falling, windows("falling"), CFG).arrays["features"]
    assert first.shape == (len(SPANS), 1280) and first.dtype == np.float32
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).mean() > 0.05 * np.abs(first).mean()
    assert len(deep_spectrum.feature_names(CFG)) == 1280
    assert deep_spectrum.versions(CFG)["weights"] == "efficientnet-lite0-57934424.pth"


def test_alexnet_from_a_local_checkpoint_gives_fc7(tmp_path):
    """fc7 (4096-d) is exactly what torchvision's AlexNet feeds to its last layer (fc8)."""
    torch.manual_seed(0)
    reference = torchvision.models.alexnet(weights=None).eval()
    checkpoint = tmp_path / "alexnet-owt-7be5be79.pth"
    torch.save(reference.state_dict(), checkpoint)
    network = load_network("alexnet", str(checkpoint), "cpu")
    images = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        fc7 = network(images)
        np.testing.assert_allclose(reference.classifier[6](fc7), reference(images), rtol=1e-4, atol=1e-5)
    assert fc7.shape == (2, 4096)


def test_missing_vgg16_weights_name_the_torchvision_checkpoint(tmp_path):
    session = session_with(tmp_path, "s1", chirp(200, 3000))
    cfg = {**CFG, "backbone": "vgg16", "weights_path": str(tmp_path / "nowhere" / "vgg16.pth")}
    with pytest.raises(MissingWeightsError, match=r"vgg16-397923af\.pth"):
        deep_spectrum.extract(session, windows("s1"), cfg)


def test_silent_audio_fails_naming_the_session(tmp_path):
    session = session_with(tmp_path, "quiet_one", np.zeros(2 * RATE, dtype=np.float32))
    with pytest.raises(ValueError, match="session quiet_one"):
        deep_spectrum.extract(session, windows("quiet_one"), CFG)


def test_batches_are_padded_to_buckets_and_rows_ignore_their_batch_mates():
    """A lone image runs as a batch of one, not a full batch; a row is the same whatever
    else is in its batch (bit for bit within one bucket, float rounding across buckets)."""
    assert [bucket_size(n, 32) for n in (1, 2, 3, 5, 9, 17, 32)] == [1, 2, 4, 8, 16, 32, 32]
    assert bucket_size(7, 6) == 6
    network = load_network("efficientnet_lite0", None, "cpu")
    shapes = []
    hook = network.register_forward_pre_hook(lambda module, inputs: shapes.append(tuple(inputs[0].shape)))
    try:
        images = torch.rand(5, 3, 224, 224, generator=torch.Generator().manual_seed(0))
        alone = embed(network, images[:1], 32, torch.device("cpu"))
        five = embed(network, images, 32, torch.device("cpu"))
        other_mates = embed(network, torch.cat([images[:1], torch.rand(4, 3, 224, 224)]), 32, torch.device("cpu"))
    finally:
        hook.remove()
    assert [shape[0] for shape in shapes] == [1, 8, 8]
    np.testing.assert_array_equal(five[0], other_mates[0])
    np.testing.assert_allclose(alone[0], five[0], rtol=1e-4, atol=1e-4)
