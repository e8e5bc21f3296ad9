"""benchmarks/golden.py: pinning headline scores and failing, by run and metric, when one moves
outside its band; the committed golden files agree with the committed reports."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from benchmarks import golden

REPO = Path(__file__).resolve().parents[1]


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def reports(tmp_path, monkeypatch):
    """A reports/ folder with a continuous main run, an intensity run, a categorical run and a
    skipped one, and a suite giving the intensity run's seed sd."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(golden, "GOLDEN", tmp_path / "golden")
    write_json(tmp_path / "reports/metrics.json", {"task": "continuous", "valence": {"ccc": 0.61, "pcc": 0.7},
                                                   "arousal": {"ccc": 0.42},
                                                   "groups": {"a": {"valence": {"ccc": 0.1}}}})
    write_json(tmp_path / "reports/benchmark/williams_blstm_trimodal/metrics.json",
               {"task": "intensity", "overall": {"mae": 0.142, "pcc_mean": 0.94}, "anger": {"mae": 0.3},
                "features": {"audio": [{"stage": "egemaps_lld", "per": "word"}]}})
    write_json(tmp_path / "reports/benchmark/xu_text/metrics.json",
               {"task": "categorical", "class": {"wa": 0.5, "ua": 0.38, "recall": {"a": 1.0}}})
    write_json(tmp_path / "reports/benchmark/raju_eaf/metrics.json", {"skipped": "corpus has no video"})
    write_json(tmp_path / "reports/benchmark/removed_run/metrics.json", {"task": "continuous", "valence": {"ccc": 0.3}})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"model": "lstm", "benchmark": {
        run: {} for run in ("williams_blstm_trimodal", "xu_text", "raju_eaf")}}))
    write_json(tmp_path / "reports/suites/williams.json",
               {"runs": {"blstm_avt": {"sd": {"overall.mae": 0.03, "overall.pcc_mean": 0.001}}}})
    return tmp_path


def test_write_pins_each_task_s_headline_scores_with_its_band(reports):
    path = golden.write("default")
    runs = yaml.safe_load(path.read_text())["runs"]
    assert runs["model"]["metrics"] == {"valence.ccc": {"value": 0.61, "band": 0.02},
                                        "arousal.ccc": {"value": 0.42, "band": 0.02}}
    # band = max(2 x seed sd, floor): 0.06 from the suite's sd, the floor where 2 x sd is smaller
    assert runs["williams_blstm_trimodal"]["metrics"] == {
        "overall.mae": {"value": 0.142, "band": 0.06, "seed_sd": 0.03},
        "overall.pcc_mean": {"value": 0.94, "band": 0.02, "seed_sd": 0.001}}
    assert runs["xu_text"]["metrics"] == {"class.wa": {"value": 0.5, "band": 0.02},
                                          "class.ua": {"value": 0.38, "band": 0.02}}
    assert runs["raju_eaf"]["skipped"] is True
    assert "removed_run" not in runs  # a folder left from a run no longer in params.yaml
    assert golden.check("default") == []


def test_a_run_reading_face_features_gets_the_wider_floor(reports):
    path = reports / "reports/benchmark/williams_blstm_trimodal/metrics.json"
    data = json.loads(path.read_text())
    data["features"]["video"] = [{"stage": "face", "per": "word"}]
    path.write_text(json.dumps(data))
    runs = yaml.safe_load(golden.write("default").read_text())["runs"]
    assert runs["williams_blstm_trimodal"]["reads_face"] is True
    assert runs["williams_blstm_trimodal"]["metrics"]["overall.mae"]["band"] == golden.FACE_FLOOR["default"] == 0.15
    assert "reads_face" not in runs["xu_text"]


def test_a_perturbed_metric_fails_naming_run_and_metric(reports, capsys):
    golden.write("default")
    path = reports / "reports/benchmark/williams_blstm_trimodal/metrics.json"
    data = json.loads(path.read_text())
    data["overall"]["mae"] = 0.142 + 0.059  # inside the 0.06 band
    path.write_text(json.dumps(data))
    assert golden.check("default") == []
    data["overall"]["mae"] = 0.142 + 0.061
    path.write_text(json.dumps(data))
    (reports / "reports/metrics.json").write_text(json.dumps({"task": "continuous", "valence": {"ccc": 0.5},
                                                              "arousal": {"ccc": 0.42}}))
    failures = golden.check("default")
    assert failures == [
        "model valence.ccc: 0.5000 is outside 0.6100 +- 0.0200 (reports/metrics.json)",
        "williams_blstm_trimodal overall.mae: 0.2030 is outside 0.1420 +- 0.0600 "
        "(reports/benchmark/williams_blstm_trimodal/metrics.json)"]
    assert "OUTSIDE" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="williams_blstm_trimodal overall.mae"):
        golden.main(["check", "default"])


def test_a_run_that_now_skips_or_lost_its_metrics_fails(reports):
    golden.write("default")
    write_json(reports / "reports/benchmark/xu_text/metrics.json", {"skipped": "no transcript"})
    (reports / "reports/metrics.json").unlink()
    assert golden.check("default") == ["model: reports/metrics.json is missing",
                                       "xu_text: golden says trained, reports/benchmark/xu_text/metrics.json "
                                       "says skipped"]


def test_rewriting_keeps_a_run_s_sd_source(reports):
    path = golden.write("default")
    pinned = yaml.safe_load(path.read_text())
    pinned["runs"]["model"]["sd_from"] = "williams/blstm_avt"
    path.write_text(yaml.safe_dump(pinned))
    runs = yaml.safe_load(golden.write("default").read_text())["runs"]
    assert runs["model"]["sd_from"] == "williams/blstm_avt"  # no such metric in that suite: the floor
    assert runs["model"]["metrics"]["valence.ccc"]["band"] == 0.02


def test_the_committed_default_golden_file_matches_the_committed_reports(tmp_path, monkeypatch):
    shutil.copytree(REPO / "reports", tmp_path / "reports")
    monkeypatch.chdir(tmp_path)
    assert golden.check("default") == []


def test_a_run_without_a_suite_takes_its_sd_from_the_seeds_file(reports):
    from benchmarks.golden_seeds import seed_table

    values = {7: {"class.wa": 0.5, "class.ua": 0.38}, 8: {"class.wa": 0.44, "class.ua": 0.36},
              9: {"class.wa": 0.56, "class.ua": 0.37}}
    table = seed_table(values)
    # sample sd (ddof 1) by its formula: sqrt(sum((x - mean)^2) / (n - 1))
    assert table["class.wa"]["sd"] == pytest.approx((((0.0) ** 2 + 0.06 ** 2 + 0.06 ** 2) / 2) ** 0.5, abs=1e-4)
    assert table["class.ua"]["values"] == {7: 0.38, 8: 0.36, 9: 0.37}
    golden.GOLDEN.mkdir()
    williams = {"overall.mae": {"values": {7: 0.1, 8: 0.5, 9: 0.9}, "sd": 0.4}}  # not read: its suite's sd is
    (golden.GOLDEN / "default_seeds.yaml").write_text(yaml.safe_dump({"runs": {"xu_text": table,
                                                                                "williams_blstm_trimodal": williams}}))
    runs = yaml.safe_load(golden.write("default").read_text())["runs"]
    assert runs["xu_text"]["metrics"]["class.wa"] == {"value": 0.5, "band": 0.12, "seed_sd": 0.06}
    assert runs["xu_text"]["metrics"]["class.ua"] == {"value": 0.38, "band": 0.02, "seed_sd": 0.01}  # the floor
    # a suite's sd wins over the seeds file's
    assert runs["williams_blstm_trimodal"]["metrics"]["overall.mae"]["band"] == 0.06


def test_the_seeds_copy_links_the_workspace_s_inputs_and_sets_only_the_seed(tmp_path, monkeypatch):
    from benchmarks import golden_seeds

    workspace = tmp_path / "ws"
    (workspace / "data/features/egemaps").mkdir(parents=True)
    (workspace / "data/features/egemaps/s.npy").write_bytes(b"x")
    (workspace / "params.yaml").write_text(yaml.safe_dump({"train": {"seed": 7, "epochs": 3}, "model": "lstm"}))
    (workspace / "pipeline").mkdir()
    (workspace / "pipeline/a.py").write_text("A = 1\n")
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    (workspace / ".gitignore").write_text("/data/\n")
    monkeypatch.setattr(golden_seeds, "REPO", workspace)
    copy = golden_seeds.scratch_copy(tmp_path / "copy", 8)
    assert yaml.safe_load((copy / "params.yaml").read_text()) == {"train": {"seed": 8, "epochs": 3}, "model": "lstm"}
    assert (copy / "pipeline/a.py").read_text() == "A = 1\n"
    assert (copy / "data/features").resolve() == (workspace / "data/features").resolve()
    assert not (copy / "data/windows").exists()  # only what the workspace has
    assert yaml.safe_load((workspace / "params.yaml").read_text())["train"]["seed"] == 7


def test_the_repository_copy_leaves_out_a_tracked_file_deleted_from_the_worktree(tmp_path):
    """A reproduced workspace may lack a tracked plot its report no longer draws (the tiny project)."""
    from benchmarks.repository_copy import copy_repository

    repo = tmp_path / "repo"
    (repo / "reports").mkdir(parents=True)
    for name in ("kept.png", "gone.png"):
        (repo / "reports" / name).write_bytes(b"png")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    (repo / "reports/gone.png").unlink()
    (repo / "new.txt").write_text("untracked, not ignored\n")
    copy = copy_repository(tmp_path / "copy", repo)
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file()) == ["new.txt", "reports/kept.png"]
