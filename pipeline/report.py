"""Stage `report`: one table of every benchmark run beside the papers' numbers.

Reads:  reports/benchmark/<run>/metrics.json for every run in params `benchmark`, reports/corpus.json,
        reports/metrics.json (the `model` run: its paper's table shows it too), reports/suites/<paper>.json
        (gathered suites: pipeline/suite.py), reports/benchmark/<run>/test_predictions.csv (figures);
        each paper's chart of ours beside the published numbers: pipeline/paper_charts.py;
        Williams et al.'s section: pipeline/williams_report.py; Raju et al.'s: pipeline/raju_report.py;
        Tzirakis et al.'s: pipeline/tzirakis_report.py
Writes: reports/report.md, reports/plots/report/*.png (the figures it shows) and
        reports/plots/report/figures.json (their names: the folder is never empty, which git could not
        hold, and a clone checks out as DVC recorded it)
Run:    python -m pipeline.report
"""
import json
import logging

from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.params_check import check
from pipeline.model_inputs import feature_stages
from pipeline.paper_charts import paper_charts
from pipeline.raju_report import raju_section
from pipeline.tzirakis_report import tzirakis_section
from pipeline.williams_report import williams_section
from pipeline.paper_results import PAPER_RESULTS, XU_METHOD, XU_WA_UA
from pipeline.protocol_table import protocol_table
from training.tasks import headline

log = logging.getLogger("report")

def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def other_runs_table(runs: list[dict]) -> list[str]:
    """Runs of the other tasks (classification: WA/UA; intensities; utterance dimensions) and
    runs skipped on this corpus."""
    lines = []
    for m in runs:
        if "skipped" in m:
            lines.append(f"- `{m['run']}` ({m['model']}): skipped: {m['skipped']}")
        elif m.get("task", "continuous") != "continuous":
            refit = m.get("refit")  # which protocol made the number: the selected setting retrained on train+dev
            protocol = (f" (refit on train+dev: {', '.join(f'{k} {v:g}' for k, v in refit.items() if k != 'on')})"
                        if refit else "")
            lines.append(f"- `{m['run']}` ({m['model']}): {headline(m)} over {m['windows']} test units{protocol}")
    return lines


def group_table(runs: list[dict]) -> list[str]:
    """Each run's test scores per speaker group, when the test split holds several groups."""
    rows = [f"| {m['run']} | {group} | {g['sessions']} | {headline({**g, 'task': m['task']})} |"
            for m in runs if "groups" in m for group, g in m["groups"].items()]
    if not rows:
        return []
    return ["Per speaker group (the same metrics over each group's test sessions):", "",
            "| run | group | test sessions | test scores |", "|---|---|---|---|", *rows, ""]


def benchmark_table(runs: list[dict]) -> list[str]:
    lines = ["| run | model | loss | control | target | test CCC (concatenated windows) | per-session CCC (mean +- sd) "
             "| human per-session CCC (ours) | paper CCC | paper human | note |", "|" + "---|" * 11]
    for m in runs:
        if "skipped" in m or m.get("task", "continuous") != "continuous":
            continue
        targets = [k for k, v in m.items() if isinstance(v, dict) and "ccc" in v]
        paper = PAPER_RESULTS.get(m["model"], {})
        for target in targets:
            t = m[target]
            from_paper = paper if paper.get("target") == target else {}
            lines.append(f"| {m['run']} | {m['model']} | {m['loss']} | {m['control']} | {target} | {_fmt(t['ccc'])} "
                         f"| {t['ccc_session_mean']:.3f} +- {t['ccc_session_std']:.3f} "
                         f"| {_fmt(t.get('human_baseline_ccc'))} | {_fmt(from_paper.get('ccc'))} "
                         f"| {_fmt(from_paper.get('human'))} | {from_paper.get('note', '')} |")
    return lines


def _wa_ua(m: dict) -> tuple[str, str]:
    """WA and UA of a categorical run: mean +- sd over folds (with the pooled value) for a k-fold
    run, else the test split's."""
    if "fold_mean" in m:
        return tuple(f"{m['fold_mean']['class'][k]:.3f} +- {m['fold_sd']['class'][k]:.3f} (pooled {m['class'][k]:.3f})"
                     for k in ("wa", "ua"))
    return tuple(f"{m['class'][k]:.3f}" for k in ("wa", "ua"))


def text_source(features, params: dict) -> str:
    """"ASR" when a run reads a text stage over the recogniser's words, else "oracle"."""
    for stage in feature_stages(features):
        entry = (params.get("unit_features") or {}).get(stage)
        cfg = (entry.get("config") or {}) if entry else (params.get("features") or {}).get(stage) or {}
        if cfg.get("words") == "recognised":
            return "ASR"
    return "oracle"


def _paper_wa_ua(model: str, source: str) -> str:
    wa_ua = XU_WA_UA.get(model, {}).get("asr" if source == "ASR" else "oracle")
    return f"{wa_ua[0]:.1f} / {wa_ua[1]:.1f}" if wa_ua else "-"


def recognition_line() -> list[str]:
    if not layout.RECOGNITION_REPORT.exists():
        return []
    r = json.loads(layout.RECOGNITION_REPORT.read_text())
    if "skipped" in r:
        return [f"Recognised (ASR) text: not computed ({r['skipped']}).", ""]
    return [f"Recognised (ASR) text: word error rate {r['wer']:.3f} over {r['reference_words']} transcript words "
            f"({r['recogniser']}; the paper's recogniser: 0.147 on IEMOCAP).", ""]


def xu_table(runs: list[dict], params: dict) -> list[str]:
    """Xu et al.'s Tables 1-2 beside ours: WA and UA of four classes, oracle or recognised text."""
    rows = []
    for m in runs:
        if "skipped" in m or m["model"] not in XU_METHOD:
            continue
        folds, source = m.get("protocol", {}).get("folds"), text_source(m["features"], params)
        wa, ua = _wa_ua(m)
        rows.append(f"| {XU_METHOD[m['model']]} | {source} | {m['run']} | "
                    f"{f'speaker {folds}-fold' if folds else 'corpus split'} | {wa} | {ua} | "
                    f"{m['class']['chance_ua']:.2f} | {_paper_wa_ua(m['model'], source)} |")
    suite_path = layout.REPORTS / "suites" / "xu.json"
    if suite_path.exists():
        suite = json.loads(suite_path.read_text())
        for run, r in suite["runs"].items():
            model = r["params"].get("model")
            mean, sd = r["mean"], r["sd"]
            if model not in XU_METHOD:
                continue
            # speaker k-fold experiments give the mean over folds; the `corpus_split` profile's, the split's.
            # Seeds of both (one gather over two profiles' experiments) share only the pooled keys: not averaged
            k_fold = {"fold_mean" in metrics for metrics in r["seeds"].values()}
            if len(k_fold) > 1:
                rows.append(f"| {XU_METHOD[model]} | - | suite xu/{run} ({len(r['seeds'])} seeds) | seeds of two "
                            f"protocols (speaker k-fold and corpus split): gather each profile's apart | - | - | "
                            f"0.25 | - |")
                continue
            prefix, protocol = (("fold_mean.class", "speaker k-fold, mean over folds") if any(k_fold)
                                else ("class", "corpus split"))
            if f"{prefix}.ua" not in mean:
                continue
            wa, ua = (f"{mean[f'{prefix}.{k}']:.3f} +- {sd.get(f'{prefix}.{k}') or 0:.3f}" for k in ("wa", "ua"))
            overridden = {k: v for k, v in r["params"].items() if ".features." in k and v}  # e.g. its text input
            source = "ASR" if any(text_source({"input": v}, params) == "ASR" for v in overridden.values()) else "oracle"
            rows.append(f"| {XU_METHOD[model]} | {source} | suite xu/{run} ({len(r['seeds'])} seeds) | {protocol} | "
                        f"{wa} | {ua} | 0.25 | {_paper_wa_ua(model, source)} |")
    if not rows:
        return []
    return ["## Xu et al. (IEMOCAP): four classes, WA and UA", "",
            "Paper: Tables 1 (ASR text) and 2 (oracle text), leave-one-session-out on IEMOCAP, in %. Ours: the "
            "synthetic corpus's sentences with oracle text (the transcript's words and their forced alignment) or ASR "
            "text (the recognise stage's words); a k-fold run gives the mean +- sd over its speaker folds and the "
            "metric over all folds' pooled test predictions; a suite row gives the mean +- sd over seeds of each "
            "seed's mean over folds (speaker k-fold) or of its test metric (corpus split).", "", *recognition_line(),
            "| method | text | run | protocol | WA | UA | chance UA | paper WA / UA (same text) |", "|" + "---|" * 8,
            *rows, ""]


def headline_numbers(mean: dict, sd: dict) -> list[str]:
    """The headline metrics of a gathered run, mean +- sd over its seeds (dotted metric paths)."""
    keys = [k for k in mean if k.endswith((".ccc", ".ua", ".wa")) or k in ("overall.mae", "overall.pcc_mean")]
    keys = [k for k in keys if not k.startswith("groups.")]
    return [f"{k} {mean[k]:.3f} +- {'-' if sd.get(k) is None else f'{sd[k]:.3f}'}" for k in keys]


def suite_sections() -> list[str]:
    """One section per gathered suite: every run's headline metrics, mean +- sd over seeds."""
    lines = []
    for path in sorted((layout.REPORTS / "suites").glob("*.json")):
        suite = json.loads(path.read_text())
        lines += [f"## Suite `{suite['paper']}` ({len(suite['seeds'])} seeds: {suite['seeds']})", "",
                  "| run | params | seeds done | test metrics (mean +- sd over seeds) |", "|---|---|---|---|"]
        for run, r in suite["runs"].items():
            params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
            lines.append(f"| {run} | {params} | {len(r['seeds'])} | {'; '.join(headline_numbers(r['mean'], r['sd']))} |")
        for kind in ("missing", "failed"):
            if suite[kind]:
                lines.append(f"\n{kind.capitalize()} experiments: {', '.join(suite[kind])}")
        earlier = sorted({seed for seeds in (suite.get("earlier_seeds") or {}).values() for seed in seeds}, key=int)
        if earlier:  # pipeline/suite.py --keep-earlier: experiments of another commit, machine or clone
            lines.append(f"\nSeed(s) {', '.join(earlier)} of {len(suite['earlier_seeds'])} runs: from an earlier "
                         "gather (experiments of another commit or clone, same params), the others from this "
                         "commit's experiments.")
        lines.append("")
    return lines


def main() -> None:
    params = load_params()
    check(params, "benchmark")
    paths = [layout.REPORTS / "benchmark" / run / "metrics.json" for run in section(params, "benchmark")]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"benchmark results missing: {', '.join(missing)}: run the benchmark stages first")
    runs = [json.loads(p.read_text()) for p in paths]
    corpus = json.loads(layout.CORPUS_REPORT.read_text())
    lines = ["# Benchmark report", "",
             f"Corpus `{corpus['corpus']}` ({corpus['source']}): {corpus['sessions']} sessions, "
             f"{corpus['hours']} h; test split {corpus['splits']['test']['sessions']} sessions of "
             f"{corpus['splits']['test']['speakers']} unseen speakers. Test CCC is over the concatenated test "
             "windows; per-session CCC is averaged over test sessions. The human baseline is each annotator's "
             "CCC against the mean of the others within a session, averaged over the test split's sessions and "
             "annotators (EmoNet's definition): compare it with the per-session CCC. Paper numbers come "
             "from a different (real) corpus: they are a reference point, not a target this synthetic corpus "
             "can confirm.", "", *benchmark_table(runs), ""]
    layout.REPORT_PLOTS.mkdir(parents=True, exist_ok=True)
    for stale in layout.REPORT_PLOTS.glob("*.png"):  # each figure is drawn anew, or not shown at all
        stale.unlink()
    charts = paper_charts(runs)
    lines += charts.get("emonet", [])
    others = other_runs_table(runs)
    lines += [*others, ""] if others else []
    lines += group_table(runs)
    lines += protocol_table(section(params, "benchmark"), runs)
    selected = json.loads(layout.METRICS.read_text()) if layout.METRICS.exists() else {}
    lines += williams_section(runs, selected) + charts.get("williams", [])
    if selected.get("model") in XU_METHOD:  # `dvc exp run -S model=xu_...`: the train/evaluate stages' run too
        selected["run"] = "model (train/evaluate)"
    lines += xu_table(runs + ([selected] if selected.get("model") in XU_METHOD else []), params) + charts.get("xu", [])
    lines += raju_section(runs, selected) + charts.get("raju", [])
    lines += tzirakis_section(selected) + charts.get("tzirakis", [])
    lines += suite_sections()
    (layout.REPORTS / "report.md").write_text("\n".join(lines))
    figures = sorted(p.name for p in layout.REPORT_PLOTS.glob("*.png"))
    (layout.REPORT_PLOTS / "figures.json").write_text(json.dumps({"figures": figures}, indent=1) + "\n")
    log.info("wrote reports/report.md with %d runs", len(runs))


if __name__ == "__main__":
    run_stage(main)
