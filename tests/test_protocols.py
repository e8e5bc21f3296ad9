"""Speaker k-fold cross-validation (pipeline/protocols.py): who is tested in which fold, what a
k-fold run refuses, and the summary over folds."""
import json

import numpy as np
import pytest

from pipeline.config import ParamsError
from pipeline.params_check import MODEL_SPEC
from pipeline.params_rules import problems_of
from pipeline.protocols import fold_splits, fold_summary


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    """A normalised corpus of 8 speakers (two groups of 4), 3 sessions each."""
    sessions = [{"id": f"spk{s}_s{k}", "speaker": f"spk{s}", "split": "train", "duration_s": 60.0,
                 "group": "a" if s < 4 else "b"} for s in range(8) for k in range(3)]
    (tmp_path / "data" / "corpus").mkdir(parents=True)
    (tmp_path / "data" / "corpus" / "manifest.json").write_text(
        json.dumps({"corpus": "t", "dimensions": ["valence"], "sessions": sessions}))
    monkeypatch.chdir(tmp_path)
    return {s["id"]: s["speaker"] for s in sessions}


@pytest.mark.parametrize("folds, k", [(4, 4), ("speakers", 8), (3, 3)])
def test_every_session_is_tested_once_and_no_speaker_straddles_splits(corpus, folds, k):
    assignments = fold_splits(folds)
    assert len(assignments) == k
    tested = [s for a in assignments for s, split in a.items() if split == "test"]
    assert sorted(tested) == sorted(corpus)  # each session in exactly one fold's test
    for a in assignments:
        splits_of = {}
        for session, split in a.items():
            splits_of.setdefault(corpus[session], set()).add(split)
        assert all(len(v) == 1 for v in splits_of.values())  # speaker-independent
        assert {split for v in splits_of.values() for split in v} == {"train", "dev", "test"}
    assert fold_splits(folds) == assignments  # fixed: the folds do not move between runs


def test_too_many_or_too_few_folds_are_refused(corpus):
    with pytest.raises(ParamsError, match="8 speakers"):
        fold_splits(9)
    assert problems_of({"targets": "corpus", "loss": "ccc", "folds": 2}, MODEL_SPEC, "models.m")


def test_fold_summary_is_the_mean_and_sample_sd_of_each_number():
    folds = [{"class": {"wa": wa, "ua": ua, "support": {"x": 3}}, "windows": 10} for wa, ua in
             [(0.5, 0.4), (0.7, 0.5), (0.6, 0.9)]]
    mean, sd = fold_summary(folds)
    assert mean == {"class": {"wa": 0.6, "ua": 0.6}}
    assert sd["class"]["wa"] == round(float(np.std([0.5, 0.7, 0.6], ddof=1)), 4)
    assert sd["class"]["ua"] == round(float(np.std([0.4, 0.5, 0.9], ddof=1)), 4)
