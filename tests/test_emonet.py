"""EmoNet's parts checked against hand-computed values and the properties the paper states."""
import numpy as np
import pytest
import torch

from models import create_model
from models.blocks import Highway, LocalAttention
from models.emonet import sinusoidal_positions

EMONET = ["emonet_lstm", "emonet_ar_lstm", "emonet_ed_lstm", "emonet_transformer"]


def test_local_attention_hand_computed():
    attention = LocalAttention(input_dim=2, length=3)
    with torch.no_grad():  # constant scores [0, ln 2, ln 3] -> weights proportional to 1, 2, 3
        attention.scorer[2].weight.zero_()
        attention.scorer[2].bias.copy_(torch.tensor([0.0, np.log(2), np.log(3)]))
    h = torch.tensor([[[1.0], [10.0], [100.0], [1000.0]]])  # (B=1, T=4, H=1)
    c = attention(torch.zeros(1, 4, 2), h)[0, :, 0].detach()
    expected = [1.0,  # t=0: only h_0
                (1 * 10 + 2 * 1) / 3,  # t=1: h_1 weight 1, h_0 weight 2
                (1 * 100 + 2 * 10 + 3 * 1) / 6,
                (1 * 1000 + 2 * 100 + 3 * 10) / 6]
    np.testing.assert_allclose(c.numpy(), expected, rtol=1e-6)


def test_highway_gate_mixes_transform_and_identity():
    layer = Highway(2)
    with torch.no_grad():
        layer.transform.weight.copy_(torch.eye(2) * 3)
        layer.transform.bias.zero_()
        layer.gate.weight.zero_()
        layer.gate.bias.fill_(0.0)  # gate 0.5
    x = torch.tensor([[1.0, -2.0]])
    np.testing.assert_allclose(layer(x).detach().numpy(), [[0.5 * 3 + 0.5, 0.5 * -6 - 1]])


@pytest.mark.parametrize("name", EMONET)
def test_gradients_reach_the_window_embedding(name):
    torch.manual_seed(0)
    model = create_model(name, (6, 8), n_targets=1)
    words = torch.randn(2, 5, 6, 8)
    gold = torch.randn(2, 5, 1)
    out = model(words, teacher=gold) if model.uses_teacher_forcing else model(words)
    ((out - gold) ** 2).mean().backward()
    assert model.embed.conv.weight.grad.abs().sum() > 0
    assert model.embed.highway.gate.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name,hparams", [*((n, {}) for n in EMONET),
                                          ("emonet_transformer", {"positional_encoding": "sinusoidal"})])
def test_predictions_use_only_the_past(name, hparams):
    """h_t = Encoder(X_1:t): changing window t leaves predictions before t unchanged."""
    torch.manual_seed(0)
    model = create_model(name, (6, 8), n_targets=1, **hparams).eval()
    words = torch.randn(1, 6, 6, 8)
    changed = words.clone()
    changed[0, 4] += 1.0
    with torch.no_grad():
        a, b = model(words), model(changed)
    torch.testing.assert_close(a[0, :4], b[0, :4])
    assert not torch.allclose(a[0, 4:], b[0, 4:])


def test_autoregressive_decoder_teacher_forcing_and_free_running():
    torch.manual_seed(0)
    model = create_model("emonet_ar_lstm", (6, 8), n_targets=1).eval()
    words = torch.randn(1, 5, 6, 8)
    with torch.no_grad():
        free = model(words)
        forced_by_own = model(words, teacher=free)  # feeding its own outputs back = free running
        gold = torch.zeros(1, 5, 1)
        gold_changed = gold.clone()
        gold_changed[0, 2] = 5.0
        a, b = model(words, teacher=gold), model(words, teacher=gold_changed)
    torch.testing.assert_close(free, forced_by_own)
    changed = (a - b).abs()[0, :, 0] > 1e-6
    assert changed.tolist() == [False, False, False, True, False]  # y_2 feeds only step 3



def test_sinusoidal_positions_follow_the_formula():
    encoding = sinusoidal_positions(5, 6).numpy()
    for t in range(5):
        for i in range(3):
            angle = t / 10000 ** (2 * i / 6)
            assert encoding[t, 2 * i] == pytest.approx(np.sin(angle), abs=1e-6)
            assert encoding[t, 2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-6)


def test_positional_encoding_changes_the_transformer_and_is_checked():
    torch.manual_seed(0)
    plain = create_model("emonet_transformer", (6, 8), n_targets=1).eval()
    torch.manual_seed(0)
    positional = create_model("emonet_transformer", (6, 8), n_targets=1, positional_encoding="sinusoidal").eval()
    words = torch.randn(1, 5, 6, 8)
    with torch.no_grad():  # same weights (same seed), different inputs to the encoder
        assert not torch.allclose(plain(words), positional(words))
    with pytest.raises(ValueError, match="positional_encoding must be one of"):
        create_model("emonet_transformer", (6, 8), n_targets=1, positional_encoding="rotary")
