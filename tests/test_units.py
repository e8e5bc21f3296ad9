"""Units of kind segment and window (pipeline/units.py), their labels and tasks, against tables
built by hand; a feature stage and a training run on a named unit."""
import json

import numpy as np
import pandas as pd
import pytest

from pipeline import layout
from pipeline.config import ParamsError
from pipeline.params_check import check
from pipeline.sequences import load_sequences, load_task
from pipeline.sessions import Corpus, Session
from pipeline.units import disabled, make_units, missing_segments, segment_units, write_skipped
from pipeline.window import write_units

WORDS = pd.DataFrame({"word": ["i", "am", "glad", "so", "sad", "now"],
                      "start": [0.1, 0.4, 0.8, 2.1, 2.5, 4.2], "end": [0.3, 0.7, 1.2, 2.4, 2.9, 4.6]})
# midpoints 0.2 0.55 1.0 | 2.25 2.7 | 4.4
GENERATED = pd.DataFrame({"segment": [0, 1, 2], "start": [0.0, 2.0, 4.0], "end": [1.5, 3.0, 5.0],
                          "text": ["i am glad", "so sad", "now"], "happiness": [2.0, 0.0, 0.33],
                          "sadness": [0.0, 2.67, 1.0], "class": ["happy", "sad", "neutral"]})


def corpus_with(tmp_path, tables: dict[str, pd.DataFrame], splits=("train", "test")) -> Corpus:
    """Sessions whose segments files are `tables`, each with the aligned words of WORDS."""
    (tmp_path / layout.ALIGNMENT).mkdir(parents=True, exist_ok=True)
    sessions = []
    for (sid, table), split in zip(tables.items(), splits):
        files = {}
        if table is not None:
            table.to_csv(tmp_path / f"{sid}.segments.csv", index=False)
            files = {"segments": f"{sid}.segments.csv"}
        WORDS.to_csv(tmp_path / layout.ALIGNMENT / f"{sid}.csv", index=False)
        sessions.append(Session(sid, f"spk_{sid}", split, 6.0, files, tmp_path))
    return Corpus("c", ["arousal", "valence"], sessions)


def test_sentence_table_gives_one_unit_per_sentence_with_its_words_values_and_class(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = corpus_with(tmp_path, {"a": GENERATED, "b": GENERATED.iloc[:2]})
    units, task = segment_units(corpus, {"kind": "segment", "values": "intensity", "sequence": "independent"})
    assert units.session.tolist() == ["a", "a", "a", "b", "b"]
    assert units["index"].tolist() == [0, 1, 2, 0, 1]
    assert units.start.tolist() == [0.0, 2.0, 4.0, 0.0, 2.0] and units.end.tolist() == [1.5, 3.0, 5.0, 1.5, 3.0]
    # sentence 0 [0, 1.5) holds words 0-2, sentence 1 [2, 3) words 3-4, sentence 2 [4, 5) word 5
    assert units.word_first.tolist() == [0, 3, 5, 0, 3] and units.word_last.tolist() == [3, 5, 6, 3, 5]
    np.testing.assert_allclose(units.happiness, [2.0, 0.0, 0.33, 2.0, 0.0])
    assert task["classes"] == ["happy", "neutral", "sad"]  # sorted: the order of the class indices
    assert units["class"].tolist() == [0, 2, 1, 0, 2]
    assert task["tasks"] == {"intensity": ["happiness", "sadness"], "categorical": ["class"]}
    assert (task["task"], task["targets"], task["sequence"]) == ("intensity", ["happiness", "sadness"],
                                                                 "independent")


def test_manifest_segments_with_dimensions_train_the_utterance_task(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = pd.DataFrame({"start": [0.0, 2.0], "end": [1.5, 3.0], "valence": [0.5, -0.25], "arousal": [0.1, 0.2]})
    corpus = corpus_with(tmp_path, {"a": table})
    units, task = segment_units(corpus, {"kind": "segment"})
    assert task["tasks"] == {"utterance": ["valence", "arousal"]} and task["classes"] == []
    assert task["sequence"] == "session"  # the default: a session's segments in order
    np.testing.assert_allclose(units[["valence", "arousal"]].to_numpy(), table[["valence", "arousal"]].to_numpy())
    write_units(layout.unit_dir("utt"), units, task, corpus)
    assert load_task("utt")["tasks"] == {"utterance": ["valence", "arousal"]}


def test_given_class_order_is_kept_and_unknown_classes_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = corpus_with(tmp_path, {"a": GENERATED})
    units, task = segment_units(corpus, {"kind": "segment", "classes": ["sad", "neutral", "happy"]})
    assert units["class"].tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match=r"\['sad'\] are not among"):
        segment_units(corpus, {"kind": "segment", "classes": ["happy", "neutral"]})


@pytest.mark.parametrize("bad, message", [
    (GENERATED.assign(end=[1.5, 1.0, 5.0]), "time order with end > start"),
    (GENERATED.assign(start=[0.0, 4.0, 2.0], end=[1.5, 5.0, 3.0]), "time order"),
    (GENERATED.assign(end=[1.5, 3.0, 9.0]), "outside the session"),
    (GENERATED.assign(happiness=["high", "0", "1"]), "must be numbers"),
    (GENERATED.drop(columns=["end"]), "lacks columns"),
])
def test_bad_segments_files_name_the_session_and_file(tmp_path, monkeypatch, bad, message):
    monkeypatch.chdir(tmp_path)
    corpus = corpus_with(tmp_path, {"a": bad})
    with pytest.raises(ValueError, match=message) as err:
        segment_units(corpus, {"kind": "segment"})
    assert "session a" in str(err.value) and "a.segments.csv" in str(err.value)


def test_sessions_without_segments_skip_the_unit_or_are_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "has no segments files" in missing_segments(corpus_with(tmp_path, {"a": None}), {"kind": "segment"})
    with pytest.raises(ValueError, match=r"sessions \['b'\] have no segments file"):
        missing_segments(corpus_with(tmp_path, {"a": GENERATED, "b": None}), {"kind": "segment"})
    write_skipped(layout.unit_dir("sentences"), "corpus 'c' has no segments files")
    from pipeline.features import unit_skipped
    assert "no segments files" in unit_skipped("sentences")


def test_a_window_unit_cuts_its_own_preset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = corpus_with(tmp_path, {"a": None})
    gold = pd.DataFrame({"time": np.arange(0, 6.01, 0.1), "arousal": 0.0, "valence": np.arange(0, 6.01, 0.1)})
    gold.to_csv(tmp_path / "gold.csv", index=False)
    corpus = Corpus("c", ["arousal", "valence"], [Session("a", "s", "train", 6.0, {"gold": "gold.csv"}, tmp_path)])
    params = {"window": {"preset": "p", "presets": {"p": {"length_s": 2.0, "hop_s": 1.0, "label_shift_s": 0.0,
                                                          "label_aggregation": "mean"}}}}
    spec = {"kind": "window", "length_s": 4.0, "hop_s": 2.0, "label_shift_s": 0.0, "label_aggregation": "mean"}
    check({"units": {"w": spec}}, "units.w")
    units, task = make_units(corpus, spec, params)
    assert units.start.tolist() == [0.0, 2.0] and units.end.tolist() == [4.0, 6.0]  # its own, not window.preset p
    assert task["task"] == "continuous"


def test_an_auto_unit_is_cut_only_when_a_run_of_the_repro_trains_on_it():
    params = {"model": "lstm", "models": {"lstm": {}, "raju_aed": {"unit": "r"}, "blstm": {}},
              "benchmark": {"b": {"model": "blstm"}}}
    spec = {"kind": "window", "enabled": "auto"}
    assert "no run of this repro (`model`, a benchmark run, a pretrain run for `model`) trains on it" in \
        disabled(params, "r", spec)
    assert disabled({**params, "model": "raju_aed"}, "r", spec) is None
    assert disabled({**params, "benchmark": {"b": {"model": "blstm", "unit": "r"}}}, "r", spec) is None
    # a pretrain run on the unit: only while it trains, for `model`
    pretrain = {"p": {"model": "blstm", "unit": "r", "for": ["raju_aed"]}}
    assert disabled({**params, "pretrain": pretrain}, "r", spec) is not None
    assert disabled({**params, "pretrain": {"p": {**pretrain["p"], "for": ["lstm"]}}}, "r", spec) is None
    assert disabled(params, "r", {"kind": "window"}) is None  # enabled by default
    assert disabled({**params, "model": "raju_aed"}, "r", {**spec, "enabled": False}) == "units.r.enabled is false"


def test_unit_params_are_checked(tmp_path):
    params = {"window": {"preset": "p", "presets": {"p": {}}}, "features": {"egemaps": {}},
              "units": {"s": {"kind": "segment", "sequence": "sometimes"}, "w": {"kind": "window", "hop_s": 0},
                        "windows": {"kind": "session"}},
              "unit_features": {"e": {"extractor": "mfcc", "unit": "nowhere"}}}
    with pytest.raises(ParamsError) as err:
        check(params, "units.s", "units.w", "units.windows", "unit_features.e")
    text = str(err.value)
    assert "units.s.sequence = \"sometimes\": must be one of session, independent" in text
    assert "units.w.hop_s = 0: must be a number > 0" in text and "units.w.length_s is missing" in text
    assert "units.windows: the name 'windows' is the window stage's unit" in text
    assert "unit_features.e.extractor = \"mfcc\": must be one of egemaps" in text
    assert "unit_features.e.unit = \"nowhere\": must be one of s, w, windows" in text


def test_sequences_of_a_unit_refuse_features_of_another_unit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = corpus_with(tmp_path, {"a": GENERATED})
    units, task = segment_units(corpus, {"kind": "segment", "values": "intensity"})
    write_units(layout.unit_dir("sentences"), units, task, corpus)
    for name, unit in (("vec_sentences", "sentences"), ("vec", None)):
        folder = layout.FEATURES / name
        folder.mkdir(parents=True)
        np.save(folder / "a.npy", np.arange(9, dtype=np.float32).reshape(3, 3))
        (folder / "meta.json").write_text(json.dumps({"extractor": "vec", **({"unit": unit} if unit else {})}))
    [sequence] = load_sequences(["vec_sentences"], ["happiness", "sadness"], "sentences")
    np.testing.assert_allclose(sequence.y, GENERATED[["happiness", "sadness"]].to_numpy())
    assert sequence.x["x"].shape == (3, 3)
    with pytest.raises(ValueError, match="computed on unit 'windows', but the model reads unit 'sentences'"):
        load_sequences(["vec"], ["happiness"], "sentences")


def test_a_model_on_a_unit_not_made_is_refused_saying_why(tmp_path, monkeypatch):
    from pipeline.sequences import CorpusMismatch
    from pipeline.model_spec import model_spec
    monkeypatch.chdir(tmp_path)
    write_skipped(layout.unit_dir("sentences"), "corpus 'c' has no segments files")
    params = {"models": {"blstm": {"features": ["egemaps"], "targets": "corpus", "loss": "ccc", "unit": "sentences"}}}
    with pytest.raises(CorpusMismatch, match="model blstm trains on unit 'sentences': corpus 'c' has no segments"):
        model_spec(params, "blstm")
