"""Benchmark: training throughput (windows per second) of every registered model.

Runs forward + backward + Adam steps on batches shaped like the default pipeline's
(batch 16 chunks of 20 windows; eGeMAPS vectors or 24 x 50 GloVe word matrices; a model with
named inputs gets eGeMAPS and face vectors), on
the CPU and, when torch sees one, on CUDA. Prints windows/s per device and the
CUDA/CPU ratio.
Run:  .venv/bin/python -m benchmarks.train_throughput [--steps 20]
"""
import argparse
import time

import torch

from models import create_model, has_named_inputs, input_rank, list_models
from pipeline.sequences import DEFAULT_INPUT, run_model
from training.tasks import make_task

SHAPES = {1: (88,), 2: (24, 50)}
NAMED_SHAPES = {"audio": (88,), "video": (45,)}
BATCH, CHUNK = 16, 20


def windows_per_second(name: str, device: torch.device, steps: int) -> float:
    torch.manual_seed(0)
    named = has_named_inputs(name)
    shapes = NAMED_SHAPES if named else {DEFAULT_INPUT: SHAPES[input_rank(name)]}
    model = create_model(name, shapes if named else shapes[DEFAULT_INPUT], n_targets=1).to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = {k: torch.randn(BATCH, CHUNK, *s, device=device) for k, s in shapes.items()}
    mask = {k: torch.ones(BATCH, CHUNK, dtype=torch.bool, device=device) for k in shapes}
    y = torch.randn(BATCH, CHUNK, 1, device=device)
    teacher = getattr(model, "uses_teacher_forcing", False)
    loss_fn = make_task("continuous", ["valence"], "ccc").loss

    def step() -> None:
        loss = loss_fn(run_model(model, x, mask, teacher=y if teacher else None), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    step()  # warm-up (allocations, kernels)
    if device.type == "cuda":
        torch.cuda.synchronize()
    began = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * BATCH * CHUNK / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    print(f"{'model':<22}" + "".join(f"{d.type + ' windows/s':>18}" for d in devices)
          + (f"{'cuda/cpu':>10}" if len(devices) > 1 else ""))
    for name in list_models():
        rates = [windows_per_second(name, d, args.steps) for d in devices]
        print(f"{name:<22}" + "".join(f"{r:>18.0f}" for r in rates)
              + (f"{rates[1] / rates[0]:>10.1f}" if len(rates) > 1 else ""))


if __name__ == "__main__":
    main()
