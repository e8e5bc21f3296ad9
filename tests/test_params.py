"""params.yaml agrees with the code that reads it, and every bad value is named with its allowed range."""
import copy
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from models import list_models
from pipeline import params_check
from pipeline.config import ParamsError, load_params, run_stage

ROOT = Path(__file__).resolve().parents[1]


def test_every_registered_model_has_hyperparameters_and_vice_versa():
    # dvc.yaml's train stage reads models.${model}: a model without an entry cannot be selected
    assert sorted(load_params()["models"]) == list_models()


def test_default_corpus_is_the_size_the_design_asks_for():
    params = load_params()
    default = params["corpora"][params["corpus"]]
    assert default["speakers"] >= 8 and default["speakers"] * default["sessions_per_speaker"] >= 30
    assert default["session_seconds"] >= 60


# ---------------------------------------------------------------- params_check: every group, named errors


def with_value(dotted: str, value) -> dict:
    """The committed params with one key set (as `dvc exp run -S dotted=value` would)."""
    params = copy.deepcopy(load_params())
    *parents, key = dotted.split(".")
    node = params
    for name in parents:
        node = node[name]
    node[key] = value
    return params


def test_the_committed_params_pass_every_check():
    params_check.check_params(load_params())


@pytest.mark.parametrize("group, dotted, value, allowed", [
    # the examples: each failed inside a library with no param name
    ("train", "train.epochs", 0, "an integer >= 1"),
    ("train", "train.batch_size", 0, "an integer >= 1"),
    ("features.boaw", "features.boaw.codebook_size", 0, "an integer >= 1"),
    ("train", "train.lr", -1, "a number > 0"),
    # a few other groups
    ("train", "train.device", "gpu", "auto, cpu, cuda or cuda:<index>"),
    ("train", "train.control", "shuffle", "one of none, shuffled_words"),
    ("train", "train.refit", "train+dev", "one of none, train_dev"),
    ("features.boaw", "features.boaw.assignments", 101, "an integer in [1, codebook_size = 100]"),
    ("features.mfcc", "features.mfcc.n_mfcc", 80, "an integer in [1, 40]"),
    ("features.face", "features.face.min_face_fraction", 1.5, "a number in [0, 1]"),
    ("features.face", "features.face.on_no_face", "skip", "one of error, mask"),
    ("features.face_deep", "features.face_deep.sample_fps", 0, "a number > 0"),
    ("features.glove", "features.glove.oov", "drop", "one of zero, mean"),
    ("derived_features.face_boaw", "derived_features.face_boaw.max_fit_frames", 10,
     "an integer >= codebook_size = 100"),
    ("derived_features.face_boaw_raju", "derived_features.face_boaw_raju.unit", "nowhere",
     "one of windows, sentences, raju"),
    ("derived_features.face_boaw_raju", "derived_features.face_boaw_raju.extractor", "face", "one of face_boaw"),
    ("units.raju", "units.raju.enabled", "sometimes", "true or false or one of auto"),
    ("features.face", "features.face.head_pose", "no", "true or false"),
    ("models.raju_aed", "models.raju_aed.train", {"chunk_windows": -1},
     "a mapping of train settings (epochs, patience, batch_size, chunk_windows, lr, seed, device, control, refit) to "
     "values the train group accepts"),
    ("window", "window.presets.emonet.hop_s", 0, "a number > 0"),
    ("window", "window.preset", "nosuch", "one of baseline4s, raju2019, avec2019, emonet"),
    ("align", "align.chunk_s", 5, "a number >= 10"),
    ("synthetic", "synthetic.annotators_max", 2, "an integer >= annotators_min = 3"),
    ("corpora.tiny", "corpora.tiny.speakers", 2, "an integer >= 3"),
    ("models.lstm", "models.lstm.loss", "l1", "one of ccc, mse"),
    ("models.lstm", "models.lstm.features", ["egemaps", "nosuch"], "a non-empty list, each one of egemaps"),
    ("benchmark.lstm_ccc", "benchmark.lstm_ccc.control", "shuffle", "one of none, shuffled_words"),
    ("story", "story.marked_turns", -1, "an integer >= 0"),
    ("seed", "seed", "seven", "an integer >= 0"),
])
def test_a_bad_value_is_named_with_its_allowed_range(group, dotted, value, allowed):
    expected = f"params.yaml: {dotted} = {params_check.format_value(value)}: must be {allowed}"
    with pytest.raises(ParamsError) as raised:
        params_check.check(with_value(dotted, value), group)
    assert str(raised.value).startswith(expected), str(raised.value)
    with pytest.raises(ParamsError, match=fr"{dotted} = "):  # check_params (the validate stage) finds it too
        params_check.check_params(with_value(dotted, value))


def test_every_problem_of_a_group_is_reported_at_once():
    params = with_value("train.epochs", 0)
    params["train"].update(batch_size=0, lr=-1, epoch=3)  # `epoch`: a typo of an existing key
    del params["train"]["patience"]
    with pytest.raises(ParamsError) as raised:
        params_check.check(params, "train")
    assert str(raised.value).splitlines() == [
        "params.yaml: train.epochs = 0: must be an integer >= 1",
        "params.yaml: train.patience is missing: must be an integer >= 1",
        "params.yaml: train.batch_size = 0: must be an integer >= 1",
        "params.yaml: train.lr = -1: must be a number > 0",
        "params.yaml: train.epoch = 3: unknown key (known: epochs, patience, batch_size, chunk_windows, lr, seed, device, "
        "control, refit)"]


def test_an_unknown_model_lists_the_registered_ones():
    registered = ", ".join(list_models())
    with pytest.raises(ParamsError, match=f'^params.yaml: model = "nosuch": must be a registered model: {registered}$'):
        params_check.check_params(with_value("model", "nosuch"))
    with pytest.raises(ParamsError, match=f'benchmark.lstm_ccc.model = "nosuch": must be a registered model: '
                                          f'{registered}'):
        params_check.check_params(with_value("benchmark.lstm_ccc.model", "nosuch"))


def test_the_engine_is_local_or_dask_with_an_optional_scheduler_address():
    params_check.check(with_value("engine.scheduler", "tcp://10.0.0.5:8786"), "engine")
    with pytest.raises(ParamsError, match=r'^params.yaml: engine.kind = "spark": must be one of local, dask$'):
        params_check.check_params(with_value("engine.kind", "spark"))
    with pytest.raises(ParamsError, match=r"engine.scheduler = 8786: must be a non-empty string, or null"):
        params_check.check(with_value("engine.scheduler", 8786), "engine")


def test_a_models_inputs_take_the_form_its_registration_says():
    """A named-input model needs a mapping of inputs to stages, a one-input model a list."""
    with pytest.raises(ParamsError, match=r'models.modality_lstm.features = \["egemaps"\]: model modality_lstm '
                                          r'reads named inputs'):
        params_check.check(with_value("models.modality_lstm.features", ["egemaps"]), "models.modality_lstm")
    with pytest.raises(ParamsError, match=r'benchmark.lstm_ccc.features = \{"audio": \["egemaps"\]\}: model lstm '
                                          r'reads one input'):
        params_check.check(with_value("benchmark.lstm_ccc.features", {"audio": ["egemaps"]}), "benchmark.lstm_ccc")
    with pytest.raises(ParamsError, match=r"models.modality_lstm.features = .*a mapping of input names"):
        params_check.check(with_value("models.modality_lstm.features", {"audio": ["nosuch"]}), "models.modality_lstm")
    params_check.check(with_value("benchmark.lstm_ccc", {"model": "modality_lstm", "features": {"audio": "egemaps"}}),
                       "benchmark.lstm_ccc")  # one stage by name is a list of one
    params_check.check(with_value("models.modality_lstm.features", {"speech": {"stage": "frame34", "per": "frame"},
                                                                     "text": {"stage": "glove", "per": "word"}}),
                       "models.modality_lstm")
    with pytest.raises(ParamsError, match="per: frame | word"):
        params_check.check(with_value("models.modality_lstm.features", {"speech": {"stage": "frame34", "per": "segment"}}),
                           "models.modality_lstm")


def test_a_model_that_reads_input_times_is_refused_inputs_without_them():
    """xu_hard_align aligns frames to words by their times: a word matrix per sentence (the recognised
    words) has none, and the check says so before any stage runs."""
    asr = {"speech": {"stage": "frame34", "per": "frame"}, "text": ["glove_sentences_asr"]}
    with pytest.raises(ParamsError, match=r'models.xu_hard_align.features.text = \["glove_sentences_asr"\]: model '
                                          r'xu_hard_align reads the times of its text input'):
        params_check.check(with_value("models.xu_hard_align.features", asr), "models.xu_hard_align")
    run = {"model": "xu_hard_align", "features": asr}
    with pytest.raises(ParamsError, match=r"benchmark.xu_attention_align.features.text = .*reads the times"):
        params_check.check(with_value("benchmark.xu_attention_align", run), "benchmark.xu_attention_align")
    # frames in place of the words' (start, end) times: refused too
    frames = {"speech": {"stage": "frame34", "per": "frame"}, "text": {"stage": "glove", "per": "frame"}}
    with pytest.raises(ParamsError, match=r"models.xu_hard_align.features.text = .*per: word\}"):
        params_check.check(with_value("models.xu_hard_align.features", frames), "models.xu_hard_align")
    # the learned alignment reads no times: the same inputs pass
    params_check.check(with_value("models.xu_attention_align.features", asr), "models.xu_attention_align")
    params_check.check_params(load_params())  # the shipped entry gives frames and words
    # an input left out is not this check's (the tiny test project's entry keeps the words only)
    params_check.check(with_value("models.xu_hard_align.features", {"text": {"stage": "glove", "per": "word"}}),
                       "models.xu_hard_align")


def test_a_manifest_corpus_split_rule_is_checked():
    params = with_value("corpora.mine", {"source": "manifest", "split": {"rule": "speaker_kfold", "folds": 3,
                                                                         "fold": 3}})
    with pytest.raises(ParamsError, match=r"corpora.mine.split.fold = 3: must be an integer in \[0, folds = 3\)"):
        params_check.check(params, "corpora.mine")
    params["corpora"]["mine"]["split"] = {"rule": "by_speaker"}
    with pytest.raises(ParamsError, match="corpora.mine.split = .*rule: one of speaker_ratio, speaker_kfold"):
        params_check.check(params, "corpora.mine")


def test_the_readmes_manifest_corpus_entry_passes_the_params_check():
    """Every key of the README's example entry (Bring your own corpus) is one the check knows."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme[readme.index("```yaml\ncorpora:\n  my_emotions:"):]
    entry = yaml.safe_load(block[len("```yaml\n"):block.index("```", 3)])["corpora"]["my_emotions"]
    assert "av_tolerance_s" in entry and "text_word_s" in entry
    params_check.check(with_value("corpora.my_emotions", entry), "corpora.my_emotions")
    with pytest.raises(ParamsError, match=r"corpora.my_emotions.av_tolerance_s = 0: must be a number > 0"):
        params_check.check(with_value("corpora.my_emotions", {**entry, "av_tolerance_s": 0}), "corpora.my_emotions")


def test_the_readmes_unknown_model_error_is_the_checks_own():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    quoted = next(line for line in readme.splitlines() if line.startswith('error: params.yaml: model = "<name>"'))
    with pytest.raises(ParamsError) as raised:
        params_check.check_params(with_value("model", "<name>"))
    assert f"error: {raised.value}" == quoted


def test_the_schemas_choices_agree_with_the_code():
    import opensmile

    from features import boaw, glove
    from features.registry import EXTRACTORS
    from features.imagenet_cnn import BACKBONES
    assert sorted([*params_check.FEATURES, *params_check.DERIVED]) == sorted(EXTRACTORS)
    assert params_check.BACKBONES == tuple(BACKBONES)
    assert set(params_check.OPENSMILE_SETS) <= set(dir(opensmile.FeatureSet))
    assert params_check.FEATURES["glove"]["oov"].describe({}) == f"one of {', '.join(glove.OOV_POLICIES)}"
    assert params_check.FEATURES["boaw"]["lld"].describe({}) == f"one of {', '.join(boaw.LLD_KINDS)}"


@pytest.mark.parametrize("stage, argv, dotted, value", [("pipeline.train", [], "train.epochs", 0),
                                                        ("pipeline.features", ["boaw"], "features.boaw.codebook_size", 0),
                                                        ("pipeline.benchmark", ["lstm_ccc"], "train.lr", -1)])
def test_a_stage_stops_on_bad_params_before_reading_any_data(tmp_path, monkeypatch, stage, argv, dotted, value):
    """In a folder with params.yaml only: the params error comes before any missing-data error."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(with_value(dotted, value)))
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(stage)
    with pytest.raises(ParamsError, match=f"{dotted} = {value}: must be"):
        module.main(*([argv] if argv or stage != "pipeline.train" else []))
    assert not (tmp_path / "data").exists() and not (tmp_path / "reports").exists()


def test_the_stage_prints_one_line_per_problem(tmp_path, monkeypatch, capsys):
    from pipeline import train
    params = with_value("train.epochs", 0)
    params["train"]["batch_size"] = 0
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EMOREPRO_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        run_stage(train.main)  # as `python -m pipeline.train` runs it
    assert exited.value.code == 1
    assert capsys.readouterr().err.splitlines() == ["error: params.yaml: train.epochs = 0: must be an integer >= 1",
                                                    "params.yaml: train.batch_size = 0: must be an integer >= 1"]


def test_a_failed_train_keeps_the_git_tracked_history(tmp_path):
    """DVC deletes a stage's outputs before running it unless they persist; train rewrites the
    history whole (pipeline/trainer.py), so persisting it cannot leave stale rows behind. Here
    the train stage's own plot entry, in a stage whose command fails, under real DVC."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    [entry] = [p for p in stages["train"]["plots"] if "reports/train_history.csv" in p]
    assert entry["reports/train_history.csv"]["persist"] is True
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"train": {
        "cmd": f"{sys.executable} -c 'raise SystemExit(1)'", "plots": [entry]}}}))
    history = tmp_path / "reports/train_history.csv"
    history.parent.mkdir()
    history.write_text("epoch,dev_score\n1,0.5\n")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    dvc = [str(Path(sys.executable).parent / "dvc")]
    for cmd in (["git", "init", "-q"], [*dvc, "init", "-q"]):
        subprocess.run(cmd, cwd=tmp_path, env=env, check=True)
    failed = subprocess.run([*dvc, "repro", "train"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert failed.returncode != 0 and "failed to reproduce 'train'" in failed.stderr
    assert history.read_text() == "epoch,dev_score\n1,0.5\n"


def test_a_misspelt_group_is_reported():
    with pytest.raises(ParamsError, match=r'^params.yaml: trian = \{"epochs": 1\}: unknown key \(known: seed, corpus'):
        params_check.check_params(with_value("trian", {"epochs": 1}))
