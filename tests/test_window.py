"""Window placement and label aggregation against values worked out by hand."""
import numpy as np
import pandas as pd

import pytest

from pipeline.config import ParamsError, load_params
from pipeline.window import aggregate_labels, assign_words, window_settings, window_starts


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


def test_words_go_to_every_window_holding_their_midpoint():
    words = pd.DataFrame({"word": list("abcd"), "start": [0.2, 1.8, 2.5, 5.0], "end": [0.8, 2.4, 3.1, 5.2]})
    # midpoints 0.5, 2.1, 2.8, 5.1; windows [0, 2), [1, 3), [2, 4), [4, 6)
    first, last = assign_words(words, np.array([0.0, 1.0, 2.0, 4.0]), 2.0)
    np.testing.assert_array_equal(first, [0, 1, 1, 3])
    np.testing.assert_array_equal(last, [1, 3, 3, 4])


def test_no_words_gives_empty_ranges():
    words = pd.DataFrame({"word": [], "start": [], "end": []})
    first, last = assign_words(words, np.array([0.0, 1.0]), 2.0)
    assert (first == last).all()


def test_window_presets_are_checked():
    presets = load_params()["window"]["presets"]
    assert window_settings({"preset": "raju2019", "presets": presets})["hop_s"] == 0.1
    with pytest.raises(ParamsError, match="nosuch.*baseline4s"):
        window_settings({"preset": "nosuch", "presets": presets})
    with pytest.raises(ParamsError, match="label_aggregation"):
        window_settings({"preset": "x", "presets": {"x": {**presets["baseline4s"], "label_aggregation": "max"}}})


def test_speaker_groups_reach_the_window_table_and_the_sequences(tmp_path, monkeypatch):
    from pipeline.sequences import load_sequences
    from pipeline.sessions import Corpus, Session
    from pipeline import layout
    from pipeline.window import write_units
    monkeypatch.chdir(tmp_path)
    corpus = Corpus("c", ["valence"], [Session("a", "p1", "test", 2.0, {}, tmp_path, group="de"),
                                       Session("b", "p2", "test", 2.0, {}, tmp_path, group="hu")])
    windows = pd.DataFrame({"session": ["a", "a", "b"], "split": "test", "index": [0, 1, 0], "start": [0.0, 1.0, 0.0],
                            "end": [1.0, 2.0, 1.0], "word_first": 0, "word_last": 0, "valence": [0.1, 0.2, 0.3]})
    write_units(layout.WINDOWS, windows, {"task": "continuous", "targets": ["valence"], "classes": []}, corpus)
    table = pd.read_csv(tmp_path / "data/windows/windows.csv")
    assert list(table.columns) == ["session", "split", "index", "start", "end", "word_first", "word_last", "group",
                                   "valence"]  # the fixed columns first, then the labels
    assert list(table.group) == ["de", "de", "hu"]
    (tmp_path / "data/features/vec").mkdir(parents=True)
    for session, n in (("a", 2), ("b", 1)):
        np.save(tmp_path / f"data/features/vec/{session}.npy", np.zeros((n, 3), np.float32))
    assert [s.group for s in load_sequences(["vec"], ["valence"])] == ["de", "hu"]


def test_a_segments_corpus_gets_windows_for_its_features_but_no_labels_on_them(tmp_path, monkeypatch):
    from pipeline import layout
    from pipeline.sessions import Corpus, Session
    from pipeline.model_spec import model_spec
    from pipeline.sequences import CorpusMismatch
    from pipeline.window import cut_windows, write_units
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/alignment").mkdir(parents=True)
    pd.DataFrame({"word": ["hi", "there"], "start": [0.2, 6.0], "end": [0.6, 6.4]}).to_csv(
        tmp_path / "data/alignment/a.csv", index=False)
    corpus = Corpus("mosei", [], [Session("a", "p1", "train", 10.0, {}, tmp_path)], "segments")
    windows, task = cut_windows(corpus, {"length_s": 5.0, "hop_s": 5.0, "label_shift_s": 0.0,
                                         "label_aggregation": "mean"})
    assert windows.start.tolist() == [0.0, 5.0] and windows.word_first.tolist() == [0, 1]
    assert [c for c in windows.columns if c not in ("session", "split", "index", "start", "end", "word_first",
                                                     "word_last")] == []  # no label column
    assert task["targets"] == [] and "labels only on its segments" in task["unlabelled"]
    write_units(layout.WINDOWS, windows, task, corpus)
    params = {"models": {"lstm": {"features": ["vec"], "targets": "corpus", "loss": "ccc"}}}
    with pytest.raises(CorpusMismatch, match="model lstm trains on unit 'windows': corpus 'mosei' has labels only"):
        model_spec(params, "lstm")
