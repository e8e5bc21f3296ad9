"""The real DAG (`dvc repro`, `dvc exp run`, `dvc metrics diff`) on the tiny corpus, in a copy of the repo."""
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.glove import PACKAGED, load_word_vectors
from models import list_models

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())
FEATURE_STAGES = {*(f"features@{name}" for name in PARAMS["features"]),
                  *(f"derived_features@{name}" for name in PARAMS["derived_features"]), "feature_report"}
BENCHMARK_RUNS = ("lstm_ccc", "emonet_lstm_ccc")  # shrunk from params.yaml's list
BENCHMARK_STAGES = {*(f"benchmark@{run}" for run in BENCHMARK_RUNS), "report", "story"}
MODEL_STAGES = {"train", "evaluate", *BENCHMARK_STAGES}


def run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def session_ids(project: Path, split: str) -> list[str]:
    manifest = json.loads((project / "data/corpus/manifest.json").read_text())
    return [s["id"] for s in manifest["sessions"] if s["split"] == split]


def stages_run(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the files git would commit, with params.yaml shrunk to the tiny corpus and few epochs."""
    dest = tmp_path_factory.mktemp("project")
    tracked = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], REPO).stdout.split()
    for name in tracked:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, dest / name)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    params["corpus"] = "tiny"
    params["train"].update(epochs=15, patience=15)
    params["benchmark"] = {run: params["benchmark"][run] for run in BENCHMARK_RUNS}
    params["story"]["run"] = "emonet_lstm_ccc"
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-qm", "tiny"], dest)
    return dest


def test_repro_writes_sane_outputs(project):
    result = run(["dvc", "repro"], project)
    assert stages_run(result.stdout) == {"check_params", "validate", "corpus", "align", "window", *FEATURE_STAGES,
                                         *MODEL_STAGES}
    corpus = json.loads((project / "reports/corpus.json").read_text())
    assert corpus["sessions"] == 6 and set(corpus["splits"]) == {"train", "dev", "test"}
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
    assert all(f"| {run} |" in report for run in BENCHMARK_RUNS)
    emonet = json.loads((project / "reports/benchmark/emonet_lstm_ccc/metrics.json").read_text())
    assert emonet["features"] == ["glove"] and -1 <= emonet["valence"]["ccc"] <= 1
    assert emonet["valence"]["human_baseline_ccc"] == corpus["human_baseline"]["valence"]["test"]["ccc_mean"]
    assert (project / "reports/plots/story_valence.png").stat().st_size > 1000
    face = features["face"]
    assert face["face_found_rate"] >= 0.95 and face["latent_pearson_r_test"]["AU12_mean~valence"] >= 0.5


def test_second_repro_is_a_no_op(project):
    result = run(["dvc", "repro"], project)
    assert stages_run(result.stdout) == set()


def test_exp_run_other_model_reruns_only_train_and_evaluate(project):
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "lstm results"], project)
    result = run(["dvc", "exp", "run", "-S", "model=blstm"], project)
    assert stages_run(result.stdout) == {"check_params", "train", "evaluate"}  # the params check is ~1 s
    assert json.loads((project / "reports/metrics.json").read_text())["model"] == "blstm"
    diff = run(["dvc", "metrics", "diff", "--json"], project).stdout
    assert "reports/metrics.json" in json.loads(diff)


def test_changing_window_params_reruns_window_and_after_only(project):
    result = run(["dvc", "exp", "run", "-S", "window.preset=baseline4s"], project)
    ran = stages_run(result.stdout)
    assert {"window", *FEATURE_STAGES, "train", "evaluate"} <= ran <= {"check_params", "window", *FEATURE_STAGES,
                                                                       *MODEL_STAGES}


def test_switching_word_vectors_reruns_text_features_and_what_reads_them(project):
    # train/evaluate depend on the whole data/features folder (DVC cannot list a param-defined set)
    vectors = load_word_vectors(PACKAGED)
    words = set(pd.concat(pd.read_csv(p, keep_default_na=False) for p in (project / "data/alignment").glob("*.csv")).word)
    lines = [f"{w} {' '.join(f'{x:.5f}' for x in vectors.vectors[vectors.index[w]])}" for w in sorted(words)
             if w in vectors.index]
    (project / "small_vectors.txt").write_text("\n".join(lines) + "\n")
    result = run(["dvc", "exp", "run", "-S", "features.glove.vectors=small_vectors.txt"], project)
    ran = stages_run(result.stdout)
    # report/story re-run only if the retrained models' outputs changed (DVC compares content)
    assert {"features@glove", "feature_report", "train", "evaluate"} <= ran
    assert ran <= {"check_params", "features@glove", "feature_report", *MODEL_STAGES}
    glove = json.loads((project / "reports/features.json").read_text())["glove"]
    assert glove["versions"]["vectors"] == "small_vectors.txt" and glove["shape"] == [24, 50]


def test_unknown_model_fails_before_any_work_naming_the_registered_ones(project):
    lock = (project / "dvc.lock").read_text()
    result = run(["dvc", "exp", "run", "-S", "model=nosuchmodel"], project, check=False)
    assert result.returncode != 0 and stages_run(result.stdout) <= {"check_params"}
    expected = f'params.yaml: model = "nosuchmodel": must be a registered model: {", ".join(list_models())}'
    assert expected in result.stdout + result.stderr
    assert (project / "dvc.lock").read_text() == lock
    run(["git", "checkout", "--", "params.yaml"], project)


@pytest.fixture(scope="module")
def manifest_project(project) -> Path:
    """The project with two manifest corpora made by synthetic/manifest_example.py, committed."""
    run(["git", "checkout", "--", "params.yaml"], project)
    run([sys.executable, "-m", "synthetic.manifest_example", "categorical", "corpora/tiny_emotions"], project)
    run([sys.executable, "-m", "synthetic.manifest_example", "continuous", "corpora/tiny_story"], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["corpora"]["tiny_emotions"] = {"source": "manifest", "split": "column"}
    params["corpora"]["tiny_story"] = {"source": "manifest"}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "manifest corpora"], project)
    return project


def test_audio_only_categorical_corpus_end_to_end(manifest_project):
    result = run(["dvc", "exp", "run", "-S", "corpus=tiny_emotions"], manifest_project)
    assert "features@face skipped: corpus 'tiny_emotions' has none of video, openface" in result.stdout + result.stderr
    metrics = json.loads((manifest_project / "reports/metrics.json").read_text())
    assert metrics["task"] == "categorical" and metrics["loss"] == "cross_entropy"
    # WA/UA recomputed here from the prediction table with scikit-learn
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    table = pd.read_csv(manifest_project / "reports/test_predictions.csv")
    assert len(table) == metrics["windows"] == 16
    assert metrics["class"]["wa"] == pytest.approx(accuracy_score(table.class_gold, table.class_pred), abs=1e-4)
    assert metrics["class"]["ua"] == pytest.approx(balanced_accuracy_score(table.class_gold, table.class_pred),
                                                   abs=1e-4)
    skipped = json.loads((manifest_project / "reports/benchmark/emonet_lstm_ccc/metrics.json").read_text())
    assert "glove" in skipped["skipped"] and "no transcript" in skipped["skipped"]
    report = (manifest_project / "reports/report.md").read_text()
    assert "`emonet_lstm_ccc` (emonet_lstm): skipped" in report and "`lstm_ccc` (lstm): test WA" in report


def test_text_audio_continuous_corpus_end_to_end(manifest_project):
    run(["dvc", "exp", "run", "-S", "corpus=tiny_story"], manifest_project)
    metrics = json.loads((manifest_project / "reports/metrics.json").read_text())
    assert set(k for k, v in metrics.items() if isinstance(v, dict)) == {"valence", "arousal"}
    assert all(-1 <= metrics[d]["ccc"] <= 1 and "human_baseline_ccc" in metrics[d] for d in ("valence", "arousal"))
    emonet = json.loads((manifest_project / "reports/benchmark/emonet_lstm_ccc/metrics.json").read_text())
    assert -1 <= emonet["valence"]["ccc"] <= 1
    features = json.loads((manifest_project / "reports/features.json").read_text())
    assert features["glove"]["sessions"] == 8 and "skipped" in features["face"]


def test_malformed_manifest_changes_nothing_in_the_cache(manifest_project):
    def cache_listing() -> list[str]:
        return sorted(str(p) for p in (manifest_project / ".dvc/cache").rglob("*") if p.is_file())

    def last_corpus() -> dict[str, bytes]:
        files = [*(manifest_project / "data/corpus").rglob("*"), manifest_project / "reports/corpus.json"]
        return {str(p): p.read_bytes() for p in files if p.is_file()}

    before, lock, corpus = cache_listing(), (manifest_project / "dvc.lock").read_text(), last_corpus()
    (manifest_project / "corpora/tiny_emotions/audio/spk1_sad_00.wav").unlink()
    result = run(["dvc", "exp", "run", "-S", "corpus=tiny_emotions"], manifest_project, check=False)
    assert result.returncode != 0 and "validate" in stages_run(result.stdout) <= {"check_params", "validate"}
    row = pd.read_csv(manifest_project / "corpora/tiny_emotions/sessions.csv").id.tolist().index("spk1_sad_00") + 1
    assert f"sessions.csv, row {row}: audio: audio/spk1_sad_00.wav does not exist" in result.stdout + result.stderr
    assert (manifest_project / "dvc.lock").read_text() == lock
    # `validate` stopped DVC before `corpus`, which would have deleted the last good corpus (tiny_story's)
    assert corpus and last_corpus() == corpus
    # no output was cached; DVC may only have recorded the listing of the (edited) input folder
    added = [Path(p) for p in cache_listing() if p not in before]
    corpus_files = {str(p.relative_to(manifest_project / "corpora/tiny_emotions"))
                    for p in (manifest_project / "corpora/tiny_emotions").rglob("*") if p.is_file()}
    for path in added:
        assert path.suffix == ".dir", path
        assert {entry["relpath"] for entry in json.loads(path.read_text())} == corpus_files
