"""The report's comparison of protocols: each benchmark run on the corpus's split beside its
k-fold twin (the same params entry with `folds`: pipeline/protocols.py).

For every headline score of the run's task (training/tasks.py `golden_metrics`: CCC per
target, WA/UA, MAE and mean r), the table gives the corpus split's test score, the k-fold
run's score over all folds' test predictions pooled, and its mean +- sd over folds. The two
protocols test different sessions (the test split's speakers, or every speaker once), so a
row compares protocols, not models; the runs of one task and protocol compare models.
"""
import json

from training.tasks import golden_metrics


def _without_folds(entry: dict) -> str:
    return json.dumps({k: v for k, v in entry.items() if k != "folds"}, sort_keys=True)


def twins(benchmark: dict, metrics: dict[str, dict]) -> list[tuple[str, str]]:
    """(corpus split run, k-fold run) pairs: entries equal but for `folds`, the first trained on
    the corpus split (no `protocol` in its metrics), the second with k folds."""
    on_split = {_without_folds(entry): run for run, entry in benchmark.items()
                if run in metrics and "protocol" not in metrics[run] and "skipped" not in metrics[run]}
    return [(on_split[_without_folds(entry)], run) for run, entry in benchmark.items()
            if run in metrics and "protocol" in metrics[run] and _without_folds(entry) in on_split]


def _leaf(tree: dict, path: str):
    node = tree
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def protocol_table(benchmark: dict, runs: list[dict]) -> list[str]:
    """The report's lines: a table of every twin pair's headline scores, or nothing."""
    metrics = {m["run"]: m for m in runs}
    pairs = twins(benchmark, metrics)
    if not pairs:
        return []
    lines = ["## The corpus split and speaker k-fold cross-validation", "",
             "Each run on the corpus's train/dev/test split beside the same run under speaker k-fold "
             "cross-validation (pipeline/protocols.py; codebooks, vocabularies and normalisers refitted on each "
             "fold's training speakers). k-fold pooled: the score of every fold's test predictions together "
             "(each session tested once); mean +- sd: over folds. The split's test speakers are a subset of "
             "those the folds test, so the protocols' numbers differ by which speakers are tested as well as by "
             "how much training data each model had.", "",
             "| run | k-fold run | model | features | score | corpus split (test) | k-fold pooled | k-fold mean +- sd |",
             "|" + "---|" * 8]
    for split_run, fold_run in pairs:
        on_split, folds = metrics[split_run], metrics[fold_run]
        features = folds["features"] if isinstance(folds["features"], list) else sorted(folds["features"])
        for path, value in golden_metrics(on_split).items():
            pooled, mean, sd = (_leaf(folds, path), _leaf(folds.get("fold_mean", {}), path),
                                _leaf(folds.get("fold_sd", {}), path))
            spread = f"{mean:.3f} +- {sd:.3f}" if mean is not None and sd is not None else "-"
            lines.append(f"| {split_run} | {fold_run} ({folds['protocol']['folds']} folds) | {folds['model']} | "
                         f"{', '.join(features)} | {path} | {value:.3f} | "
                         f"{'-' if pooled is None else f'{pooled:.3f}'} | {spread} |")
    return [*lines, ""]
