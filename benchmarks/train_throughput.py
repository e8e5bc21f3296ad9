"""Benchmark: training throughput (units per second: windows or utterances) of every registered model.

Runs forward + backward + Adam steps on batches shaped like the default pipeline's, on the CPU
and, when torch sees one, on CUDA; prints units/s per device and the CUDA/CPU ratio:
- window models: batch 16 chunks of 20 windows; eGeMAPS vectors or 24 x 50 GloVe word
  matrices; `modality_lstm` eGeMAPS and face vectors;
- sentence models (batch 16 utterances): Williams et al.'s 17 words of eGeMAPS LLD, MFCC, face
  and GloVe; Xu et al.'s 630 speech frames (the default corpus's mean sentence, 6.3 s at
  10 ms) of 34 features and 13 words of 50-d GloVe.
Run:  .venv/bin/python -m benchmarks.train_throughput [--steps 20] [--models xu_attention_align xu_speech]
"""
import argparse
import time

import torch

from models import create_model, has_named_inputs, input_rank, list_models
from pipeline.model_inputs import DEFAULT_INPUT
from pipeline.sequences import run_model
from training.tasks import make_task

SHAPES = {1: (88,), 2: (24, 50)}
NAMED_SHAPES = {"modality_lstm": {"audio": (88,), "video": (45,)},  # per unit; chunks of CHUNK windows
                # per utterance (chunks of one unit): words or frames inside it
                "williams": {"egemaps": (17, 25), "mfcc": (17, 78), "face": (17, 45), "glove": (17, 50)},
                "xu": {"speech": (630, 34), "text": (13, 50)},
                # Raju et al.'s default streams per 4 s window (MFCC, Deep Spectrum, face + its bag of words)
                "raju": {"audio": (78,), "deep_audio": (1280,), "video": (139,)}}
XU_INPUTS = {"xu_speech": ("speech",), "xu_text": ("text",)}
BATCH, CHUNK = 16, 20


def named_inputs(name: str) -> dict[str, tuple[int, ...]]:
    shapes = NAMED_SHAPES[name if name in NAMED_SHAPES else name.split("_")[0]]
    return {k: v for k, v in shapes.items() if k in XU_INPUTS.get(name, shapes)}


def windows_per_second(name: str, device: torch.device, steps: int) -> float:
    torch.manual_seed(0)
    named = has_named_inputs(name)
    shapes = named_inputs(name) if named else {DEFAULT_INPUT: SHAPES[input_rank(name)]}
    inner = any(len(s) == 2 for s in shapes.values()) and named  # frames or words inside each utterance
    chunk = 1 if inner else CHUNK
    model = create_model(name, {k: (-1, s[-1]) for k, s in shapes.items()} if inner else
                         shapes if named else shapes[DEFAULT_INPUT], n_targets=1).to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = {k: torch.randn(BATCH, chunk, *s, device=device) for k, s in shapes.items()}
    mask = {k: torch.ones(BATCH, chunk, *(s[:1] if inner else ()), dtype=torch.bool, device=device)
            for k, s in shapes.items()}
    if inner:  # 10 ms frames and words of 0.48 s: what Xu et al.'s hard alignment reads
        x["speech.times"] = (torch.arange(630, device=device) * 0.01 + 0.005).expand(BATCH, chunk, 630)
        starts = torch.arange(13, device=device) * 0.48
        x["text.times"] = torch.stack([starts, starts + 0.48], -1).expand(BATCH, chunk, 13, 2)
    y = torch.randn(BATCH, chunk, 1, device=device)
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
    return steps * BATCH * chunk / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", nargs="*", default=None, help="default: every registered model")
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    print(f"{'model':<22}" + "".join(f"{d.type + ' units/s':>18}" for d in devices)
          + (f"{'cuda/cpu':>10}" if len(devices) > 1 else ""))
    for name in args.models or list_models():
        rates = [windows_per_second(name, d, args.steps) for d in devices]
        print(f"{name:<22}" + "".join(f"{r:>18.0f}" for r in rates)
              + (f"{rates[1] / rates[0]:>10.1f}" if len(rates) > 1 else ""))


if __name__ == "__main__":
    main()
