"""CCC, PCC, MSE and the CCC loss against hand-computed values and the papers' formula."""
import numpy as np
import pytest
import torch

from metrics.regression import ccc, ccc_loss, mse, pcc


def formula_ccc(x, y):
    """Equation (1) of the EmoNet paper: 2 rho sx sy / (sx^2 + sy^2 + (mx - my)^2)."""
    rho = np.corrcoef(x, y)[0, 1]
    return 2 * rho * x.std() * y.std() / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


@pytest.mark.parametrize("x, y, expected", [
    ([1, 2, 3], [1, 2, 3], 1.0),
    ([1, 2, 3], [2, 3, 4], 4 / 7),  # var 2/3 each, mean gap 1: (4/3) / (4/3 + 1)
    ([1, 2, 3], [2, 4, 6], 4 / 11),  # cov 4/3, vars 2/3 and 8/3, mean gap 2: (8/3) / (10/3 + 4)
    ([1, 2, 3], [-1, -2, -3], -1 / 13),  # cov -2/3, mean gap 4: (-4/3) / (4/3 + 16)
    ([1, 2, 3], [3, 2, 1], -1.0),
])
def test_ccc_hand_computed(x, y, expected):
    assert ccc(np.array(x, float), np.array(y, float)) == pytest.approx(expected, abs=1e-9)


def test_ccc_matches_formula_and_torch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = 0.5 * x + rng.normal(0.3, 0.8, size=200)
    assert ccc(x, y) == pytest.approx(formula_ccc(x, y), abs=1e-9)
    assert float(ccc(torch.tensor(x), torch.tensor(y))) == pytest.approx(formula_ccc(x, y), abs=1e-9)
    assert pcc(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-9)
    assert mse(x, y) == pytest.approx(np.mean((x - y) ** 2))


def test_ccc_reduces_last_axis():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(3, 50)), rng.normal(size=(3, 50))
    np.testing.assert_allclose(ccc(x, y), [formula_ccc(a, b) for a, b in zip(x, y)], atol=1e-9)


def test_constant_tracks_give_zero_not_nan():
    assert ccc(np.zeros(5), np.zeros(5)) == 0.0
    assert pcc(np.ones(5), np.arange(5.0)) == 0.0


def test_ccc_loss_is_sum_of_one_minus_ccc_and_differentiable():
    rng = np.random.default_rng(2)
    gold = torch.tensor(rng.normal(size=(4, 30)))
    pred = torch.tensor(rng.normal(size=(4, 30)), requires_grad=True)
    loss = ccc_loss(pred, gold)
    expected = sum(1 - formula_ccc(p, g) for p, g in zip(pred.detach().numpy(), gold.numpy()))
    assert float(loss) == pytest.approx(expected, abs=1e-9)
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    assert float(ccc_loss(gold, gold)) == pytest.approx(0.0, abs=1e-9)
