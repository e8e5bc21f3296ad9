"""Which `enabled: auto` feature stages compute: those a run of the repro reads, by whichever path
it reads them; the stages that do not say `auto` whatever the runs (pipeline/feature_demand.py)."""
import json

import pytest

from pipeline import features, layout
from pipeline.config import ParamsError
from pipeline.feature_demand import demand, stages_read
from pipeline.sequences import require_features
from pipeline.params_check import check_params

MODELS = {"lstm": {"features": ["egemaps"]}, "emonet_lstm": {"features": ["glove"]},
          "modality_lstm": {"features": {"audio": ["deep_spectrum"], "video": ["face_boaw"]}},
          "williams_blstm": {"features": {"audio": {"stage": "boaw", "per": "word"}}}}


def params(model="lstm", benchmark=None, pretrain=None) -> dict:
    return {"model": model, "models": MODELS, "benchmark": benchmark or {}, "pretrain": pretrain or {},
            "features": {"egemaps": {}, "glove": {}, "face": {"enabled": True}, "deep_spectrum": {"enabled": "auto"},
                         "boaw": {"enabled": "auto"}, "waveform": {"enabled": False}},
            "derived_features": {"face_boaw": {"extractor": "face_boaw", "source": "face"}}}


def computed(p: dict) -> set[str]:
    return {key for key, entry in demand(p).items() if entry.get("computed")}


def test_an_auto_stage_computes_only_when_a_run_reads_it():
    assert computed(params()) == set()
    assert "computed" not in demand(params())["egemaps"]  # not auto: no word about runs
    # `model`, by its inputs (named, and per word)
    assert computed(params(model="modality_lstm")) == {"deep_spectrum"}
    assert computed(params(model="williams_blstm")) == {"boaw"}
    # a benchmark run: by its model's inputs, or by its own `features`
    assert computed(params(benchmark={"r": {"model": "modality_lstm"}})) == {"deep_spectrum"}
    assert computed(params(benchmark={"r": {"model": "lstm", "features": ["boaw"]}})) == {"boaw"}
    # a pretrain run, only when it trains for `model`
    pretrain = {"first": {"model": "lstm", "features": ["deep_spectrum"], "for": ["emonet_lstm"]}}
    assert computed(params(pretrain=pretrain)) == set()
    assert computed(params(model="emonet_lstm", pretrain=pretrain)) == {"deep_spectrum"}


def test_a_derived_stage_that_is_read_needs_its_source():
    p = params(benchmark={"r": {"model": "lstm", "features": ["face_boaw"]}})
    p["features"]["face"]["enabled"] = "auto"
    assert "face" in stages_read(p) and computed(p) == {"face"}
    p["benchmark"] = {"r": {"model": "lstm"}}  # face_boaw read by no run: its source neither
    assert computed(p) == set() and demand(p)["face"]["computed"] is False


def test_what_a_stage_that_is_not_auto_holds_does_not_depend_on_the_runs():
    """Its features@ stage depends on the file: another run must not re-run it."""
    for key in ("egemaps", "face", "waveform"):
        assert demand(params())[key] == demand(params(model="modality_lstm", benchmark={
            "r": {"model": "lstm", "features": [key]}}))[key]
    assert demand(params())["waveform"] == {"enabled": False}


def test_the_reason_names_neither_run_nor_reader():
    """The same words whatever the runs: a changed run that still does not read it re-runs nothing."""
    assert demand(params())["boaw"] == demand(params(model="emonet_lstm", benchmark={"r": {"model": "lstm"}}))["boaw"]
    assert "dvc exp run -S model=" in demand(params())["boaw"]["why"]


def test_an_auto_stage_that_nothing_reads_writes_why_without_its_extractor(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = params()
    layout.FEATURE_DEMAND.mkdir(parents=True)
    for key, entry in demand(p).items():
        layout.feature_demand_file(key).write_text(json.dumps(entry))
    monkeypatch.setattr(features, "load_params", lambda: {**p, "engine": {"kind": "local"}})
    monkeypatch.setattr(features, "check_extractor", lambda name, cfg: None)
    monkeypatch.setattr(features, "load_corpus", lambda: type("Corpus", (), {"sessions": [1, 2]})())
    monkeypatch.setattr(features, "extractor_module", lambda name: pytest.fail("the extractor was imported"))
    layout.WINDOWS.mkdir(parents=True)
    (layout.WINDOWS / "windows.csv").write_text("session,split,index,start,end\n")
    features.main(["deep_spectrum"])
    meta = json.loads((layout.FEATURES / "deep_spectrum/meta.json").read_text())
    assert "enabled is auto and no run of this repro reads it" in meta["skipped"] and meta["sessions"] == 2
    # a run reading it fails, naming what to run: skipping it, as for features the corpus cannot give, would hide it
    with pytest.raises(ValueError, match=r"left out: features.deep_spectrum.enabled is auto.*dvc repro feature_demand"):
        require_features(["egemaps", "deep_spectrum"])


def test_an_auto_stage_without_its_demand_file_says_which_stage_decides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="dvc repro feature_demand"):
        features.auto_skipped("deep_spectrum")


def test_auto_is_for_features_stages_only():
    from pipeline.config import load_params

    p = load_params()
    p["features"]["mfcc"]["enabled"] = "auto"
    check_params(p)
    p["features"]["mfcc"]["enabled"] = "sometimes"
    with pytest.raises(ParamsError, match="features.mfcc.enabled"):
        check_params(p)
    p = load_params()
    p["unit_features"]["mfcc_raju"]["config"] = {"enabled": "auto"}
    with pytest.raises(ParamsError, match="unit_features.mfcc_raju.config.enabled = auto"):
        check_params(p)
    p = load_params()
    p["derived_features"]["face_boaw"]["enabled"] = "auto"
    with pytest.raises(ParamsError, match="derived_features.face_boaw.enabled"):
        check_params(p)
