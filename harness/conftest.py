"""pytest configuration for the harness: makes `flock` importable, offers the
interop helpers as fixtures, and fails (never skips) when node is missing,
since ./run test installs it."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flock import interop  # noqa: E402


@pytest.fixture(scope="session")
def js():
    """The interop helpers, after checking the pinned packages are installed."""
    if not interop.node_available():
        pytest.fail("node or harness/interop/node_modules missing: run ./run test (it runs npm ci)")
    return interop


@pytest.fixture
def test_seed():
    """FL_TEST_SEED (default 1): tests that draw randomness seed from it."""
    return int(os.environ.get("FL_TEST_SEED", "1"), 0)
