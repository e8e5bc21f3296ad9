"""The model registry: every registered model runs forward and backward; unknown names fail clearly."""
import pytest
import torch

from models import create_model, input_rank, list_models
from models.registry import UnknownModelError

EXAMPLE_SHAPES = {1: (12,), 2: (5, 12)}  # a vector per window / a (words, dim) matrix per window


def test_paper_and_baseline_models_registered():
    assert {"lstm", "blstm", "emonet_lstm", "emonet_ar_lstm", "emonet_ed_lstm", "emonet_transformer"} <= set(
        list_models())


@pytest.mark.parametrize("name", list_models())
def test_forward_backward(name):
    torch.manual_seed(0)
    shape = EXAMPLE_SHAPES[input_rank(name)]
    model = create_model(name, shape, n_targets=3)
    x = torch.randn(2, 7, *shape, requires_grad=True)
    y = model(x)
    assert y.shape == (2, 7, 3)
    assert torch.isfinite(y).all()
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", list_models())
def test_wrong_input_rank_is_refused(name):
    wrong = EXAMPLE_SHAPES[3 - input_rank(name)]
    with pytest.raises(ValueError, match="per-window"):
        create_model(name, wrong, n_targets=1)


def test_unknown_model_lists_registered_ones():
    with pytest.raises(UnknownModelError) as err:
        create_model("transformerz", (4,), n_targets=1)
    message = str(err.value)
    assert "transformerz" in message
    assert all(name in message for name in list_models())


def test_bad_hyperparameter_is_named():
    with pytest.raises(ValueError, match="hiden"):
        create_model("lstm", (4,), n_targets=1, hiden=8)


def test_model_names_read_from_the_source_equal_the_registry(tmp_path, monkeypatch):
    """The params checks list models without importing torch (pipeline/model_names.py)."""
    from pipeline import model_names
    assert list(model_names.registered_model_names()) == list_models()
    # a factory registered in a new file, by either decorator form, is seen; other functions are not
    (tmp_path / "extra.py").write_text("import models.registry as r\nfrom models.registry import register_model\n\n"
                                       "@register_model\ndef alpha(input_shape, n_targets): ...\n\n"
                                       "@r.register_model(input_rank=2)\ndef beta(input_shape, n_targets): ...\n\n"
                                       "def helper(): ...\n")
    monkeypatch.setattr(model_names, "MODELS_DIR", tmp_path)
    model_names.registered_model_names.cache_clear()
    try:
        assert model_names.registered_model_names() == ("alpha", "beta")
    finally:
        model_names.registered_model_names.cache_clear()
