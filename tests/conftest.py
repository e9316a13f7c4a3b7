"""Suite-wide fixtures: every test run writes its caches to a fresh temporary directory."""

from __future__ import annotations

import os
import shutil
import tempfile

from hypothesis import settings

# Property tests draw the same examples on every run (a failure repeats; no flaky retries),
# and are not timed: a slow first call (numba compiling) is not a failure.
settings.register_profile("her2lab", derandomize=True, deadline=None)
settings.load_profile("her2lab")


def pytest_configure(config) -> None:
    """Compiled databases and simulation caches of this run go to a private directory, so a
    run never reads results a previous version of the code left in ~/.cache."""
    path = tempfile.mkdtemp(prefix="her2lab-test-cache-")
    config._her2lab_cache = path
    os.environ["HER2LAB_CACHE"] = path


def pytest_unconfigure(config) -> None:
    path = getattr(config, "_her2lab_cache", None)
    if path:
        shutil.rmtree(path, ignore_errors=True)
