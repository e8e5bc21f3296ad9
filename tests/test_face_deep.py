"""Deep face features (issue 5): aligned crops (the transform checked by formula and by a
rolled head), the offline CNN's embeddings averaged per window, faceless windows masked."""
import logging

import cv2
import numpy as np
import pandas as pd
import pytest

from features import face_deep
from features.face_align import alignment_matrix, sampled_face_crops
from pipeline.sessions import Session
from synthetic.face_video import face_frame

FPS = 25.0
CFG = {"backbone": "efficientnet_lite0", "weights_path": None, "sample_fps": 5, "batch_size": 4, "device": "cpu",
       "min_detection_confidence": 0.5, "workers": 1}


def write_video(path, frames) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (192, 192))
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()


def rolled(rgb: np.ndarray, degrees: float) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D((96, 96), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (192, 192), borderMode=cv2.BORDER_REPLICATE)


def test_alignment_puts_the_eyes_on_their_targets():
    eyes = np.array([[50.0, 80.0], [110.0, 60.0]])
    for size in (224, 96):
        matrix = alignment_matrix(eyes, size)
        moved = (matrix[:, :2] @ eyes.T).T + matrix[:, 2]
        np.testing.assert_allclose(moved, [[0.35 * size, 0.40 * size], [0.65 * size, 0.40 * size]], atol=1e-9)
    assert abs(np.linalg.det(matrix[:, :2])) > 0  # a similarity: no reflection or collapse


def test_a_rolled_head_gives_nearly_the_same_crop(tmp_path):
    face = face_frame(0.0, 0.0, 0.0)
    write_video(tmp_path / "straight.mp4", [face] * 5)
    write_video(tmp_path / "rolled.mp4", [rolled(face, 20.0)] * 5)
    straight = next(sampled_face_crops(tmp_path / "straight.mp4", 5, 0.5, 224))[1].astype(float)
    turned = next(sampled_face_crops(tmp_path / "rolled.mp4", 5, 0.5, 224))[1].astype(float)
    # the frames differ a lot, the aligned crops little (centre region, away from the borders)
    raw = np.abs(face.astype(float) - rolled(face, 20.0).astype(float)).mean()
    centre = slice(56, 168)
    aligned = np.abs(straight[centre, centre] - turned[centre, centre]).mean()
    assert aligned < 0.35 * raw, (aligned, raw)


def test_window_embeddings_masks_and_determinism(tmp_path, caplog):
    happy, sad = face_frame(1.0, 0.0, 0.0), face_frame(-1.0, 0.0, 0.0)
    grey = np.full_like(happy, 128)
    write_video(tmp_path / "v.mp4", [happy] * 25 + [grey] * 25 + [sad] * 25)
    session = Session("s1", "spk", "train", 3.0, {"video": "v.mp4"}, tmp_path)
    windows = pd.DataFrame({"start": [0.0, 1.0, 2.0], "end": [1.0, 2.0, 3.0]})
    with caplog.at_level(logging.WARNING, logger="features.face_deep"):
        out = face_deep.extract(session, windows, CFG)
    assert "session s1: 1 of 3 windows masked" in caplog.text  # as features.face warns
    features = out.arrays["features"]
    assert features.shape == (3, 1280) and out.arrays["mask"].tolist() == [True, False, True]
    assert not features[1].any() and out.counts == {"frames_sampled": 15, "frames_with_face": 10,
                                                    "windows_without_face": 1, "sessions_without_face": []}
    np.testing.assert_array_equal(face_deep.extract(session, windows, CFG).arrays["features"], features)
    assert np.abs(features[0] - features[2]).mean() > 0.01  # different expressions, different embeddings


def test_video_without_a_face_names_session_and_file(tmp_path, caplog):
    write_video(tmp_path / "blank.mp4", [np.full((192, 192, 3), 90, np.uint8)] * 10)
    session = Session("s9", "spk", "train", 0.4, {"video": "blank.mp4"}, tmp_path)
    windows = pd.DataFrame({"start": [0.0, 0.2], "end": [0.2, 0.4]})
    with pytest.raises(ValueError, match=r"session s9: no face found in any of the 2 sampled frames of .*blank\.mp4"):
        face_deep.extract(session, windows, CFG)
    with caplog.at_level(logging.WARNING, logger="features.face_deep"):
        out = face_deep.extract(session, windows, {**CFG, "on_no_face": "mask"})
    assert out.arrays["mask"].tolist() == [False, False] and out.arrays["features"].shape == (2, 1280)
    assert not out.arrays["features"].any()
    assert out.counts == {"frames_sampled": 2, "frames_with_face": 0, "windows_without_face": 2,
                          "sessions_without_face": ["s9"]}
    assert "session s9: no face found" in caplog.text and "2 of 2 windows masked" in caplog.text


def test_bad_config_names_the_key():
    with pytest.raises(ValueError, match=r"features.face_deep.sample_fps = 0: must be a number > 0"):
        face_deep.check_config({**CFG, "sample_fps": 0})
