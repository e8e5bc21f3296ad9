"""The face stage's py-feat backend (issue 5): preflight names exactly which model files are
missing, finds them in the Hugging Face cache layout py-feat itself uses, and stops the stage
before any session; py-feat's per-face rows map to the per-frame table by formula."""
import json
import math

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from features import face, face_frames, face_pyfeat
from pipeline import feature_cache, features as stage, scratch

RETINAFACE, MULTITASK = face_pyfeat.MODEL_FILES


@pytest.fixture(autouse=True)
def no_weights_override(monkeypatch):
    monkeypatch.delenv("FEAT_MULTITASK_WEIGHTS", raising=False)


def put_in_hub_cache(cache, repo: str, filename: str, revision: str = "a" * 40):
    """A file where huggingface_hub's cache layout keeps it: models--<org>--<name>/snapshots/<rev>/<file>,
    with refs/main naming the revision."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(revision)
    path = folder / "snapshots" / revision / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"weights")
    return path


def test_the_pinned_py_feat_is_installed_and_its_multitask_file_is_the_one_checked():
    from feat.multitask import inference
    assert face_pyfeat.installed_version() == face_pyfeat.PYFEAT_VERSION
    assert (MULTITASK.repo, MULTITASK.filenames[0]) == (inference.HF_REPO, inference.HF_WEIGHTS_FILE)


def test_preflight_names_every_missing_file_and_the_cache(tmp_path):
    with pytest.raises(face_pyfeat.PyFeatUnavailable) as caught:
        face_pyfeat.preflight(tmp_path)
    message = str(caught.value)
    assert "2 model file(s)" in message and str(tmp_path) in message
    for spec in face_pyfeat.MODEL_FILES:
        assert spec.repo in message
        assert all(name in message for name in spec.filenames)
        assert f"hf download {spec.repo} {spec.filenames[0]} --cache-dir {tmp_path}" in message
    assert "backend: mediapipe" in message


def test_preflight_finds_files_in_the_hub_cache_and_lists_only_the_rest(tmp_path, monkeypatch):
    detector_file = put_in_hub_cache(tmp_path, RETINAFACE.repo, RETINAFACE.filenames[1])  # the fallback name
    with pytest.raises(face_pyfeat.PyFeatUnavailable) as caught:
        face_pyfeat.preflight(tmp_path)
    message = str(caught.value)
    assert "1 model file(s)" in message and MULTITASK.repo in message and RETINAFACE.repo not in message

    monkeypatch.setenv("FEAT_MULTITASK_WEIGHTS", str(tmp_path / "nowhere.safetensors"))
    with pytest.raises(face_pyfeat.PyFeatUnavailable, match="which is not a file"):
        face_pyfeat.preflight(tmp_path)

    weights = tmp_path / "multitask.safetensors"
    weights.write_bytes(b"weights")
    monkeypatch.setenv("FEAT_MULTITASK_WEIGHTS", str(weights))
    assert face_pyfeat.preflight(tmp_path) == {RETINAFACE.repo: detector_file, MULTITASK.repo: weights}


def test_preflight_checks_py_feats_own_resource_folder():
    import feat
    from feat.utils.io import get_resource_path
    assert face_pyfeat.model_cache_dir() == face_pyfeat.Path(get_resource_path())
    assert feat.__version__ == face_pyfeat.PYFEAT_VERSION


def write_video(path, frames: int = 6, size: int = 64):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (size, size))
    for i in range(frames):
        writer.write(np.full((size, size, 3), 20 * i, np.uint8))
    writer.release()


def test_the_stage_stops_before_any_session_when_models_are_missing(tmp_path, monkeypatch):
    if all(face_pyfeat.resolve(spec, face_pyfeat.model_cache_dir()) for spec in face_pyfeat.MODEL_FILES):
        pytest.skip("py-feat's models are installed on this machine; the missing-model path cannot be shown")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(scratch.ENV, str(tmp_path / "scratch"))
    (tmp_path / "data/corpus/sessions").mkdir(parents=True)
    (tmp_path / "data/windows").mkdir(parents=True)
    write_video(tmp_path / "data/corpus/sessions/a.mp4")
    (tmp_path / "data/corpus/manifest.json").write_text(json.dumps({"corpus": "t", "dimensions": ["valence"], "sessions": [
        {"id": "a", "speaker": "a", "split": "train", "duration_s": 0.6, "video": "sessions/a.mp4"}]}))
    pd.DataFrame([{"session": "a", "split": "train", "index": 0, "start": 0.0, "end": 0.6, "valence": 0.0}]).to_csv(
        tmp_path / "data/windows/windows.csv", index=False)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"features": {"face": {"backend": "pyfeat", "workers": 1}}}))
    with pytest.raises(face_pyfeat.PyFeatUnavailable, match="face_multitask_v28.safetensors"):
        stage.main(["face"])
    assert not list((tmp_path / "data/features/face").glob("*.npy"))
    assert not list((scratch.scratch_root() / "features/face").rglob("*.npy"))  # nothing cached either


@pytest.mark.parametrize("bad, message", [({"backend": "openface"}, 'backend = "openface": must be one of mediapipe, pyfeat'),
                                          ({"pyfeat_batch_size": 0}, "pyfeat_batch_size = 0: must be an integer >= 1")])
def test_invalid_backend_settings_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        face.check_config(bad)


def test_the_cache_key_covers_the_backend_code():
    assert "features/face_pyfeat.py" in feature_cache.module_sources("face")


# ---------------------------------------------------------------- py-feat rows -> table

def detections(rows: list[dict]) -> pd.DataFrame:
    """Rows in py-feat's Detectorv2 output schema (its own column-name constants), for the 20-AU
    head (AU_NAMES_V24, which has no AU45). Unset values are NaN, as py-feat's no-face rows."""
    from feat.multitask import AU_NAMES_V24
    from feat.utils import FEAT_FACEBOX_COLUMNS, FEAT_FACEPOSE_COLUMNS_6D, FEAT_GAZE_COLUMNS
    columns = ["frame", *FEAT_FACEBOX_COLUMNS, *FEAT_FACEPOSE_COLUMNS_6D, *AU_NAMES_V24, *FEAT_GAZE_COLUMNS]
    return pd.DataFrame([{name: row.get(name, np.nan) for name in columns} for row in rows], columns=columns)


def face_row(frame: int, score: float, value: float) -> dict:
    from feat.multitask import AU_NAMES_V24
    return {"frame": frame, "FaceRectX": 10.0, "FaceRectY": 10.0, "FaceRectWidth": 50.0, "FaceRectHeight": 60.0,
            "FaceScore": score, "Pitch": 0.1 * value, "Roll": -0.2 * value, "Yaw": 0.3 * value,
            "gaze_pitch": 0.05 * value, "gaze_yaw": -0.15 * value, **{au: value / 10 for au in AU_NAMES_V24}}


def test_py_feat_rows_map_to_the_table_by_formula():
    rows = detections([face_row(0, 0.7, 1.0), face_row(0, 0.95, 2.0),   # two faces: the surer one is kept
                       {"frame": 1, "FaceScore": 0.0},                   # py-feat's no-face placeholder
                       face_row(3, 0.8, 3.0)])                           # frame 2 has no row at all
    table, lacking = face_pyfeat.frame_table(rows, n_frames=4, fps=25.0)
    assert list(table.columns) == list(face_frames.FRAME_COLUMNS)
    assert lacking == ["AU45"]
    np.testing.assert_allclose(table["time"], [0, 0.04, 0.08, 0.12])
    assert table["face"].tolist() == [True, False, False, True]
    np.testing.assert_allclose(table["confidence"], [0.95, 0, 0, 0.8])
    for frame, value in ((0, 2.0), (3, 3.0)):
        row = table.iloc[frame]
        assert row["AU12"] == pytest.approx(value / 10) and row["AU01"] == pytest.approx(value / 10)
        assert row["AU45"] == 0.0
        assert row["pose_pitch"] == pytest.approx(math.degrees(0.1 * value))
        assert row["pose_yaw"] == pytest.approx(-math.degrees(0.3 * value))
        assert row["pose_roll"] == pytest.approx(math.degrees(-0.2 * value))
        assert row["gaze_x"] == pytest.approx(math.degrees(0.15 * value))
        assert row["gaze_y"] == pytest.approx(math.degrees(0.05 * value))
    assert table.iloc[[1, 2], 3:].isna().all().all()  # as the MediaPipe backend's no-face rows


def test_py_feat_tables_summarise_like_the_mediapipe_backend():
    rows = detections([face_row(i, 0.9, float(i)) for i in range(0, 10) if i != 4])
    table, _ = face_pyfeat.frame_table(rows, n_frames=10, fps=10.0)
    windows = pd.DataFrame({"start": [0.0, 0.5], "end": [0.5, 1.0]})
    features, mask, counts = face_frames.summarise_windows(table, windows, 0.5, 10.0)
    assert mask.all() and counts["frames_with_face"] == 9
    names = face.feature_names({})
    au12 = names.index("AU12_mean")
    np.testing.assert_allclose(features[:, au12], [np.mean([0, 1, 2, 3]) / 10, np.mean([5, 6, 7, 8, 9]) / 10], rtol=1e-6)
    assert features[0, names.index("face_fraction")] == pytest.approx(0.8)
