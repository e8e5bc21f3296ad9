"""Face bag-of-words (issue 5): codebook from the train split's face frames only, window
counts equal to a hand count, windows without a face masked and counted."""
import numpy as np
import pandas as pd
import pytest

from features import face_boaw
from features.face_frames import ACTION_UNITS, FRAME_COLUMNS
from pipeline.sessions import Session

CFG = {"codebook_size": 4, "assignments": 1, "log_weighting": False, "max_fit_frames": 10000, "seed": 0}


def write_frames(root, session_id: str, au_values: np.ndarray, fps: float = 10.0, face=None) -> Session:
    """A face-stage per-frame table with the given AU rows (other columns 0)."""
    n = len(au_values)
    table = np.zeros((n, len(FRAME_COLUMNS)), np.float32)
    table[:, FRAME_COLUMNS.index("time")] = np.arange(n) / fps
    table[:, FRAME_COLUMNS.index("face")] = 1.0 if face is None else face
    for j, au in enumerate(ACTION_UNITS):
        table[:, FRAME_COLUMNS.index(au)] = au_values[:, j]
    folder = root / "data/features/face"
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{session_id}.frames.npy", table)
    return Session(session_id, "spk", "train", n / fps, {}, root)


def test_codebook_from_train_frames_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    train_centres = rng.normal(size=(4, len(ACTION_UNITS)))
    train = [write_frames(tmp_path, f"t{k}", train_centres[rng.integers(0, 4, 300)] +
                          0.05 * rng.normal(size=(300, len(ACTION_UNITS)))) for k in range(2)]
    write_frames(tmp_path, "test", 10 + rng.normal(size=(300, len(ACTION_UNITS))))  # far away: must not count
    fitted = face_boaw.fit(train, None, CFG)
    codebook = np.asarray(fitted["codebook"]) * np.asarray(fitted["scale"]) + np.asarray(fitted["mean"])
    distances = np.linalg.norm(codebook[:, None] - train_centres[None], axis=2)
    assert distances.min(axis=1).max() < 0.1  # every codeword sits on a train cluster
    assert fitted["train_sessions"] == ["t0", "t1"] and fitted["fit_frames"] == 600


def test_window_counts_equal_hand_count_and_faceless_windows_are_masked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dims = len(ACTION_UNITS)
    words = np.eye(4, dims) * 3  # four well separated codewords
    fitted = {"mean": [0.0] * dims, "scale": [1.0] * dims, "codebook": words.tolist()}
    chosen = np.array([0, 0, 1, 2, 3, 3, 3, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    face = np.ones(20)
    face[10:] = 0  # no face in the second second
    session = write_frames(tmp_path, "s", words[chosen] + 0.01, face=face)
    windows = pd.DataFrame({"start": [0.0, 0.5, 1.0], "end": [0.5, 1.0, 2.0]})
    out = face_boaw.extract(session, windows, CFG, fitted)
    expected = np.zeros((3, 4))
    for frame in range(10):  # frames at 0.0 .. 0.9 s
        expected[0 if frame < 5 else 1, chosen[frame]] += 1
    np.testing.assert_array_equal(out.arrays["features"], expected)
    assert out.arrays["mask"].tolist() == [True, True, False]
    assert out.counts == {"face_frames": 10, "windows_without_face": 1}
    logged = face_boaw.extract(session, windows, {**CFG, "log_weighting": True}, fitted).arrays["features"]
    np.testing.assert_allclose(logged, np.log1p(expected))


def test_missing_face_stage_output_names_the_session(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="session nope: .*nope.frames.npy missing: run features@face"):
        face_boaw.face_frames(Session("nope", "spk", "train", 1.0, {}, tmp_path))
