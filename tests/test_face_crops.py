"""Face crops as a raw input (features/face_crops.py, `per: image` in pipeline/inner_sequences.py):
which sampled frames give a crop, each unit's crops and its mask, read memory-mapped and padded
per batch."""
import json

import cv2
import numpy as np
import pandas as pd
import pytest

from features import face_crops
from pipeline.inner_sequences import load_inner, stack
from pipeline.sessions import Session
from synthetic.face_video import face_frame
from tests.test_face_deep import write_video

CFG = {"size": 96, "sample_fps": 10, "min_detection_confidence": 0.5, "workers": 1}
UNITS = pd.DataFrame({"start": [0.0, 1.0, 2.0, 0.5], "end": [1.0, 2.0, 3.0, 1.5]})


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """A 3 s video at 25 fps: a face, then a second of grey, then another face."""
    folder = tmp_path_factory.mktemp("crops")
    happy, sad = face_frame(1.0, 0.0, 0.0), face_frame(-1.0, 0.0, 0.0)
    write_video(folder / "v.mp4", [happy] * 25 + [np.full_like(happy, 128)] * 25 + [sad] * 25)
    session = Session("s1", "spk", "train", 3.0, {"video": "v.mp4"}, folder)
    return face_crops.extract(session, UNITS, CFG)


def test_the_sampled_frames_with_a_face_give_one_crop_each(extracted):
    # at 25 fps, 10 per second samples every round(2.5) = 2nd frame: 0, 2, ..., 74; the grey ones
    # (frames 25-49) show no face
    sampled = np.arange(0, 75, 2)
    with_face = sampled[(sampled < 25) | (sampled >= 50)]
    images, times = extracted.arrays["images"], extracted.arrays["image_times"]
    assert images.shape == (len(with_face), 96, 96, 3) and images.dtype == np.uint8
    np.testing.assert_allclose(times, with_face / 25.0)
    assert extracted.counts == {"frames_sampled": len(sampled), "frames_with_face": len(with_face),
                                "units_without_face": 1, "sessions_without_face": []}
    # a unit's crops: those whose frame time is in [start, end); the grey second has none
    counts = [((with_face / 25.0 >= s) & (with_face / 25.0 < e)).sum() for s, e in zip(UNITS.start, UNITS.end)]
    assert extracted.arrays["features"][:, 0].tolist() == counts == [13, 0, 13, 6]
    assert extracted.arrays["mask"].tolist() == [True, False, True, True]
    assert np.abs(images[0].astype(float) - images[-1].astype(float)).mean() > 1.0  # two expressions


def test_a_moved_face_gives_nearly_the_same_crop(tmp_path):
    """Eye-aligned: the face shifted and scaled in the frame, its crop barely moves."""
    face = face_frame(0.0, 0.0, 0.0)
    moved = cv2.warpAffine(face, np.array([[0.85, 0.0, 22.0], [0.0, 0.85, 8.0]]), (192, 192),
                           borderMode=cv2.BORDER_REPLICATE)
    write_video(tmp_path / "still.mp4", [face] * 3)
    write_video(tmp_path / "moved.mp4", [moved] * 3)
    units = pd.DataFrame({"start": [0.0], "end": [0.12]})
    crops = [face_crops.extract(Session(name, "spk", "train", 0.12, {"video": f"{name}.mp4"}, tmp_path), units,
                                CFG).arrays["images"][0].astype(float) for name in ("still", "moved")]
    raw = np.abs(face.astype(float) - moved.astype(float)).mean()
    centre = slice(20, 76)  # away from the crop's borders, where the moved frame's edge shows
    assert np.abs(crops[0][centre, centre] - crops[1][centre, centre]).mean() < 0.35 * raw


def test_a_unit_reads_its_crops_memory_mapped_and_padded_per_batch(extracted, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stage = tmp_path / "data/features/face_crops_t"
    stage.mkdir(parents=True)
    np.save(stage / "s1.images.npy", extracted.arrays["images"])
    np.save(stage / "s1.image_times.npy", extracted.arrays["image_times"])
    (stage / "meta.json").write_text(json.dumps({"extractor": "face_crops"}))
    inner = load_inner("face_crops_t", "image", "s1", UNITS)
    assert isinstance(inner.values, np.memmap) and inner.lengths.tolist() == [13, 0, 13, 6]
    values, mask, times = stack([inner])
    assert values.shape == (1, 4, 13, 96, 96, 3) and values.dtype == np.float32
    assert mask[0].sum(axis=1).tolist() == [13, 0, 13, 6]
    images = extracted.arrays["images"]
    np.testing.assert_array_equal(values[0, 2, :13], images[13:26].astype(np.float32))  # 0-255, not standardised
    np.testing.assert_array_equal(values[0, 3, :6], images[7:13].astype(np.float32))  # frames 14-24: crops 7-12
    assert not values[0, 1].any() and not values[0, 3, 6:].any()  # padding is zeros under a False mask


def test_a_video_without_a_face_is_an_error_unless_masked(tmp_path):
    write_video(tmp_path / "blank.mp4", [np.full((192, 192, 3), 90, np.uint8)] * 10)
    session = Session("s2", "spk", "train", 0.4, {"video": "blank.mp4"}, tmp_path)
    units = pd.DataFrame({"start": [0.0], "end": [0.4]})
    with pytest.raises(ValueError, match="s2.*no face found"):
        face_crops.extract(session, units, CFG)
    masked = face_crops.extract(session, units, {**CFG, "on_no_face": "mask"})
    assert masked.arrays["images"].shape == (0, 96, 96, 3) and masked.arrays["mask"].tolist() == [False]
    assert masked.counts["sessions_without_face"] == ["s2"]
