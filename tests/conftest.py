"""Test-wide set-up: the scratch cache (pipeline/scratch.py) of this test session only, a small
windowed dataset for training tests (`dataset`), and the
order of the modules: the two end-to-end modules first, so that pytest-xdist (`run.sh test`:
`-n 2 --dist loadfile --no-loadscope-reorder`) starts them on different workers at once; each runs
a chain of DVC commands of several minutes, and the other modules fill in behind the shorter."""
import os

import numpy as np
import pandas as pd
import pytest

from pipeline.scratch import ENV


@pytest.fixture(scope="session", autouse=True)
def scratch_cache(tmp_path_factory):
    """Points the scratch cache (feature cache, training progress) at a folder of this test
    session, for the tests and the stages they start, so tests never read or fill a user's
    cache. Tests that need an empty cache of their own set the variable again."""
    before = os.environ.get(ENV)
    os.environ[ENV] = str(tmp_path_factory.mktemp("scratch_cache"))
    yield os.environ[ENV]
    if before is None:
        del os.environ[ENV]
    else:
        os.environ[ENV] = before


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    """data/windows and data/features/vec of five 30-window sessions, for tests of training: the
    label is a smoothed function of the features; the two test sessions' speakers belong to two
    groups."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    (tmp_path / "data/windows").mkdir(parents=True)
    (tmp_path / "data/features/vec").mkdir(parents=True)
    tables = []
    for sid, split, group in (("a", "train", "g1"), ("b", "train", "g2"), ("c", "dev", "g1"), ("d", "test", "g1"),
                              ("e", "test", "g2")):
        x = rng.normal(size=(30, 5)).astype(np.float32)
        np.save(tmp_path / f"data/features/vec/{sid}.npy", x)
        tables.append(pd.DataFrame({"session": sid, "split": split, "group": group, "index": range(30),
                                    "start": np.arange(30.0), "end": np.arange(30.0) + 1,
                                    "valence": np.tanh(np.convolve(x[:, 0], np.ones(3) / 3, "same"))}))
    pd.concat(tables).to_csv(tmp_path / "data/windows/windows.csv", index=False)
    (tmp_path / "data/windows/task.json").write_text('{"task": "continuous", "targets": ["valence"], "classes": []}')
    return tmp_path


RUN_FIRST = ("test_pipeline_e2e.py", "test_manifest_e2e.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in RUN_FIRST)  # stable: each module keeps its order
