"""Test-wide set-up: the scratch cache (pipeline/scratch.py) of this test session only, and the
order of the modules: the two end-to-end modules first, so that pytest-xdist (`run.sh test`:
`-n 2 --dist loadfile --no-loadscope-reorder`) starts them on different workers at once; each runs
a chain of DVC commands of several minutes, and the other modules fill in behind the shorter."""
import os

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


RUN_FIRST = ("test_pipeline_e2e.py", "test_manifest_e2e.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in RUN_FIRST)  # stable: each module keeps its order
