"""Suites (pipeline/suite.py): the experiments a suite queues, and what gathering makes of them."""
import copy
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.config import ParamsError
from pipeline.params_check import check_params
from pipeline.suite import experiment_commands, load_suite, worker_env
from pipeline.suite_results import experiments, headline_experiment, summarise, with_earlier_seeds


def write_suite(tmp_path, monkeypatch, suite: dict) -> dict:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites/p.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    return load_suite("p")


def test_every_run_is_queued_once_per_seed_with_its_params(tmp_path, monkeypatch):
    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1, 2], "runs": {
        "a": {"model": "lstm", "models.lstm.loss": "mse"}, "b": {"model": "blstm", "train.chunk_windows": 0}},
        "profiles": {"reduced": {"train.epochs": 3}}})
    commands = dict(experiment_commands(suite))
    assert list(commands) == ["p-a-s1", "p-a-s2", "p-b-s1", "p-b-s2"]
    assert commands["p-a-s2"] == ["dvc", "exp", "run", "--queue", "-n", "p-a-s2", "-S", "model=lstm",
                                  "-S", "models.lstm.loss=mse", "-S", "train.seed=2", "evaluate"]
    reduced = dict(experiment_commands(suite, "reduced"))["p-b-s1"]
    assert reduced[6:] == ["-S", "train.epochs=3", "-S", "model=blstm", "-S", "train.chunk_windows=0",
                           "-S", "train.seed=1", "evaluate"]
    with pytest.raises(ParamsError, match="no profile 'fast'"):
        experiment_commands(suite, "fast")
    assert [name for name, _ in experiment_commands(suite, only=["b"])] == ["p-b-s1", "p-b-s2"]
    with pytest.raises(ParamsError, match=r"no runs \['c'\]"):
        experiment_commands(suite, only=["c"])


def test_common_params_and_deletions_reach_every_run_and_hydra_applies_them(tmp_path, monkeypatch):
    """An ablation drops a named input with `-S ~key`; DVC's own override code applies it."""
    from dvc.utils.hydra import apply_overrides
    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1], "params": {"train.batch_size": 64},
                                                "runs": {"t": {"model": "m", "~models.m.features.face": None}}})
    [(name, command)] = experiment_commands(suite)
    assert command[6:] == ["-S", "train.batch_size=64", "-S", "model=m", "-S", "~models.m.features.face",
                           "-S", "train.seed=1", "evaluate"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"model": "x", "train": {"batch_size": 16, "seed": 0},
                                                          "models": {"m": {"features": {"face": ["face"],
                                                                                        "glove": ["glove"]}}}}))
    apply_overrides("params.yaml", [a for a in command[6:-1] if a != "-S"])
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    assert params["model"] == "m" and params["train"] == {"batch_size": 64, "seed": 1}
    assert params["models"]["m"]["features"] == {"glove": ["glove"]}
    with pytest.raises(ParamsError, match="a deletion takes no value"):
        experiment_commands({**suite, "runs": {"t": {"~a.b": 1}}})


def test_the_williams_suite_is_the_papers_21_runs_and_one_hot_words(tmp_path):
    suite = load_suite("williams")
    assert len(suite["runs"]) == 22 and suite["params"] == {"train.batch_size": 64, "train.patience": 10}
    # one-hot words added to the text input (`+key`: Hydra's syntax for a new key), as DVC applies it
    from dvc.utils.hydra import apply_overrides
    command = dict(experiment_commands(suite, only=["blstm_avt_onehot"]))["williams-blstm_avt_onehot-s7"]
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"model": "x", "train": {"batch_size": 16, "patience": 20, "seed": 0},
                                      "models": {"williams_blstm": {"features": {"glove": {"stage": "glove",
                                                                                           "per": "word"}}}}}))
    apply_overrides(str(params), command[7:-1:2])
    assert yaml.safe_load(params.read_text())["models"]["williams_blstm"]["features"] == {
        "glove": {"stage": "glove", "per": "word"}, "onehot": {"stage": "word_onehot", "per": "word"}}
    dropped = {run: sorted(k.rsplit(".", 1)[1] for k in values if k.startswith("~"))
               for run, values in suite["runs"].items()}
    assert dropped["blstm_avt"] == [] and dropped["cnn_vt"] == ["egemaps", "mfcc"]
    assert dropped["lstm_a"] == ["face", "glove"] and dropped["blstm_t"] == ["egemaps", "face", "mfcc"]


def test_a_grid_queues_every_combination_of_its_values_under_names_that_say_them(tmp_path, monkeypatch):
    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1], "runs": {"b": {"model": "m"}, "c": {"model": "n"}},
                                                "grid": {"models.m.layers": [1, 2], "models.m.dropout": [0.1, 0.2]}})
    assert list(suite["runs"]) == ["b_layers1_dropout0p1", "b_layers1_dropout0p2", "b_layers2_dropout0p1",
                                   "b_layers2_dropout0p2", "c_layers1_dropout0p1", "c_layers1_dropout0p2",
                                   "c_layers2_dropout0p1", "c_layers2_dropout0p2"]
    assert suite["runs"]["b_layers2_dropout0p1"] == {"model": "m", "models.m.layers": 2, "models.m.dropout": 0.1}
    command = dict(experiment_commands(suite, only=["b_*2_*0p1"]))
    assert list(command) == ["p-b_layers2_dropout0p1-s1"]
    assert command["p-b_layers2_dropout0p1-s1"][6:] == ["-S", "model=m", "-S", "models.m.layers=2",
                                                        "-S", "models.m.dropout=0.1", "-S", "train.seed=1",
                                                        "evaluate"]
    with pytest.raises(ParamsError, match=r"no runs \['d_\*'\]"):
        experiment_commands(suite, only=["d_*"])


def test_the_williams_search_is_the_papers_grid_for_each_network():
    """Layers {1, 2, 3} x dropout {0.1, 0.2} x maxlen {15, 20, 25, 30} (section 4.4), trimodal."""
    suite = load_suite("williams_search")
    assert len(suite["runs"]) == 3 * 24
    blstm = {k: v for k, v in suite["runs"].items() if k.startswith("blstm_")}
    assert {(v["models.williams_blstm.layers"], v["models.williams_blstm.dropout"], v["models.williams_blstm.maxlen"])
            for v in blstm.values()} == {(l, d, m) for l in (1, 2, 3) for d in (0.1, 0.2) for m in (15, 20, 25, 30)}
    assert all(v["model"] == "williams_blstm" for v in blstm.values())


SUITES = sorted(path.stem for path in (Path(__file__).parents[1] / "suites").glob("*.yaml"))


def with_overrides(params: dict, overrides: list[str]) -> dict:
    """`-S` overrides applied as hydra does for the ones used here: `key=value`, `+key=value`
    (a new key), `~key` (deleted); values read as YAML."""
    params = copy.deepcopy(params)
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        *parents, last = key.split(".")
        node = params
        for part in parents:
            node = node[part]
        if override.startswith("~"):
            del node[last]
        else:
            node[last] = yaml.safe_load(value)
    return params


@pytest.mark.parametrize("paper", SUITES)
def test_every_experiment_of_every_suite_gets_valid_params(paper, tmp_path):
    """Each experiment's `-S` overrides give params that the stage's validator accepts, and DVC's
    own code (`dvc exp run`'s hydra) takes them: a key that params.yaml lacks needs `+`, or the
    queued experiment fails. Hydra takes 0.4 s a call: once for each set of keys (a grid's runs
    differ only in values) and each profile; the validator sees every experiment."""
    from dvc.utils.hydra import apply_overrides
    repo = Path(__file__).parents[1]
    base = yaml.safe_load((repo / "params.yaml").read_text())
    suite = load_suite(paper)
    assert suite["paper"] == paper
    experiments = [(name, command, "full") for name, command in experiment_commands(suite)]
    experiments += [(*experiment_commands(suite, profile)[0], profile) for profile in suite["profiles"]]
    checked = set()
    for name, command, profile in experiments:
        overrides = [arg for arg in command[6:-1] if arg != "-S"]
        expected = with_overrides(base, overrides)
        keys = frozenset(override.split("=")[0] for override in overrides)
        if keys not in checked:
            checked.add(keys)
            params = tmp_path / "params.yaml"
            shutil.copy(repo / "params.yaml", params)
            try:
                apply_overrides(str(params), overrides)
            except Exception as err:  # noqa: BLE001 - DVC's hydra errors have no common class of ours
                pytest.fail(f"{name} ({profile} profile): {err}: {err.__cause__}")
            assert yaml.safe_load(params.read_text()) == expected, name
        try:
            check_params(expected)
        except ParamsError as err:
            pytest.fail(f"{name} ({profile} profile): {err}")


@pytest.mark.parametrize("suite, message", [
    ({"seeds": [1, 1], "runs": {"a": {}}}, "distinct integers"),
    ({"seeds": [1], "runs": {}}, "runs must be a mapping"),
    ({"seeds": [1], "runs": {"a-b": {}}}, "letters, digits and '_'"),
    ({"seeds": [1], "runs": {"a": {}}, "grid": {"x.y": []}}, "non-empty lists"),
    ({"seeds": [1], "runs": {"a": {}}, "grid": {"x.y": ["a/b"]}}, "letters, digits and '_'"),
])
def test_bad_suites_are_refused_naming_the_file(tmp_path, monkeypatch, suite, message):
    with pytest.raises(ParamsError, match=message) as err:
        write_suite(tmp_path, monkeypatch, suite)
    assert "suites/p.yaml" in str(err.value)


def test_unknown_suite_names_the_known_ones(tmp_path, monkeypatch):
    write_suite(tmp_path, monkeypatch, {"seeds": [1], "runs": {"a": {}}})
    with pytest.raises(ParamsError, match=r"suites/q.yaml: no such suite \(known: p\)"):
        load_suite("q")


BASELINE = {"reports/metrics.json": {"data": {"valence": {"ccc": 0.99}}}}  # the workspace's, git-tracked


def exp(name: str, status: str, metrics: dict | None) -> dict:
    """An experiment as `dvc exp show --json` lists it (DVC 3): a range whose executor holds the
    state, its commit's data. A queued, running or failed experiment's data is its stash commit's,
    holding the baseline's git-tracked metrics (`metrics` None: a finished one without them)."""
    rev = hashlib.sha1(name.encode()).hexdigest()
    own = {} if metrics is None else {"reports/metrics.json": {"data": metrics}}
    data = {"rev": rev, "params": {"params.yaml": {"data": {}}},
            "metrics": own if status == "Success" else dict(BASELINE)}
    return {"revs": [{"rev": rev, "name": name, "data": data, "error": None, "experiments": None}], "name": name,
            "executor": {"state": status.lower(), "name": "dvc-task", "local": {}}}


def test_gathering_averages_seeds_and_lists_failed_and_missing_experiments(tmp_path, monkeypatch):
    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1, 2, 3], "runs": {"a": {"model": "lstm"},
                                                                             "b": {"model": "blstm"}}})
    ccc = [0.41, 0.5, 0.38]
    # the nesting of `dvc exp show --json`: baseline commits holding experiments' revs
    show = [{"rev": "workspace", "name": None, "data": {"params": {}}},
            {"rev": "head", "name": "main", "experiments": [
                exp("p-a-s3", "Running", None),  # listed again, done, as it finished during `exp show`
                *(exp(f"p-a-s{s}", "Success", {"model": "lstm", "valence": {"ccc": c, "n": 1}})
                  for s, c in zip((1, 2, 3), ccc)),
                # not done: their data are the baseline's metrics (0.99), never averaged in
                exp("p-b-s1", "Failed", None), exp("p-b-s2", "Queued", None), exp("p-b-s3", "Running", None)]}]
    found = experiments(show)
    assert set(found) == {"p-a-s1", "p-a-s2", "p-a-s3", "p-b-s1", "p-b-s2", "p-b-s3"}  # the workspace has no name
    results = summarise(suite, found)
    a = results["runs"]["a"]
    assert list(a["seeds"]) == ["1", "2", "3"] and a["params"] == {"model": "lstm"}
    assert a["mean"]["valence.ccc"] == pytest.approx(np.mean(ccc), abs=1e-4)
    assert a["sd"]["valence.ccc"] == pytest.approx(np.std(ccc, ddof=1), abs=1e-4)
    assert "model" not in a["mean"]  # strings are not averaged
    assert results["failed"] == ["p-b-s1"] and results["missing"] == ["p-b-s2", "p-b-s3"]
    assert results["runs"]["b"]["seeds"] == {} and results["runs"]["b"]["mean"] == {}


def test_an_earlier_gather_fills_the_seeds_no_experiment_here_has(tmp_path, monkeypatch):
    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1, 2, 3], "runs": {"a": {"model": "lstm"},
                                                                             "b": {"model": "blstm"}}})
    found = experiments([{"rev": "head", "name": "main", "experiments": [
        exp(f"p-a-s{s}", "Success", {"valence": {"ccc": c}}) for s, c in ((2, 0.5), (3, 0.38))]}])
    earlier = {"runs": {"a": {"params": {"model": "lstm"}, "seeds": {"1": {"valence": {"ccc": 0.41}},
                                                                      "2": {"valence": {"ccc": 0.99}}}},
                        "b": {"params": {"model": "other"}, "seeds": {"1": {"valence": {"ccc": 0.2}}}}}}
    results = with_earlier_seeds(summarise(suite, found), earlier)
    a = results["runs"]["a"]
    assert list(a["seeds"]) == ["1", "2", "3"] and a["seeds"]["2"] == {"valence": {"ccc": 0.5}}  # ours win
    assert a["mean"]["valence.ccc"] == pytest.approx(np.mean([0.41, 0.5, 0.38]), abs=1e-4)
    assert a["sd"]["valence.ccc"] == pytest.approx(np.std([0.41, 0.5, 0.38], ddof=1), abs=1e-4)
    assert results["earlier_seeds"] == {"a": ["1"]}  # b's params differ: nothing taken
    assert results["missing"] == ["p-b-s1", "p-b-s2", "p-b-s3"]


def test_gathering_reads_the_also_files_once_per_seed_from_a_finished_experiment(tmp_path, monkeypatch):
    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1, 2], "runs": {"a": {"model": "m"}, "b": {"model": "m"}},
                                                "also": {"uni": "reports/pretrain/u/metrics.json"}})

    def with_uni(name, status, ccc):
        e = exp(name, status, {"valence": {"ccc": 0.5}})
        if ccc is not None:
            metrics = e["revs"][0]["data"]["metrics"]
            metrics["reports/pretrain/u/metrics.json"] = {"data": {"valence": {"ccc": ccc}}}
        return e

    show = [{"rev": "head", "name": "main", "experiments": [
        with_uni("p-a-s1", "Failed", 0.9), with_uni("p-b-s1", "Success", 0.3),
        with_uni("p-a-s2", "Success", 0.2), with_uni("p-b-s2", "Success", 0.2)]}]
    uni = summarise(suite, experiments(show))["runs"]["uni"]
    assert uni["seeds"] == {"1": {"valence": {"ccc": 0.3}}, "2": {"valence": {"ccc": 0.2}}}  # not the failed one
    assert uni["mean"]["valence.ccc"] == pytest.approx(0.25)
    assert uni["params"] == {"metrics": "reports/pretrain/u/metrics.json"}


def test_the_report_shows_each_gathered_run_with_mean_and_sd(tmp_path, monkeypatch):
    from pipeline.report import suite_sections
    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1, 2], "runs": {"a": {"model": "lstm"}}})
    found = experiments([exp(f"p-a-s{s}", "Success", {"valence": {"ccc": c}, "class": {"ua": u}})
                         for s, c, u in ((1, 0.4, 0.5), (2, 0.5, 0.7))])
    (tmp_path / "reports/suites").mkdir(parents=True)
    (tmp_path / "reports/suites/p.json").write_text(json.dumps(summarise(suite, found)))
    lines = suite_sections()
    assert lines[0] == "## Suite `p` (2 seeds: [1, 2])"
    assert "| a | model=lstm | 2 | class.ua 0.600 +- 0.141; valence.ccc 0.450 +- 0.071 |" in lines
    results = summarise(suite, found)
    results["earlier_seeds"] = {"a": ["1"]}
    (tmp_path / "reports/suites/p.json").write_text(json.dumps(results))
    assert ("\nSeed(s) 1 of 1 runs: from an earlier gather (experiments of another commit or clone, same params), "
            "the others from this commit's experiments.") in suite_sections()


def test_a_seed_subset_must_be_among_the_suites_seeds(tmp_path, monkeypatch):
    from pipeline.config import ParamsError
    from pipeline.suite import seed_subset

    suite = write_suite(tmp_path, monkeypatch, {"seeds": [7, 8, 9], "runs": {"a": {"model": "lstm"}}})
    assert seed_subset(suite, "9,7") == [9, 7]
    with pytest.raises(ParamsError, match=r"\[5\] are not seeds"):
        seed_subset(suite, "7,5")


def test_queue_workers_share_the_cores_unless_the_user_set_the_threads(tmp_path, monkeypatch):
    """Each of `jobs` workers gets cores // jobs threads, and torch in a worker's stage takes them."""
    import subprocess
    import sys

    from pipeline import suite as suite_module

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert worker_env(2)["OMP_NUM_THREADS"] == "4" and worker_env(2)["MKL_NUM_THREADS"] == "4"
    calls = []
    monkeypatch.setattr(suite_module, "dvc", lambda *args, env=None: calls.append((args, env)) or "[]")
    suite_module.queue(write_suite(tmp_path, monkeypatch, {"seeds": [1], "runs": {"a": {"model": "m"}}}), None, 2)
    assert calls[-1][0] == ("queue", "start", "-j", "2") and calls[-1][1]["OMP_NUM_THREADS"] == "4"
    assert all(env is None for _, env in calls[:-1])  # queueing itself runs with the caller's environment
    assert worker_env(16)["OMP_NUM_THREADS"] == "1" and worker_env(1)["OMP_NUM_THREADS"] == "8"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # torch takes at most the machine's cores: 1 shows it
    env = worker_env(2)
    assert env["OMP_NUM_THREADS"] == "1" and env["MKL_NUM_THREADS"] == "1"
    threads = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
                             env=env, capture_output=True, text=True, check=True).stdout
    assert threads.strip() == "1"


def test_the_headline_is_the_first_seed_that_finished_and_must_be_a_run(tmp_path, monkeypatch):
    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1, 2, 3], "headline": "a", "runs": {"a": {"model": "m"}}})
    found = experiments([exp("p-a-s1", "Failed", None), exp("p-a-s2", "Success", {"valence": {"ccc": 0.5}}),
                         exp("p-a-s3", "Success", {"valence": {"ccc": 0.4}})])
    seed, chosen = headline_experiment(suite, found)
    assert seed == 2 and chosen["rev"] == found["p-a-s2"]["rev"] != found["p-a-s3"]["rev"]  # seed 1 failed
    assert headline_experiment({**suite, "headline": None}, found) is None
    assert headline_experiment(suite, {"p-a-s2": {**found["p-a-s2"], "status": "Running"}}) is None
    (tmp_path / "other").mkdir()
    with pytest.raises(ParamsError, match="headline must be one of the runs"):
        write_suite(tmp_path / "other", monkeypatch, {"seeds": [1], "headline": "b", "runs": {"a": {"model": "m"}}})


def test_gather_takes_the_headline_predictions_from_the_experiment_commit_and_drops_stale_ones(tmp_path,
                                                                                               monkeypatch):
    """The headline file is the chosen experiment's own commit's (a real git repository here), not the
    workspace's; a later gather without experiments keeps it only while the suite still names that run."""
    import subprocess

    from pipeline import suite as suite_module

    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1, 2], "headline": "a", "runs": {"a": {"model": "m"}}})
    predictions = tmp_path / "reports/test_predictions.csv"
    predictions.parent.mkdir()
    git = {"cwd": tmp_path, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q"], **git)
    revs = []
    for text in ("session,start,valence_pred\nbaseline,0,0.1\n", "session,start,valence_pred\nseed2,0,0.7\n"):
        predictions.write_text(text)
        subprocess.run(["git", "add", "-A"], **git)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], **git)
        revs.append(subprocess.run(["git", "rev-parse", "HEAD"], text=True, **git).stdout.strip())
    predictions.write_text("session,start,valence_pred\nworkspace,0,0.5\n")
    done = exp("p-a-s2", "Success", {"valence": {"ccc": 0.5}})
    done["revs"][0]["rev"] = done["revs"][0]["data"]["rev"] = revs[1]
    show = [exp("p-a-s1", "Failed", None), done]
    monkeypatch.setattr(suite_module, "dvc", lambda *args, **kwargs: json.dumps(show))
    results = json.loads(suite_module.gather(suite).read_text())
    headline = tmp_path / "reports/suites/p_headline_predictions.csv"
    assert results["headline"] == {"run": "a", "seed": 2, "predictions": "reports/suites/p_headline_predictions.csv"}
    assert headline.read_text() == "session,start,valence_pred\nseed2,0,0.7\n"
    show = [exp("p-a-s1", "Queued", None)]  # another clone: no finished experiment here
    assert json.loads(suite_module.gather(suite, keep_earlier=True).read_text())["headline"]["seed"] == 2
    suite["runs"]["a"] = {"model": "other"}  # the run changed: the earlier picture is not its
    assert "headline" not in json.loads(suite_module.gather(suite, keep_earlier=True).read_text())
    assert not headline.exists()


def test_gather_copies_the_headline_figures_from_the_experiments_dvc_outputs(tmp_path, monkeypatch):
    """A headline figure is a DVC-tracked output (data/train/...): gather reads the committed version
    from the DVC cache (a real git + DVC repository here), not the workspace's; a figure the
    experiment did not write is left out, and a headline without figures is refused at load."""
    import subprocess
    import sys

    from pipeline import suite as suite_module

    suite = write_suite(tmp_path, monkeypatch, {
        "seeds": [1], "headline": "a", "runs": {"a": {"model": "m"}},
        "headline_figures": ["data/train/fusion_attention.png", "data/train/text_attention.png"]})
    git = {"cwd": tmp_path, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q"], **git)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], **git)
    figure = tmp_path / "data/train/fusion_attention.png"
    figure.parent.mkdir(parents=True)
    figure.write_bytes(b"\x89PNG committed")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/test_predictions.csv").write_text("session,start,valence_pred\ns,0,0.1\n")
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "data/train"], **git)
    subprocess.run(["git", "add", "-A"], **git)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], **git)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], text=True, **git).stdout.strip()
    figure.write_bytes(b"\x89PNG workspace")
    (tmp_path / "reports/suites").mkdir()
    stale = tmp_path / "reports/suites/p_headline_old_picture.png"  # an earlier gather's, no longer named
    stale.write_bytes(b"\x89PNG")
    done = exp("p-a-s1", "Success", {"valence": {"ccc": 0.5}})
    done["revs"][0]["rev"] = done["revs"][0]["data"]["rev"] = rev
    monkeypatch.setattr(suite_module, "dvc", lambda *args, **kwargs: json.dumps([done]))
    results = json.loads(suite_module.gather(suite).read_text())
    copied = tmp_path / "reports/suites/p_headline_fusion_attention.png"
    assert results["headline"]["figures"] == ["reports/suites/p_headline_fusion_attention.png"]
    assert copied.read_bytes() == b"\x89PNG committed"
    assert not (tmp_path / "reports/suites/p_headline_text_attention.png").exists()  # never written
    assert not stale.exists()
    monkeypatch.setattr(suite_module, "dvc", lambda *args, **kwargs: "[]")  # the headline gone: no stale figure
    assert "headline" not in json.loads(suite_module.gather(suite).read_text()) and not copied.exists()
    (tmp_path / "other").mkdir()
    with pytest.raises(ParamsError, match="headline_figures must be a list"):
        write_suite(tmp_path / "other", monkeypatch, {"seeds": [1], "runs": {"a": {"model": "m"}},
                                                      "headline_figures": ["data/train/x.png"]})


def test_wait_keeps_jobs_experiments_running_and_stops_when_no_worker_takes_them(tmp_path, monkeypatch):
    """DVC 3's queue workers leave when idle for seconds (between two experiments too) and its status
    line counts none while one runs: waiting starts one more worker while fewer than `jobs` run with
    some queued, never while enough run, and ends in an error when started workers take nothing."""
    from pipeline import suite as suite_module

    suite = write_suite(tmp_path, monkeypatch, {"seeds": [1], "runs": {k: {"model": "m"} for k in "abc"}})
    none = "\nWorker status: 0 active, 0 idle"
    header = "Task     Name                                                  Created       Status\n"
    statuses = iter([f"{header}2aec10e  p-a-s1    05:48 AM      Running\n206a7ae  p-b-s1    05:48 AM      Running\n"
                     f"c62db7d  p-c-s1    05:48 AM      Queued{none}"]  # DVC's table
                    + [f"1 p-a-s1 Running\n2 p-b-s1 Running\n3 p-c-s1 Queued{none}"] * 2  # two of two: no start
                    + [f"1 p-a-s1 Success\n2 p-b-s1 Running\n3 p-c-s1 Queued{none}"] * 2  # one left: start one
                    + [f"2 p-b-s1 Running\n3 p-c-s1 Running{none}", f"1 x-a-s1 Queued{none}"])  # others' don't count
    calls = []

    def dvc(*args, env=None):
        calls.append((args, env))
        return next(statuses) if args == ("queue", "status") else ""

    monkeypatch.setattr(suite_module, "dvc", dvc)
    suite_module.wait(suite, jobs=2, poll_s=0.0, restart_s=0.0)
    assert next(statuses, None) is None  # polled until none of the suite's was left
    starts = [(args, env) for args, env in calls if args[:2] == ("queue", "start")]
    assert len(starts) == 2 and starts[0][0] == ("queue", "start", "-j", "2")  # once per short poll, not before
    assert calls[3][0] == ("queue", "status") and calls[4][0][:2] == ("queue", "start")
    assert starts[0][1]["OMP_NUM_THREADS"] == worker_env(2)["OMP_NUM_THREADS"]
    monkeypatch.setattr(suite_module, "dvc", lambda *args, **kwargs: f"3 p-c-s1 Queued{none}")
    with pytest.raises(RuntimeError, match="1 experiments are queued but no DVC queue worker takes them"):
        suite_module.wait(suite, jobs=1, poll_s=0.0, restart_s=0.0, no_worker_s=0.0)


def test_headline_figures_need_distinct_file_names(tmp_path, monkeypatch):
    """Each figure is copied under its file name beside the headline's predictions: two of one name, or
    one named like the predictions, would overwrite each other."""
    for case, figures in enumerate((["a/attention.png", "b/attention.png"], ["data/train/predictions.csv"])):
        (tmp_path / str(case)).mkdir()
        with pytest.raises(ParamsError, match="distinct file names"):
            write_suite(tmp_path / str(case), monkeypatch, {"seeds": [1], "headline": "a",
                                                            "runs": {"a": {"model": "m"}}, "headline_figures": figures})


def test_listing_experiments_waits_out_a_worker_setting_up_a_workspace_and_raises_anything_else(monkeypatch):
    """`dvc exp show` fails while a queue worker creates an experiment's temporary workspace (DVC's
    message, seen queueing a second batch while the first ran): listing tries again; other failures
    and a workspace that never appears are raised."""
    from pipeline import suite as suite_module

    setting_up = RuntimeError("dvc exp show --json failed:\nERROR: failed to show experiments - directory "
                              "'/work/main/.dvc/tmp/exps/tmpbetviga8/.dvc' does not exist\n")
    listing = json.dumps([{"rev": "abc", "experiments": [{"name": "p-a-s1", "executor": None, "revs": [
        {"rev": "def", "name": "p-a-s1", "data": {"rev": "def", "params": {}, "metrics": {}}}]}]}])
    answers = iter([setting_up, setting_up, listing])

    def dvc(*args, env=None):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(suite_module, "dvc", dvc)
    assert list(suite_module.show_experiments(pause_s=0.0)) == ["p-a-s1"]
    answers = iter([setting_up] * 3)
    with pytest.raises(RuntimeError, match="does not exist"):
        suite_module.show_experiments(attempts=3, pause_s=0.0)
    assert next(answers, None) is None  # three tries
    answers = iter([RuntimeError("dvc exp show --json failed:\nERROR: unexpected error"), listing])
    with pytest.raises(RuntimeError, match="unexpected error"):
        suite_module.show_experiments(pause_s=0.0)
    assert next(answers) == listing  # not tried again


def test_xus_table_shows_a_k_fold_suite_run_and_a_corpus_split_one_with_their_protocols(tmp_path, monkeypatch):
    from pipeline.report import xu_table

    suite = write_suite(tmp_path, monkeypatch, {"paper": "xu", "seeds": [1, 2], "runs": {
        "proposed": {"model": "xu_attention_align"}, "text_only": {"model": "xu_text"}}})
    k_fold = {"class": {"wa": 0.9, "ua": 0.9}, "fold_mean": {"class": {"wa": 0.5, "ua": 0.4}}}
    found = experiments([exp("xu-proposed-s1", "Success", k_fold), exp("xu-proposed-s2", "Success", k_fold),
                         exp("xu-text_only-s1", "Success", {"class": {"wa": 0.6, "ua": 0.5}}),
                         exp("xu-text_only-s2", "Success", {"class": {"wa": 0.8, "ua": 0.7}})])
    (tmp_path / "reports/suites").mkdir(parents=True)
    (tmp_path / "reports/suites/xu.json").write_text(json.dumps(summarise(suite, found)))
    lines = xu_table([], {})
    # a k-fold run's mean over folds, not its pooled predictions; a corpus split run's own metrics
    assert any("| suite xu/proposed (2 seeds) | speaker k-fold, mean over folds | 0.500 +- 0.000 | 0.400 +- 0.000 |"
               in line for line in lines)
    assert any("| suite xu/text_only (2 seeds) | corpus split | 0.700 +- 0.141 | 0.600 +- 0.141 |" in line
               for line in lines)
    # seeds of both protocols in one run: named, not averaged over the keys they share
    found["xu-proposed-s2"] = experiments([exp("xu-proposed-s2", "Success", {"class": {"wa": 0.7, "ua": 0.6}})])[
        "xu-proposed-s2"]
    (tmp_path / "reports/suites/xu.json").write_text(json.dumps(summarise(suite, found)))
    mixed = [line for line in xu_table([], {}) if "suite xu/proposed" in line]
    assert len(mixed) == 1 and "seeds of two protocols" in mixed[0] and "0.800" not in mixed[0]
