"""`@register_model` on a factory per variant; `create_model(name, **hparams)` builds one."""
from typing import Callable

import torch.nn as nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}


class UnknownModelError(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def register_model(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    name = factory.__name__
    if name in _MODELS:
        raise ValueError(f"model {name!r} registered twice")
    _MODELS[name] = factory
    return factory


def list_models() -> list[str]:
    return sorted(_MODELS)


def require_registered(name: str) -> None:
    """Raises UnknownModelError listing the registered models when `name` is not one."""
    if name not in _MODELS:
        raise UnknownModelError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")


def create_model(name: str, input_dim: int, n_targets: int, **hparams) -> nn.Module:
    require_registered(name)
    try:
        return _MODELS[name](input_dim=input_dim, n_targets=n_targets, **hparams)
    except TypeError as err:
        raise ValueError(f"model {name!r}: bad hyperparameters {hparams}: {err}") from err
