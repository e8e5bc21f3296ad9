"""Williams et al.'s early fusion (models/williams.py) and the word alignment it reads
(features/word_alignment.py), against hand computations and the paper's procedures."""
import numpy as np
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


def test_the_report_sets_each_williams_run_beside_the_papers_number_for_its_modalities():
    from pipeline.report import williams_table
    overall = {"mae": 0.2, "pcc_mean": 0.4, "train_mean_predictor_mae": 0.5, "random_baseline_mae": 0.9}
    runs = [{"run": "tri", "model": "williams_blstm", "overall": overall,
             "features": {"egemaps": {"stage": "egemaps_lld", "per": "word"}, "face": {"stage": "face", "per": "word"},
                          "glove": {"stage": "glove", "per": "word"}}},
            {"run": "text_video", "model": "williams_cnn", "overall": overall,
             "features": {"glove": {"stage": "glove", "per": "word"}, "face": {"stage": "face", "per": "word"}}},
            {"run": "other", "model": "blstm", "overall": overall, "features": ["egemaps"]},
            {"run": "gone", "model": "williams_lstm", "skipped": "no face"}]
    table = "\n".join(williams_table(runs))
    assert "| tri | BLSTM | A+V+T | 0.200 | 0.400 | 0.500 | 0.900 | 0.132 |" in table  # Table 4
    assert "| text_video | CNN | V+T | 0.200 | 0.400 | 0.500 | 0.900 | 0.149 |" in table  # Table 3, Text+Video
    assert "other" not in table and "gone" not in table and "0.60 (Table 1)" in table
