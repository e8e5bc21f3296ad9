"""Named model inputs (pipeline/sequences.py): what each input holds, its mask, a normaliser
that masked values do not move, and a run that overrides a model's inputs training on exactly
those inputs."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from pipeline.model_inputs import model_inputs
from pipeline.sequences import fit_normaliser, load_sequences, normalise
from pipeline.trained_model import evaluate_trained, load_trained
from pipeline.model_spec import ModelSpec, model_spec
from pipeline.trainer import train_model

SESSIONS = (("a", "train"), ("b", "train"), ("c", "dev"), ("d", "test"))
T, WORDS = 12, 4


@pytest.fixture
def stages(tmp_path, monkeypatch):
    """Four sessions of 12 windows with three stages: `vec` (3-d, no mask), `face` (2-d, windows
    2 and 5 of every session masked, stored as 1000s), `words` (4 words x 5-d, padded)."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    for name in ("vec", "face", "words"):
        (tmp_path / "data/features" / name).mkdir(parents=True)
    (tmp_path / "data/windows").mkdir(parents=True)
    tables = []
    for sid, split in SESSIONS:
        vec = rng.normal(size=(T, 3)).astype(np.float32)
        face = rng.normal(size=(T, 2)).astype(np.float32)
        face_mask = np.ones(T, bool)
        face_mask[[2, 5]] = False
        face[~face_mask] = 1000.0
        n_words = rng.integers(0, WORDS + 1, size=T)
        word_mask = np.arange(WORDS)[None] < n_words[:, None]
        words = rng.normal(size=(T, WORDS, 5)).astype(np.float32) * word_mask[..., None]
        for name, values, mask in (("vec", vec, None), ("face", face, face_mask), ("words", words, word_mask)):
            np.save(tmp_path / f"data/features/{name}/{sid}.npy", values)
            if mask is not None:
                np.save(tmp_path / f"data/features/{name}/{sid}.mask.npy", mask)
        tables.append(pd.DataFrame({"session": sid, "split": split, "index": range(T), "start": np.arange(T * 1.0),
                                    "end": np.arange(T * 1.0) + 1, "valence": np.tanh(vec[:, 0] + face[:, 0] * face_mask)}))
    pd.concat(tables).to_csv(tmp_path / "data/windows/windows.csv", index=False)
    (tmp_path / "data/windows/task.json").write_text(json.dumps({"task": "continuous", "targets": ["valence"],
                                                                 "classes": []}))
    return tmp_path


def stored(root, stage: str, sid: str, mask: bool = False) -> np.ndarray:
    return np.load(root / f"data/features/{stage}/{sid}{'.mask' if mask else ''}.npy")


def test_each_named_input_holds_its_stages_with_their_masks(stages):
    sequences = load_sequences({"audio": ["vec"], "video": "face", "text": ["words"]}, ["valence"])
    assert [s.id for s in sequences] == ["a", "b", "c", "d"]
    a = sequences[0]
    np.testing.assert_array_equal(a.x["audio"], stored(stages, "vec", "a"))
    np.testing.assert_array_equal(a.mask["audio"], np.ones(T, bool))  # a stage without a mask file
    np.testing.assert_array_equal(a.x["video"], stored(stages, "face", "a"))
    np.testing.assert_array_equal(a.mask["video"], stored(stages, "face", "a", mask=True))
    assert a.x["text"].shape == (T, WORDS, 5)
    np.testing.assert_array_equal(a.mask["text"], stored(stages, "words", "a", mask=True))  # per word
    assert set(a.valid) == {"audio", "video"}  # element validity of the vector inputs only


def test_one_input_concatenates_vectors_and_masks_a_row_where_any_part_is_masked(stages):
    [a, *_] = load_sequences(["vec", "face"], ["valence"])
    assert list(a.x) == ["x"] and a.x["x"].shape == (T, 5)
    np.testing.assert_array_equal(a.x["x"], np.concatenate([stored(stages, "vec", "a"), stored(stages, "face", "a")], 1))
    np.testing.assert_array_equal(a.mask["x"], stored(stages, "face", "a", mask=True))
    np.testing.assert_array_equal(a.valid["x"][:, :3], True)  # the vec columns stay valid in a masked row
    np.testing.assert_array_equal(a.valid["x"][:, 3:], np.repeat(stored(stages, "face", "a", mask=True)[:, None], 2, 1))
    with pytest.raises(ValueError, match="only per-unit vectors can be concatenated"):
        load_sequences(["vec", "words"], ["valence"])
    assert model_inputs({"audio": "vec", "av": ["vec", "face"]}) == {"audio": ["vec"], "av": ["vec", "face"]}


def test_masked_values_do_not_move_the_normaliser_and_enter_as_the_train_mean(stages):
    sequences = load_sequences(["vec", "face"], ["valence"])
    norm = fit_normaliser(sequences)
    train = [s for s in sequences if s.split == "train"]
    faces = np.concatenate([stored(stages, "face", s.id) for s in train])
    real = faces[np.concatenate([stored(stages, "face", s.id, mask=True) for s in train])]
    mean, std = norm["x"]
    np.testing.assert_allclose(mean[3:], real.mean(0), rtol=1e-5)  # the 1000s left out
    np.testing.assert_allclose(std[3:], real.std(0), rtol=1e-5)
    vecs = np.concatenate([stored(stages, "vec", s.id) for s in train])
    np.testing.assert_allclose(mean[:3], vecs.mean(0), rtol=1e-5)  # all rows, masked face rows included
    normalise(sequences, norm)
    d = sequences[3]
    assert np.all(d.x["x"][[2, 5], 3:] == 0.0)  # masked: the train mean, not (1000 - mean) / std
    np.testing.assert_allclose(d.x["x"][0, 3:], (stored(stages, "face", "d")[0] - mean[3:]) / std[3:], rtol=1e-5)
    # word matrices are used as they are (zero padding included)
    words = load_sequences({"text": "words"}, ["valence"])
    identity = fit_normaliser(words)
    normalise(words, identity)
    np.testing.assert_array_equal(words[0].x["text"], stored(stages, "words", "a"))


def test_every_train_unit_masked_is_an_error_naming_the_input(stages):
    for sid, _ in SESSIONS:
        np.save(stages / f"data/features/face/{sid}.mask.npy", np.zeros(T, bool))
    with pytest.raises(ValueError, match="input 'video'.*no valid value in the train split"):
        fit_normaliser(load_sequences({"video": ["face"]}, ["valence"]))


CFG = {"epochs": 3, "patience": 100, "batch_size": 2, "chunk_windows": 6, "lr": 0.01, "device": "cpu",
       "control": "none"}


def test_a_run_overriding_the_inputs_trains_and_evaluates_on_exactly_those(stages):
    params = {"models": {"modality_lstm": {"features": {"audio": ["vec"], "video": ["face"]}, "targets": "corpus",
                                           "loss": "mse", "embed": 4, "hidden": 8}}}
    both = model_spec(params, "modality_lstm")
    audio = model_spec(params, "modality_lstm", overrides={"features": {"audio": "vec"}})
    assert (both.features, audio.features) == ({"audio": ["vec"], "video": ["face"]}, {"audio": ["vec"]})
    meta = train_model(audio, CFG, 1, stages / "m.pt", stages / "h.csv")
    assert meta["features"] == {"audio": ["vec"]} and meta["input_shape"] == {"audio": [3]}
    model, _, norm = load_trained(stages / "m.pt")
    assert set(norm) == {"audio"} and list(model.encoders.layers) == ["audio"]  # no video encoder
    assert model.encoders.layers["audio"][0].in_features == 3
    # the same weights give the same test metrics whatever the face stage holds: it is not read
    metrics, _ = evaluate_trained(stages / "m.pt")
    for sid, _ in SESSIONS:
        np.save(stages / f"data/features/face/{sid}.npy", np.full((T, 2), 7.0, np.float32))
    assert evaluate_trained(stages / "m.pt")[0] == metrics
    # a one-input model given a mapping, or a named-input model given a list, is refused by name
    with pytest.raises(ValueError, match="models.modality_lstm.features = .*reads named inputs"):
        model_spec({"models": {"modality_lstm": {**params["models"]["modality_lstm"], "features": ["vec"]}}},
                   "modality_lstm")


def test_a_one_input_model_trains_as_before_on_a_list(stages):
    spec = ModelSpec("lstm", ["vec", "face"], ["valence"], "mse", {"hidden": 8})
    meta = train_model(spec, CFG, 1, stages / "m.pt", stages / "h.csv")
    assert meta["features"] == ["vec", "face"] and meta["input_shape"] == [5]
    saved = torch.load(stages / "m.pt", weights_only=True)
    assert set(saved["normaliser"]) == {"x"}


@pytest.fixture
def inner(stages):
    """Frames (100 per second, 2-d: [time, session number]) and words (3-d) for the fixture's
    sessions: a's frames run on to 14 s (past its last unit, valued 1000 there), b's stop at
    10.5 s (its unit 10 holds half its frames, unit 11 none); each unit k holds words 2k, 2k+1."""
    ends = {"a": 14.0, "b": 10.5, "c": 12.0, "d": 12.0}
    for name in ("lld", "wordvec"):
        (stages / "data/features" / name).mkdir()
    table = pd.read_csv(stages / "data/windows/windows.csv")
    table["word_first"], table["word_last"] = table["index"] * 2, table["index"] * 2 + 2
    table.to_csv(stages / "data/windows/windows.csv", index=False)
    for k, (sid, _) in enumerate(SESSIONS):
        times = np.arange(0.005, ends[sid], 0.01)
        frames = np.stack([times, np.full_like(times, k)], axis=1).astype(np.float32)
        frames[times >= 12.0] = 1000.0
        np.save(stages / f"data/features/lld/{sid}.frames.npy", frames)
        np.save(stages / f"data/features/lld/{sid}.frame_times.npy", times)
        words = np.arange(2 * T * 3, dtype=np.float32).reshape(2 * T, 3) + 100 * k
        starts = np.arange(2 * T) * 0.5
        np.save(stages / f"data/features/wordvec/{sid}.words.npy", words)
        np.save(stages / f"data/features/wordvec/{sid}.word_times.npy", np.stack([starts, starts + 0.4], axis=1))
        (stages / "data/alignment").mkdir(exist_ok=True)
        pd.DataFrame({"word": [f"w{i}" for i in range(2 * T)], "start": starts, "end": starts + 0.4}).to_csv(
            stages / f"data/alignment/{sid}.csv", index=False)
    return stages


def test_frames_and_words_inside_each_unit_are_padded_with_their_masks_and_times(inner):
    from pipeline.sequences import as_arrays
    sequences = load_sequences({"lld": {"stage": "lld", "per": "frame"}, "text": {"stage": "wordvec", "per": "word"}},
                               ["valence"])
    b = sequences[1]
    x, mask = as_arrays(b.x, b.mask)
    assert x["lld"].shape == (T, 100, 2) and mask["lld"].shape == (T, 100)
    frames = np.load(inner / "data/features/lld/b.frames.npy")
    np.testing.assert_array_equal(x["lld"][3], frames[300:400])  # centres in [3, 4) s
    np.testing.assert_allclose(x["lld.times"][3], np.arange(3.005, 3.999, 0.01), atol=1e-5)
    assert mask["lld"][10].sum() == 50 and not mask["lld"][11].any()  # half a unit, then none
    assert list(b.mask["lld"]) == [True] * 11 + [False]  # a unit without a frame is masked as a whole
    words = np.load(inner / "data/features/wordvec/b.words.npy")
    assert x["text"].shape == (T, 2, 3) and mask["text"].all()
    np.testing.assert_array_equal(x["text"][5], words[10:12])
    np.testing.assert_allclose(x["text.times"][5], [[5.0, 5.4], [5.5, 5.9]])


def test_frames_are_normalised_with_the_train_frames_inside_units_and_batched_lazily(inner):
    from pipeline.training_batches import training_batches
    sequences = load_sequences({"lld": {"stage": "lld", "per": "frame"}}, ["valence"])
    norm = fit_normaliser(sequences)
    inside = np.concatenate([np.load(inner / f"data/features/lld/{s}.frames.npy")[:1200] for s in ("a", "b")])
    mean, std = norm["lld"]
    np.testing.assert_allclose(mean, inside.mean(0), rtol=1e-5)  # a's 1000s past its last unit left out
    np.testing.assert_allclose(std, inside.std(0), rtol=1e-5)
    normalise(sequences, norm)
    assert sequences[0].x["lld"].values.shape == (1400, 2)  # a session's frames once, not once per window
    batches = training_batches(np.random.default_rng(0), [s for s in sequences if s.split == "train"], 4, 3)
    x, mask, y = next(iter(batches))
    assert x["lld"].shape[:3] == (len(y), 4, 100) and x["lld.times"].shape == x["lld"].shape[:3]
    assert mask["lld"].shape == x["lld"].shape[:3]
    # frames averaged per word are z-scored like frames; word vectors are used as they are
    aligned = load_sequences({"a": {"stage": "lld", "per": "word"}, "w": {"stage": "wordvec", "per": "word"}},
                             ["valence"])
    aligned_norm = fit_normaliser(aligned)
    assert "w" not in aligned_norm and not np.allclose(aligned_norm["a"][0], 0)
    before = aligned[0].x["w"].values
    normalise(aligned, aligned_norm)
    assert aligned[0].x["w"].values is before  # word vectors: used as they are


def test_a_named_input_model_trains_on_frames_and_words_inside_units(inner):
    params = {"models": {"modality_lstm": {"features": {"audio": {"stage": "lld", "per": "frame"},
                                                        "text": {"stage": "wordvec", "per": "word"}},
                                           "targets": "corpus", "loss": "mse", "embed": 4, "hidden": 8}}}
    spec = model_spec(params, "modality_lstm")
    meta = train_model(spec, CFG, 1, inner / "m.pt", inner / "h.csv")
    assert meta["input_shape"] == {"audio": [-1, 2], "text": [-1, 3]}
    metrics, table = evaluate_trained(inner / "m.pt")
    assert np.isfinite(metrics["valence"]["ccc"]) and len(table) == T
    with pytest.raises(FileNotFoundError, match="features@vec keeps no frames"):
        load_sequences({"v": {"stage": "vec", "per": "frame"}}, ["valence"])


def test_a_frame_stage_per_word_is_its_frames_averaged_over_each_aligned_word(inner):
    from features.word_alignment import aligned_to_words
    from pipeline.sequences import as_arrays
    [_, b, *_] = load_sequences({"audio": {"stage": "lld", "per": "word"}}, ["valence"])
    x, mask = as_arrays(b.x, b.mask)
    frames = np.load(inner / "data/features/lld/b.frames.npy")
    times = np.load(inner / "data/features/lld/b.frame_times.npy")
    starts = np.arange(2 * T) * 0.5
    expected, found = aligned_to_words(frames, times, np.stack([starts, starts + 0.4], axis=1))
    np.testing.assert_array_equal(x["audio"][4], expected[8:10])  # unit 4: words 8 and 9
    np.testing.assert_allclose(x["audio"][4][:, 0], [4.2, 4.7], atol=1e-4)  # the mean frame time of each word
    assert not found[21:].any() and not mask["audio"][11].any()  # b's frames stop at 10.5 s: words after it
    assert mask["audio"][:10].all()  # have no value and are masked, not zeros taken for data
