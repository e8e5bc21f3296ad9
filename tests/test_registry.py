"""The model registry: every registered model runs forward and backward; unknown names fail clearly."""
import pytest
import torch

from models import create_model, list_models
from models.registry import UnknownModelError


def test_baselines_registered():
    assert {"lstm", "blstm"} <= set(list_models())


@pytest.mark.parametrize("name", list_models())
def test_forward_backward(name):
    torch.manual_seed(0)
    model = create_model(name, input_dim=12, n_targets=3)
    x = torch.randn(2, 7, 12, requires_grad=True)
    y = model(x)
    assert y.shape == (2, 7, 3)
    assert torch.isfinite(y).all()
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_unknown_model_lists_registered_ones():
    with pytest.raises(UnknownModelError) as err:
        create_model("transformerz", input_dim=4, n_targets=1)
    message = str(err.value)
    assert "transformerz" in message
    assert all(name in message for name in list_models())


def test_bad_hyperparameter_is_named():
    with pytest.raises(ValueError, match="hiden"):
        create_model("lstm", input_dim=4, n_targets=1, hiden=8)
