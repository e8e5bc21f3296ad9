"""`@register_model` on a factory per variant; `create_model(name, input_shape, n_targets, **hparams)`
builds one.

Two kinds of model:
- one input (the default): `features` in params.yaml is a list of feature stages, concatenated
  per unit; the factory gets `input_shape` (one unit's shape, e.g. (88,) or (words, 50)) and
  the network's forward takes the (B, T, *shape) tensor;
- named inputs (`@register_model(named_inputs=True)`): `features` maps input names to feature
  stages (e.g. {audio: [egemaps], video: [face]}); the factory gets `input_shape` as a dict of
  the names' shapes and forward takes (inputs, masks), two dicts of tensors by name: (B, T, *shape)
  values and their (B, T) or (B, T, words) validity masks (pipeline/sequences.py). A benchmark
  run may name a subset of the inputs (a unimodal ablation of the same network). A model that
  reads the times of some inputs names each with the granularity inside the unit whose times
  it reads (`timed_inputs="speech:frame text:word"`: frame centres, word start and end, given
  as `<name>.times`); the params check refuses such an input given in any other form (e.g. a
  word matrix per unit, which has no times) before a stage runs.
"""
from typing import Callable

import torch.nn as nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_INPUT_RANKS: dict[str, int] = {}
_NAMED_INPUTS: set[str] = set()
_INPUT_TIMES: dict[str, dict[str, str]] = {}


class UnknownModelError(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def register_model(factory: Callable[..., nn.Module] | None = None, *, input_rank: int = 1,
                   named_inputs: bool = False, timed_inputs: str = ""):
    """Registers `factory` under its function name. `input_rank`: 1 for a feature vector per
    window, 2 for a matrix per window (e.g. the GloVe vectors of its words); `named_inputs`:
    the model reads several inputs by name; `timed_inputs`: space-separated `<input>:<per>`, the
    inputs whose times it reads and their granularity (module docstring)."""
    def register(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if fn.__name__ in _MODELS:
            raise ValueError(f"model {fn.__name__!r} registered twice")
        _MODELS[fn.__name__], _INPUT_RANKS[fn.__name__] = fn, input_rank
        if named_inputs:
            _NAMED_INPUTS.add(fn.__name__)
        _INPUT_TIMES[fn.__name__] = parse_input_times(timed_inputs)
        return fn

    return register(factory) if factory is not None else register


def input_rank(name: str) -> int:
    require_registered(name)
    return _INPUT_RANKS[name]


def has_named_inputs(name: str) -> bool:
    require_registered(name)
    return name in _NAMED_INPUTS


def parse_input_times(text: str) -> dict[str, str]:
    """`"speech:frame text:word"` -> {"speech": "frame", "text": "word"}."""
    pairs = [item.split(":") for item in text.split()]
    if any(len(pair) != 2 or not all(pair) for pair in pairs):
        raise ValueError(f"timed_inputs {text!r}: give space-separated <input>:<per>, e.g. 'speech:frame text:word'")
    return dict(pairs)


def input_times(name: str) -> dict[str, str]:
    """{input name: the granularity (per) whose times the model reads}; empty for most models."""
    require_registered(name)
    return _INPUT_TIMES[name]


def list_models() -> list[str]:
    return sorted(_MODELS)


def require_registered(name: str) -> None:
    """Raises UnknownModelError listing the registered models when `name` is not one."""
    if name not in _MODELS:
        raise UnknownModelError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")


def create_model(name: str, input_shape: tuple[int, ...] | dict[str, tuple[int, ...]], n_targets: int,
                 **hparams) -> nn.Module:
    """`input_shape`: the shape of one window's features, e.g. (88,) or (words, 50); for a model
    with named inputs, a dict of them by input name."""
    require_registered(name)
    if has_named_inputs(name) != isinstance(input_shape, dict):
        raise ValueError(f"model {name!r} reads {'named inputs' if has_named_inputs(name) else 'one input'}, "
                         f"got input shape {input_shape}")
    shape = ({k: tuple(v) for k, v in input_shape.items()} if isinstance(input_shape, dict)
             else tuple(input_shape))
    try:
        model = _MODELS[name](input_shape=shape, n_targets=n_targets, **hparams)
    except TypeError as err:
        raise ValueError(f"model {name!r}: bad hyperparameters {hparams}: {err}") from err
    model.reads_named_inputs = has_named_inputs(name)  # how pipeline/sequences.py's run_model calls it
    return model
