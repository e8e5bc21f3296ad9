"""The `training_inputs` stage: one digest that changes exactly when a file the training stages
read changes (pipeline/training_inputs.py), and the training stages' DVC dependency on it."""
import hashlib
from pathlib import Path

import pytest
import yaml

from pipeline.training_inputs import digests, folder_digest

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


def test_the_training_stages_depend_on_the_digest_and_it_on_the_folders():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    folders = {"data/windows", "data/units", "data/features"}
    assert folders <= set(stages["training_inputs"]["deps"])
    for name in ("train", "evaluate", "benchmark", "pretrain"):
        stage = stages[name].get("do", stages[name])
        deps = {d if isinstance(d, str) else next(iter(d)) for d in stage["deps"]}
        assert "data/training_inputs.json" in deps, name
        assert not deps & folders, f"{name} walks {deps & folders} itself"
