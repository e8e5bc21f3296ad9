"""Helpers of the tests that run DVC on a copy of the repository (tests/test_*_e2e.py,
tests/test_corpus_reproducible.py): copying the committed files, the tiny project's params,
running a command and reading which stages DVC ran."""
import os
import subprocess
import sys
from pathlib import Path

import yaml

from benchmarks.repository_copy import copy_repository

REPO = Path(__file__).resolve().parents[1]
PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())
# the extractors of the tiny project: every other one runs in its own tests against its library, and
# every one runs through DVC in the default repro (dvc.lock); the CNNs and the frame-level sets
# would double the end-to-end tests' time
EXTRACTORS = ("egemaps", "glove", "botw", "face", "waveform")
# the stages on Raju et al.'s unit (off while no run trains on it) are left out but for the unit itself
DERIVED = {k: v for k, v in PARAMS["derived_features"].items() if v.get("unit") != "raju"}
UNIT_FEATURES = {k: v for k, v in PARAMS["unit_features"].items()
                 if v["extractor"] in EXTRACTORS and v["unit"] != "raju"}
# shrunk from params.yaml's list: EmoNet on windows, a BLSTM on sentences, Williams et al. on words, an SVR on
# a derived stage (bags of face-AU words)
# (the train stage runs the lstm)
BENCHMARK_RUNS = ("emonet_lstm_ccc", "blstm_sentences_class", "williams_blstm_trimodal", "svm_sentences_class",
                  "svr_face_boaw_windows")
# runs of the tiny project that params.yaml leaves to a suite: EmoNet's LSTM, the cheapest of
# suites/emonet.yaml's (on windows, the default repro trains EmoNet's Transformers only)
SUITE_RUNS = {"emonet_lstm_ccc": {"model": "emonet_lstm", "loss": "ccc"}}
# leave-one-speaker-out: Xu et al.'s text baseline, and an SVR on bags of words (a vocabulary refitted per fold)
FOLD_RUN = {"xu_text_folds": {"model": "xu_text", "folds": 3}, "svr_botw_folds": {"model": "svr", "features": ["botw"],
                                                                                  "folds": 3}}
# raw samples sliced per 100 ms step at load time (Tzirakis et al.'s audio network), a few epochs
RAW_SAMPLE_RUN = {"tzirakis_audio": {"model": "tzirakis_audio", "train": {"epochs": 3, "patience": 3}}}
# a run another model starts from (init_from): trained only when `model` is in its `for`, else SKIPPED
PRETRAIN = {"lstm_first": {"model": "lstm", "for": ["tzirakis_multimodal"]}}


def environment(**extra: str) -> dict:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", **extra}


def run(cmd: list[str], cwd: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=environment(**env), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def stages_run(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def tiny_project(dest: Path, raw_samples: bool = True) -> Path:
    """A copy of the repository, committed in a git repository of its own, with params.yaml shrunk
    to the tiny corpus, few epochs, five extractors and eight benchmark runs (seven without
    `raw_samples`: a run on Tzirakis et al.'s 100 ms steps needs a label track at >= 10 Hz, which
    the manifest examples' 0.5 s ratings are not)."""
    copy_repository(dest)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    params["corpus"] = "tiny"
    params["train"].update(epochs=15, patience=15)
    params["features"] = {name: params["features"][name] for name in EXTRACTORS}
    params["features"]["botw"]["enabled"] = "auto"  # computed: svr_botw_folds reads it (a test takes that away)
    params["unit_features"] = UNIT_FEATURES
    params["derived_features"] = DERIVED
    for spec in params["models"].values():  # named inputs of stages left out: dropped (Williams: face and words)
        if isinstance(spec["features"], dict):
            spec["features"] = {k: v for k, v in spec["features"].items()
                                if set([v["stage"]] if isinstance(v, dict) else v) <= {*EXTRACTORS, *UNIT_FEATURES}}
    # Xu's speech-only: no input left; Tzirakis et al.'s multimodal network: its pretrain runs are left out
    params["models"] = {k: v for k, v in params["models"].items()
                        if v["features"] and set((v.get("init_from") or {}).values()) <= set(PRETRAIN)}
    runs = params["benchmark"] | SUITE_RUNS
    params["benchmark"] = ({run: runs[run] for run in BENCHMARK_RUNS} | FOLD_RUN
                           | (RAW_SAMPLE_RUN if raw_samples else {}))
    params["pretrain"] = PRETRAIN  # the Tzirakis runs' stages (raw samples) are left out
    params["story"]["run"] = "emonet_lstm_ccc"
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    # the default corpus's lock: its stale entries (stages not in this DAG) would stay in the tiny
    # project's lock, which DVC rewrites after every stage (about 1 s per 50 kB)
    (dest / "dvc.lock").unlink()
    run(["git", "init", "-q"], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-qm", "tiny"], dest)
    return dest
