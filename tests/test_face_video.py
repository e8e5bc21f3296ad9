"""Tests of synthetic.face_video against an independent reference.

MediaPipe FaceMesh measures the rendered video: if the warp really puts
valence, arousal and mouth opening into the face, the detector's landmarks
must follow them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
import pytest

from synthetic.face_video import FACE_CONTROL_POINTS, face_frame, render_face_video

N_FRAMES = 60
FPS = 25.0
MIN_DETECTION_RATE = 0.95
MIN_PEARSON_R = 0.8


def _control_signals(n: int) -> dict[str, np.ndarray]:
    """Sinusoids of 1, 2 and 3 cycles: mutually orthogonal, so one signal
    cannot pass the test by riding on another, and each spans its full range."""
    phase = 2 * np.pi * np.arange(n) / n
    return {
        "valence": np.sin(phase),
        "arousal": np.sin(2 * phase),
        "mouth_open": 0.5 - 0.5 * np.cos(3 * phase),
    }


def _expression_measures(landmarks, width: int, height: int) -> tuple[float, float, float]:
    """Smile, brow raise and lip gap, normalised by the inter-ocular distance."""
    def point(index: int) -> np.ndarray:
        return np.array([landmarks[index].x * width, landmarks[index].y * height])

    inter_ocular = np.linalg.norm(point(33) - point(263))
    lip_centre_y = (point(13)[1] + point(14)[1]) / 2
    corners_y = (point(61)[1] + point(291)[1]) / 2
    # Image y grows downwards, so raised corners or brows give positive values.
    smile = (lip_centre_y - corners_y) / inter_ocular
    brow_raise = ((point(159)[1] - point(105)[1]) + (point(386)[1] - point(334)[1])) / 2 / inter_ocular
    lip_gap = (point(14)[1] - point(13)[1]) / inter_ocular
    return smile, brow_raise, lip_gap


def _measure_video(path: Path) -> tuple[list[int], np.ndarray, int]:
    """Indices of frames with a face, their (smile, brow, gap) rows, frame count."""
    capture = cv2.VideoCapture(str(path))
    detected, measures, frame_count = [], [], 0
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                                         refine_landmarks=True) as face_mesh:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            result = face_mesh.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if result.multi_face_landmarks:
                detected.append(frame_count)
                height, width = bgr.shape[:2]
                measures.append(_expression_measures(result.multi_face_landmarks[0].landmark,
                                                     width, height))
            frame_count += 1
    capture.release()
    return detected, np.array(measures), frame_count


@pytest.fixture(scope="module")
def measured_video(tmp_path_factory) -> dict:
    signals = _control_signals(N_FRAMES)
    path = tmp_path_factory.mktemp("face") / "face.mp4"
    info = render_face_video(path, signals["valence"], signals["arousal"],
                             signals["mouth_open"], fps=FPS)
    detected, measures, frame_count = _measure_video(path)
    return {"info": info, "signals": signals, "detected": detected,
            "measures": measures, "frame_count": frame_count}


def test_video_has_every_frame_and_reports_its_format(measured_video):
    assert measured_video["frame_count"] == N_FRAMES
    assert measured_video["info"] == {"frames": N_FRAMES, "fps": FPS, "width": 192, "height": 192}


def test_face_is_detected_in_nearly_every_frame(measured_video):
    rate = len(measured_video["detected"]) / measured_video["frame_count"]
    assert rate >= MIN_DETECTION_RATE, f"face found in only {rate:.0%} of frames"


@pytest.mark.parametrize("signal, column", [("valence", 0), ("arousal", 1), ("mouth_open", 2)],
                         ids=["valence-smile", "arousal-brow", "mouth_open-lip_gap"])
def test_landmarks_follow_the_control_signal(measured_video, signal, column):
    frames = measured_video["detected"]
    driven = measured_video["signals"][signal][frames]
    measured = measured_video["measures"][:, column]
    r = np.corrcoef(driven, measured)[0, 1]
    assert r >= MIN_PEARSON_R, f"{signal}: Pearson r = {r:.3f}"


def test_face_frame_is_deterministic():
    first = face_frame(0.3, -0.2, 0.5)
    second = face_frame(0.3, -0.2, 0.5)
    assert first.shape == (192, 192, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, second)


def test_valence_changes_the_pixels():
    assert np.any(face_frame(0.8, 0.0, 0.0) != face_frame(-0.8, 0.0, 0.0))


def test_other_sizes_scale_the_frame():
    assert face_frame(0.0, 0.0, 0.0, size=128).shape == (128, 128, 3)


def test_control_points_lie_in_the_crop():
    for name, (x, y) in FACE_CONTROL_POINTS.items():
        assert 0 <= x < 192 and 0 <= y < 192, name


def test_mismatched_lengths_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="length"):
        render_face_video(tmp_path / "x.mp4", np.zeros(5), np.zeros(4), np.zeros(5), fps=FPS)


@pytest.mark.parametrize("valence, arousal, mouth_open", [
    (1.5, 0.0, 0.5), (0.0, -1.1, 0.5), (0.0, 0.0, -0.1), (0.0, 0.0, 1.2), (np.nan, 0.0, 0.5),
])
def test_out_of_range_values_are_rejected(tmp_path, valence, arousal, mouth_open):
    with pytest.raises(ValueError):
        face_frame(valence, arousal, mouth_open)
    signals = [np.full(3, value) for value in (valence, arousal, mouth_open)]
    with pytest.raises(ValueError):
        render_face_video(tmp_path / "x.mp4", *signals, fps=FPS)


def test_unwritable_path_raises_runtime_error(tmp_path):
    path = tmp_path / "missing_dir" / "x.mp4"
    with pytest.raises(RuntimeError, match="missing_dir"):
        render_face_video(path, np.zeros(2), np.zeros(2), np.zeros(2), fps=FPS)
