"""A paper's grid as DVC experiments: queue it, run it, gather the finished experiments.

Reads:  suites/<paper>.yaml: {paper, target (the DVC stage each experiment reproduces,
        default `evaluate`), metrics (the metrics file gathered, default reports/metrics.json),
        seeds: [...] (every run is queued once per training seed: `-S train.seed=<s>`;
        the corpus keeps the top-level `seed`), runs: {name: {params
        to set with -S}}, optional params: {set on every run}, optional profiles: {name:
        {params set on every run when chosen}}, e.g. a reduced profile for CPU, optional also:
        {name: another metrics file its experiments write, gathered as a row of its own from the
        first finished experiment of each seed, e.g. the unimodal runs a multimodal model starts
        from}, optional grid: {param: [values]}: every run once per combination of the values,
        named <run>_<param's last part><value> (a hyperparameter search, e.g. Williams et al.'s
        layers x dropout x maxlen; `{model}` in a param is the run's model), optional headline: a
        run whose test predictions the report draws over time (predictions: the file, default
        reports/test_predictions.csv), optional headline_figures: [pictures the headline's
        experiment wrote into its DVC outputs, e.g. data/train/fusion_attention.png, shown in
        the report]}; `dvc exp show --json`
Writes: queue: DVC experiments named <paper>-<run>-s<seed> (`dvc exp run --queue`), started
        with `dvc queue start` (each runs in its own temporary workspace, sharing the
        scratch cache; each of --jobs workers gets cores / jobs threads: worker_env); gather:
        reports/suites/<paper>.json: per run, its params, each seed's metrics and the mean +- sd
        over seeds of every number in them (read by the report stage);
        with a headline run, reports/suites/<paper>_headline_predictions.csv: its first finished
        seed's test predictions, read from the experiment's commit, and
        reports/suites/<paper>_headline_<name> for each of its headline_figures (DVC-tracked:
        read from the DVC cache at the experiment's commit with dvc.api)
Run:    python -m pipeline.suite queue emonet [--profile reduced] [--jobs 2]
        python -m pipeline.suite wait emonet        # until its experiments have finished, restarting
                                                    # queue workers that left with some still queued
        python -m pipeline.suite gather emonet      # reports/suites/emonet.json
        python -m pipeline.suite run emonet         # all three, in this order
        python -m pipeline.suite run raju --runs eaf,aed   # only these runs (gather reads every run)
        python -m pipeline.suite run tzirakis --seeds 7    # only this seed (gather lists the others missing)
        python -m pipeline.suite run williams_search --runs 'blstm_*'   # runs by shell-style pattern
        python -m pipeline.suite gather williams --keep-earlier   # + seeds gathered before, elsewhere
        python -m pipeline.suite gather tzirakis --rev 52f0e0e    # experiments queued from an earlier commit

A run's params are what `dvc exp run -S` accepts: `model=emonet_lstm`, `models.emonet_lstm.loss=mse`,
`train.control=shuffled_words`; a key `~models.williams_blstm.features.face` with no value
deletes that entry (Hydra's override syntax: an ablation drops a named input), and a key
params.yaml lacks takes a `+` (`+models.emonet_transformer.positional_encoding`). They are
recorded with the experiment, so `dvc exp show` lists every run with its seed. An experiment that failed is listed under `failed` by name,
never averaged in.
"""
import argparse
import fnmatch
import itertools
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from pipeline import layout
from pipeline.config import ParamsError, require, run_stage
from pipeline.suite_results import experiment_name, experiments, headline_experiment, summarise, with_earlier_seeds

log = logging.getLogger("suite")
SUITES = Path("suites")
RESULTS = layout.REPORTS / "suites"


def load_suite(paper: str) -> dict:
    """suites/<paper>.yaml, checked: a clear error naming the file and the problem."""
    path = SUITES / f"{paper}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SUITES.glob("*.yaml"))) or "none"
        raise ParamsError(f"{path}: no such suite (known: {known})")
    suite = yaml.safe_load(path.read_text()) or {}
    runs, seeds = suite.get("runs"), suite.get("seeds")
    require(isinstance(runs, dict) and runs and all(isinstance(v, dict) for v in runs.values()),
            f"{path}: runs must be a mapping of run names to the params they set")
    require(isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
            and len(set(seeds)) == len(seeds), f"{path}: seeds must be a list of distinct integers")
    also = suite.get("also") or {}
    require(isinstance(also, dict) and all(isinstance(v, str) for v in also.values()) and not set(also) & set(runs),
            f"{path}: also must map names (not run names) to metrics files the runs' experiments write")
    grid = suite.get("grid") or {}
    require(isinstance(grid, dict) and all(isinstance(v, list) and v for v in grid.values()),
            f"{path}: grid must map params to non-empty lists of values")
    runs = grid_runs(runs, grid)
    require(all(name.replace("_", "").isalnum() for name in runs),
            f"{path}: run names (with their grid values) may hold letters, digits and '_' only (they name DVC "
            f"experiments)")
    headline = suite.get("headline")
    require(headline is None or headline in runs, f"{path}: headline must be one of the runs ({', '.join(runs)})")
    figures = suite.get("headline_figures") or []
    require(isinstance(figures, list) and all(isinstance(f, str) for f in figures) and (headline or not figures),
            f"{path}: headline_figures must be a list of paths the headline run's experiment writes (with a headline)")
    names = [Path(f).name for f in figures]  # each is copied under its file name, beside the predictions
    require(len(set(names)) == len(names) and "predictions.csv" not in names,
            f"{path}: headline_figures must have distinct file names, none of them predictions.csv")
    return {"paper": paper, "target": "evaluate", "metrics": str(layout.METRICS), "profiles": {},
            "predictions": str(layout.REPORTS / "test_predictions.csv"), **suite, "runs": runs, "also": also}


def grid_runs(runs: dict, grid: dict) -> dict:
    """Every run once per combination of the grid's values: `blstm` with {m.layers: [1, 2],
    m.dropout: [0.1]} gives blstm_layers1_dropout0p1 and blstm_layers2_dropout0p1. `{model}` in a
    key is the run's model: `models.{model}.layers` serves runs of several models."""
    if not grid:
        return runs
    expanded = {}
    for run, values in runs.items():
        for combination in itertools.product(*grid.values()):
            suffix = "_".join(f"{key.split('.')[-1]}{value}".replace(".", "p").replace("-", "m")
                              for key, value in zip(grid, combination))
            keys = [key.replace("{model}", str(values.get("model"))) for key in grid]
            expanded[f"{run}_{suffix}"] = {**values, **dict(zip(keys, combination))}
    return expanded


def set_args(values: dict) -> list[str]:
    """`-S key=value` for every param (YAML values: strings as they are, others as YAML)."""
    args = []
    for key, value in values.items():
        if key.startswith("~"):  # a deletion: `-S ~a.b`
            require(value is None, f"{key}: a deletion takes no value (got {value!r})")
            args += ["-S", key]
            continue
        text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True).strip()
        args += ["-S", f"{key}={text.removesuffix('...').strip()}"]
    return args


def experiment_commands(suite: dict, profile: str | None = None,
                        only: list[str] | None = None) -> list[tuple[str, list[str]]]:
    """(experiment name, `dvc exp run --queue` command) for every run (or the runs `only` names or
    matches, shell-style: `blstm_*`) and seed."""
    unknown = sorted(p for p in only or [] if not fnmatch.filter(suite["runs"], p))
    if unknown:
        raise ParamsError(f"suites/{suite['paper']}.yaml has no runs {unknown} (runs: {', '.join(suite['runs'])})")
    if profile is not None and profile not in suite["profiles"]:
        raise ParamsError(f"suites/{suite['paper']}.yaml has no profile {profile!r} "
                          f"(profiles: {', '.join(suite['profiles']) or 'none'})")
    common = {**suite.get("params", {}), **(suite["profiles"].get(profile, {}) if profile else {})}
    commands = []
    for run, values in suite["runs"].items():
        if only and not any(fnmatch.fnmatchcase(run, p) for p in only):
            continue
        for seed in suite["seeds"]:
            name = experiment_name(suite["paper"], run, seed)
            commands.append((name, ["dvc", "exp", "run", "--queue", "-n", name,
                                    *set_args({**common, **values, "train.seed": seed}), suite["target"]]))
    return commands


def worker_env(jobs: int) -> dict[str, str]:
    """The environment the queue workers start with: each worker's stages get an equal share of
    the cores (torch's and BLAS's threads), unless the user set the variables. By default every
    process takes every core, and two workers on 2 cores trained a Williams network 30x slower
    (1.1 s against 0.035 s an epoch, measured) than one worker alone."""
    threads = os.environ.get("OMP_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    # torch takes its threads from MKL's variable too when it is set: both say the same
    return {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS", threads)}


def dvc(*args: str, env: dict[str, str] | None = None) -> str:
    # output goes through a file, not a pipe: `dvc queue start` leaves workers behind that
    # hold on to its stdout, and reading a pipe would wait for them to finish
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        result = subprocess.run(["dvc", *args], stdout=out, stderr=err, text=True, env=env)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if result.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} failed:\n{text[-2000:]}{errors[-2000:]}")
    return text


def show_experiments(*args: str, attempts: int = 6, pause_s: float = 5.0) -> dict[str, dict]:
    """experiments() of `dvc exp show --json [args]`. While a queue worker creates an experiment's
    temporary workspace, DVC fails to list the experiments ("directory '.dvc/tmp/exps/<tmp>/.dvc'
    does not exist"; seen queueing a second batch while the first ran): that failure is retried
    after a pause, any other is raised at once."""
    def listed() -> dict[str, dict]:
        return experiments(json.loads(dvc("exp", "show", "--json", *args) or "[]"))

    for _ in range(attempts - 1):
        try:
            return listed()
        except RuntimeError as error:
            if "tmp/exps/" not in str(error) or "does not exist" not in str(error):
                raise
            log.info("dvc exp show: a queue worker is setting up an experiment; again in %.0f s", pause_s)
            time.sleep(pause_s)
    return listed()  # the last attempt raises whatever it meets


def queue(suite: dict, profile: str | None, jobs: int, only: list[str] | None = None) -> None:
    commands = experiment_commands(suite, profile, only)
    existing = sorted(set(show_experiments()) & {name for name, _ in commands})
    if existing:  # DVC would not run an experiment whose name exists on this commit
        raise RuntimeError(f"{suite['paper']}: experiments {', '.join(existing)} exist on this commit already: "
                           f"gather them (python -m pipeline.suite gather {suite['paper']}) or remove them "
                           f"(dvc exp remove {' '.join(existing)})")
    for name, command in commands:
        dvc(*command[1:])
        log.info("queued %s", name)
    env = worker_env(jobs)
    dvc("queue", "start", "-j", str(jobs), env=env)
    log.info("%s: %d experiments queued and %d worker(s) started with %s threads each; `dvc queue status` shows "
             "them", suite["paper"], len(commands), jobs, env["OMP_NUM_THREADS"])


def gather(suite: dict, all_commits: bool = False, keep_earlier: bool = False, rev: str | None = None) -> Path:
    # the experiments of the current commit (or of `rev`, the commit they were queued from, after
    # HEAD moved on): a name may repeat on other baselines. In a git worktree DVC may take another
    # commit for HEAD; --all-commits reads every baseline (slow: minutes over hundreds of commits)
    found = show_experiments(*(["-A"] if all_commits else ["--rev", rev] if rev else []))
    results = summarise(suite, found)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{suite['paper']}.json"
    earlier = json.loads(path.read_text()) if keep_earlier and path.exists() else None
    if earlier:
        results = with_earlier_seeds(results, earlier)
    if headline := headline_predictions(suite, found):
        results["headline"] = headline
    elif earlier and still_headline(suite, earlier, results):  # from an experiment of another clone
        results["headline"] = earlier["headline"]
    else:  # none, or another run's: no stale picture
        remove_headline_files(suite["paper"])
    path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    log.info("%s: %d runs gathered; %d experiments missing, %d failed%s", path, len(results["runs"]),
             len(results["missing"]), len(results["failed"]),
             f" ({', '.join(results['failed'])})" if results["failed"] else "")
    return path


def headline_file(paper: str, name: str = "predictions.csv") -> Path:
    return RESULTS / f"{paper}_headline_{name}"


def remove_headline_files(paper: str, keep: Path | None = None) -> None:
    """Removes an earlier gather's headline files (predictions, figures) beside the suite's results,
    except `keep`."""
    for earlier in RESULTS.glob(headline_file(paper, "*").name):
        if earlier != keep:
            earlier.unlink()


def headline_predictions(suite: dict, found: dict[str, dict]) -> dict | None:
    """The headline run's test predictions, from its first finished seed's experiment commit (the
    predictions file is git-tracked: `cache: false`), written beside the suite's results; what the
    report needs to draw them, or None."""
    chosen = headline_experiment(suite, found)
    if chosen is None:
        return None
    seed, exp = chosen
    name = experiment_name(suite["paper"], suite["headline"], seed)
    shown = subprocess.run(["git", "show", f"{exp['rev']}:{suite['predictions']}"], capture_output=True, text=True)
    if shown.returncode != 0:
        log.warning("%s: no %s in experiment %s (%s): no headline predictions", suite["paper"], suite["predictions"],
                    name, shown.stderr.strip())
        return None
    target = headline_file(suite["paper"])
    target.write_text(shown.stdout)
    headline = {"run": suite["headline"], "seed": seed, "predictions": str(target)}
    if figures := headline_figures(suite, exp["rev"], name):
        headline["figures"] = figures
    return headline


def headline_figures(suite: dict, rev: str, name: str) -> list[str]:
    """Each of the suite's headline_figures as the experiment `rev` wrote it (a DVC output: its
    dvc.lock names it, the shared DVC cache holds it), copied beside the suite's results; the
    copies' paths. A picture the experiment did not write is named in a warning and left out."""
    from dvc.api import open as open_tracked  # DVC's API loads in seconds: only a gather with figures pays
    from dvc.exceptions import DvcException

    remove_headline_files(suite["paper"], keep=headline_file(suite["paper"]))  # maybe of other figures
    copied = []
    for figure in suite.get("headline_figures") or []:
        try:
            with open_tracked(figure, repo=".", rev=rev, mode="rb") as source:
                content = source.read()
        except (FileNotFoundError, DvcException) as err:
            log.warning("%s: no %s in experiment %s (%s): left out of the report", suite["paper"], figure, name,
                        err)
            continue
        target = headline_file(suite["paper"], Path(figure).name)
        target.write_bytes(content)
        copied.append(str(target))
    return copied


def still_headline(suite: dict, earlier: dict, results: dict) -> bool:
    """Whether an earlier gather's headline predictions still show the suite's headline run: the
    same run, with the same params, and its file still there."""
    old = earlier.get("headline") or {}
    run = suite.get("headline")
    return (bool(run) and old.get("run") == run and Path(old.get("predictions", "")).is_file()
            and all(Path(f).is_file() for f in old.get("figures", []))
            and (earlier.get("runs") or {}).get(run, {}).get("params") == results["runs"][run]["params"])


def wait(suite: dict, jobs: int = 1, poll_s: float = 10.0, restart_s: float = 60.0, no_worker_s: float = 120.0) -> None:
    """Until none of the suite's experiments is queued or running (`dvc queue status`), keeping
    `jobs` experiments running: DVC 3's queue workers are temporary (each leaves when it finds no
    task within seconds, which can happen between two experiments), so when fewer than `jobs` are
    running while some are queued for `restart_s`, it calls `dvc queue start -j <jobs>` (with
    worker_env's threads; DVC starts the worker numbers it does not see running, and its status
    often sees none, so one more than `jobs` may briefly run). An error when experiments stay queued
    with none running for `no_worker_s` after such a start. A task DVC still calls Running after its
    worker died (killed, out of memory) keeps it waiting: `dvc queue kill` / `dvc queue logs`."""
    names = {name for name, _ in experiment_commands(suite)}
    short_since = workerless_since = None
    while True:
        states = [line.split() for line in dvc("queue", "status").splitlines()]
        pending = [words for words in states if set(words) & names and {"Queued", "Running"} & set(words)]
        if not pending:
            return
        running = sum("Running" in words for words in pending)
        queued = len(pending) - running
        now = time.monotonic()
        short_since = (short_since or now) if queued and running < jobs else None
        if short_since is not None and now - short_since >= restart_s:
            log.info("%s: %d experiments queued and %d of %d running: starting DVC queue workers",
                     suite["paper"], queued, running, jobs)
            log.info("%s", dvc("queue", "start", "-j", str(jobs), env=worker_env(jobs)).strip())
            short_since = None
            workerless_since = workerless_since or now
        if running:
            workerless_since = None
        elif workerless_since is not None and now - workerless_since > no_worker_s:
            raise RuntimeError(f"{suite['paper']}: {queued} experiments are queued but no DVC queue worker takes "
                               "them: see `dvc queue status` and `dvc queue logs`")
        log.info("%s: %d experiments queued, %d running", suite["paper"], queued, running)
        time.sleep(poll_s)


def seed_subset(suite: dict, seeds: str) -> list[int]:
    chosen = [int(s) for s in seeds.split(",")]
    unknown = sorted(set(chosen) - set(suite["seeds"]))
    require(not unknown, f"--seeds {seeds}: {unknown} are not seeds of suites/{suite['paper']}.yaml {suite['seeds']}")
    return chosen


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.suite", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("queue", "wait", "gather", "run"))
    parser.add_argument("paper", help="a suite in suites/<paper>.yaml")
    parser.add_argument("--profile", help="a profile of the suite (e.g. reduced)")
    parser.add_argument("--jobs", type=int, default=1, help="DVC queue workers, experiments at once (default 1)")
    parser.add_argument("--runs", help="queue only these runs, comma-separated, or shell-style patterns "
                                       "('blstm_*'; gather reads them all)")
    parser.add_argument("--seeds", help="queue only these of the suite's seeds, comma-separated (gather reads them "
                                        "all and lists the others as missing)")
    commits = parser.add_mutually_exclusive_group()
    commits.add_argument("--all-commits", action="store_true",
                         help="gather: look for the experiments on every commit, not only HEAD's")
    commits.add_argument("--rev", help="gather: the experiments of this commit (the one they were queued from), "
                                       "not HEAD's")
    parser.add_argument("--keep-earlier", action="store_true",
                        help="gather: keep the seeds of reports/suites/<paper>.json that no experiment here has "
                             "(runs with the same params; listed under earlier_seeds)")
    args = parser.parse_args(argv)
    suite = load_suite(args.paper)
    queued = {**suite, "seeds": seed_subset(suite, args.seeds)} if args.seeds else suite
    if args.action in ("queue", "run"):
        queue(queued, args.profile, args.jobs, args.runs.split(",") if args.runs else None)
    if args.action in ("wait", "run"):
        wait(queued, args.jobs)
    if args.action in ("gather", "run"):
        gather(suite, args.all_commits, args.keep_earlier, args.rev)


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
