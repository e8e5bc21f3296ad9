"""Tests of features.face and features.openface_import against independent references.

The references: the control signals that drove synthetic.face_video (the AU proxies must
follow them), known in-plane rotations applied with cv2.warpAffine (the roll must follow
them), window statistics computed here with pandas from per_frame_features' own table, and
an OpenFace-format CSV written here with known values. Bad input (no face, corrupt,
truncated or short videos) must fail loudly or be masked and counted, as documented.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from features.face import (
    extract,
    feature_names,
    per_frame_features,
    versions,
)
from features.face_frames import DEFAULTS, FRAME_COLUMNS, POSE, SUMMARISED, summarise_windows, summarised
from features.openface_import import read_openface_csv, window_features
from features.video import checked_frame_rate
from pipeline.feature_report import summarise
from pipeline.sessions import Session
from synthetic.face_video import FACE_CONTROL_POINTS, face_frame, render_face_video

ROOT = Path(__file__).resolve().parents[1]
FPS = 25.0
N_FRAMES = 60
CFG = {"min_face_fraction": 0.5, "min_detection_confidence": 0.5, "workers": 1}
MIN_FACE_RATE = 0.95


def _session(root: Path, duration_s: float, video: str = "v.mp4") -> Session:
    return Session("spk01_s01", "spk01", "train", duration_s, {"video": video}, root=root)


def _windows(spans: list[tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame({"session": "spk01_s01", "index": range(len(spans)),
                         "start": [s for s, _ in spans], "end": [e for _, e in spans]})


def _write_frames(path: Path, frames) -> None:
    """BGR or RGB uint8 frames to an mp4v video (colour order does not matter to these tests)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (192, 192))
    for frame in frames:
        writer.write(frame)
    writer.release()


def _one_signal(name: str, n: int) -> dict[str, np.ndarray]:
    """One cycle of `name` over its whole range; the other two signals held at rest."""
    phase = 2 * np.pi * np.arange(n) / n
    signals = {"valence": np.zeros(n), "arousal": np.zeros(n), "mouth_open": np.zeros(n)}
    signals[name] = 0.5 - 0.5 * np.cos(phase) if name == "mouth_open" else np.sin(phase)
    return signals


@pytest.fixture(scope="module")
def driven(tmp_path_factory) -> dict[str, tuple[np.ndarray, pd.DataFrame]]:
    """For each control signal: its values and the per-frame table of a video driven by it alone."""
    folder = tmp_path_factory.mktemp("driven")
    out = {}
    for name in ("valence", "arousal", "mouth_open"):
        signals = _one_signal(name, N_FRAMES)
        path = folder / f"{name}.mp4"
        render_face_video(path, signals["valence"], signals["arousal"], signals["mouth_open"], fps=FPS)
        out[name] = (signals[name], per_frame_features(path, CFG))
    return out


def test_table_has_every_frame_and_its_time(driven):
    _, frames = driven["valence"]
    assert list(frames.columns) == list(FRAME_COLUMNS)
    assert len(frames) == N_FRAMES and frames.attrs["fps"] == FPS
    np.testing.assert_allclose(frames["time"], np.arange(N_FRAMES) / FPS)


@pytest.mark.parametrize("signal", ["valence", "arousal", "mouth_open"])
def test_face_is_found_in_nearly_every_frame(driven, signal):
    _, frames = driven[signal]
    assert frames["face"].mean() >= MIN_FACE_RATE
    face_rows = frames[frames["face"]]
    assert np.isfinite(face_rows[list(FRAME_COLUMNS[2:])].to_numpy()).all()
    assert face_rows["confidence"].between(0.5, 1.0).all()


@pytest.mark.parametrize("signal, unit, min_r", [
    ("valence", "AU12", 0.8),
    ("arousal", "AU01", 0.7), ("arousal", "AU02", 0.7), ("arousal", "AU05", 0.7),
    ("mouth_open", "AU25", 0.8), ("mouth_open", "AU26", 0.8),
])
def test_action_unit_follows_its_control_signal(driven, signal, unit, min_r):
    driver, frames = driven[signal]
    found = frames["face"].to_numpy()
    r = np.corrcoef(driver[found], frames.loc[found, unit])[0, 1]
    assert r >= min_r, f"{unit} vs {signal}: Pearson r = {r:.3f}"


ROLL_ANGLES = 25.0 * np.sin(2 * np.pi * np.arange(50) / 50)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory) -> pd.DataFrame:
    """The neutral face rotated in-plane about its nose tip by ROLL_ANGLES (degrees)."""
    path = tmp_path_factory.mktemp("rotated") / "rot.mp4"
    centre = FACE_CONTROL_POINTS["nose_tip"]
    neutral = cv2.cvtColor(face_frame(0.0, 0.0, 0.0), cv2.COLOR_RGB2BGR)
    _write_frames(path, (cv2.warpAffine(neutral, cv2.getRotationMatrix2D(centre, float(a), 1.0), (192, 192),
                                        borderMode=cv2.BORDER_REPLICATE) for a in ROLL_ANGLES))
    return per_frame_features(path, CFG)


def test_roll_follows_an_in_plane_rotation(rotated):
    """Positive roll = counter-clockwise on screen, the sense of cv2.getRotationMatrix2D's angle."""
    angles, frames = ROLL_ANGLES, rotated
    found = frames["face"].to_numpy()
    assert found.mean() >= MIN_FACE_RATE
    roll = frames.loc[found, "pose_roll"].to_numpy()
    assert np.corrcoef(angles[found], roll)[0, 1] >= 0.9
    slope = np.polyfit(angles[found], roll, 1)[0]
    assert 0.8 <= slope <= 1.2, f"roll changes {slope:.2f} degrees per degree of rotation"


@pytest.mark.parametrize("signal, unit", [("valence", "AU12"), ("arousal", "AU01"), ("mouth_open", "AU25")])
def test_action_units_barely_move_when_only_the_head_rolls(rotated, driven, signal, unit):
    """Head pose is removed before measuring: +-25 degrees of roll moves an AU by less than a
    third of the range its own control signal drives (what is left, ~0.02 IOD, is FaceMesh's
    own landmark jitter under rotation; a 2-D eye-line alignment leaves the same)."""
    _, frames = driven[signal]
    driven_range = np.ptp(frames.loc[frames["face"], unit])
    rolled_range = np.ptp(rotated.loc[rotated["face"], unit])
    assert rolled_range < driven_range / 3, f"{unit}: {rolled_range:.3f} vs {driven_range:.3f}"


def test_window_summaries_match_a_hand_computation(tmp_path):
    signals = _one_signal("valence", N_FRAMES)
    render_face_video(tmp_path / "v.mp4", signals["valence"], signals["arousal"], signals["mouth_open"], fps=FPS)
    spans = [(0.0, 1.0), (0.8, 2.2)]
    out = extract(_session(tmp_path, N_FRAMES / FPS), _windows(spans), CFG)
    frames = per_frame_features(tmp_path / "v.mp4", CFG)
    names = feature_names(CFG)
    assert out.arrays["features"].shape == (2, len(names)) and out.arrays["features"].dtype == np.float32
    assert out.arrays["mask"].tolist() == [True, True]
    for row, (start, end) in enumerate(spans):
        in_window = frames[(frames["time"] >= start) & (frames["time"] < end)]
        with_face = in_window[in_window["face"]]
        expected = {"face_fraction": len(with_face) / len(in_window)}
        for column in SUMMARISED:
            expected[f"{column}_mean"] = with_face[column].mean()
            expected[f"{column}_std"] = with_face[column].std(ddof=0)
        got = dict(zip(names, out.arrays["features"][row].astype(float)))
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, rel=1e-4, abs=1e-5), name
    assert out.counts == {"frames": N_FRAMES, "frames_with_face": int(frames["face"].sum()),
                          "windows_without_face": 0, "windows_beyond_video": 0, "frames_unread": 0,
                          "sessions_without_face": []}


def test_without_head_pose_the_summary_keeps_every_other_column():
    """Raju et al.'s face stream (`head_pose: false`): AUs, gaze and confidence, no pose."""
    rng = np.random.default_rng(0)
    frames = pd.DataFrame(rng.standard_normal((50, len(FRAME_COLUMNS))), columns=list(FRAME_COLUMNS))
    frames["time"], frames["face"] = np.arange(50) / 25, True
    windows = _windows([(0.0, 1.0), (0.5, 1.9)])
    full, _, _ = summarise_windows(frames, windows, 0.5, 25.0)
    no_pose, _, _ = summarise_windows(frames, windows, 0.5, 25.0, summarised({"head_pose": False}))
    names, kept = feature_names(CFG), feature_names({**CFG, "head_pose": False})
    assert len(kept) == len(names) - 2 * len(POSE) and not any(p in n for n in kept for p in POSE)
    np.testing.assert_array_equal(no_pose, full[:, [names.index(n) for n in kept]])


def test_windows_with_too_few_face_frames_are_zero_and_counted(tmp_path):
    face = cv2.cvtColor(face_frame(0.0, 0.0, 0.0), cv2.COLOR_RGB2BGR)
    grey = np.full_like(face, 128)
    _write_frames(tmp_path / "v.mp4", [face] * 25 + [grey] * 25)
    out = extract(_session(tmp_path, 2.0), _windows([(0.0, 1.0), (1.0, 2.0)]), CFG)
    assert out.arrays["mask"].tolist() == [True, False]
    assert not out.arrays["features"][1].any() and out.arrays["features"][0].any()
    assert out.counts["windows_without_face"] == 1 and out.counts["windows_beyond_video"] == 0
    # the per-frame table flags the faceless frames and holds finite values (the stage rejects NaN)
    frames = out.arrays["frames"]
    assert np.isfinite(frames).all() and frames[:, FRAME_COLUMNS.index("face")].tolist() == [1.0] * 25 + [0.0] * 25


def test_windows_beyond_a_short_video_are_masked_and_counted(tmp_path):
    signals = _one_signal("valence", 50)  # 2 s of video for a 4 s session
    render_face_video(tmp_path / "v.mp4", signals["valence"], signals["arousal"], signals["mouth_open"], fps=FPS)
    out = extract(_session(tmp_path, 4.0), _windows([(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (1.5, 3.5)]), CFG)
    assert out.arrays["mask"].tolist() == [True, True, False, False]
    assert out.counts["windows_beyond_video"] == 2 and out.counts["windows_without_face"] == 0
    assert np.isfinite(out.arrays["features"]).all() and not out.arrays["features"][2:].any()


def test_truncated_avi_keeps_the_decodable_frames_and_counts_the_rest(tmp_path):
    """An AVI cut to half its bytes still decodes its first half (its index is at the end)."""
    signals = _one_signal("valence", 50)
    render_face_video(tmp_path / "full.avi", signals["valence"], signals["arousal"], signals["mouth_open"], fps=FPS)
    data = (tmp_path / "full.avi").read_bytes()
    (tmp_path / "v.avi").write_bytes(data[:len(data) // 2])
    out = extract(_session(tmp_path, 2.0, "v.avi"), _windows([(0.0, 0.5), (1.5, 2.0)]), CFG)
    assert 0 < out.counts["frames"] < 50
    assert out.counts["frames_unread"] == 50 - out.counts["frames"]
    assert out.arrays["mask"].tolist() == [True, False] and out.counts["windows_beyond_video"] == 1


def test_truncated_mp4_is_a_clear_error(tmp_path):
    """mp4v files keep their index (moov) at the end: cut in half, nothing is readable."""
    signals = _one_signal("valence", 25)
    render_face_video(tmp_path / "full.mp4", signals["valence"], signals["arousal"], signals["mouth_open"], fps=FPS)
    data = (tmp_path / "full.mp4").read_bytes()
    (tmp_path / "v.mp4").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r"spk01_s01.*cannot open video .*v\.mp4"):
        extract(_session(tmp_path, 1.0), _windows([(0.0, 1.0)]), CFG)


def test_random_bytes_are_a_clear_error(tmp_path):
    (tmp_path / "v.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match=r"spk01_s01.*v\.mp4"):
        extract(_session(tmp_path, 1.0), _windows([(0.0, 1.0)]), CFG)


@pytest.mark.parametrize("background", ["grey", "noise"])
def test_video_without_a_face_is_an_error_naming_session_and_file(tmp_path, background):
    rng = np.random.default_rng(1)
    frames = [np.full((192, 192, 3), 128, np.uint8) if background == "grey"
              else rng.integers(0, 256, (192, 192, 3), dtype=np.uint8) for _ in range(25)]
    _write_frames(tmp_path / "v.mp4", frames)
    with pytest.raises(ValueError, match=r"spk01_s01.*no face found in any of the 25 frames .*v\.mp4"):
        extract(_session(tmp_path, 1.0), _windows([(0.0, 1.0)]), CFG)


def test_a_video_without_a_face_is_masked_and_named_when_asked(tmp_path, caplog):
    _write_frames(tmp_path / "v.mp4", [np.full((192, 192, 3), 128, np.uint8)] * 25)
    windows = _windows([(0.0, 0.5), (0.5, 1.0)])
    with pytest.raises(ValueError, match=r"spk01_s01: no face found .*v\.mp4 \(on_no_face: mask would mask"):
        extract(_session(tmp_path, 1.0), windows, CFG)  # the default: the stage stops
    with caplog.at_level(logging.WARNING, logger="features.face"):
        out = extract(_session(tmp_path, 1.0), windows, {**CFG, "on_no_face": "mask"})
    assert out.arrays["mask"].tolist() == [False, False]
    assert out.arrays["features"].dtype == np.float32 and not out.arrays["features"].any()  # zeros, never NaN
    frames = out.arrays["frames"]
    assert np.isfinite(frames).all() and not frames[:, FRAME_COLUMNS.index("face")].any()
    assert out.counts["sessions_without_face"] == ["spk01_s01"] and out.counts["windows_without_face"] == 2
    assert "session spk01_s01: no face found" in caplog.text and "on_no_face: mask" in caplog.text


def test_the_stage_names_a_faceless_session_in_meta_and_report(tmp_path):
    """features@face with on_no_face: mask on a corpus where session b shows no face (a fresh
    process: FaceMesh may not run in a fork of this one)."""
    folder = tmp_path / "data/corpus/sessions"
    folder.mkdir(parents=True)
    face = cv2.cvtColor(face_frame(0.0, 0.0, 0.0), cv2.COLOR_RGB2BGR)
    _write_frames(folder / "a.mp4", [face] * 25)
    _write_frames(folder / "b.mp4", [np.full_like(face, 128)] * 25)
    (tmp_path / "data/corpus/manifest.json").write_text(json.dumps({
        "corpus": "t", "dimensions": ["valence"], "modalities": ["video"],
        "sessions": [{"id": s, "speaker": s, "split": "train", "duration_s": 1.0, "video": f"sessions/{s}.mp4"}
                     for s in "ab"]}))
    (tmp_path / "data/windows").mkdir(parents=True)
    pd.DataFrame([{"session": s, "split": "train", "index": k, "start": k / 2, "end": k / 2 + 0.5, "word_first": 0,
                   "word_last": 0, "valence": 0.0}
                  for s in "ab" for k in range(2)]).to_csv(tmp_path / "data/windows/windows.csv", index=False)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"features": {"face": {"on_no_face": "mask", "workers": 1}}}))
    run = subprocess.run([sys.executable, "-m", "pipeline.features", "face"], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "session b: no face found" in run.stderr
    out = tmp_path / "data/features/face"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["counts"]["train"]["sessions_without_face"] == ["b"]
    assert np.load(out / "b.mask.npy").tolist() == [False, False] and np.load(out / "a.mask.npy").all()
    assert summarise(meta)["sessions_without_face"] == ["b"]  # reports/features.json's entry


def test_missing_video_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="spk01_s01"):
        extract(_session(tmp_path, 1.0), _windows([(0.0, 1.0)]), CFG)


def test_a_fork_of_a_process_that_ran_facemesh_fails_clearly(driven):
    """`driven` has run FaceMesh in this process; a forked child must refuse, not crash."""
    path = driven["valence"][1].attrs["path"]
    with (ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool,
          pytest.raises(RuntimeError, match="forked")):
        pool.submit(per_frame_features, path, CFG).result()


@pytest.mark.parametrize("fps", [0.0, -25.0, float("nan"), float("inf")])
def test_invalid_frame_rate_is_rejected(fps):
    with pytest.raises(ValueError, match="invalid frame rate"):
        checked_frame_rate(fps, Path("v.mp4"))


def test_bad_config_names_the_key(tmp_path):
    with pytest.raises(ValueError, match="features.face.min_face_fraction"):
        extract(_session(tmp_path, 1.0), _windows([(0.0, 1.0)]), {**CFG, "min_face_fraction": 1.5})


def test_versions_name_the_tools():
    assert set(versions(CFG)) == {"mediapipe", "opencv"}


# ---------------------------------------------------------------- OpenFace import

# The OpenFace 2.x header, in its order and with its ", " separators (the eye-landmark,
# 2-D/3-D landmark and shape-parameter blocks between are left out).
_OPENFACE_AUS_R = ["AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12", "AU14",
                   "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45"]
_OPENFACE_AUS_C = _OPENFACE_AUS_R[:-1] + ["AU28", "AU45"]
_OPENFACE_HEADER = (["frame", "face_id", "timestamp", "confidence", "success",
                     "gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z",
                     "gaze_angle_x", "gaze_angle_y", "pose_Tx", "pose_Ty", "pose_Tz",
                     "pose_Rx", "pose_Ry", "pose_Rz"]
                    + [f"{au}_r" for au in _OPENFACE_AUS_R] + [f"{au}_c" for au in _OPENFACE_AUS_C])


def _openface_row(frame: int, success: int, confidence: float, face_id: int = 0) -> dict[str, float]:
    """Every value says where it came from: AU k's intensity is k/10 + frame/100."""
    row = {name: 0.0 for name in _OPENFACE_HEADER}
    row.update(frame=frame, face_id=face_id, timestamp=(frame - 1) / FPS, confidence=confidence,
               success=success, gaze_angle_x=0.1 * frame, gaze_angle_y=-0.05 * frame,
               pose_Rx=0.01 * frame, pose_Ry=-0.02 * frame, pose_Rz=0.03 * frame)
    for k, au in enumerate(_OPENFACE_AUS_R):
        row[f"{au}_r"] = k / 10 + frame / 100
        row[f"{au}_c"] = 1.0
    return row


def _write_openface_csv(path: Path, rows: list[dict], drop: str | None = None) -> None:
    header = [name for name in _OPENFACE_HEADER if name != drop]
    lines = [", ".join(header)] + [", ".join(f"{row[name]:g}" for name in header) for row in rows]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def openface_csv(tmp_path) -> Path:
    rows = [_openface_row(frame, success=1, confidence=0.98) for frame in range(1, 51)]
    rows[4] = _openface_row(5, success=0, confidence=0.0)
    rows.append(_openface_row(7, success=1, confidence=0.6, face_id=1))  # a second, weaker face
    path = tmp_path / "of.csv"
    _write_openface_csv(path, rows)
    return path


def test_openface_values_land_in_the_extractor_columns(openface_csv):
    table = read_openface_csv(openface_csv)
    assert list(table.columns) == list(FRAME_COLUMNS)
    assert len(table) == 50 and table.attrs["fps"] == pytest.approx(FPS)
    frame_3 = table.iloc[2]
    assert frame_3["time"] == pytest.approx(2 / FPS) and frame_3["face"]
    assert frame_3["confidence"] == pytest.approx(0.98)
    assert frame_3["AU01"] == pytest.approx(0.03)
    assert frame_3["AU12"] == pytest.approx(0.8 + 0.03)  # AU12 is OpenFace's 9th AU_r (k = 8)
    assert frame_3["AU45"] == pytest.approx(1.6 + 0.03)  # AU14_r is skipped, not shifted into AU15
    assert frame_3["AU15"] == pytest.approx(1.0 + 0.03)
    assert frame_3["gaze_x"] == pytest.approx(np.degrees(0.3))
    assert frame_3["gaze_y"] == pytest.approx(np.degrees(0.15))  # OpenFace's y points down
    assert (frame_3["pose_pitch"], frame_3["pose_yaw"], frame_3["pose_roll"]) == pytest.approx(
        (np.degrees(-0.03), np.degrees(0.06), np.degrees(-0.09)))
    assert table.iloc[6]["confidence"] == pytest.approx(0.98)  # the weaker second face is dropped


def test_openface_failed_frames_have_no_features(openface_csv):
    failed = read_openface_csv(openface_csv).iloc[4]
    assert not failed["face"] and failed["confidence"] == 0.0
    assert failed[list(FRAME_COLUMNS[3:])].isna().all()


def test_openface_windows_are_summarised_like_the_extractor(openface_csv):
    out = window_features(openface_csv, _windows([(0.0, 1.0), (1.0, 2.0), (1.5, 2.5)]), CFG, "spk01_s01")
    assert out.arrays["mask"].tolist() == [True, True, False]
    assert out.counts["windows_beyond_video"] == 1 and out.counts["frames_with_face"] == 49
    au01_mean = feature_names(CFG).index("AU01_mean")
    expected = np.mean([frame / 100 for frame in range(1, 26) if frame != 5])
    assert out.arrays["features"][0, au01_mean] == pytest.approx(expected, rel=1e-5)


def test_openface_missing_columns_are_named(tmp_path):
    path = tmp_path / "of.csv"
    _write_openface_csv(path, [_openface_row(1, 1, 0.9), _openface_row(2, 1, 0.9)], drop="AU12_r")
    with pytest.raises(ValueError, match=r"of\.csv lacks required column\(s\) AU12_r"):
        read_openface_csv(path)


def test_a_video_is_meshed_once_whatever_the_windows(tmp_path, monkeypatch):
    """The per-frame table does not depend on the windows: a second unit or window preset
    summarises the scratch cache's table (MediaPipe does not run again) and gets exactly what a
    fresh computation gives; another detection setting or other video bytes read the video again."""
    import features.face as face_module
    from pipeline.scratch import ENV

    n = 25
    render_face_video(tmp_path / "v.mp4", np.sin(np.arange(n) / 4), np.cos(np.arange(n) / 5), np.zeros(n), fps=FPS)
    session = _session(tmp_path, 1.0)
    monkeypatch.setenv(ENV, str(tmp_path / "cache"))
    extract(session, _windows([(0.0, 0.5), (0.5, 1.0)]), CFG)
    real, calls = face_module.per_frame_features, []
    monkeypatch.setattr(face_module, "per_frame_features", lambda *a, **k: calls.append(a) or real(*a, **k))
    other = _windows([(0.0, 1.0), (0.2, 0.6), (0.36, 0.52)])
    cached = extract(session, other, CFG)
    assert calls == []
    monkeypatch.setenv(ENV, str(tmp_path / "empty_cache"))
    fresh = extract(session, other, CFG)
    assert len(calls) == 1
    assert cached.arrays.keys() == fresh.arrays.keys() and cached.counts == fresh.counts
    for name, array in fresh.arrays.items():
        assert array.dtype == cached.arrays[name].dtype and np.array_equal(array, cached.arrays[name], equal_nan=True)
    # the table itself, with its attrs, as a fresh pass gives it
    stored = face_module.session_frames(session, {**DEFAULTS, **CFG})
    pd.testing.assert_frame_equal(stored, real(tmp_path / "v.mp4", CFG), check_exact=True)
    assert stored.attrs == real(tmp_path / "v.mp4", CFG).attrs
    calls.clear()
    # settings that only change the summaries (face_raju's head_pose: false) use the same table
    for summary_only in ({"head_pose": False}, {"min_face_fraction": 0.9}, {"on_no_face": "mask"}):
        extract(session, other, {**CFG, **summary_only})
    assert calls == []
    extract(session, other, {**CFG, "min_detection_confidence": 0.6})
    assert len(calls) == 1
    render_face_video(tmp_path / "v.mp4", np.zeros(n), np.zeros(n), np.zeros(n), fps=FPS)
    extract(session, other, CFG)
    assert len(calls) == 2


def test_a_cached_video_without_a_face_is_refused_or_masked_as_a_fresh_one(tmp_path, monkeypatch):
    import features.face as face_module
    from pipeline.scratch import ENV

    monkeypatch.setenv(ENV, str(tmp_path / "cache"))
    _write_frames(tmp_path / "v.mp4", [np.full((192, 192, 3), 90, np.uint8)] * 20)
    session, windows = _session(tmp_path, 0.8), _windows([(0.0, 0.4), (0.4, 0.8)])
    with pytest.raises(ValueError, match=r"spk01_s01: no face found in any of the 20 frames .*v\.mp4"):
        extract(session, windows, CFG)  # computes the table, stores it, refuses
    monkeypatch.setattr(face_module, "per_frame_features", lambda *a, **k: pytest.fail("MediaPipe ran again"))
    with pytest.raises(ValueError, match=r"spk01_s01: no face found in any of the 20 frames .*v\.mp4"):
        extract(session, windows, CFG)  # from the cache: the same refusal
    masked = extract(session, windows, {**CFG, "on_no_face": "mask"})
    assert masked.arrays["mask"].tolist() == [False, False] and masked.counts["sessions_without_face"] == ["spk01_s01"]
