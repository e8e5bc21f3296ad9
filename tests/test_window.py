"""Window placement and label aggregation against values worked out by hand."""
import numpy as np
import pandas as pd

from pipeline.window import aggregate_labels, window_starts


def test_window_starts_respect_length_hop_and_shift():
    np.testing.assert_allclose(window_starts(10.0, 4.0, 1.0, 0.0), [0, 1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(window_starts(10.0, 4.0, 1.0, 2.0), [0, 1, 2, 3, 4])
    np.testing.assert_allclose(window_starts(10.0, 4.0, 2.5, 0.0), [0, 2.5, 5])
    assert window_starts(3.0, 4.0, 1.0, 0.0).size == 0


def test_mean_and_center_aggregation_with_shift():
    times = np.arange(0, 10.01, 0.5)  # 2 Hz ratings
    gold = pd.DataFrame({"time": times, "valence": times / 10})
    starts = np.array([0.0, 1.0])
    # window [0, 2) shifted by 1 s reads samples at 1.0, 1.5, 2.0, 2.5 -> mean 1.75 / 10
    mean = aggregate_labels(gold, ["valence"], starts, 2.0, 1.0, "mean")
    np.testing.assert_allclose(mean[:, 0], [0.175, 0.275])
    centre = aggregate_labels(gold, ["valence"], starts, 2.0, 1.0, "center")
    np.testing.assert_allclose(centre[:, 0], [0.2, 0.3])


def test_gap_in_gold_track_gives_nan_not_zero():
    gold = pd.DataFrame({"time": [0.0, 0.5, 5.0, 5.5], "valence": [0.1, 0.2, 0.3, 0.4]})
    labels = aggregate_labels(gold, ["valence"], np.array([1.0]), 2.0, 0.0, "mean")
    assert np.isnan(labels).all()
