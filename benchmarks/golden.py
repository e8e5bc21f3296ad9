"""Golden results: each headline run's scores, pinned with a tolerance band, and the check that
a change did not move them.

A golden file (benchmarks/golden/<corpus>.yaml, versioned) lists, per run, the metrics file it
reads (reports/metrics.json for the `model` run, reports/benchmark/<run>/metrics.json for a
benchmark run) and, per headline score of the run's task (training/tasks.py `golden_metrics`:
CCC per dimension, WA/UA, MAE and mean r), its value and band:

    band = max(2 x the seed sd, floor)

the seed sd coming from a suite that ran the same configuration over seeds (`sd_from:
<paper>/<suite run>`, read from reports/suites/<paper>.json), else from the DAG's runs trained
again at other seeds (benchmarks/golden/<corpus>_seeds.yaml, `python -m benchmarks.golden_seeds`);
the floor is wider for a run that reads face features, which differ between machines
(FACE_FLOOR). A skipped run (its metrics file says why) is pinned as skipped.

    python -m benchmarks.golden check [default|tiny]   # exit 1 naming each run and metric outside
    python -m benchmarks.golden write [default|tiny]   # (re)pins today's numbers

`check` reads the reports/ of the working directory (after `dvc repro` on that corpus), so CI
checks the tiny corpus's golden values in its end-to-end test (tests/test_pipeline_e2e.py) and
`default` is checked after the default repro. `write` keeps each run's `sd_from`; a changed
golden value is a reviewed commit whose message says why the number moved.
"""
import argparse
import json
import sys
from pathlib import Path

import yaml

from training.tasks import golden_metrics

GOLDEN = Path(__file__).resolve().parent / "golden"
REPORTS = Path("reports")
MAIN_RUN = "model"  # the golden entry of reports/metrics.json (params `model`)
# per corpus: a suite run whose experiments are this run over seeds, for the seed sd of its band
# (reports/suites/ holds the default corpus's suites)
SD_FROM = {"default": {"williams_blstm_trimodal": "williams/blstm_avt"}, "tiny": {}}
FLOOR = {"default": 0.02, "tiny": 0.05}  # a trained score may move this much on another CPU or torch build
# MediaPipe's face landmarks (TFLite on the CPU) differ slightly between machines, so the face
# features and every run reading them move: seen between two machines of this kind, the same
# code and corpus gave test CCC 0.487 and 0.602 (liking, modality_lstm_video_ccc) and MAE 0.142
# and 0.156 (williams_blstm_trimodal). Runs reading a face stage get this floor instead.
FACE_FLOOR = {"default": 0.15, "tiny": 0.25}


def reads_face(metrics: dict) -> bool:
    """Whether the run read a face stage (face, face_deep, face_boaw, ... in its features)."""
    return '"face' in json.dumps(metrics.get("features"))


def metrics_file(run: str) -> Path:
    return REPORTS / "metrics.json" if run == MAIN_RUN else REPORTS / "benchmark" / run / "metrics.json"


def dag_runs() -> list[str]:
    """The `model` run and every benchmark run of params.yaml (what this DAG writes: reports/
    may hold other runs' folders from before)."""
    from pipeline.config import load_params

    return [MAIN_RUN, *sorted((load_params().get("benchmark") or {}))]


def seeds_file(corpus: str) -> Path:
    """The DAG's runs trained again at other seeds (benchmarks/golden_seeds.py writes it)."""
    return GOLDEN / f"{corpus}_seeds.yaml"


def seeds_runs(corpus: str) -> dict:
    """{run: {metric: {values, sd}}} of the corpus's seeds file; {} before it is written."""
    path = seeds_file(corpus)
    return yaml.safe_load(path.read_text())["runs"] if path.exists() else {}


def seeds_entry(corpus: str, run: str) -> dict:
    """{metric: {values, sd}} of `run` in the corpus's seeds file; {} when it has none."""
    return seeds_runs(corpus).get(run) or {}


def seed_sd(sd_from: str | None, metric: str, seeds: dict) -> float | None:
    """The metric's sd over seeds: the suite run's (`sd_from`), else the run's seeds entry's."""
    if not sd_from:
        return (seeds.get(metric) or {}).get("sd")
    paper, suite_run = sd_from.split("/")
    path = REPORTS / "suites" / f"{paper}.json"
    if not path.exists():
        return None
    entry = json.loads(path.read_text())["runs"].get(suite_run) or {}
    return (entry.get("sd") or {}).get(metric)


def pin(run: str, corpus: str, sd_from: str | None) -> dict:
    metrics = json.loads(metrics_file(run).read_text())
    if "skipped" in metrics:
        return {"file": str(metrics_file(run)), "skipped": True}
    face = reads_face(metrics)
    floor, pinned = (FACE_FLOOR if face else FLOOR)[corpus], {}
    seeds = {} if sd_from else seeds_entry(corpus, run)
    for name, value in golden_metrics(metrics).items():
        sd = seed_sd(sd_from, name, seeds)
        pinned[name] = {"value": round(value, 4), "band": round(max(2 * sd, floor) if sd else floor, 4),
                        **({"seed_sd": sd} if sd else {})}
    return {"file": str(metrics_file(run)), **({"sd_from": sd_from} if sd_from else {}),
            **({"reads_face": True} if face else {}), "metrics": pinned}


def write(corpus: str) -> Path:
    path = GOLDEN / f"{corpus}.yaml"
    old = yaml.safe_load(path.read_text())["runs"] if path.exists() else {}
    floor = FLOOR[corpus]
    unrun = [run for run in dag_runs() if not metrics_file(run).exists()]
    if unrun:
        print(f"not pinned, no metrics yet (run `dvc repro` first): {', '.join(unrun)}", file=sys.stderr)
    runs = {run: pin(run, corpus, (old.get(run) or {}).get("sd_from") or SD_FROM[corpus].get(run))
            for run in dag_runs() if run not in unrun}
    header = (f"# Golden results on the `{corpus}` corpus: python -m benchmarks.golden check {corpus}\n"
              f"# band = max(2 x seed sd, floor {floor}; {FACE_FLOOR[corpus]} for runs reading face features, which\n"
              f"# differ between machines); seed sd from the run's suite (sd_from), else {corpus}_seeds.yaml;\n"
              "# written by `python -m benchmarks.golden write "
              f"{corpus}`.\n# Change a value only in a commit that says why the number moved.\n")
    GOLDEN.mkdir(exist_ok=True)
    path.write_text(header + yaml.safe_dump({"corpus": corpus, "floor": floor, "runs": runs}, sort_keys=False,
                                                default_flow_style=None, width=120))
    return path


def check(corpus: str) -> list[str]:
    """Every run and metric of the golden file outside its band (or missing), one line each."""
    golden = yaml.safe_load((GOLDEN / f"{corpus}.yaml").read_text())
    failures, rows = [], []
    for run, entry in golden["runs"].items():
        path = Path(entry["file"])
        if not path.exists():
            failures.append(f"{run}: {path} is missing")
            continue
        metrics = json.loads(path.read_text())
        if entry.get("skipped") or "skipped" in metrics:
            if not (entry.get("skipped") and "skipped" in metrics):
                failures.append(f"{run}: golden says {'skipped' if entry.get('skipped') else 'trained'}, "
                                f"{path} says {'skipped' if 'skipped' in metrics else 'trained'}")
            continue
        now = golden_metrics(metrics)
        for name, pinned in entry["metrics"].items():
            value = now.get(name)
            ok = value is not None and abs(value - pinned["value"]) <= pinned["band"] + 1e-9
            rows.append((run, name, pinned["value"], pinned["band"], value, ok))
            if not ok:
                failures.append(f"{run} {name}: {'missing' if value is None else f'{value:.4f}'} is outside "
                                f"{pinned['value']:.4f} +- {pinned['band']:.4f} ({path})")
    print(f"{'run':<36}{'metric':<22}{'golden':>8}{'band':>8}{'now':>8}")
    for run, name, value, band, now, ok in rows:
        print(f"{run:<36}{name:<22}{value:>8.4f}{band:>8.4f}{'-' if now is None else f'{now:.4f}':>8}"
              f"{'' if ok else '  OUTSIDE'}")
    return failures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("check", "write"))
    parser.add_argument("corpus", nargs="?", default="default", choices=sorted(FLOOR))
    args = parser.parse_args(argv)
    if args.action == "write":
        print(write(args.corpus))
        return
    failures = check(args.corpus)
    if failures:
        sys.exit("golden check failed:\n  " + "\n  ".join(failures))
    print(f"golden check passed ({args.corpus})")


if __name__ == "__main__":
    main(sys.argv[1:])
