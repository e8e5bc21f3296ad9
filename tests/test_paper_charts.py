"""Each paper's bar chart pairs our number with the paper's for the same method and metric
(pipeline/paper_charts.py), from benchmark runs and gathered suites made up here, against the
published tables in pipeline/paper_results.py."""
import json

import pytest

from pipeline import paper_charts
from pipeline.paper_charts import Bar

TRIMODAL = {"a": {"stage": "egemaps_lld", "per": "word"}, "v": {"stage": "face", "per": "word"},
            "t": {"stage": "glove", "per": "word"}}


def suite(runs: dict) -> dict:
    """A gathered suite: run -> (params, mean, sd) over two seeds."""
    return {"paper": "x", "seeds": [7, 8], "missing": [], "failed": [],
            "runs": {name: {"params": params, "seeds": {"7": {}, "8": {}}, "mean": mean, "sd": sd}
                     for name, (params, mean, sd) in runs.items()}}


@pytest.fixture
def reports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "reports/suites"
    folder.mkdir(parents=True)
    (folder / "williams.json").write_text(json.dumps(suite({
        "blstm_avt": ({}, {"overall.mae": 0.22}, {"overall.mae": 0.02}),
        "lstm_avt_onehot": ({}, {"overall.mae": 0.3}, {"overall.mae": None})})))
    (folder / "raju.json").write_text(json.dumps(suite({
        "aed": ({"model": "raju_aed"}, {"arousal.ccc": 0.5, "valence.ccc": 0.4, "liking.ccc": 0.1}, {}),
        "aed_no_video": ({"model": "raju_aed"}, {"arousal.ccc": 0.3}, {})})))
    (folder / "emonet.json").write_text(json.dumps(suite({
        "transformer_ccc": ({"model": "emonet_transformer"}, {"valence.ccc": 0.45}, {"valence.ccc": 0.05}),
        "lstm_mse": ({"model": "emonet_lstm"}, {"valence.ccc": 0.54}, {"valence.ccc": 0.01})})))
    (folder / "tzirakis.json").write_text(json.dumps(suite({
        "audio": ({}, {"arousal.ccc": 0.45, "valence.ccc": 0.2}, {"arousal.ccc": 0.05}),
        "concat": ({}, {"arousal.ccc": 0.6, "valence.ccc": 0.5}, {}),
        "cross_modal_attention": ({}, {"arousal.ccc": 0.65, "valence.ccc": 0.55}, {})})))
    return tmp_path


RUNS = [
    {"run": "emonet_transformer_mse", "model": "emonet_transformer", "control": "none", "valence": {"ccc": 0.4}},
    {"run": "emonet_lstm_ccc", "model": "emonet_lstm", "control": "none", "valence": {"ccc": 0.5}},
    {"run": "shuffled", "model": "emonet_transformer", "control": "shuffled_words", "valence": {"ccc": 0.0}},
    {"run": "tri", "model": "williams_cnn", "features": TRIMODAL, "overall": {"mae": 0.2}},
    {"run": "xu_attention_align", "model": "xu_attention_align", "class": {"ua": 0.5, "wa": 0.6}},
    {"run": "gone", "model": "williams_lstm", "skipped": "no face"},
]


def test_every_bar_sets_our_number_beside_the_paper_s_for_the_same_method(reports):
    assert paper_charts.emonet_bars(RUNS) == [Bar("transformer_ccc (suite)", 0.45, 0.05, 0.47),  # mean +- sd
                                              Bar("lstm_mse (suite)", 0.54, 0.01),
                                              Bar("emonet_transformer_mse", 0.4, published=0.47),
                                              Bar("emonet_lstm_ccc", 0.5)]  # the paper prints no LSTM number
    assert paper_charts.williams_bars(RUNS) == [Bar("blstm A+V+T", 0.22, 0.02, 0.132),  # Table 4
                                                Bar("lstm A+V+T one-hot", 0.3),  # their text has both: no pair
                                                Bar("tri", 0.2, published=0.134)]
    assert paper_charts.xu_bars(RUNS) == [Bar("Proposed (learned alignment) (xu_attention_align)", 50.0,
                                                       published=70.9)]
    raju = {b.label: b for b in paper_charts.raju_bars(RUNS)}
    assert raju["aed arousal"] == Bar("aed arousal", 0.5, None, 0.637)  # Table I, German + Hungarian, AED
    assert raju["aed liking"].published == 0.062 and raju["aed_no_video arousal"].published is None
    tzirakis = {b.label: b for b in paper_charts.tzirakis_bars()}
    assert tzirakis["audio arousal"] == Bar("audio arousal", 0.45, 0.05, 0.456)  # Table 3, test
    assert tzirakis["cross_modal_attention valence"].published == 0.783  # Table 7, test
    assert tzirakis["concat arousal"].published is None  # Table 6 is a development table


def test_each_paper_with_results_gets_a_drawn_chart_and_its_report_line(reports):
    (reports / "reports/plots/report").mkdir(parents=True)
    (reports / "reports/benchmark/xu_attention_align").mkdir(parents=True)
    (reports / "reports/benchmark/xu_attention_align/test_predictions.csv").write_text(
        "session,start,class_gold,class_pred\nb,0.5,sad,sad\nb,3.0,happy,sad\na,0.4,sad,happy\n")
    charts = paper_charts.paper_charts(RUNS)
    assert set(charts) == {"emonet", "williams", "xu", "raju", "tzirakis"}
    assert "![Williams et al.](plots/report/williams_vs_published.png)" in charts["williams"][0]
    assert "3 of 3 bars have a published counterpart" not in charts["williams"][0]
    assert "2 of 3 bars have a published counterpart" in charts["williams"][0]
    for paper in charts:
        assert (reports / f"reports/plots/report/{paper}_vs_published.png").stat().st_size > 5_000
    # the headline run's predictions over its first test session, where the run wrote them
    assert "**Headline run `xu_attention_align`**, test session a" in charts["xu"][2]
    assert (reports / "reports/plots/report/xu_headline_predictions.png").stat().st_size > 5_000
    assert len(charts["williams"]) == 2  # its headline run is not among these runs: no second figure
    assert len(charts["raju"]) == 2  # the suite names no headline experiment
    # a suite's headline experiment: the predictions its gather took from the experiment's commit
    raju = json.loads((reports / "reports/suites/raju.json").read_text())
    raju["headline"] = {"run": "aed", "seed": 8, "predictions": "reports/suites/raju_headline_predictions.csv"}
    (reports / "reports/suites/raju.json").write_text(json.dumps(raju))
    (reports / "reports/suites/raju_headline_predictions.csv").write_text(
        "session,start,arousal_gold,arousal_pred,valence_gold,valence_pred\n" +
        "".join(f"s1,{t / 10},{t / 50},{t / 40},0.1,0.2\n" for t in range(40)))
    lines = paper_charts.paper_charts(RUNS)["raju"]
    assert lines[2].startswith("**Headline run `aed` (the `raju` suite's experiment, seed 8)**, test session s1")
    assert (reports / "reports/plots/report/raju_headline_predictions.png").stat().st_size > 5_000
    assert len(lines) == 4  # no headline figures gathered
    # the pictures the headline experiment drew, as gather copied them: one line each, linked from reports/
    raju["headline"]["figures"] = ["reports/suites/raju_headline_fusion_attention.png",
                                   "reports/suites/raju_headline_gone.png"]  # deleted since: no line
    (reports / "reports/suites/raju.json").write_text(json.dumps(raju))
    (reports / "reports/suites/raju_headline_fusion_attention.png").write_bytes(b"\x89PNG")
    lines = paper_charts.paper_charts(RUNS)["raju"]
    assert lines[4] == ("**Headline run `aed`, fusion attention** (seed 8): "
                        "![fusion attention](suites/raju_headline_fusion_attention.png)")
    assert len(lines) == 6
    for gathered in (reports / "reports/suites").glob("*.json"):
        gathered.unlink()
    assert set(paper_charts.paper_charts(RUNS[4:])) == {"xu"}  # no result of a paper: no chart
