"""The digest stages: `training_inputs`, one digest that changes exactly when a file the training
stages read changes (pipeline/training_inputs.py), `extractor_code`, the feature stages' shared code
(pipeline/extractor_code.py), the digests themselves (pipeline/content_digest.py), and the stages'
DVC dependencies on them."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.content_digest import code_digests, folder_digest
from pipeline.extractor_code import EXTRACTOR_CODE
from pipeline.training_inputs import TRAINING_CODE, digests

ROOT = Path(__file__).resolve().parents[1]


def _data(root: Path) -> Path:
    data = root / "data"
    for name, content in {"windows/windows.csv": b"session,start\na,0\n", "windows/task.json": b"{}",
                          "units/sentences/windows.csv": b"session\nb\n",
                          "features/egemaps/s1.npy": b"\x01\x02", "features/egemaps/meta.json": b"{}",
                          "features/glove/s1.words.npy": b"\x03"}.items():
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_bytes(content)
    return data


def test_a_folder_digest_is_sha256_over_sorted_relative_paths_and_file_checksums(tmp_path):
    data = _data(tmp_path)
    lines = [f"{name}\0{hashlib.sha256(content).hexdigest()}\n" for name, content in
             (("meta.json", b"{}"), ("s1.npy", b"\x01\x02"))]
    assert folder_digest(data / "features/egemaps") == hashlib.sha256("".join(lines).encode()).hexdigest()


def test_a_name_and_the_bytes_around_it_do_not_collide(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    (one / "a").write_bytes(b"X\0b\0Y")  # a raw name+bytes stream would read this as files a=X, b=Y
    (two / "a").write_bytes(b"X")
    (two / "b").write_bytes(b"Y")
    assert folder_digest(one) != folder_digest(two)


def test_a_file_directly_in_data_features_counts_too(tmp_path):
    data = _data(tmp_path)
    before = digests(data)
    (data / "features/index.json").write_text("{}")
    after = digests(data)
    assert after["features/index.json"] == hashlib.sha256(b"{}").hexdigest()
    assert {k: v for k, v in after.items() if k != "features/index.json"} == before


def test_every_folder_the_training_stages_read_gets_a_digest(tmp_path):
    assert sorted(digests(_data(tmp_path))) == ["features/egemaps", "features/glove", "units/sentences", "windows"]


@pytest.mark.parametrize("change", ["edit", "add", "rename", "remove"])
def test_the_digest_changes_with_any_file_and_only_that_folder_s(tmp_path, change):
    data = _data(tmp_path)
    before = digests(data)
    target = data / "features/egemaps/s1.npy"
    if change == "edit":
        target.write_bytes(b"\x01\x03")
    elif change == "add":
        (target.parent / "s2.npy").write_bytes(b"")
    elif change == "rename":
        target.rename(target.parent / "s0.npy")
    else:
        target.unlink()
    after = digests(data)
    assert after["features/egemaps"] != before["features/egemaps"]
    assert {k: v for k, v in after.items() if k != "features/egemaps"} == \
        {k: v for k, v in before.items() if k != "features/egemaps"}


def test_unchanged_files_give_the_same_digest(tmp_path):
    data = _data(tmp_path)
    first = digests(data)
    (data / "features/egemaps/s1.npy").touch()  # a new mtime, the same bytes
    assert digests(data) == first


def test_missing_windows_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="windows"):
        digests(tmp_path / "data")


def _deps(stage: dict) -> set[str]:
    """A stage's (or a foreach stage's `do`) dependency paths."""
    return {d if isinstance(d, str) else next(iter(d)) for d in stage.get("do", stage)["deps"]}


def test_the_training_stages_depend_on_the_digest_and_it_on_the_folders():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    folders = {"data/windows", "data/units", "data/features"}
    assert folders <= set(stages["training_inputs"]["deps"])
    for name in ("train", "evaluate", "benchmark", "pretrain"):
        deps = _deps(stages[name])
        assert "data/training_inputs.json" in deps, name
        assert not deps & folders, f"{name} walks {deps & folders} itself"


def test_the_training_code_digest_changes_with_a_code_file_and_ignores_bytecode(tmp_path):
    for entry in TRAINING_CODE:
        path = tmp_path / entry
        if path.suffix == ".py":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# {entry}\n")
        else:
            (path / "sub").mkdir(parents=True)
            (path / "sub" / "a.py").write_text("A = 1\n")
    before = code_digests(TRAINING_CODE, "TRAINING_CODE", tmp_path)
    assert before["pipeline/trainer.py"] == hashlib.sha256(b"# pipeline/trainer.py\n").hexdigest()
    (tmp_path / "models/__pycache__").mkdir()
    (tmp_path / "models/__pycache__/a.cpython-311.pyc").write_bytes(b"\x00")  # Python's, per clone
    (tmp_path / "models/sub/b.pyc").write_bytes(b"\x00")
    assert code_digests(TRAINING_CODE, "TRAINING_CODE", tmp_path) == before
    (tmp_path / "models/sub/a.py").write_text("A = 2\n")
    after = code_digests(TRAINING_CODE, "TRAINING_CODE", tmp_path)
    assert after["models"] != before["models"] and {k for k in after if after[k] != before[k]} == {"models"}
    (tmp_path / "pipeline/sequences.py").unlink()
    with pytest.raises(FileNotFoundError, match="pipeline/sequences.py: listed in TRAINING_CODE"):
        code_digests(TRAINING_CODE, "TRAINING_CODE", tmp_path)


def test_the_shared_training_code_is_a_dep_of_the_digest_and_of_no_training_stage():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert _deps(stages["training_inputs"]) == {"pipeline/training_inputs.py", "pipeline/content_digest.py",
                                                 "data/windows", "data/units", "data/features", *TRAINING_CODE}
    for name in TRAINING_STAGES:
        assert not _deps(stages[name]) & set(TRAINING_CODE), f"{name} lists shared code itself"


# imported by the training stages but unable to change a number: where files are (layout, scratch), how
# params are read and checked (a run passes the check or stops; the params are DVC params deps), the
# process pool (results independent of the workers), the package docstring
NOT_RESULTS = {"pipeline/__init__.py", "pipeline/layout.py", "pipeline/config.py", "pipeline/scratch.py",
               "pipeline/params_check.py", "pipeline/params_rules.py", "features/worker_pool.py"}
TRAINING_STAGES = {"train": ["pipeline.train"], "evaluate": ["pipeline.evaluate"], "benchmark": ["pipeline.benchmark"],
                   "pretrain": ["pipeline.pretrain", "pipeline.benchmark"]}  # pretrain trains through benchmark's code


def _imported(modules: list[str]) -> list[str]:
    """The project files (from the repository root) that importing `modules` loads, in a fresh interpreter."""
    code = ("import importlib, sys, json; from pathlib import Path; root = Path.cwd().resolve()\n"
            f"[importlib.import_module(m) for m in {modules!r}]\n"
            "files = {Path(m.__file__).resolve() for m in list(sys.modules.values()) if getattr(m, '__file__', None)}\n"
            "print(json.dumps(sorted(str(f.relative_to(root)) for f in files if f.is_relative_to(root) "
            "and f.is_file() and '.venv' not in f.parts)))")  # torch names some modules by bare, relative file names
    return json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                     check=True).stdout)


@pytest.mark.parametrize("stage", sorted(TRAINING_STAGES))
def test_every_project_module_a_training_stage_imports_is_a_dep_of_it_or_of_the_digest(stage):
    """Run in a fresh interpreter: the project files a stage's modules import (its DVC inputs, read
    from sys.modules) are each its own dep, in the digest's TRAINING_CODE, or one of NOT_RESULTS."""
    imported = _imported(TRAINING_STAGES[stage])
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    covered = _deps(stages[stage]) | set(TRAINING_CODE) | NOT_RESULTS
    missing = [f for f in imported if f not in covered and f.split("/")[0] not in covered]
    assert imported and not missing, f"{stage} imports {missing}: add them to its deps or to TRAINING_CODE"


FEATURE_STAGES = ("features", "unit_features", "derived_features")


def test_the_shared_extractor_code_is_a_dep_of_its_digest_and_of_no_feature_stage():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert _deps(stages["extractor_code"]) == {"pipeline/extractor_code.py", "pipeline/content_digest.py",
                                                *EXTRACTOR_CODE}
    for name in FEATURE_STAGES:
        deps = _deps(stages[name])
        assert "data/extractor_code.json" in deps and not deps & set(EXTRACTOR_CODE), name


def test_every_project_module_the_extractors_import_is_shared_code_or_an_extractor_s_own():
    """In a fresh interpreter, the feature stage's driver and every extractor params.yaml names
    (each stage lists its own extractor's module, a derived stage its source's too): the project
    files they import together are EXTRACTOR_CODE, extractor modules, or NOT_RESULTS."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    extractors = {*params["features"], *(v["extractor"] for v in params["unit_features"].values()),
                  *(v[k] for v in params["derived_features"].values() for k in ("extractor", "source"))}
    modules = ["pipeline.features", *(f"features.{e}" for e in sorted(extractors))]
    own = {f"features/{e}.py" for e in extractors}
    missing = [f for f in _imported(modules) if f not in {*EXTRACTOR_CODE, *own, *NOT_RESULTS}]
    assert not missing, f"the feature stages import {missing}: add them to EXTRACTOR_CODE"
