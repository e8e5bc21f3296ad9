"""features/window_frames.py: the one rule for the frames of a window, against frames counted by hand."""
import numpy as np
import pandas as pd

from features.face_deep import window_means
from features.face_frames import FRAME_COLUMNS, summarise_windows
from features.lld import window_frame_ranges
from features.window_frames import frame_ranges


def test_a_frame_on_a_boundary_belongs_to_the_window_that_starts_there():
    times = np.arange(20) / 10.0  # 0.0, 0.1, ..., 1.9
    ranges = frame_ranges(times, np.array([0.0, 0.5, 1.0]), np.array([0.5, 1.0, 1.5]))
    assert ranges.tolist() == [[0, 5], [5, 10], [10, 15]]
    assert ranges.dtype == np.int64


def test_float_error_at_a_boundary_does_not_move_a_frame():
    # frame 105 at 25 fps (4.2 s) stored as float32 is 4.19999981; an openSMILE frame centre
    # computed as (start + end) / 2 can be 2.0999999999999996 for 2.1: both are on the boundary
    float32_times = (np.arange(300) / 25.0).astype(np.float32)
    assert float32_times[105] < 4.2
    assert frame_ranges(float32_times, [0.2, 4.2], [4.2, 8.2]).tolist() == [[5, 105], [105, 205]]
    centres = np.array([2.0, 2.0999999999999996, 2.2])
    assert frame_ranges(centres, [2.1], [2.2]).tolist() == [[1, 2]]
    # a frame truly before the window (2 microseconds) stays out
    assert frame_ranges(np.array([2.1 - 2e-6, 2.15]), [2.1], [2.2]).tolist() == [[1, 2]]


def test_every_extractor_uses_the_rule():
    """The audio LLD summaries, the face window summaries and face_deep's means count the same
    frames for the same float32 times (the face stages' per-frame table is float32 on disk)."""
    times = (np.arange(250) / 25.0).astype(np.float32)
    windows = pd.DataFrame({"start": np.round(np.arange(0.0, 5.9, 0.1), 6), "session": "s"})
    windows["end"] = windows["start"] + 4.0
    expected = frame_ranges(times, windows.start, windows.end)
    np.testing.assert_array_equal(window_frame_ranges(times, windows), expected)

    table = pd.DataFrame(0.0, index=range(len(times)), columns=list(FRAME_COLUMNS))
    table["time"], table["face"], table["confidence"] = times.astype(np.float64), True, np.arange(len(times))
    features, mask, _ = summarise_windows(table, windows, 0.0, 25.0)
    # the mean confidence of a window is the mean index of its frames
    np.testing.assert_allclose(features[:, 0], (expected[:, 0] + expected[:, 1] - 1) / 2)

    embeddings = [np.arange(len(times), dtype=np.float32)[:, None]]
    means, _ = window_means(times.astype(np.float64), embeddings, windows, dims=1)
    np.testing.assert_allclose(means[:, 0], (expected[:, 0] + expected[:, 1] - 1) / 2)
