"""Raju et al.'s EAF, AED and EMAFN (models/raju.py): shapes and gradients, AED's attention
against the formula computed by hand, and modality attention that learns to follow the
cleaner stream."""
import numpy as np
import pytest
import torch

from models import create_model
from models.raju import additive_scores

STREAMS = {"audio": (6,), "deep_audio": (10,), "video": (4,)}
MODELS = ("raju_eaf", "raju_aed", "raju_emafn")


def batch(shapes: dict, b: int = 3, t: int = 7, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = {k: torch.randn(b, t, *s, generator=g) for k, s in shapes.items()}
    masks = {k: torch.ones(b, t, dtype=torch.bool) for k in shapes}
    return x, masks


@pytest.mark.parametrize("name", MODELS)
def test_forward_backward_reaches_every_stream(name):
    torch.manual_seed(0)
    model = create_model(name, STREAMS, 3, dropout=0.0)
    x, masks = batch(STREAMS)
    masks["video"][0, :3] = False  # a window without a face
    out = model(x, masks)
    assert out.shape == (3, 7, 3) and torch.isfinite(out).all()
    out.pow(2).mean().backward()
    fusion = model.fusion
    if name == "raju_aed":  # one projection over the concatenated streams: each stream's columns
        grad, start = fusion.project.weight.grad, 0
        for k in sorted(STREAMS):
            assert grad[:, start:start + STREAMS[k][0]].abs().sum() > 0, k
            start += STREAMS[k][0]
    else:
        for k in STREAMS:
            assert fusion.project[k].weight.grad.abs().sum() > 0, k
        weights = model.modality_weights()
        assert weights.shape == (3, 7, 3)
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, 7))
        video = sorted(STREAMS).index("video")
        assert (weights[0, :3, video] == 0).all() and (weights[0, 3:, video] > 0).all()  # masked: no weight


def test_masked_stream_values_do_not_matter():
    torch.manual_seed(0)
    for name in MODELS:
        model = create_model(name, STREAMS, 3).eval()
        x, masks = batch(STREAMS)
        masks["video"][:, 2] = False
        changed = {**x, "video": x["video"].clone()}
        changed["video"][:, 2] = 1e3
        torch.testing.assert_close(model(x, masks), model(changed, masks))


def test_additive_attention_by_hand():
    """e_j = v . tanh(W s + U h_j) for a 1-d query, two 1-d keys, attention size 2."""
    w_query, v = torch.nn.Linear(1, 2, bias=False), torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        w_query.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        v.weight.copy_(torch.tensor([[2.0, 1.0]]))
    s = torch.tensor([[0.5]])
    keys_u = torch.tensor([[[0.0, 0.0], [1.0, 0.5]]])  # U h_1, U h_2
    scores = additive_scores(s, w_query, keys_u, v)
    # W s = (0.5, -0.5); e_1 = 2 tanh(0.5) + tanh(-0.5) = tanh(0.5); e_2 = 2 tanh(1.5) + tanh(0)
    expected = torch.tensor([[np.tanh(0.5), 2 * np.tanh(1.5)]], dtype=torch.float32)
    torch.testing.assert_close(scores, expected)
    alpha = torch.softmax(scores, -1).detach()
    by_hand = np.exp([np.tanh(0.5), 2 * np.tanh(1.5)])
    np.testing.assert_allclose(alpha.numpy()[0], by_hand / by_hand.sum(), rtol=1e-6)


def test_aed_first_step_attention_matches_formula():
    """The decoder's first attention row recomputed in numpy from the module's own weights."""
    torch.manual_seed(1)
    model = create_model("raju_aed", {"audio": (3,)}, 2, hidden=4, attention=5, embed=3, dropout=0.0).eval()
    x, masks = batch({"audio": (3,)}, b=1, t=6)
    model(x, masks)
    aed = model.recurrent
    with torch.no_grad():
        encoded = aed.encoder(model.fusion(x, masks))[0][0].numpy()  # (T, 8)
    p = {k: v.detach().numpy() for k, v in aed.named_parameters()}
    s0 = np.tanh(p["init_state.weight"] @ encoded.mean(0) + p["init_state.bias"])
    scores = np.array([p["v.weight"][0] @ np.tanh(p["w_query.weight"] @ s0 + p["w_keys.weight"] @ h + p["w_keys.bias"])
                       for h in encoded])
    expected = np.exp(scores - scores.max())
    np.testing.assert_allclose(aed.last_attention[0, 0].numpy(), expected / expected.sum(), rtol=1e-5, atol=1e-6)


def test_modality_attention_learns_to_follow_the_cleaner_stream():
    """Two streams carry the target with noise whose level alternates over time, and each says
    its own noise level: trained EAF weights the cleaner stream, window by window."""
    rng = np.random.default_rng(0)
    b, t = 16, 40
    target = rng.standard_normal((b, t)).astype(np.float32)
    a_noisy = (np.arange(t) // 5) % 2 == 0  # stream a is noisy on alternate 5-window blocks, b on the others
    noise_a = np.where(a_noisy, 2.0, 0.05)[None].repeat(b, 0)
    noise_b = np.where(a_noisy, 0.05, 2.0)[None].repeat(b, 0)

    def stream(noise):
        return torch.tensor(np.stack([target + noise * rng.standard_normal((b, t)), noise], -1), dtype=torch.float32)

    x = {"a": stream(noise_a), "b": stream(noise_b)}
    masks = {k: torch.ones(b, t, dtype=torch.bool) for k in x}
    torch.manual_seed(0)
    model = create_model("raju_eaf", {"a": (2,), "b": (2,)}, 1, hidden=16, embed=16, layers=1, dropout=0.0)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    y = torch.tensor(target)[..., None]
    for _ in range(60):
        optimiser.zero_grad()
        loss = (model(x, masks) - y).pow(2).mean()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        model(x, masks)
    weight_a = model.modality_weights()[..., 0].numpy()  # streams in sorted order: a, b
    assert weight_a.std() > 0.1  # not a constant
    assert weight_a[:, ~a_noisy].mean() > weight_a[:, a_noisy].mean() + 0.5
    assert loss.item() < 0.1  # it learned the target (variance 1)


def test_streams_must_be_vectors():
    with pytest.raises(ValueError, match="one feature vector per window"):
        create_model("raju_eaf", {"audio": (5, 3)}, 3)


def _metrics(arousal, valence, liking, dev=None):
    m = {"model": "x", **{d: {"ccc": v} for d, v in (("arousal", arousal), ("valence", valence), ("liking", liking))},
         "groups": {"culture_a": {"valence": {"ccc": valence - 0.1}}, "culture_b": {"valence": {"ccc": valence + 0.1}}}}
    return m if dev is None else {**m, "dev_score": dev}


def _run(model, seeds: list[dict], **params):
    keys = ("dev_score", "valence.ccc")
    mean = {k: float(np.mean([s.get("dev_score", 0) if k == "dev_score" else s["valence"]["ccc"] for s in seeds]))
            for k in keys}
    return {"params": {"model": model, **params}, "seeds": {str(i): s for i, s in enumerate(seeds)},
            "mean": mean, "sd": {k: 0.01 for k in keys}}


def test_report_chooses_on_dev_and_compares_with_the_blstm_and_the_run_without_video(tmp_path, monkeypatch):
    from pipeline.raju_report import learning_checks, raju_section
    monkeypatch.chdir(tmp_path)  # no gathered suite here
    suite = {"runs": {
        "eaf": _run("raju_eaf", [_metrics(0.5, 0.5, 0.5, dev=0.9), _metrics(0.5, 0.6, 0.5, dev=0.8)]),
        "aed": _run("raju_aed", [_metrics(0.2, 0.2, 0.2, dev=0.3), _metrics(0.2, 0.2, 0.2, dev=0.3)]),
        "blstm": _run("blstm", [_metrics(0.4, 0.4, 0.4), _metrics(0.4, 0.4, 0.4)]),
        "eaf_no_video": _run("raju_eaf", [_metrics(0.5, 0.1, 0.5), _metrics(0.5, 0.1, 0.5)])}}
    lines = "\n".join(learning_checks(suite))
    assert "**EAF** (dev 0.850)" in lines  # the highest mean dev score, not the best test score
    assert "the chosen model is above it" in lines
    assert "a drop of 0.450, more than the seed sd (0.071)" in lines
    section = "\n".join(raju_section([{**_metrics(0.3, 0.4, 0.2), "model": "raju_aed", "run": "r"}], {}))
    assert "| valence | culture_a (German) | 0.300 | 0.684 | 0.794 | 0.778 | 0.510 | 0.659 | 0.676 |" in section
    assert "| liking | all (German + Hungarian) | 0.200 | 0.222 |" in section
