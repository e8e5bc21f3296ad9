"""Test-wide set-up: the scratch cache (pipeline/scratch.py) of this test session only."""
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
