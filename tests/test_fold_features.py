"""Feature stages with fitted state refitted on each fold's training speakers
(pipeline/fold_features.py), and a k-fold run's data layer reading them."""
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from features import botw
from pipeline.fold_features import fitted_stages, refit_for_fold
from pipeline.model_inputs import DEFAULT_INPUT
from pipeline.protocols import fold_splits
from pipeline.scratch import ENV
from pipeline.sequences import load_sequences
from tests.dvc_project import PARAMS

SPEAKERS = 4
WORDS_PER_SESSION = 40


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """Four speakers of two sessions each; every speaker says only words of their own (`spk<i>_w<j>`),
    so a vocabulary tells which speakers it was fitted on; data/features/botw holds the corpus
    split's fitted stage (what a k-fold run must not use)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"features": {
        "botw": PARAMS["features"]["botw"], "word_onehot": PARAMS["features"]["word_onehot"]}}))
    sessions, windows = [], []
    (tmp_path / "data/alignment").mkdir(parents=True)
    for speaker in range(SPEAKERS):
        for take in range(2):
            sid = f"spk{speaker}_{take}"
            words = [f"spk{speaker}_w{j % 5}" for j in range(WORDS_PER_SESSION)]
            pd.DataFrame({"word": words, "start": np.arange(len(words)) * 0.5,
                          "end": np.arange(len(words)) * 0.5 + 0.4}).to_csv(tmp_path / f"data/alignment/{sid}.csv",
                                                                          index=False)
            sessions.append({"id": sid, "speaker": f"spk{speaker}", "split": "train", "duration_s": 20.0})
            windows.append(pd.DataFrame({"session": sid, "split": "train", "index": range(4),
                                         "start": np.arange(4) * 5.0, "end": np.arange(4) * 5.0 + 5,
                                         "word_first": np.arange(4) * 10, "word_last": np.arange(4) * 10 + 10,
                                         "valence": 0.0}))
    (tmp_path / "data/corpus").mkdir(parents=True)
    (tmp_path / "data/corpus/manifest.json").write_text(json.dumps({"corpus": "t", "dimensions": ["valence"],
                                                                    "sessions": sessions}))
    (tmp_path / "data/windows").mkdir(parents=True)
    pd.concat(windows).to_csv(tmp_path / "data/windows/windows.csv", index=False)
    (tmp_path / "data/windows/task.json").write_text('{"task": "continuous", "targets": ["valence"], "classes": []}')
    for stage in ("botw", "word_onehot"):
        corpus_stage = tmp_path / "data/features" / stage
        corpus_stage.mkdir(parents=True)
        (corpus_stage / "fitted.json").write_text("{}")
        for s in sessions:  # the corpus split's features: ones, which no fold may read
            np.save(corpus_stage / f"{s['id']}.npy", np.ones((4, 5), np.float32))
            np.save(corpus_stage / f"{s['id']}.words.npy", np.ones((WORDS_PER_SESSION, 5), np.float32))
            np.save(corpus_stage / f"{s['id']}.word_times.npy", np.zeros((WORDS_PER_SESSION, 2), np.float32))
        (corpus_stage / "meta.json").write_text(json.dumps({"extractor": stage}))
    return tmp_path


def test_each_fold_refits_on_its_own_train_speakers_only(workspace):
    assert fitted_stages(["botw"]) == ["botw"] and fitted_stages(["egemaps"]) == []
    for k, split_of in enumerate(fold_splits(4)):
        folders = refit_for_fold(["botw"], split_of, workspace / f"fold{k}")
        assert folders == {"botw": "features/botw"}
        out = workspace / f"fold{k}" / "features" / "botw"
        train_speakers = {sid.split("_")[0] for sid, split in split_of.items() if split == "train"}
        vocabulary = json.loads((out / "fitted.json").read_text())["vocabulary"]
        # the words of the fold's train speakers, none of its dev or test speakers'
        assert {w.split("_")[0] for w in vocabulary} == train_speakers
        meta = json.loads((out / "meta.json").read_text())
        assert meta["train_sessions"] == sorted(s for s, split in split_of.items() if split == "train")
        for sid, split in split_of.items():
            rows = np.load(out / f"{sid}.npy")
            assert rows.shape == (4, len(vocabulary))
            # a held-out speaker's words are all out of the vocabulary: nothing counted
            assert (rows.any() if split == "train" else not rows.any()), (k, sid, split)


def test_a_fold_reads_its_refitted_stage_not_the_corpus_split_one(workspace):
    split_of = fold_splits(4)[0]
    folders = refit_for_fold(["botw"], split_of, workspace / "fold0")
    ours = load_sequences(["botw"], ["valence"], None, {k: workspace / "fold0" / v for k, v in folders.items()})
    corpus_split = load_sequences(["botw"], ["valence"])
    for fold_seq, corpus_seq in zip(ours, corpus_split):
        np.testing.assert_array_equal(fold_seq.x[DEFAULT_INPUT],
                                      np.load(workspace / "fold0/features/botw" / f"{fold_seq.id}.npy"))
        assert (corpus_seq.x[DEFAULT_INPUT] == 1).all()


def test_a_fold_reads_its_refitted_stage_per_word_too(workspace):
    """Words inside units (`per: word`) of a refitted stage come from the fold's folder: one-hot
    columns of the fold's vocabulary, none for a held-out speaker's words."""
    split_of = fold_splits(4)[2]
    folders = refit_for_fold(["word_onehot"], split_of, workspace / "fold2")
    inputs = {"words": {"stage": "word_onehot", "per": "word"}}
    ours = load_sequences(inputs, ["valence"], None, {k: workspace / "fold2" / v for k, v in folders.items()})
    vocabulary = json.loads((workspace / "fold2/features/word_onehot/fitted.json").read_text())["vocabulary"]
    for sequence in ours:
        words = sequence.x["words"].values
        assert words.shape == (WORDS_PER_SESSION, len(vocabulary))
        assert words.any() == (split_of[sequence.id] == "train"), sequence.id


def test_refitting_again_computes_nothing_and_writes_the_same_bytes(workspace, monkeypatch, tmp_path_factory):
    monkeypatch.setenv(ENV, str(tmp_path_factory.mktemp("own_cache")))
    split_of = fold_splits(4)[1]
    refit_for_fold(["botw"], split_of, workspace / "a")

    def computed(*args):
        raise AssertionError("a session computed again: the fold's fit and features are in the cache")
    monkeypatch.setattr(botw, "fit", computed)
    monkeypatch.setattr(botw, "extract", computed)
    refit_for_fold(["botw"], split_of, workspace / "b")
    files = sorted(p.relative_to(workspace / "a") for p in (workspace / "a").rglob("*") if p.is_file())
    assert files and all((workspace / "a" / f).read_bytes() == (workspace / "b" / f).read_bytes() for f in files)
