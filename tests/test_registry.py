"""The model registry: every registered model runs forward and backward; unknown names fail clearly."""
import pytest
import torch

from models import create_model, has_named_inputs, input_rank, input_times, list_models
from models.registry import UnknownModelError

EXAMPLE_SHAPES = {1: (12,), 2: (5, 12)}  # a vector per window / a (words, dim) matrix per window
ONE_INPUT = [name for name in list_models() if not has_named_inputs(name)]


def test_paper_and_baseline_models_registered():
    assert {"lstm", "blstm", "emonet_lstm", "emonet_ar_lstm", "emonet_ed_lstm", "emonet_transformer"} <= set(
        list_models())


@pytest.mark.parametrize("name", ONE_INPUT)
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


@pytest.mark.parametrize("name", ONE_INPUT)
def test_wrong_input_rank_is_refused(name):
    wrong = EXAMPLE_SHAPES[3 - input_rank(name)]
    with pytest.raises(ValueError, match="per-window"):
        create_model(name, wrong, n_targets=1)


def test_named_input_model_runs_on_any_inputs_and_ignores_what_a_mask_hides():
    torch.manual_seed(0)
    shapes = {"audio": (12,), "text": (5, 8)}
    model = create_model("modality_lstm", shapes, n_targets=3).eval()
    inputs = {k: torch.randn(2, 7, *s, requires_grad=True) for k, s in shapes.items()}
    masks = {"audio": torch.ones(2, 7, dtype=torch.bool), "text": torch.rand(2, 7, 5) > 0.3}
    y = model(inputs, masks)
    assert y.shape == (2, 7, 3) and torch.isfinite(y).all()
    y.sum().backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in inputs.values())
    # what is stored under a mask (a window without a face, a padded word) does not reach the output
    masks["audio"][0, 3] = False
    changed = {k: v.detach().clone() for k, v in inputs.items()}
    changed["audio"][0, 3] = 100.0
    changed["text"][~masks["text"]] = -50.0
    with torch.no_grad():
        assert torch.equal(model({k: v.detach() for k, v in inputs.items()}, masks), model(changed, masks))
    # a unimodal ablation is the same network over one input
    assert create_model("modality_lstm", {"audio": (12,)}, n_targets=3)(
        {"audio": inputs["audio"].detach()}, {"audio": masks["audio"]}).shape == (2, 7, 3)


def test_one_input_and_named_input_models_refuse_the_other_form():
    with pytest.raises(ValueError, match="reads named inputs"):
        create_model("modality_lstm", (12,), n_targets=1)
    with pytest.raises(ValueError, match="reads one input"):
        create_model("lstm", {"audio": (12,)}, n_targets=1)


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
    assert [m for m in list_models() if model_names.has_named_inputs(m)] == [
        m for m in list_models() if has_named_inputs(m)]
    assert "modality_lstm" in [m for m in list_models() if has_named_inputs(m)]
    assert {m: model_names.input_times(m) for m in list_models()} == {m: input_times(m) for m in list_models()}
    assert model_names.input_times("xu_hard_align") == {"speech": "frame", "text": "word"}
    # a factory registered in a new file, by either decorator form, is seen; other functions are not
    (tmp_path / "extra.py").write_text("import models.registry as r\nfrom models.registry import register_model\n\n"
                                       "@register_model\ndef alpha(input_shape, n_targets): ...\n\n"
                                       "@r.register_model(named_inputs=True)\ndef beta(input_shape, n_targets): ...\n\n"
                                       "def helper(): ...\n")
    monkeypatch.setattr(model_names, "MODELS_DIR", tmp_path)
    model_names.registered_models.cache_clear()
    try:
        assert model_names.registered_model_names() == ("alpha", "beta")
        assert (model_names.has_named_inputs("alpha"), model_names.has_named_inputs("beta")) == (False, True)
    finally:
        model_names.registered_models.cache_clear()


def test_timed_inputs_take_input_and_granularity_pairs():
    from models.registry import parse_input_times
    assert parse_input_times("speech:frame text:word") == {"speech": "frame", "text": "word"}
    assert parse_input_times("") == {}
    for bad in ("speech text", "speech:", ":word", "a:b:c"):
        with pytest.raises(ValueError, match="<input>:<per>"):
            parse_input_times(bad)
