"""Each paper's figures for reports/report.md: a bar chart of our test numbers beside the
published ones, and its headline run's test predictions over time.

The report stage (pipeline/report.py) calls `paper_charts` and puts each chart under its
paper's section. A bar pair is one of the paper's numbers and ours for the same method and
metric: a gathered suite's mean +- sd over seeds (an error bar) where there is one, else a
single benchmark run; methods the paper gives no number for show our bar alone. Published
numbers come from the papers' real corpora (pipeline/paper_results.py): a reference point, not a
target the synthetic corpus can confirm. Only test numbers are set beside test numbers (Tzirakis
et al.'s fusion table is a development table: their proposed model's test numbers stand in).
"""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import layout
from pipeline.figures import pyplot, save_figure
from pipeline.paper_results import (PAPER_RESULTS, RAJU_CCC, RAJU_COLUMNS, RAJU_METHOD, TZIRAKIS_MULTIMODAL,
                                    TZIRAKIS_UNIMODAL, WILLIAMS_MAE, XU_METHOD, XU_WA_UA, modalities)
from pipeline.williams_report import suite_runs

PROPOSED_FUSION = "cross_modal_attention"  # Tzirakis et al.'s model of Table 7
# the benchmark run whose test predictions each paper's section draws over time; Raju et al.'s and
# Tzirakis et al.'s headline runs are suite experiments: their suite's `headline` (suite_headline)
HEADLINE_RUN = {"emonet": "emonet_transformer_ccc", "williams": "williams_blstm_trimodal", "xu": "xu_attention_align"}


@dataclass(frozen=True)
class Bar:
    label: str
    ours: float | None
    sd: float | None = None  # over seeds, for a suite's run
    published: float | None = None


def _gathered(paper: str) -> dict:
    """reports/suites/<paper>.json, or {} before the suite is gathered."""
    path = layout.REPORTS / "suites" / f"{paper}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _suite(paper: str) -> dict:
    return {name: r for name, r in _gathered(paper).get("runs", {}).items() if r["seeds"]}


def _from_suite(run: dict, key: str, scale: float = 1.0) -> tuple[float | None, float | None]:
    if key not in run["mean"]:
        return None, None
    sd = run["sd"].get(key)
    return run["mean"][key] * scale, None if sd is None else sd * scale


def _valid(runs: list[dict], prefix: str) -> list[dict]:
    return [m for m in runs if "skipped" not in m and str(m.get("model", "")).startswith(prefix)]


def emonet_bars(runs: list[dict]) -> list[Bar]:
    """Valence test CCC of the EmoNet suite's runs, then of every EmoNet benchmark run (the paper
    prints a number for the Transformer only)."""
    def published(model: str | None) -> float | None:
        return PAPER_RESULTS.get(model, {}).get("ccc")

    bars = [Bar(f"{name} (suite)", *_from_suite(run, "valence.ccc"), published(run["params"].get("model")))
            for name, run in _suite("emonet").items()]
    return bars + [Bar(m["run"], m["valence"]["ccc"], published=published(m["model"]))
                   for m in _valid(runs, "emonet_") if m.get("control", "none") == "none" and "valence" in m
                   and "ccc" in m["valence"]]


def williams_bars(runs: list[dict]) -> list[Bar]:
    """Overall test MAE by network and modalities (Tables 2-4)."""
    bars = []
    for (network, mods, onehot), run in sorted(suite_runs().items()):
        mean, sd = _from_suite(run, "overall.mae")
        bars.append(Bar(f"{network} {mods}{' one-hot' if onehot else ''}", mean, sd,
                        None if onehot else WILLIAMS_MAE.get((network, mods))))
    for m in _valid(runs, "williams_"):
        network, mods = m["model"].removeprefix("williams_"), modalities(m["features"])
        bars.append(Bar(f"{m['run']}", m["overall"]["mae"], published=WILLIAMS_MAE.get((network, mods))))
    return bars


def xu_bars(runs: list[dict]) -> list[Bar]:
    """UA in % by method, oracle text (Table 2); a k-fold run's mean over folds."""
    bars = []
    for name, run in _suite("xu").items():
        model = run["params"].get("model")
        if model in XU_METHOD and "fold_mean.class.ua" in run["mean"]:
            mean, sd = _from_suite(run, "fold_mean.class.ua", 100)
            bars.append(Bar(f"{XU_METHOD[model]} (suite)", mean, sd, XU_WA_UA[model].get("oracle", (None, None))[1]))
    for m in runs:
        if "skipped" not in m and m.get("model") in XU_METHOD:
            ua = m["fold_mean"]["class"]["ua"] if "fold_mean" in m else m["class"]["ua"]
            bars.append(Bar(f"{XU_METHOD[m['model']]} ({m['run']})", ua * 100,
                            published=XU_WA_UA[m["model"]].get("oracle", (None, None))[1]))
    return bars


def raju_bars(runs: list[dict]) -> list[Bar]:
    """CCC per dimension over all test windows (German + Hungarian in Table I) for each method."""
    def paper(model: str, dim: str) -> float | None:
        if model not in RAJU_METHOD:
            return None
        return RAJU_CCC[(dim, "German + Hungarian")][RAJU_COLUMNS.index(RAJU_METHOD[model])]

    bars = []
    for name, run in _suite("raju").items():
        model = run["params"].get("model", "")
        for dim in ("arousal", "valence", "liking"):
            mean, sd = _from_suite(run, f"{dim}.ccc")
            bars.append(Bar(f"{name} {dim}", mean, sd, paper(model, dim) if "no_video" not in name else None))
    for m in _valid(runs, "raju_"):
        bars += [Bar(f"{m['run']} {dim}", m[dim]["ccc"], published=paper(m["model"], dim))
                 for dim in ("arousal", "valence", "liking") if dim in m]
    return bars


def tzirakis_bars() -> list[Bar]:
    """Test CCC of arousal and valence: the unimodal networks (Tables 3-5) and the fusions (Table 7
    gives the proposed one's test numbers)."""
    bars = []
    for name, run in _suite("tzirakis").items():
        for j, dim in enumerate(("arousal", "valence")):
            mean, sd = _from_suite(run, f"{dim}.ccc")
            published = (TZIRAKIS_UNIMODAL[name]["test"][j] if name in TZIRAKIS_UNIMODAL
                         else TZIRAKIS_MULTIMODAL["test"][j] if name == PROPOSED_FUSION else None)
            bars.append(Bar(f"{name} {dim}", mean, sd, published))
    return bars


def draw(bars: list[Bar], metric: str, title: str, path, lower_is_better: bool = False) -> None:
    plt = pyplot()
    x = np.arange(len(bars))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(bars) + 2), 4))
    ours = [np.nan if b.ours is None else b.ours for b in bars]
    sd = [0.0 if b.sd is None else b.sd for b in bars]
    ax.bar(x - 0.2, ours, 0.4, yerr=sd, capsize=2, color="tab:blue", label="ours (synthetic corpus)")
    published = [np.nan if b.published is None else b.published for b in bars]
    ax.bar(x + 0.2, published, 0.4, color="lightgray", edgecolor="black", hatch="//", label="published")
    ax.set_xticks(x, [b.label for b in bars], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(metric + (" (lower is better)" if lower_is_better else ""))
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def suite_headline(paper: str) -> tuple[str, str, Path] | None:
    """(run, how the report names it, predictions file) of a gathered suite's headline experiment,
    or None."""
    headline = _gathered(paper).get("headline")
    if not headline:
        return None
    return (headline["run"], f"`{headline['run']}` (the `{paper}` suite's experiment, seed {headline['seed']})",
            Path(headline["predictions"]))


def suite_headline_figures(paper: str) -> list[str]:
    """The report's lines showing the pictures a gathered suite's headline experiment drew (its
    headline_figures, e.g. Tzirakis et al.'s attention over words and over modalities)."""
    headline = _gathered(paper).get("headline") or {}
    lines = []
    for figure in map(Path, headline.get("figures", [])):
        if figure.is_file():
            name = figure.stem.removeprefix(f"{paper}_headline_").replace("_", " ")
            lines += [f"**Headline run `{headline['run']}`, {name}** (seed {headline['seed']}): "
                      f"![{name}]({figure.relative_to(layout.REPORTS).as_posix()})", ""]
    return lines


def plot_headline(run: str, path, source: Path | None = None) -> str | None:
    """The run's predictions and gold labels over the first test session (one panel per target;
    a classifier's classes per unit); the session drawn, or None without predictions. `source`:
    the predictions file, by default the benchmark run's."""
    source = source or layout.REPORTS / "benchmark" / run / "test_predictions.csv"
    if not source.exists():
        return None
    table = pd.read_csv(source)
    session = sorted(table.session.unique())[0]
    rows = table[table.session == session]
    targets = [c[:-5] for c in rows.columns if c.endswith("_pred")]
    plt = pyplot()
    fig, axes = plt.subplots(len(targets), 1, figsize=(10, 1.6 + 1.2 * len(targets)), sharex=True, squeeze=False)
    for ax, target in zip(axes[:, 0], targets):
        gold, pred = rows[f"{target}_gold"], rows[f"{target}_pred"]
        style = {"marker": "o", "linestyle": "-" if len(rows) > 30 else ":"}
        ax.plot(rows.start, gold, color="black", label="gold", **style)
        ax.plot(rows.start, pred, color="tab:orange", label="predicted", **style)
        ax.set_ylabel(target, fontsize=8)
    axes[0, 0].legend(fontsize=8, loc="best")
    axes[-1, 0].set_xlabel("unit start (s)")
    fig.suptitle(f"{run}: test session {session}", fontsize=9)
    save_figure(fig, path)
    return session


CHARTS = {  # paper -> (bars from the benchmark runs, metric, lower is better)
    "emonet": (emonet_bars, "valence test CCC", False),
    "williams": (williams_bars, "overall test MAE", True),
    "xu": (xu_bars, "test UA (%)", False),
    "raju": (raju_bars, "test CCC", False),
    "tzirakis": (lambda runs: tzirakis_bars(), "test CCC", False),
}
TITLES = {"emonet": "EmoNet", "williams": "Williams et al.", "xu": "Xu et al.", "raju": "Raju et al.",
          "tzirakis": "Tzirakis et al."}


def paper_charts(runs: list[dict]) -> dict[str, list[str]]:
    """paper -> the report's lines showing its chart (drawn into reports/plots/report/); a paper
    without a result of ours gets none."""
    charts = {}
    for paper, (bars_of, metric, lower) in CHARTS.items():
        bars = [b for b in bars_of(runs) if b.ours is not None]
        if not bars:
            continue
        path = layout.REPORT_PLOTS / f"{paper}_vs_published.png"
        draw(bars, metric, f"{TITLES[paper]}: ours (mean +- sd over seeds for a suite's runs) and published", path,
             lower)
        compared = sum(b.published is not None for b in bars)
        charts[paper] = [f"**Ours beside the published numbers** ({metric}; {compared} of {len(bars)} bars have a "
                         f"published counterpart): ![{TITLES[paper]}]({path.relative_to(layout.REPORTS)})", ""]
        run = HEADLINE_RUN.get(paper)
        trained = run in {m["run"] for m in runs if "skipped" not in m}
        headline = (run, f"`{run}`", None) if trained else suite_headline(paper)
        over_time = layout.REPORT_PLOTS / f"{paper}_headline_predictions.png"
        if headline and (session := plot_headline(headline[0], over_time, headline[2])):
            charts[paper] += [f"**Headline run {headline[1]}**, test session {session}, predicted and gold: "
                              f"![{headline[0]}]({over_time.relative_to(layout.REPORTS).as_posix()})", ""]
        if not trained:
            charts[paper] += suite_headline_figures(paper)
    return charts
