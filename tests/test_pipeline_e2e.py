"""The real DAG (`dvc repro`, `dvc exp run`, `dvc metrics diff`, `dvc push`/`pull`) on the tiny
corpus, in a copy of the repo."""
import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile
import yaml

from features.glove import PACKAGED, load_word_vectors
from models import list_models
from pipeline.suite_results import numbers
from synthetic.speech import require_espeak
from tests.dvc_project import (BENCHMARK_RUNS, DERIVED, EXTRACTORS, FOLD_RUN, PARAMS, PRETRAIN, RAW_SAMPLE_RUN,
                               UNIT_FEATURES, environment, run, stages_run, tiny_project)

pytestmark = pytest.mark.slow
# extractor_code: the digest of the code the feature stages share, which they depend on
FEATURE_STAGES = {"extractor_code", "feature_demand", *(f"features@{name}" for name in EXTRACTORS),
                  *(f"derived_features@{name}" for name in DERIVED), "feature_report"}
UNIT_FEATURE_STAGES = {f"unit_features@{name}" for name in UNIT_FEATURES}
UNIT_STAGES = {*(f"units@{name}" for name in PARAMS["units"]), *UNIT_FEATURE_STAGES}
BENCHMARK_STAGES = {*(f"benchmark@{run}" for run in (*BENCHMARK_RUNS, *FOLD_RUN, *RAW_SAMPLE_RUN)), "report", "story"}
# training_inputs: the digest of data/windows, units and features and of the shared training code that the
# training stages depend on
MODEL_STAGES = {"training_inputs", "train", "evaluate", *BENCHMARK_STAGES, *(f"pretrain@{run}" for run in PRETRAIN)}


def session_ids(project: Path, split: str) -> list[str]:
    manifest = json.loads((project / "data/corpus/manifest.json").read_text())
    return [s["id"] for s in manifest["sessions"] if s["split"] == split]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return tiny_project(tmp_path_factory.mktemp("project"))


def test_repro_writes_sane_outputs(project):
    result = run(["dvc", "repro"], project)
    assert stages_run(result.stdout) == {"check_params", "validate", "corpus", "align", "recognise", "window",
                                         *FEATURE_STAGES,
                                         *UNIT_STAGES, *MODEL_STAGES}
    corpus = json.loads((project / "reports/corpus.json").read_text())
    assert corpus["sessions"] == 6 and set(corpus["splits"]) == {"train", "dev", "test"}
    recognition = json.loads((project / "reports/recognition.json").read_text())
    assert "recognise.enabled is false" in recognition["skipped"]  # off by default: the ASR text stage says why
    asr = json.loads((project / "data/features/glove_sentences_asr/meta.json").read_text())
    assert "no recognised words" in asr["skipped"]
    # Raju et al.'s 100 ms windows: not cut while no run trains on them
    assert "enabled is auto" in json.loads((project / "data/units/raju/task.json").read_text())["skipped"]
    assert "not needed" in json.loads((project / "reports/pretrain/lstm_first/metrics.json").read_text())["skipped"]
    assert 0 < corpus["human_baseline"]["valence"]["all"]["ccc_mean"] < 1
    alignment = json.loads((project / "reports/alignment.json").read_text())
    assert alignment["sessions_scored"] == 6 and alignment["words"] > 100
    assert alignment["median_abs_error_s"] <= 0.05 and alignment["p95_abs_error_s"] <= 0.2
    windows = (project / "data/windows/windows.csv").read_text().splitlines()
    assert windows[0].startswith("session,split,index,start,end,word_first,word_last")
    features = json.loads((project / "reports/features.json").read_text())
    assert features["egemaps"]["dims"] == 88 and features["egemaps"]["sessions"] == 6
    assert features["egemaps"]["versions"]["opensmile"]
    assert features["glove"]["shape"] == [24, 50] and max(features["glove"]["oov_rate"].values()) < 0.05
    vocabulary = json.loads((project / "data/features/botw/fitted.json").read_text())["vocabulary"]
    train_words = set(pd.concat(pd.read_csv(project / "data/alignment" / f"{s}.csv", keep_default_na=False)
                                for s in session_ids(project, "train")).word)
    assert vocabulary and set(vocabulary) <= train_words  # codebook from the train split only
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert metrics["model"] == "lstm" and metrics["split"] == "test"
    for target in ("valence", "arousal", "liking"):
        values = metrics[target]
        assert all(math.isfinite(values[k]) for k in ("ccc", "pcc", "mse"))
        assert -1 <= values["ccc"] <= 1 and values["mse"] >= 0
    assert (project / "reports/plots/test_predictions.png").stat().st_size > 1000
    assert (project / "reports/train_history.csv").read_text().count("\n") >= 2
    report = (project / "reports/report.md").read_text()
    assert all(f"| {run} |" in report or f"- `{run}` (" in report for run in BENCHMARK_RUNS)
    drawn = json.loads((project / "reports/plots/report/figures.json").read_text())["figures"]
    assert drawn == sorted(p.name for p in (project / "reports/plots/report").glob("*.png"))
    assert all(f"](plots/report/{name})" in report for name in drawn)
    emonet = json.loads((project / "reports/benchmark/emonet_lstm_ccc/metrics.json").read_text())
    assert emonet["features"] == ["glove"] and -1 <= emonet["valence"]["ccc"] <= 1
    assert emonet["valence"]["human_baseline_ccc"] == corpus["human_baseline"]["valence"]["test"]["ccc_mean"]
    assert (project / "reports/plots/story_valence.png").stat().st_size > 1000
    sentences = json.loads((project / "reports/benchmark/blstm_sentences_class/metrics.json").read_text())
    segments = pd.concat(pd.read_csv(project / "data/corpus/sessions" / s / "segments.csv")
                         for s in session_ids(project, "test"))
    assert sentences["unit"] == "sentences" and sentences["windows"] == len(segments)  # one unit per sentence
    assert sum(sentences["class"]["support"].values()) == len(segments)
    assert sentences["class"]["support"] == segments["class"].value_counts().to_dict() | {
        c: 0 for c in sentences["class"]["support"] if c not in set(segments["class"])}
    svm = json.loads((project / "reports/benchmark/svm_sentences_class/metrics.json").read_text())
    assert svm["model"] == "svm" and svm["windows"] == len(segments) and 0 <= svm["class"]["ua"] <= 1
    williams = json.loads((project / "reports/benchmark/williams_blstm_trimodal/metrics.json").read_text())
    assert williams["unit"] == "sentences" and williams["task"] == "intensity" and williams["windows"] == len(segments)
    assert set(williams["features"]) == {"face", "glove"}  # face frames and GloVe per word
    assert 0 <= williams["overall"]["mae"] <= 3
    folds = json.loads((project / "reports/benchmark/xu_text_folds/metrics.json").read_text())
    all_segments = pd.concat(pd.read_csv(project / "data/corpus/sessions" / s / "segments.csv")
                             for split in ("train", "dev", "test") for s in session_ids(project, split))
    assert folds["protocol"]["folds"] == len(folds["folds"]) == 3
    assert sorted(sp for fold in folds["protocol"]["test_speakers"] for sp in fold) == ["spk01", "spk02", "spk03"]
    assert folds["windows"] == sum(f["windows"] for f in folds["folds"]) == len(all_segments)  # each tested once
    assert 0 <= folds["class"]["ua"] <= 1 and "ua" in folds["fold_mean"]["class"] and "ua" in folds["fold_sd"]["class"]
    assert "speaker 3-fold" in report
    # the bag-of-words SVR's vocabulary refitted on each fold's training speakers, whose words it holds
    for k, test_speakers in enumerate(json.loads((project / "reports/benchmark/svr_botw_folds/metrics.json")
                                                 .read_text())["protocol"]["test_speakers"]):
        fold = project / f"data/benchmark/svr_botw_folds/fold{k}"
        train = json.loads((fold / "features/botw/meta.json").read_text())["train_sessions"]
        speaker_of = {s["id"]: s["speaker"] for s in
                      json.loads((project / "data/corpus/manifest.json").read_text())["sessions"]}
        assert train and not {speaker_of[s] for s in train} & set(test_speakers)
        fold_words = set(pd.concat(pd.read_csv(project / "data/alignment" / f"{s}.csv", keep_default_na=False)
                                   for s in train).word)
        assert set(json.loads((fold / "features/botw/fitted.json").read_text())["vocabulary"]) <= fold_words
    # the golden values of the tiny corpus (benchmarks/golden/tiny.yaml): every headline score within its band
    golden = run([sys.executable, "-m", "benchmarks.golden", "check", "tiny"], project, check=False)
    assert golden.returncode == 0, golden.stdout + golden.stderr
    face = features["face"]
    assert face["face_found_rate"] >= 0.95 and face["latent_pearson_r_test"]["AU12_mean~valence"] >= 0.5


def test_second_repro_is_a_no_op(project):
    result = run(["dvc", "repro"], project)
    assert stages_run(result.stdout) == set()


def test_an_auto_feature_stage_computes_only_while_a_run_reads_it(project):
    """features.botw is `enabled: auto` in the tiny project, and svr_botw_folds reads it. A change to
    another model's hyperparameter leaves every feature stage up to date; the run reading something
    else leaves botw out (its stage alone out of date, then skipped, saying why); back, all is again."""
    text = (project / "params.yaml").read_text()
    params = yaml.safe_load(text)
    feature_stages = {*(f"features@{name}" for name in EXTRACTORS), *(f"derived_features@{name}" for name in DERIVED)}
    try:
        params["models"]["lstm"]["hidden"] = 7
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        assert stages_run(run(["dvc", "repro", "feature_demand"], project).stdout) == {"feature_demand"}
        assert not feature_stages & set(json.loads(run(["dvc", "status", "--json"], project).stdout))
        params["benchmark"]["svr_botw_folds"]["features"] = ["egemaps"]
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        run(["dvc", "repro", "feature_demand"], project)
        assert feature_stages & set(json.loads(run(["dvc", "status", "--json"], project).stdout)) == {"features@botw"}
        assert stages_run(run(["dvc", "repro", "-s", "features@botw"], project).stdout) == {"features@botw"}
        meta = json.loads((project / "data/features/botw/meta.json").read_text())
        assert "features.botw.enabled is auto and no run of this repro reads it" in meta["skipped"]
        assert not list((project / "data/features/botw").glob("*.npy"))
    finally:
        (project / "params.yaml").write_text(text)
    run(["dvc", "repro", "feature_demand", "features@botw"], project)  # from DVC's run cache
    assert json.loads(run(["dvc", "status", "--json"], project).stdout) == {}


@pytest.mark.parametrize("digest, code_file, expected", [
    ("training_inputs", "pipeline/sequences.py", MODEL_STAGES - {"training_inputs", "report", "story"}),
    ("extractor_code", "features/lld.py",
     FEATURE_STAGES - {"extractor_code", "feature_demand", "feature_report"} | UNIT_FEATURE_STAGES)])
def test_a_shared_code_file_reruns_its_stages_through_the_digest(project, digest, code_file, expected):
    """A change to code only the digest stage lists (TRAINING_CODE, EXTRACTOR_CODE) changes the
    digest, and every stage that depends on it is then out of date; the file back, all is again."""
    path = project / code_file
    text = path.read_text()
    path.write_text(text + "# a change\n")
    try:
        assert set(json.loads(run(["dvc", "status", "--json"], project).stdout)) == {digest}
        assert stages_run(run(["dvc", "repro", digest], project).stdout) == {digest}
        assert set(json.loads(run(["dvc", "status", "--json"], project).stdout)) == expected
    finally:
        path.write_text(text)
    run(["dvc", "repro", digest], project)  # from DVC's run cache: it ran on these deps before
    assert json.loads(run(["dvc", "status", "--json"], project).stdout) == {}


def predicted_like(predictions: Path, reference: Path, session: str) -> pd.DataFrame:
    """predict's rows of a test session beside the pipeline's own for it (reports/.../test_predictions.csv)."""
    ours = pd.read_csv(predictions)
    theirs = pd.read_csv(reference).query("session == @session")
    both = ours.round(4).merge(theirs.round(4), on="start", suffixes=("", "_pipeline"))
    assert len(ours) == len(theirs) == len(both) > 0  # every unit of ours is one of theirs
    return both


def same_predictions(both: pd.DataFrame) -> None:
    """Every predicted column equal to the pipeline's (its CSV keeps four decimals)."""
    columns = [c for c in both.columns if c.endswith("_pred")]
    assert columns
    for column in columns:
        if not pd.api.types.is_numeric_dtype(both[column]):  # a class name
            assert (both[column] == both[f"{column}_pipeline"]).all(), column
        else:
            assert (both[column] - both[f"{column}_pipeline"]).abs().max() <= 2e-4, column


def test_predict_applies_a_trained_run_to_recordings_as_the_pipeline_did(project, tmp_path):
    """`predict` on a test session's own files gives the pipeline's test predictions for it (the
    same extractors, fitted state, normaliser and model); on a fresh espeak-ng recording it writes a
    CSV and a PNG; a bundle exported from the workspace works from another folder; a run needing a
    video refuses a recording without one."""
    session = session_ids(project, "test")[0]
    source = project / "data/corpus/sessions" / session
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for name, target in (("audio.wav", ".wav"), ("video.mp4", ".mp4"), ("transcript.txt", ".txt"),
                         ("segments.csv", ".segments.csv")):
        shutil.copyfile(source / name, recordings / f"{session}{target}")
    text = "I am so glad you came today. The weather was terrible this morning. Now the sun is out again."
    subprocess.run([require_espeak(), "-w", str(tmp_path / "espeak.wav"), text], check=True, capture_output=True)
    speech, rate = soundfile.read(tmp_path / "espeak.wav", dtype="float32")
    noise = np.random.default_rng(0).normal(0, 10 ** (-50 / 20), len(speech))  # a room's noise floor, not
    soundfile.write(recordings / "fresh.wav", speech + noise, rate)  # digital silence (pocketsphinx needs one)
    (recordings / "fresh.txt").write_text(text)

    # the `model` param's run, as an exported bundle used from another folder, on the whole folder
    run([sys.executable, "-m", "pipeline.bundle", "train", "--out", str(tmp_path / "lstm.pt")], project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run([sys.executable, "-m", "pipeline.predict", "--bundle", str(tmp_path / "lstm.pt"), str(recordings),
         "--out", str(tmp_path / "lstm")], elsewhere, PYTHONPATH=str(project))
    same_predictions(predicted_like(tmp_path / "lstm" / f"{session}.csv", project / "reports/test_predictions.csv",
                                    session))
    fresh = pd.read_csv(tmp_path / "lstm/fresh.csv")
    assert len(fresh) > 0 and fresh.filter(like="_pred").notna().all().all()
    assert (tmp_path / "lstm/fresh.png").stat().st_size > 1000

    # sentences as units: the session's segments file, the fresh recording's transcript sentences
    run([sys.executable, "-m", "pipeline.predict", "--run", "blstm_sentences_class", str(recordings),
         "--out", str(tmp_path / "blstm")], project)
    same_predictions(predicted_like(tmp_path / "blstm" / f"{session}.csv",
                                    project / "reports/benchmark/blstm_sentences_class/test_predictions.csv", session))
    assert len(pd.read_csv(tmp_path / "blstm/fresh.csv")) == 3  # the transcript's three sentences
    # audio alone: voice-activity segments stand in for sentences
    (tmp_path / "audio_only").mkdir()
    shutil.copyfile(recordings / "fresh.wav", tmp_path / "audio_only/fresh.wav")
    run([sys.executable, "-m", "pipeline.predict", "--run", "blstm_sentences_class", str(tmp_path / "audio_only/fresh.wav"),
         "--out", str(tmp_path / "vad")], project)
    voiced = pd.read_csv(tmp_path / "vad/fresh.csv")
    assert len(voiced) >= 1 and (voiced.end > voiced.start).all() and voiced.end.max() <= len(speech) / rate + 0.1

    # EmoNet's GloVe windows
    run([sys.executable, "-m", "pipeline.predict", "--run", "emonet_lstm_ccc", str(recordings / f"{session}.wav"),
         "--transcript", str(recordings / f"{session}.txt"), "--out", str(tmp_path / "emonet")], project)
    same_predictions(predicted_like(tmp_path / "emonet" / f"{session}.csv",
                                    project / "reports/benchmark/emonet_lstm_ccc/test_predictions.csv", session))
    # Xu et al.'s text model, and a bag-of-words SVR whose fold refitted its own vocabulary on its training
    # speakers (not the corpus split's): each from the fold that tested the session
    for fold_run, given in (("xu_text_folds", ["--segments", str(recordings / f"{session}.segments.csv")]),
                            ("svr_botw_folds", [])):
        pipeline_predictions = project / "reports/benchmark" / fold_run / "test_predictions.csv"
        folds = pd.read_csv(pipeline_predictions)
        fold = int(folds.query("session == @session").fold.iloc[0])
        run([sys.executable, "-m", "pipeline.predict", "--run", fold_run, "--fold", str(fold),
             str(recordings / f"{session}.wav"), "--transcript", str(recordings / f"{session}.txt"), *given,
             "--out", str(tmp_path / fold_run)], project)
        same_predictions(predicted_like(tmp_path / fold_run / f"{session}.csv", pipeline_predictions, session))

    # face frames and GloVe per word (Williams et al.): the video is read, the words aligned
    run([sys.executable, "-m", "pipeline.predict", "--run", "williams_blstm_trimodal",
         str(recordings / f"{session}.wav"), "--video", str(recordings / f"{session}.mp4"),
         "--transcript", str(recordings / f"{session}.txt"), "--segments", str(recordings / f"{session}.segments.csv"),
         "--out", str(tmp_path / "williams")], project)
    same_predictions(predicted_like(tmp_path / "williams" / f"{session}.csv",
                                    project / "reports/benchmark/williams_blstm_trimodal/test_predictions.csv",
                                    session))
    # raw samples (Tzirakis et al.'s audio network on the waveform, sliced per 100 ms step)
    run([sys.executable, "-m", "pipeline.predict", "--run", "tzirakis_audio", str(recordings / f"{session}.wav"),
         "--out", str(tmp_path / "tzirakis")], project)
    same_predictions(predicted_like(tmp_path / "tzirakis" / f"{session}.csv",
                                    project / "reports/benchmark/tzirakis_audio/test_predictions.csv", session))
    # a derived stage (bags of face-AU words over the face stage's frames): its source runs first
    run([sys.executable, "-m", "pipeline.predict", "--run", "svr_face_boaw_windows", str(recordings / f"{session}.wav"),
         "--video", str(recordings / f"{session}.mp4"), "--out", str(tmp_path / "face_boaw")], project)
    same_predictions(predicted_like(tmp_path / "face_boaw" / f"{session}.csv",
                                    project / "reports/benchmark/svr_face_boaw_windows/test_predictions.csv", session))
    refused = run([sys.executable, "-m", "pipeline.predict", "--run", "williams_blstm_trimodal",
                   str(recordings / "fresh.wav"), "--transcript", str(recordings / "fresh.txt")], project, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "recording fresh (given: audio, transcript) needs --video or --openface (read by features face)" \
        in refused.stderr
    assert json.loads(run(["dvc", "status", "--json"], project).stdout) == {}  # nothing of the workspace touched


def test_a_suite_runs_as_dvc_experiments_and_gathers_every_seed(project):
    """One run x two training seeds queued as DVC experiments in temporary workspaces: the seed
    the workspace trained with gives the workspace's own metrics (and, as the headline experiment,
    its test predictions), and the corpus is not regenerated."""
    (project / "suites/tiny.yaml").write_text(yaml.safe_dump({"seeds": [7, 8], "headline": "lstm",
                                                              "runs": {"lstm": {"model": "lstm"}}}))
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "results and a suite"], project)
    workspace = json.loads((project / "reports/metrics.json").read_text())  # model lstm, train.seed 7
    run([sys.executable, "-m", "pipeline.suite", "run", "tiny"], project)
    results = json.loads((project / "reports/suites/tiny.json").read_text())
    assert results["missing"] == [] and results["failed"] == []
    seeds = results["runs"]["lstm"]["seeds"]
    assert numbers(seeds["7"]) == numbers(workspace)  # same inputs, same seed: the same numbers (CPU)
    assert seeds["8"]["valence"]["ccc"] != seeds["7"]["valence"]["ccc"]
    both = [seeds[s]["valence"]["ccc"] for s in ("7", "8")]
    assert results["runs"]["lstm"]["mean"]["valence.ccc"] == pytest.approx(sum(both) / 2, abs=1e-4)
    assert results["headline"] == {"run": "lstm", "seed": 7,
                                   "predictions": "reports/suites/tiny_headline_predictions.csv"}
    assert (project / results["headline"]["predictions"]).read_bytes() == \
        (project / "reports/test_predictions.csv").read_bytes()  # seed 7's commit: the workspace's own
    for name in ("tiny-lstm-s7", "tiny-lstm-s8"):
        assert "Running stage 'corpus'" not in run(["dvc", "queue", "logs", name], project).stdout
    # the workspace is untouched; only the report re-runs, to add the gathered suite
    assert stages_run(run(["dvc", "repro"], project).stdout) == {"report"}
    assert "## Suite `tiny` (2 seeds: [7, 8])" in (project / "reports/report.md").read_text()
    # the experiments stay with the commit they were queued from: after HEAD moves on, --rev reads them
    baseline = run(["git", "rev-parse", "HEAD"], project).stdout.strip()
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "the suite gathered"], project)
    run([sys.executable, "-m", "pipeline.suite", "gather", "tiny"], project)
    assert json.loads((project / "reports/suites/tiny.json").read_text())["missing"] == ["tiny-lstm-s7",
                                                                                          "tiny-lstm-s8"]
    run([sys.executable, "-m", "pipeline.suite", "gather", "tiny", "--rev", baseline], project)
    assert json.loads((project / "reports/suites/tiny.json").read_text()) == results


def file_checksums(root: Path) -> dict[str, str]:
    """sha256 of every file under data/ and reports/, less the run log (timings, not an output)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("data", "reports") for p in sorted((root / folder).rglob("*"))
            if p.is_file() and p.relative_to(root).parts[:2] != ("data", "run_log")}


def test_pushed_outputs_pull_into_a_fresh_clone_that_is_up_to_date(project, tmp_path):
    run(["dvc", "remote", "add", "-d", "local", str(tmp_path / "remote")], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "lstm results, a local DVC remote"], project)
    run(["dvc", "push"], project)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(project), str(clone)], tmp_path)
    run(["dvc", "pull"], clone)
    assert json.loads(run(["dvc", "status", "--json"], clone).stdout) == {}
    assert stages_run(run(["dvc", "repro"], clone).stdout) == set()
    assert file_checksums(clone) == file_checksums(project)


def processes() -> dict[int, tuple[str, int, int, list[str]]]:
    """pid -> (state, parent pid, process group, argv) of every process, from /proc."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text, argv = stat.read_text(), (stat.parent / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        state, ppid, pgid = text[text.rindex(")") + 2:].split()[:3]
        found[int(stat.parent.name)] = (state, int(ppid), int(pgid), argv)
    return found


def is_feature_stage(argv: list[str]) -> bool:
    """python -m pipeline.features <x> (the stage and its forked workers; not a shell around it)."""
    return Path(argv[0]).name.startswith("python") and "pipeline.features" in argv


def test_a_killed_feature_stage_leaves_no_process_and_resumes(project, tmp_path):
    """`kill -9` of features@egemaps run by DVC after it cached a session: its workers die with
    it, and the rerun computes only the other sessions and writes the uninterrupted run's outputs."""
    cold = json.loads((project / "data/run_log/features@egemaps.json").read_text())
    assert cold["sessions_computed"] == 6  # the first repro's run, from an empty cache
    lock, meta = (project / "dvc.lock").read_text(), (project / "data/features/egemaps/meta.json").read_bytes()
    cache = tmp_path / "cache"  # empty: the killed run starts from nothing
    entries = lambda: list(cache.glob("features/egemaps/sessions/*/*/entry.json"))  # noqa: E731
    with open(tmp_path / "dvc.log", "w") as output:
        dvc = subprocess.Popen(["dvc", "repro", "-f", "-s", "features@egemaps"], cwd=project, stdout=output,
                               stderr=subprocess.STDOUT, env=environment(EMOREPRO_CACHE_DIR=str(cache)),
                               start_new_session=True)  # its process group holds the stage and its workers
        try:
            deadline = time.monotonic() + 300
            while not entries() and dvc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            group = {pid: p for pid, p in processes().items() if p[2] == dvc.pid}
            stage = [pid for pid, (_, ppid, _, argv) in group.items()
                     if is_feature_stage(argv) and not (ppid in group and is_feature_stage(group[ppid][3]))]
            assert len(stage) == 1, (group, (tmp_path / "dvc.log").read_text())
            workers = [pid for pid, p in group.items() if p[1] == stage[0] and is_feature_stage(p[3])]
            assert workers, group
            os.kill(stage[0], signal.SIGKILL)
            assert dvc.wait(timeout=120) != 0
            deadline = time.monotonic() + 10
            while (left := [pid for pid, p in processes().items() if p[2] == dvc.pid and p[0] != "Z"]) \
                    and time.monotonic() < deadline:
                time.sleep(0.1)
            assert left == [], {pid: processes().get(pid) for pid in left}
        finally:
            try:
                os.killpg(dvc.pid, signal.SIGKILL)  # only if the test failed with something left
            except ProcessLookupError:
                pass
    cached = len(entries())
    assert 1 <= cached < 6, "the stage was not killed mid-run"
    assert "features@egemaps" in json.loads(run(["dvc", "status", "--json"], project).stdout)
    # forced: a plain `dvc repro` would check the first repro's outputs out of DVC's cache instead
    rerun = run(["dvc", "repro", "-f", "-s", "features@egemaps"], project, EMOREPRO_CACHE_DIR=str(cache))
    assert stages_run(rerun.stdout) == {"features@egemaps"}
    resumed = json.loads((project / "data/run_log/features@egemaps.json").read_text())
    assert (resumed["sessions_reused"], resumed["sessions_computed"]) == (cached, 6 - cached)
    assert (project / "dvc.lock").read_text() == lock
    assert (project / "data/features/egemaps/meta.json").read_bytes() == meta
    run(["dvc", "repro", "-f", "-s", "features@egemaps"], project, EMOREPRO_CACHE_DIR=str(cache))
    assert json.loads((project / "data/run_log/features@egemaps.json").read_text())["sessions_reused"] == 6
    assert (project / "dvc.lock").read_text() == lock  # cold, resumed and all-cached runs: one hash


def test_exp_run_other_model_reruns_only_train_and_evaluate(project):
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "lstm results", "--allow-empty"], project)  # committed by the remote test
    result = run(["dvc", "exp", "run", "-S", "model=blstm"], project)
    # the params check is ~1 s; the report reads reports/metrics.json (Xu et al.'s table shows an Xu `model`);
    # the units read `model` (Raju et al.'s `enabled: auto` unit is cut when the model trains on it), and so
    # do the pretrain runs (trained when `model` is in their `for`): ~1 s each, their outputs unchanged
    # and so does feature_demand, whose files (whether each `enabled: auto` stage computes) come out the same
    assert stages_run(result.stdout) == {"check_params", *(f"units@{u}" for u in PARAMS["units"]), "train",
                                         "evaluate", "report", *(f"pretrain@{run}" for run in PRETRAIN),
                                         "feature_demand"}
    assert json.loads((project / "reports/metrics.json").read_text())["model"] == "blstm"
    diff = run(["dvc", "metrics", "diff", "--json"], project).stdout
    assert "reports/metrics.json" in json.loads(diff)


def test_a_changed_pretrain_run_retrains_the_model_that_starts_from_it(project):
    """init_from's ordering: the `train` stage depends on data/pretrain, so a source run that
    changes (here: now trained for the current model, `blstm`) trains the model again; the
    weights it copies are tested in tests/test_tzirakis.py."""
    result = run(["dvc", "exp", "run", "-S", "pretrain.lstm_first.for=[blstm]"], project)
    ran = stages_run(result.stdout)
    # the units and feature_demand read `pretrain` too (a pretrain run for `model` is a run of the repro):
    # ~1 s each, their outputs unchanged
    assert {"pretrain@lstm_first", "train"} <= ran <= {"check_params", "pretrain@lstm_first", "train", "evaluate",
                                                       "report", "feature_demand",
                                                       *(f"units@{u}" for u in PARAMS["units"])}
    assert (project / "data/pretrain/lstm_first/model.pt").exists()
    assert "skipped" not in json.loads((project / "reports/pretrain/lstm_first/metrics.json").read_text())


def test_window_params_are_read_by_the_window_stage_and_none_before_it(project):
    """A new window preset changes the params of the window stage (and of the story, which cuts
    its own windows) and of no stage before it: corpus, alignment and the named units stay.
    What follows `window` re-runs when its windows change: DVC compares content, as the
    word-vector test shows for a feature stage and the features' tests for the scratch cache."""
    text = (project / "params.yaml").read_text()  # the blstm experiment's params, applied
    params = yaml.safe_load(text)
    params["window"]["presets"]["emonet"]["label_aggregation"] = "center"
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        changed = json.loads(run(["dvc", "status", "--json"], project).stdout)
    finally:
        (project / "params.yaml").write_text(text)
    preset = [{"changed deps": {"params.yaml": {"window.presets.emonet": "modified"}}}]
    assert changed == {"check_params": [{"changed deps": {"params.yaml": {"window": "modified"}}}],
                       "window": preset, "story": preset}


def test_changing_a_unit_spec_reruns_its_stages_and_no_other_unit_s(project):
    sentences = {"units@sentences",
                 *(f"unit_features@{k}" for k, v in UNIT_FEATURES.items() if v["unit"] == "sentences")}
    # model and derived feature stages depend on the whole data/units folder (DVC cannot list a
    # param-defined set; the models through the training_inputs digest); they find their work in the
    # scratch cache: models on other units only re-evaluate, derived stages copy their sessions. Up to
    # the feature stages only (the models are trained again in the next test), then `dvc status` says
    # what is left to run: the digest first, then, once it is recomputed, the models.
    derived = {f"derived_features@{name}" for name in DERIVED}
    targets = sorted(sentences - {"units@sentences"} | derived)
    result = run(["dvc", "exp", "run", "-S", "units.sentences.sequence=session", *targets], project)
    assert stages_run(result.stdout) == {"check_params", *sentences, *derived}
    left = set(json.loads(run(["dvc", "status", "--json"], project).stdout))
    assert "training_inputs" in left and "train" not in left and left <= MODEL_STAGES  # nothing else
    assert stages_run(run(["dvc", "repro", "training_inputs"], project).stdout) == {"training_inputs"}
    left = set(json.loads(run(["dvc", "status", "--json"], project).stdout))
    assert "train" in left and left <= MODEL_STAGES
    task = json.loads((project / "data/units/sentences/task.json").read_text())
    assert task["sequence"] == "session"


def test_switching_word_vectors_reruns_text_features_and_what_reads_them(project):
    # train/evaluate depend on the whole data/features folder (DVC cannot list a param-defined set),
    # through the training_inputs digest
    vectors = load_word_vectors(PACKAGED)
    words = set(pd.concat(pd.read_csv(p, keep_default_na=False) for p in (project / "data/alignment").glob("*.csv")).word)
    lines = [f"{w} {' '.join(f'{x:.5f}' for x in vectors.vectors[vectors.index[w]])}" for w in sorted(words)
             if w in vectors.index]
    (project / "small_vectors.txt").write_text("\n".join(lines) + "\n")
    # up to `evaluate` only: the benchmark runs that read GloVe follow by the same DVC dependencies, and
    # training three of them again would add a minute to the suite
    result = run(["dvc", "exp", "run", "-S", "features.glove.vectors=small_vectors.txt", "evaluate"], project)
    ran = stages_run(result.stdout)
    text_stages = {"features@glove", "unit_features@glove_sentences", "unit_features@glove_sentences_asr"}
    assert {"features@glove", "unit_features@glove_sentences", "train", "evaluate"} <= ran
    # no audio, face or unit stage (feature_demand reads `features`: its files come out the same)
    assert ran <= {"check_params", "feature_demand", *text_stages, *MODEL_STAGES}
    glove = json.loads((project / "data/features/glove/meta.json").read_text())
    assert glove["versions"]["vectors"] == "small_vectors.txt" and glove["shape"] == [24, 50]


def test_unknown_model_fails_before_any_work_naming_the_registered_ones(project):
    lock = (project / "dvc.lock").read_text()
    result = run(["dvc", "exp", "run", "-S", "model=nosuchmodel"], project, check=False)
    assert result.returncode != 0 and stages_run(result.stdout) <= {"check_params"}
    expected = f'params.yaml: model = "nosuchmodel": must be a registered model: {", ".join(list_models())}'
    assert expected in result.stdout + result.stderr
    assert (project / "dvc.lock").read_text() == lock
    run(["git", "checkout", "--", "params.yaml"], project)
