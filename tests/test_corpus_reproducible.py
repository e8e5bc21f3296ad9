"""Issue 13 on a small manifest corpus, through DVC up to `corpus` only: clones at different
paths write identical outputs (no absolute path in them), and a bad manifest stops DVC at
`validate`, leaving the last good corpus in place."""
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from synthetic.manifest_example import write_continuous
from tests.dvc_project import copy_repository, run, stages_run

pytestmark = pytest.mark.slow
OUTSIDE = "../../../shared/first_transcript.txt"  # from corpora/mini/: beside the repository


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """3 speakers x 1 session: audio, transcripts, two annotators (espeak-ng, a few seconds)."""
    return write_continuous(tmp_path_factory.mktemp("example") / "mini", speakers=3, sessions_per_speaker=1)


def make_clone(base: Path, example: Path) -> Path:
    """The committed files at base/repo, with corpus `mini` (one transcript outside the repository)."""
    repo = copy_repository(base / "repo")
    corpus = repo / "corpora" / "mini"
    shutil.copytree(example, corpus)
    table = pd.read_csv(corpus / "sessions.csv", dtype=str, keep_default_na=False)
    (base / "shared").mkdir()
    shutil.move(corpus / table.transcript[0], base / "shared" / "first_transcript.txt")
    table.loc[0, "transcript"] = OUTSIDE
    table.to_csv(corpus / "sessions.csv", index=False)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["corpus"] = "mini"
    params["corpora"]["mini"] = {"source": "manifest", "allow_outside_root": True, "workers": 1}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "mini"], repo)
    return repo


@pytest.fixture(scope="module")
def clones(tmp_path_factory, example) -> list[Path]:
    made = []
    for where in ("first/at/a/deeper/path", "second"):
        base = tmp_path_factory.mktemp("clone") / where
        base.mkdir(parents=True)
        repo = make_clone(base, example)
        assert stages_run(run(["dvc", "repro", "corpus"], repo).stdout) == {"check_params", "validate", "corpus"}
        made.append(repo)
    return made


def stage_locks(repo: Path) -> dict:
    stages = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    return {name: stages[name] for name in ("check_params", "validate", "corpus")}


def snapshot(repo: Path) -> dict[str, str]:
    files = [*(repo / "data/corpus").rglob("*"), repo / "reports/corpus.json"]
    return {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def test_clones_at_different_paths_lock_identical_corpus_outputs(clones):
    first, second = clones
    assert stage_locks(first) == stage_locks(second)
    for repo in clones:
        for output in ("data/corpus/manifest.json", "data/validated.json", "reports/corpus.json"):
            text = (repo / output).read_text()
            assert str(repo) not in text and str(repo.parent) not in text, output
    sources = json.loads((first / "data/corpus/manifest.json").read_text())["sessions"][0]["sources"]
    assert sources["transcript"][0]["path"] == OUTSIDE and sources["transcript"][0]["outside_repository"]
    assert sources["audio"][0]["path"].startswith("corpora/mini/audio/")


def test_bad_manifest_stops_at_validate_and_keeps_the_last_good_corpus(clones, example):
    repo = clones[0]
    before, lock = snapshot(repo), (repo / "dvc.lock").read_text()
    table = pd.read_csv(repo / "corpora/mini/sessions.csv")
    gone = repo / "corpora/mini" / table.audio[1]
    gone.unlink()
    result = run(["dvc", "repro", "corpus"], repo, check=False)
    assert result.returncode != 0 and "corpus" not in stages_run(result.stdout)
    assert f"corpora/mini/sessions.csv, row 2: audio: {table.audio[1]} does not exist" in result.stdout + result.stderr
    assert snapshot(repo) == before and (repo / "dvc.lock").read_text() == lock

    # the file back and validate's code changed: validate re-runs and writes what it wrote
    # before, so corpus does not re-run
    shutil.copy2(example / table.audio[1], gone)
    with open(repo / "pipeline/validate.py", "a") as code:
        code.write("# touched\n")
    assert stages_run(run(["dvc", "repro", "corpus"], repo).stdout) == {"validate"}
    assert snapshot(repo) == before
