"""Session-wide settings of the unit tests."""

import os
from collections.abc import Iterator

import pytest

# Parallel-code tests run the team they ask for, whatever else the machine runs
# (compiler/dynamic_threads.py; tests/unit/test_dynamic_threads.py turns it on).
os.environ["COMPILER_DYNAMIC_THREADS"] = "0"


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A compile cache of the module's own (`pytestmark = pytest.mark.usefixtures("private_cache")`),
    so that its compiles neither hit nor fill the user's cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("COMPILER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
