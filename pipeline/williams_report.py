"""Williams et al.'s section of reports/report.md (pipeline/report.py calls `williams_section`):
their Tables 1-5 beside ours, the hyperparameter search, the checks that learning is real, and
their Figure 2 (the predicted intensities' distribution per emotion) for our trimodal BLSTM.

Our numbers come from the benchmark runs of Williams models (the default repro: one seed),
the gathered suites reports/suites/williams.json (Tables 2-4, mean +- sd over seeds) and
reports/suites/williams_search.json (layers x dropout x maxlen on dev MAE), and the `model`
run when it is a Williams model. All are on the synthetic corpus's test sentences.
"""
import json
import re

import numpy as np
import pandas as pd

from pipeline import layout
from pipeline.figures import pyplot, save_figure
from pipeline.paper_results import (WILLIAMS_EMOTION, WILLIAMS_MAE, WILLIAMS_RANDOM_BY_EMOTION, WILLIAMS_RANDOM_MAE,
                                    WILLIAMS_TABLE5, modalities)

SUITE = layout.REPORTS / "suites" / "williams.json"
SEARCH = layout.REPORTS / "suites" / "williams_search.json"
FIGURE = layout.REPORT_PLOTS / "williams_intensities.png"
NETWORKS = ("lstm", "blstm", "cnn")
MODALITY_SETS = ("A", "V", "T", "A+V", "A+T", "V+T", "A+V+T")
SUITE_RUN = re.compile(r"^(lstm|blstm|cnn)_([avt]+)(_onehot)?$")  # suites/williams.yaml's run names
PCC_FLOOR = 0.3  # issue: the trimodal BLSTM's mean Pearson r over the emotions


def _fmt(value) -> str:
    return "-" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"


def _mean_sd(run: dict, key: str) -> str:
    if key not in run["mean"]:
        return "-"
    sd = run["sd"].get(key)
    return f"{run['mean'][key]:.3f}" + ("" if sd is None else f" +- {sd:.3f}")


def suite_runs(path=SUITE) -> dict[tuple[str, str, bool], dict]:
    """(network, modalities, one-hot words) -> the gathered run, for runs with a finished seed."""
    runs = json.loads(path.read_text())["runs"] if path.exists() else {}
    found = {}
    for name, run in runs.items():
        match = SUITE_RUN.match(name)
        if match and run["seeds"]:
            kind, letters, onehot = match.groups()
            found[(kind, "+".join(m for m in "AVT" if m.lower() in letters), bool(onehot))] = run
    return found


def benchmark_williams(runs: list[dict]) -> list[dict]:
    return [m for m in runs if "skipped" not in m and str(m.get("model", "")).startswith("williams_")]


def trimodal_blstm(runs: list[dict]) -> dict | None:
    """The first benchmark run of the BLSTM on all three modalities (the paper's submitted system)."""
    return next((m for m in benchmark_williams(runs)
                 if m["model"] == "williams_blstm" and modalities(m["features"]) == "A+V+T"), None)


def table_1(run: dict) -> list[str]:
    drawn = run.get("random_baseline")
    if not drawn:
        return []
    rows = [f"| {WILLIAMS_EMOTION.get(e, e)} | {m['mae']:.3f} | {m['binary_acc']:.3f} | {m['four_class_acc']:.3f} "
            f"| {_fmt(m['pcc'])} | {_fmt(WILLIAMS_RANDOM_BY_EMOTION.get(e))} |" for e, m in drawn.items()]
    overall = np.mean([m["mae"] for m in drawn.values()])
    return ["**Table 1: the random baseline** (5.1: how many labels uniform over 0-6, which ones, an intensity on "
            "the 1/3 grid; seeded), on our test sentences. Paper: MAE only; its 0.05 for Surprise cannot come "
            "from this procedure (a draw names Surprise half the time), presumably a typo.", "",
            "| emotion | ours MAE | ours binary acc | ours 4-class acc | ours r | paper MAE |", "|" + "---|" * 6,
            *rows, f"| Overall | {overall:.3f} | - | - | - | {WILLIAMS_RANDOM_MAE:.2f} |", ""]


def tables_2_to_4(runs: list[dict], suite: dict) -> list[str]:
    bench = {(m["model"].removeprefix("williams_"), modalities(m["features"])): m for m in benchmark_williams(runs)}
    rows = []
    for used in MODALITY_SETS:
        for kind in NETWORKS:
            single = bench.get((kind, used))
            seeds = suite.get((kind, used, False))
            if single is None and seeds is None:
                rows.append(f"| {used} | {kind.upper()} | - | - | - | {_fmt(WILLIAMS_MAE.get((kind, used)))} |")
                continue
            rows.append(f"| {used} | {kind.upper()} | {_fmt(single['overall']['mae']) if single else '-'} "
                        f"| {_mean_sd(seeds, 'overall.mae') if seeds else '-'} "
                        f"| {len(seeds['seeds']) if seeds else '-'} | {_fmt(WILLIAMS_MAE.get((kind, used)))} |")
    for (kind, used, onehot), run in suite.items():
        if onehot:
            rows.append(f"| {used} (GloVe + one-hot words) | {kind.upper()} | - | {_mean_sd(run, 'overall.mae')} "
                        f"| {len(run['seeds'])} | - |")
    return ["**Tables 2-4: overall test MAE** by network and modalities. Ours: the default repro's run (one seed) "
            "and the `williams` suite (mean +- sd over its seeds, DVC experiments).", "",
            "| modalities | network | ours, default repro | ours, suite | seeds | paper |", "|" + "---|" * 6, *rows, ""]


def table_5(run: dict) -> list[str]:
    rows = []
    for emotion, paper in WILLIAMS_TABLE5.items():
        ours = run.get(emotion) if emotion != "overall" else {**run["overall"], "pcc": run["overall"]["pcc_mean"]}
        if ours is None:
            continue
        name = WILLIAMS_EMOTION.get(emotion, "Overall")
        rows.append(f"| {name} | {ours['mae']:.3f} | {100 * ours['binary_acc']:.1f} | {100 * ours['four_class_acc']:.1f} "
                    f"| {_fmt(ours['pcc'])} | {paper[0]:.3f} | {paper[1]:.1f} | {paper[2]:.1f} | {_fmt(paper[3])} |")
    return [f"**Table 5: per emotion**, our trimodal BLSTM (`{run['run']}`) on the test sentences; paper: the "
            "challenge's test set (their model trained on train + validation). Our overall r is the mean of the "
            "emotions' r (the paper gives none).", "",
            "| emotion | ours MAE | ours binary acc (%) | ours 4-class acc (%) | ours r | paper MAE | paper binary (%) "
            "| paper 4-class (%) | paper r |", "|" + "---|" * 9, *rows, ""]


def search_table(path=SEARCH) -> list[str]:
    """Per network, every searched setting's dev MAE and the one chosen on it, with its test MAE."""
    runs = json.loads(path.read_text())["runs"] if path.exists() else {}
    lines = []
    for kind in NETWORKS:
        found = {name: r for name, r in runs.items() if name.startswith(f"{kind}_") and r["seeds"]
                 and "dev_score" in r["mean"]}
        if not found:
            continue
        chosen = min(found, key=lambda n: found[n]["mean"]["dev_score"])
        settings = {n: {k.rsplit(".", 1)[1]: v for k, v in r["params"].items() if k.startswith("models.")}
                    for n, r in found.items()}
        best = settings[chosen]
        default = next((n for n, s in settings.items() if s == {"layers": 1, "dropout": 0.2, "maxlen": 20}), None)
        lines.append(f"| {kind.upper()} | {len(found)} | layers {best['layers']}, dropout {best['dropout']}, maxlen "
                     f"{best['maxlen']} | {found[chosen]['mean']['dev_score']:.3f} "
                     f"| {found[chosen]['mean'].get('overall.mae', float('nan')):.3f} "
                     f"| {_fmt(found[default]['mean'].get('overall.mae')) if default else '-'} |")
    if not lines:
        return []
    return ["**Hyperparameter search** (4.4: layers {1, 2, 3} x dropout {0.1, 0.2} x maxlen {15, 20, 25, 30}, "
            "chosen on dev MAE; `williams_search` suite, trimodal):", "",
            "| network | settings run | chosen on dev | its dev MAE | its test MAE | default setting's test MAE |",
            "|" + "---|" * 6, *lines, ""]


def learning_checks(suite: dict, single: dict | None) -> list[str]:
    """The trimodal BLSTM against the train-mean predictor, every unimodal run and the bimodal runs."""
    tri = suite.get(("blstm", "A+V+T", False))
    if tri is not None:
        source, mae, r = (f"suite, {len(tri['seeds'])} seed(s)", tri["mean"]["overall.mae"],
                          tri["mean"]["overall.pcc_mean"])
        train_mean = tri["mean"].get("overall.train_mean_predictor_mae")
        others = {f"{k.upper()} {u}": run["mean"]["overall.mae"] for (k, u, onehot), run in suite.items()
                  if not onehot and u != "A+V+T"}
    elif single is not None:
        source, mae, r = f"`{single['run']}`, one seed", single["overall"]["mae"], single["overall"]["pcc_mean"]
        train_mean, others = single["overall"].get("train_mean_predictor_mae"), {}
    else:
        return []
    lines = [f"Checks ({source}): the trimodal BLSTM's test MAE {mae:.3f}, mean r {r:.3f} "
             f"({'at least' if r >= PCC_FLOOR else 'BELOW'} {PCC_FLOOR})."]
    if train_mean is not None:
        lines.append(f"- Train-mean predictor: {train_mean:.3f}: the BLSTM is "
                     f"{'below' if mae < train_mean else 'NOT below'} it.")
    unimodal = {n: v for n, v in others.items() if "+" not in n}
    beaten_by = sorted((n for n, v in others.items() if v < mae), key=others.get)
    if unimodal:
        lines.append(f"- Unimodal runs: {', '.join(f'{n} {v:.3f}' for n, v in sorted(unimodal.items()))}; "
                     + ("the trimodal BLSTM is below every one." if all(v > mae for v in unimodal.values()) else
                        "the trimodal BLSTM is NOT below every one."))
    if beaten_by:
        lines.append(f"- Runs with a lower test MAE than the trimodal BLSTM: "
                     f"{', '.join(f'{n} {others[n]:.3f}' for n in beaten_by)}.")
    return lines + [""]


def plot_intensities(table: pd.DataFrame, title: str, path=FIGURE) -> bool:
    """Figure 2: the distribution of log predicted intensities per emotion (with the gold
    intensities above 0 for reference); False when the table holds no intensities."""
    emotions = [c[:-5] for c in table.columns if c.endswith("_pred")]
    if not emotions:
        return False
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.5), sharex=True)
    bins = np.linspace(np.log10(0.01), np.log10(3.0), 31)
    for ax, emotion in zip(axes.flat, emotions):
        pred = np.clip(table[f"{emotion}_pred"].to_numpy(float), 0.01, None)
        gold = table[f"{emotion}_gold"].to_numpy(float)
        ax.hist(np.log10(pred), bins=bins, color="tab:orange", alpha=0.8, label="predicted")
        ax.hist(np.log10(gold[gold > 0]), bins=bins, histtype="step", color="black", label="gold (> 0)")
        ax.set_title(f"{WILLIAMS_EMOTION.get(emotion, emotion)} ({int((gold == 0).sum())} of {len(gold)} gold 0)",
                     fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("log10 intensity")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    save_figure(fig, path)
    return True


def figure_2(run: dict) -> list[str]:
    path = layout.REPORTS / "benchmark" / run["run"] / "test_predictions.csv"
    if not path.exists():
        return []
    title = f"{run['run']}: predicted intensities per emotion over the test sentences (Williams et al.'s Figure 2)"
    if not plot_intensities(pd.read_csv(path), title):
        return []
    return [f"**Figure 2**: the distribution of our trimodal BLSTM's log predicted intensities per emotion, "
            f"gold intensities above 0 outlined: ![Figure 2]({FIGURE.relative_to(layout.REPORTS)})", ""]


def williams_section(runs: list[dict], selected: dict) -> list[str]:
    """Tables 1-5, the search, the checks and Figure 2; [] when there is no Williams result."""
    single = trimodal_blstm(runs)
    suite = suite_runs()
    model_run = selected if str(selected.get("model", "")).startswith("williams_") else None
    if single is None and not suite and model_run is None:
        return []
    lines = ["## Williams et al. (CMU-MOSEI): six emotion intensities from word-aligned audio, video and text", "",
             "A = audio (ours: eGeMAPS LLD + MFCC, standing in for COVAREP), V = video (ours: the face stage's AUs, "
             "gaze and head pose at 25 fps, standing in for FACET at 30 Hz), T = text (GloVe; their text adds one-hot "
             "words: our `_onehot` runs), all averaged over each word's interval. Ours are on the synthetic corpus's "
             "sentences; the paper's are CMU-MOSEI, where most intensities are 0, so its MAEs are not a target our "
             "corpus can confirm.", ""]
    reference = single or model_run
    if reference is not None:
        lines += table_1(reference)
    lines += tables_2_to_4(runs, suite)
    if model_run is not None:
        lines += [f"The `model` run (`{model_run['model']}`, {modalities(model_run['features'])}): test MAE "
                  f"{model_run['overall']['mae']:.3f}, mean r {model_run['overall']['pcc_mean']:.3f}.", ""]
    if single is not None:
        lines += table_5(single)
    lines += search_table()
    lines += learning_checks(suite, single)
    if single is not None:
        lines += figure_2(single)
    return lines
