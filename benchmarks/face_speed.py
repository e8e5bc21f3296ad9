"""Benchmark: speed and peak memory of features.face.per_frame_features.

Renders 20 s and 60 s synthetic face videos (192x192, 25 fps, synthetic.face_video) into a
temporary folder, then runs per_frame_features on each in a fresh spawned process, so each
peak RSS (resource.getrusage ru_maxrss of that process) belongs to one video alone. Prints
frames per second on the 60 s video against the target (>= 60 fps on 2 cores) and the
60 s / 20 s peak-memory ratio (~1 when memory is flat in video length, as a streamed
read should be). Then the face extractor on the 60 s video for one unit (1 s windows, an
empty scratch cache: MediaPipe runs) and again for another (Raju et al.'s 4 s windows at a
100 ms hop: the per-frame table comes from the scratch cache), and the ratio of the two.
Run:  .venv/bin/python -m benchmarks.face_speed
"""
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from features.worker_pool import worker_pool
from synthetic.face_video import render_face_video

TARGET_FPS = 60.0
FPS, SIZE = 25.0, 192
CFG = {"min_face_fraction": 0.5, "min_detection_confidence": 0.5}


def render(path: Path, seconds: float) -> None:
    n = int(seconds * FPS)
    t = np.arange(n) / FPS
    # slow sinusoids through each signal's range, as the generator's latent tracks move
    render_face_video(path, np.sin(2 * np.pi * t / 17), np.sin(2 * np.pi * t / 11),
                      0.5 - 0.5 * np.cos(2 * np.pi * t / 3), fps=FPS, size=SIZE)


def measure(path: str) -> dict:
    """Runs in a fresh process: frames, seconds, RSS after imports and peak RSS (bytes)."""
    # imported here, in the fresh process, so that the baseline includes it
    from features.face import per_frame_features

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    began = time.perf_counter()
    frames = per_frame_features(path, CFG)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"frames": len(frames), "with_face": int(frames["face"].sum()), "seconds": seconds,
            "baseline": baseline, "peak": peak}


def second_unit(path: str) -> dict:
    """Runs in a fresh process with an empty scratch cache: seconds of features.face.extract for a
    first unit, then for a second one over the same video."""
    import os

    import pandas as pd

    from features.face import extract
    from pipeline.scratch import ENV
    from pipeline.sessions import Session

    duration = 60.0
    session = Session("s01", "spk01", "train", duration, {"video": Path(path).name}, root=Path(path).parent)
    os.environ[ENV] = str(Path(path).parent / "scratch_cache")
    seconds = {}
    for unit, (length, hop) in {"1 s windows": (1.0, 1.0), "4 s / 100 ms windows": (4.0, 0.1)}.items():
        starts = np.arange(0.0, duration - length + 1e-9, hop)
        windows = pd.DataFrame({"session": "s01", "index": range(len(starts)), "start": starts,
                                "end": starts + length})
        began = time.perf_counter()
        extract(session, windows, CFG)
        seconds[unit] = (len(windows), time.perf_counter() - began)
    return seconds


def measure_fresh(path: Path) -> dict:
    with worker_pool(1, multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, str(path)).result()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        results = {}
        for seconds in (20, 60):
            path = Path(folder) / f"face_{seconds}s.mp4"
            render(path, seconds)
            results[seconds] = measure_fresh(path)
        with worker_pool(1, multiprocessing.get_context("spawn")) as pool:
            units = pool.submit(second_unit, str(Path(folder) / "face_60s.mp4")).result()
    short, long = results[20], results[60]
    fps = long["frames"] / long["seconds"]
    mib = 1024 ** 2
    print(f"videos: {SIZE}x{SIZE} at {FPS:g} fps; face found in {long['with_face']} of {long['frames']} "
          f"frames (60 s), {short['with_face']} of {short['frames']} (20 s)")
    print(f"{'measure':<34}{'value':>10}{'target':>10}{'ratio':>8}")
    print(f"{'frames per second (60 s video)':<34}{fps:>10.1f}{TARGET_FPS:>10.1f}{fps / TARGET_FPS:>8.2f}")
    print(f"{'x real time (60 s video)':<34}{fps / FPS:>10.1f}")
    for seconds, result in results.items():
        print(f"{f'peak RSS, {seconds} s video (MiB)':<34}{result['peak'] / mib:>10.1f}"
              f"{'':>10}{'':>8}   (after imports: {result['baseline'] / mib:.1f})")
    print(f"{'peak RSS ratio 60 s / 20 s':<34}{long['peak'] / short['peak']:>10.3f}{1.0:>10.1f}"
          f"{long['peak'] / short['peak']:>8.2f}")
    (first, (n1, s1)), (second, (n2, s2)) = units.items()
    print(f"face extractor, 60 s video: {first} ({n1}) {s1:.2f} s from an empty scratch cache, then "
          f"{second} ({n2}) {s2:.2f} s from its per-frame table: ratio {s2 / s1:.3f}")


if __name__ == "__main__":
    main()
