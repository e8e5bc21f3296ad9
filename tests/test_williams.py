"""Williams et al.'s early fusion (models/williams.py) and the word alignment it reads
(features/word_alignment.py), against hand computations and the paper's procedures."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from features.word_alignment import aligned_to_words, overlap_weights
from models import create_model
from metrics.intensity import INTENSITY_STEP, random_intensities
from models.williams import keep_last_words

MODELS = ("williams_lstm", "williams_blstm", "williams_cnn")


def test_a_frame_straddling_two_words_counts_in_both_by_its_overlap():
    times = np.array([0.05, 0.15, 0.25, 0.35])  # frames [0, .1), [.1, .2), [.2, .3), [.3, .4)
    frames = np.array([[1.0], [2.0], [4.0], [8.0]])
    words = np.array([[0.0, 0.15], [0.15, 0.4]])  # the second frame is half in each word
    np.testing.assert_allclose(overlap_weights(times, 0.1, words).toarray(),
                               [[0.1, 0.05, 0, 0], [0, 0.05, 0.1, 0.1]], atol=1e-12)
    means, found = aligned_to_words(frames, times, words)
    np.testing.assert_allclose(means[:, 0], [(0.1 * 1 + 0.05 * 2) / 0.15, (0.05 * 2 + 0.1 * 4 + 0.1 * 8) / 0.25],
                               rtol=1e-6)
    # frames without a face are left out; a word no valid frame overlaps is zeros and not found
    means, found = aligned_to_words(frames, times, np.array([[0.0, 0.15], [0.3, 0.4]]),
                                    valid=np.array([True, False, True, False]))
    np.testing.assert_allclose(means[:, 0], [1.0, 0.0])
    assert list(found) == [True, False]


def test_the_last_maxlen_words_are_kept_and_padded_at_the_front():
    x = torch.arange(1, 8, dtype=torch.float32)[None, :, None].repeat(2, 1, 1)  # words 1..7
    present = torch.tensor([[True] * 3 + [False] * 4, [True] * 7])
    out = keep_last_words(x, present, 5)[..., 0]
    assert out.tolist() == [[0, 0, 1, 2, 3], [3, 4, 5, 6, 7]]


@pytest.mark.parametrize("name", MODELS)
def test_forward_backward_and_outputs_bounded_to_the_intensity_range(name):
    torch.manual_seed(0)
    shapes = {"audio": (-1, 5), "text": (-1, 3)}
    model = create_model(name, shapes, n_targets=6, maxlen=8)
    x = {k: torch.randn(4, 2, 11, s[1], requires_grad=True) for k, s in shapes.items()}
    masks = {k: torch.arange(11)[None, None] < torch.randint(1, 12, (4, 2, 1)) for k in shapes}
    y = model(x, masks)
    assert y.shape == (4, 2, 6)
    y.sum().backward()
    assert all(v.grad is not None and v.grad.abs().sum() > 0 for v in x.values())
    model.eval()
    with torch.no_grad():
        extreme = model({k: v.detach() * 1e4 for k, v in x.items()}, masks)
    assert float(extreme.min()) >= 0.0 and float(extreme.max()) <= 3.0
    one = {k: v[:1, :1].detach() for k, v in x.items()}
    model.train()
    assert model(one, {k: m[:1, :1] for k, m in masks.items()}).shape == (1, 1, 6)  # a batch of one segment


def test_the_models_refuse_inputs_that_are_not_words_inside_units():
    with pytest.raises(ValueError, match="words inside a unit"):
        create_model("williams_blstm", {"audio": (88,)}, n_targets=6)


def test_the_random_baseline_draws_as_the_paper_describes():
    draws = random_intensities(70_000, 6, np.random.default_rng(0))
    counts = np.bincount((draws > 0).sum(axis=1), minlength=7) / len(draws)
    np.testing.assert_allclose(counts, 1 / 7, atol=0.01)  # 0..6 labels, uniformly
    values = draws[draws > 0]
    steps = values / INTENSITY_STEP
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-5)  # on the 1/3 grid
    assert set(np.round(steps).astype(int)) == set(range(1, 10))  # every step of (0, 3]
    np.testing.assert_allclose(np.bincount((draws > 0).argmax(axis=1)[(draws > 0).sum(1) == 1], minlength=6) /
                               ((draws > 0).sum(1) == 1).sum(), 1 / 6, atol=0.02)  # which label: uniform
    assert np.array_equal(random_intensities(5, 6, np.random.default_rng(1)), random_intensities(5, 6, np.random.default_rng(1)))


TRIMODAL = {"egemaps": {"stage": "egemaps_lld", "per": "word"}, "face": {"stage": "face", "per": "word"},
            "glove": {"stage": "glove", "per": "word"}}
EMOTIONS = ("happiness", "sadness", "anger", "fear", "disgust", "surprise")


def intensity_metrics_of(mae: float, pcc: float) -> dict:
    per_emotion = {e: {"mae": mae, "binary_acc": 0.9, "four_class_acc": 0.8, "pcc": pcc} for e in EMOTIONS}
    return {**per_emotion, "overall": {"mae": mae, "binary_acc": 0.9, "four_class_acc": 0.8, "pcc_mean": pcc,
                                       "train_mean_predictor_mae": 0.5, "random_baseline_mae": 0.9},
            "random_baseline": {e: {"mae": 0.8, "binary_acc": 0.5, "four_class_acc": 0.3, "pcc": 0.0}
                                for e in EMOTIONS}}


def gathered(runs: dict) -> dict:
    """A gathered suite: run -> (params, [overall MAE per seed], mean r, dev MAE)."""
    out = {}
    for name, (params, maes, r, dev) in runs.items():
        out[name] = {"params": params, "seeds": {str(7 + i): {} for i in range(len(maes))},
                     "mean": {"overall.mae": float(np.mean(maes)), "overall.pcc_mean": r, "dev_score": dev,
                              "overall.train_mean_predictor_mae": 0.5},
                     "sd": {"overall.mae": float(np.std(maes, ddof=1)) if len(maes) > 1 else None}}
    return {"paper": "williams", "seeds": [7, 8, 9], "runs": out, "missing": [], "failed": []}


def test_the_report_has_tables_1_to_5_the_search_the_checks_and_figure_2(tmp_path, monkeypatch):
    """Every number lands beside the paper's for the same network and modalities; the search
    picks the lowest dev MAE; a unimodal run below the trimodal BLSTM is said, not hidden."""
    from pipeline import williams_report
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports/suites").mkdir(parents=True)
    (tmp_path / "reports/benchmark/tri").mkdir(parents=True)
    runs = [{"run": "tri", "model": "williams_blstm", "features": TRIMODAL, **intensity_metrics_of(0.2, 0.4)},
            {"run": "text_video", "model": "williams_cnn", **intensity_metrics_of(0.25, 0.3),
             "features": {"glove": {"stage": "glove", "per": "word"}, "face": {"stage": "face", "per": "word"}}},
            {"run": "other", "model": "blstm", "overall": {}, "features": ["egemaps"]},
            {"run": "gone", "model": "williams_lstm", "skipped": "no face"}]
    (tmp_path / "reports/suites/williams.json").write_text(json.dumps(gathered({
        "blstm_avt": ({}, [0.20, 0.22, 0.24], 0.45, 0.2), "blstm_v": ({}, [0.10, 0.12], 0.6, 0.1),
        "cnn_a": ({}, [0.40], 0.1, 0.4), "blstm_avt_onehot": ({}, [0.3], 0.3, 0.3)})))
    search = {f"blstm_layers{l}_dropout{str(d).replace('.', 'p')}_maxlen{m}":
              ({"model": "williams_blstm", "models.williams_blstm.layers": l, "models.williams_blstm.dropout": d,
                "models.williams_blstm.maxlen": m}, [0.3 + l / 100], 0.4, 0.5 - l / 10 + m / 1000)
              for l in (1, 2, 3) for d in (0.1, 0.2) for m in (15, 20)}
    (tmp_path / "reports/suites/williams_search.json").write_text(json.dumps(gathered(search)))
    rng = np.random.default_rng(0)
    table = {"session": ["s"] * 20, **{f"{e}_{kind}": rng.uniform(0, 3, 20) for e in EMOTIONS for kind in ("gold", "pred")}}
    pd.DataFrame(table).to_csv(tmp_path / "reports/benchmark/tri/test_predictions.csv", index=False)
    text = "\n".join(williams_report.williams_section(runs, {}))
    assert "| Anger | 0.800 | 0.500 | 0.300 | 0.000 | 0.700 |" in text  # Table 1 beside the paper's
    assert "| Overall | 0.800 | - | - | - | - | 0.60 |" not in text and "| Overall | 0.800 | - | - | - | 0.60 |" in text
    assert "| A+V+T | BLSTM | 0.200 | 0.220 +- 0.020 | 3 | 0.132 |" in text  # Table 4: repro run, suite, paper
    assert "| V+T | CNN | 0.250 | - | - | 0.149 |" in text  # Table 3's Text+Video
    assert "| V | BLSTM | - | 0.110 +- 0.014 | 2 | 0.147 |" in text and "| T | LSTM | - | - | - | 0.156 |" in text
    assert "| A+V+T (GloVe + one-hot words) | BLSTM | - | 0.300 | 1 | - |" in text
    assert "| Happy | 0.200 | 90.0 | 80.0 | 0.400 | 0.404 | 70.5 | 62.0 | 0.551 |" in text  # Table 5
    assert "| BLSTM | 12 | layers 3, dropout 0.1, maxlen 15 | 0.215 | 0.330 | 0.310 |" in text  # lowest dev MAE
    assert "mean r 0.450 (at least 0.3)" in text and "the BLSTM is below it" in text
    assert "NOT below every one" in text and "BLSTM V 0.110" in text  # the video run beats it: said
    assert "other" not in text and "gone" not in text
    assert "![Figure 2](plots/report/williams_intensities.png)" in text
    assert (tmp_path / "reports/plots/report/williams_intensities.png").stat().st_size > 10_000
    for gathered_suite in (tmp_path / "reports/suites").glob("*.json"):
        gathered_suite.unlink()
    assert williams_report.williams_section([runs[2]], {}) == []  # no Williams result: no section


