"""A suite's finished DVC experiments gathered into its results (pipeline/suite.py `gather`):
per run, each seed's metrics and the mean +- sd over seeds of every number in them; the
experiments still missing and those that failed, by name."""
import math

import numpy as np


def experiment_name(paper: str, run: str, seed: int) -> str:
    return f"{paper}-{run}-s{seed}"


STATES = {"success": "Success", "queued": "Queued", "running": "Running", "failed": "Failed"}
RANK = {"Queued": 0, "Running": 1, "Failed": 2, "Success": 3}


def experiments(show: list) -> dict[str, dict]:
    """Experiment name -> {params, metrics, status, rev (its git commit)} from `dvc exp show --json`
    (any nesting). DVC gives the status as the enclosing entry's `executor.state` (an experiment
    whose executor is gone finished, unless it carries an error); a queued or running experiment's
    data is its stash commit's, which holds the baseline's git-tracked metrics, never its own."""
    found = {}

    def visit(node, state: str | None = None) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item, state)
        elif isinstance(node, dict):
            if "executor" in node:
                state = (node.get("executor") or {}).get("state")
            data = node.get("data")
            if node.get("name") and isinstance(data, dict) and "params" in data:
                status = "Failed" if node.get("error") else STATES.get(state, "Success")
                earlier = found.get(node["name"])
                # an experiment finishing while DVC lists it shows twice, running and done: the later state wins
                if earlier is None or RANK[status] >= RANK[earlier["status"]]:
                    found[node["name"]] = {"status": status, "params": data.get("params") or {},
                                           "metrics": data.get("metrics") or {},
                                           "rev": data.get("rev", node.get("rev"))}
            for key, value in node.items():
                if isinstance(value, (list, dict)) and key != "executor":
                    visit(value, state)

    visit(show)
    return found


def file_data(section: dict, path: str) -> dict | None:
    entry = section.get(path) or {}
    return entry.get("data") if isinstance(entry, dict) else None


def finished(exp: dict | None, path: str) -> dict | None:
    """The metrics file `path` of an experiment that finished, or None (not found, queued, running,
    failed, or without that file)."""
    if not exp or exp["status"] in ("Queued", "Running", "Failed"):
        return None
    return file_data(exp["metrics"], path)


def numbers(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Every finite number in a metrics dict, keyed by its dotted path."""
    flat = {}
    for key, value in metrics.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(numbers(value, f"{path}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            flat[path] = float(value)
    return flat


def summarise(suite: dict, found: dict[str, dict]) -> dict:
    """Per run: each seed's metrics, mean and sd (ddof 1) over seeds; missing and failed experiments."""
    runs, missing, failed = {}, [], []
    for run, values in suite["runs"].items():
        seeds = {}
        for seed in suite["seeds"]:
            name = experiment_name(suite["paper"], run, seed)
            exp = found.get(name)
            metrics = file_data(exp["metrics"], suite["metrics"]) if exp else None
            if exp is None or exp["status"] in ("Queued", "Running"):
                missing.append(name)
            elif exp["status"] == "Failed" or metrics is None:
                failed.append(name)
            else:
                seeds[str(seed)] = metrics
        runs[run] = {"params": values, **over_seeds(seeds)}
    for name, path in suite["also"].items():  # e.g. the unimodal runs every multimodal experiment trains first
        seeds = {}
        for seed in suite["seeds"]:
            done = [found.get(experiment_name(suite["paper"], run, seed)) for run in suite["runs"]]
            written = [m for e in done if (m := finished(e, path)) and "skipped" not in m]
            if written:
                seeds[str(seed)] = written[0]
        runs[name] = {"params": {"metrics": path}, **over_seeds(seeds)}
    return {"paper": suite["paper"], "target": suite["target"], "metrics_file": suite["metrics"],
            "seeds": suite["seeds"], "runs": runs, "missing": missing, "failed": failed}


def headline_experiment(suite: dict, found: dict[str, dict]) -> tuple[int, dict] | None:
    """(seed, experiment) of the suite's headline run: its first seed, in the suite's order, whose
    experiment finished with metrics; None without a headline or such an experiment."""
    run = suite.get("headline")
    for seed in suite["seeds"] if run else []:
        exp = found.get(experiment_name(suite["paper"], run, seed))
        if finished(exp, suite["metrics"]):
            return seed, exp
    return None


def over_seeds(seeds: dict[str, dict]) -> dict:
    """{seeds, mean, sd (ddof 1)} of every number the seeds' metrics share."""
    flat = [numbers(m) for m in seeds.values()]
    keys = sorted(set.intersection(*(set(f) for f in flat))) if flat else []
    return {"seeds": seeds, "mean": {k: round(float(np.mean([f[k] for f in flat])), 4) for k in keys},
            "sd": {k: round(float(np.std([f[k] for f in flat], ddof=1)), 4) if len(flat) > 1 else None for k in keys}}


def with_earlier_seeds(results: dict, earlier: dict) -> dict:
    """Seeds this gather did not find, taken from an earlier gather of the suite (`earlier`: its
    results file) whose experiments ran elsewhere (another machine or clone: DVC experiments
    are local git refs): per run whose params are the same, listed under `earlier_seeds`; mean
    and sd over all the seeds. Only sound when both machines computed the same features: face
    features differ between machines (README, Known limits)."""
    kept = {}
    for run, entry in results["runs"].items():
        old = (earlier.get("runs") or {}).get(run)
        if not old or old.get("params") != entry["params"]:
            continue
        extra = {seed: m for seed, m in old.get("seeds", {}).items() if seed not in entry["seeds"]}
        if extra:
            seeds = dict(sorted({**entry["seeds"], **extra}.items(), key=lambda item: int(item[0])))
            results["runs"][run] = {"params": entry["params"], **over_seeds(seeds)}
            kept[run] = sorted(extra, key=int)
    filled = {experiment_name(results["paper"], run, int(seed)) for run, seeds in kept.items() for seed in seeds}
    results["missing"] = [name for name in results["missing"] if name not in filled]
    results["earlier_seeds"] = kept
    return results
