"""`@register_model` on a factory per variant; `create_model(name, **hparams)` builds one."""
from typing import Callable

import torch.nn as nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_INPUT_RANKS: dict[str, int] = {}


class UnknownModelError(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def register_model(factory: Callable[..., nn.Module] | None = None, *, input_rank: int = 1):
    """Registers `factory` under its function name. `input_rank`: 1 for a feature vector per
    window, 2 for a matrix per window (e.g. the GloVe vectors of its words)."""
    def register(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if fn.__name__ in _MODELS:
            raise ValueError(f"model {fn.__name__!r} registered twice")
        _MODELS[fn.__name__], _INPUT_RANKS[fn.__name__] = fn, input_rank
        return fn

    return register(factory) if factory is not None else register


def input_rank(name: str) -> int:
    require_registered(name)
    return _INPUT_RANKS[name]


def list_models() -> list[str]:
    return sorted(_MODELS)


def require_registered(name: str) -> None:
    """Raises UnknownModelError listing the registered models when `name` is not one."""
    if name not in _MODELS:
        raise UnknownModelError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")


def create_model(name: str, input_shape: tuple[int, ...], n_targets: int, **hparams) -> nn.Module:
    """`input_shape`: the shape of one window's features, e.g. (88,) or (words, 50)."""
    require_registered(name)
    try:
        return _MODELS[name](input_shape=tuple(input_shape), n_targets=n_targets, **hparams)
    except TypeError as err:
        raise ValueError(f"model {name!r}: bad hyperparameters {hparams}: {err}") from err
