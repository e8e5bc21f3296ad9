"""Benchmark: Deep Spectrum and face_deep against the bare CNN they run.

The limit of an ImageNet-CNN extractor is the network's forward pass. For each extractor
this times its `extract` on sessions (network loaded and warmed up first) and the bare
network on random tensors of the very batch shapes the extractor ran (features/
imagenet_cnn.py: batches of `batch_size`, the last one padded to its bucket), in the same
process, and prints images per second of both and their ratio (target >= 0.8):

(a) Deep Spectrum on the first `--sessions` sessions of the default corpus (or generated
    espeak-ng speech when data/corpus is absent), one image per window;
(b) face_deep on the same sessions' videos when the corpus has them: video decoding, face
    detection and cropping (`sampled_face_crops`) are timed on their own and left out of
    its ratio, as the target is about the CNN and image preparation;
(c) a corpus of `--utterances` two-second utterance files, one window each (the short-
    utterance case): Deep Spectrum's time per file against the bare CNN's time for one
    image (target <= 2x).

Torch uses the threads one feature worker gets (`configure_torch`). Run:
  .venv/bin/python -m benchmarks.cnn_extractors_speed [--sessions 4] [--utterances 100]
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import soundfile as sf
import torch

from benchmarks.audio_features_speed import corpus_or_generated, generated_sessions, preset_windows
from features import deep_spectrum, face_deep
from features.face_align import sampled_face_crops
from features.imagenet_cnn import INPUT_SIZE, bucket_size, configure_torch, load_network, resolve_device
from pipeline.config import load_params
from pipeline.sessions import Session

TARGET_RATIO = 0.8
TARGET_PER_FILE = 2.0


def batch_shapes(count: int, batch_size: int) -> list[int]:
    """The batch sizes `embed` runs for `count` images."""
    return [bucket_size(min(batch_size, count - begin), batch_size) for begin in range(0, count, batch_size)]


def bare_seconds(network, shapes: list[int], device) -> float:
    """The network alone on random images of the given batch sizes."""
    began = time.perf_counter()
    with torch.no_grad():
        for size in shapes:
            network(torch.rand(size, 3, INPUT_SIZE, INPUT_SIZE).to(device))
    return time.perf_counter() - began


def timed(run) -> tuple[float, object]:
    began = time.perf_counter()
    result = run()
    return time.perf_counter() - began, result


def report(name: str, images: int, ours_s: float, bare_s: float) -> None:
    ratio = bare_s / ours_s
    print(f"{name:<34}{images:>7}{images / ours_s:>10.1f}{images / bare_s:>10.1f}{ratio:>8.2f}{TARGET_RATIO:>8.2f}")


def utterances(count: int, root: Path) -> list[Session]:
    """`count` two-second files cut from generated espeak-ng speech."""
    source = generated_sessions(1, 2.0 * count, root)[0]
    audio, rate = sf.read(source.path("audio"), dtype="float32")
    sessions = []
    for i in range(count):
        sf.write(root / f"u{i}.wav", audio[i * 2 * rate:(i + 1) * 2 * rate], rate, subtype="PCM_16")
        sessions.append(Session(f"u{i}", "spk", "test", 2.0, {"audio": f"u{i}.wav"}, root=root))
    return sessions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--utterances", type=int, default=100)
    args = parser.parse_args()
    params = load_params()
    window = params["window"]["presets"][params["window"]["preset"]]
    scratch = tempfile.TemporaryDirectory()
    sessions, source = corpus_or_generated(args.sessions, Path(scratch.name))
    print(f"{len(sessions)} sessions ({source}); {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"torch threads as one of {params['features']['deep_spectrum'].get('workers', 1)} feature workers")
    print(f"{'extractor':<34}{'images':>7}{'img/s':>10}{'bare':>10}{'ratio':>8}{'target':>8}")

    cfg = params["features"]["deep_spectrum"]
    device = resolve_device(cfg["device"])
    configure_torch(device, int(cfg.get("workers", 1)))
    network = load_network(cfg["backbone"], cfg.get("weights_path"), cfg["device"])
    deep_spectrum.extract(sessions[0], preset_windows(sessions[0], window), cfg)  # warm-up: kernels per shape
    ours_s = bare_s = 0.0
    images = 0
    for session in sessions:
        windows = preset_windows(session, window)
        seconds, _ = timed(lambda: deep_spectrum.extract(session, windows, cfg))
        ours_s += seconds
        bare_s += bare_seconds(network, batch_shapes(len(windows), int(cfg["batch_size"])), device)
        images += len(windows)
    report(f"deep_spectrum (batch {cfg['batch_size']})", images, ours_s, bare_s)

    with_video = [s for s in sessions if s.files.get("video")]
    if with_video:
        cfg = face_deep.check_config(params["features"]["face_deep"])
        network = load_network(cfg["backbone"], cfg.get("weights_path"), cfg["device"], "face_deep")
        face_deep.extract(with_video[0], preset_windows(with_video[0], window), cfg)
        total_s = crops_s = bare_s = 0.0
        images = 0
        for session in with_video:
            seconds, _ = timed(lambda: face_deep.extract(session, preset_windows(session, window), cfg))
            total_s += seconds
            sampled = lambda: sampled_face_crops(session.path("video"), cfg["sample_fps"],
                                                 cfg["min_detection_confidence"], INPUT_SIZE)
            seconds, crops = timed(lambda: [c for _, c in sampled() if c is not None])
            crops_s += seconds
            images += len(crops)
            bare_s += bare_seconds(network, batch_shapes(len(crops), int(cfg["batch_size"])), device)
        report(f"face_deep (batch {cfg['batch_size']}), CNN part", images, total_s - crops_s, bare_s)
        print(f"  face_deep decoding + detection + cropping: {images / crops_s:.1f} crops/s "
              f"({crops_s:.1f} of {total_s:.1f} s)")

    cfg = params["features"]["deep_spectrum"]
    network = load_network(cfg["backbone"], cfg.get("weights_path"), cfg["device"])
    files = utterances(args.utterances, Path(scratch.name))
    one = pd.DataFrame({"start": [0.0], "end": [2.0]})
    deep_spectrum.extract(files[0], one, cfg)
    per_file_s = timed(lambda: [deep_spectrum.extract(f, one, cfg) for f in files])[0] / len(files)
    bare_one_s = min(bare_seconds(network, [1], device) for _ in range(5))
    print(f"{len(files)} two-second files: {1000 * per_file_s:.1f} ms per file, bare CNN on one image "
          f"{1000 * bare_one_s:.1f} ms: {per_file_s / bare_one_s:.2f}x (target <= {TARGET_PER_FILE:.0f}x)")
    scratch.cleanup()


if __name__ == "__main__":
    main()
