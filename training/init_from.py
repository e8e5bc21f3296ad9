"""Initialising a model's feature networks from other trained runs (`init_from`).

A model that can be initialised this way keeps its per-modality feature networks in a
`networks` ModuleDict (models/tzirakis.py's multimodal network); a source run's model keeps
the network to copy as `features` (a unimodal model). `init_from: {audio: <pretrain run>}`
copies exactly the source's `features.*` weights into `networks.audio.*`: every tensor, same
shapes, nothing else (the fusion and the LSTM on top keep their fresh initialisation).
"""
import json
from pathlib import Path

import torch


def source_weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    """The `features` network of a checkpoint written by pipeline/trainer.py, keys without the prefix."""
    if not checkpoint.exists():
        raise FileNotFoundError(f"{checkpoint} missing: the run init_from names has not been trained "
                                f"(its stage writes SKIPPED when `model` is not among its `for`)")
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    weights = {k.removeprefix("features."): v for k, v in saved["state_dict"].items() if k.startswith("features.")}
    if not weights:
        raise ValueError(f"{checkpoint}: model {json.loads(saved['meta'])['model']} has no `features` network to copy")
    return weights


def initialise_networks(model: torch.nn.Module, sources: dict[str, Path]) -> dict[str, int]:
    """Copies each source checkpoint's feature network into `model.networks[name]`; returns the
    number of tensors copied per network. A network the model lacks, or weights that do not
    match it exactly, stop with the names."""
    networks = getattr(model, "networks", None)
    if not isinstance(networks, torch.nn.ModuleDict):
        raise ValueError(f"{type(model).__name__} has no per-modality `networks` to initialise from other runs")
    copied = {}
    for name, checkpoint in sources.items():
        if name not in networks:
            raise ValueError(f"init_from names network {name!r}; the model has {sorted(networks)} "
                             f"(the inputs of this run)")
        weights = source_weights(checkpoint)
        target = networks[name].state_dict()
        if set(weights) != set(target) or any(weights[k].shape != target[k].shape for k in target):
            raise ValueError(f"{checkpoint}: its feature network does not match this model's `{name}` network "
                             f"(different tensors or shapes: trained with other hyperparameters?)")
        networks[name].load_state_dict(weights)
        copied[name] = len(weights)
    return copied
