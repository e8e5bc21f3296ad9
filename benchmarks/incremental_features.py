"""Benchmark: the audio feature stages after adding one session to the default corpus.

Clones HEAD into a temporary folder, copies the default corpus from SOURCE (a checkout
where `dvc repro corpus` has run; default: this one), aligns and windows it with the
clone's params (not timed), runs every audio feature stage from an empty feature cache
(full time), then generates
one more session for a test speaker (the generator's own code and seed), re-aligns and
re-windows (not timed), and runs the audio feature stages again (each computed: the clone's
params say `enabled: true` for them, where some are `auto`). Prints each stage's
times and the ratio incremental / full (target <= 0.15). The clone gets a scratch cache of
its own (EMOREPRO_CACHE_DIR in the work folder), so the full run starts empty.

A new *train* session would change the bag-of-audio-words codebook and so recompute boaw
for every session, by design: the benchmark adds a test session, as a researcher adding
a recording to evaluate on would.
Run:  .venv/bin/python -m benchmarks.incremental_features [--source DIR] [--keep DIR]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from benchmarks.measure import run_measured
from pipeline.scratch import RUN_LOG, read_run_logs

REPO = Path(__file__).resolve().parents[1]
AUDIO_STAGES = ("egemaps", "egemaps_lld", "mfcc", "boaw", "deep_spectrum", "frame34")
TARGET_RATIO = 0.15

ADD_SESSION = """
import json, yaml
from pipeline import layout
from pipeline.corpus import synthetic_specs
from synthetic.session import SessionSpec, SynthConfig, generate_session
params = yaml.safe_load(open("params.yaml"))
spec = params["corpora"][params["corpus"]]
synth = params["synthetic"]
cfg = SynthConfig(**{k: synth[k] for k in SynthConfig.__dataclass_fields__})
specs = synthetic_specs(int(params["seed"]), spec)
model = next(s for s in specs if s.split == "test")
new = SessionSpec(model.speaker + "_s99", model.speaker, model.speaker_index, "test",
                  model.seconds, (int(params["seed"]), 999))
manifest = json.loads((layout.CORPUS / "manifest.json").read_text())
manifest["sessions"].append(generate_session(new, cfg, layout.CORPUS))
(layout.CORPUS / "manifest.json").write_text(json.dumps(manifest, indent=1))
print(new.session_id)
"""


def computed_always(params_file: Path) -> None:
    """The audio stages on whatever reads them: those that are `enabled: auto` (computed when a run
    reads them, pipeline/feature_demand.py; the stages run here outside DVC) set to true."""
    params = yaml.safe_load(params_file.read_text())
    for name in AUDIO_STAGES:
        params["features"][name]["enabled"] = True
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))


def run_stage(repo: Path, env: dict, *args: str) -> float:
    result = run_measured([sys.executable, "-m", *args], repo, env)
    if result["returncode"]:
        sys.exit(f"{' '.join(args)} failed:\n{result['output'][-3000:]}")
    return result["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(REPO), help="checkout holding the default data/corpus")
    parser.add_argument("--keep", help="work in this folder and keep it")
    args = parser.parse_args()
    source = Path(args.source)
    if not (source / "data" / "corpus" / "manifest.json").exists():
        sys.exit(f"{source}/data/corpus missing: run `dvc repro corpus` there first")
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="emorepro_incremental_"))
    repo = workdir / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(repo)], check=True)
    shutil.copytree(source / "data" / "corpus", repo / "data" / "corpus")
    computed_always(repo / "params.yaml")
    env = {**os.environ, "PYTHONPATH": str(repo), "EMOREPRO_CACHE_DIR": str(workdir / "scratch_cache")}
    run_stage(repo, env, "pipeline.align")
    run_stage(repo, env, "pipeline.window")

    full = {name: run_stage(repo, env, "pipeline.features", name) for name in AUDIO_STAGES}
    added = subprocess.run([sys.executable, "-c", ADD_SESSION], cwd=repo, env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    run_stage(repo, env, "pipeline.align")
    run_stage(repo, env, "pipeline.window")
    incremental = {name: run_stage(repo, env, "pipeline.features", name) for name in AUDIO_STAGES}

    sessions = len(json.loads((repo / "data/corpus/manifest.json").read_text())["sessions"])
    print(f"added session {added}; corpus now {sessions} sessions")
    print(f"{'stage':<16}{'full s':>9}{'+1 session s':>14}{'ratio':>8}  computed")
    logs = read_run_logs(repo / RUN_LOG)
    for name in AUDIO_STAGES:
        print(f"{name:<16}{full[name]:>9.1f}{incremental[name]:>14.1f}{incremental[name] / full[name]:>8.2f}"
              f"  {logs[f'features@{name}']['sessions_computed']}")
    total_full, total_incremental = sum(full.values()), sum(incremental.values())
    print(f"{'all audio':<16}{total_full:>9.1f}{total_incremental:>14.1f}{total_incremental / total_full:>8.2f}"
          f"  (target ratio <= {TARGET_RATIO}; cores: {os.cpu_count()})")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
