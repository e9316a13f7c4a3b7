"""Shared fixtures of the pathway tests: one private cache per session, simulated results reused.

Every test that needs a simulation asks :func:`sim` (memoised per session), so a
(profile, regimen, samples, seed) is simulated once however many tests read it.
"""

from __future__ import annotations

import functools

import pytest

from her2lab.pathway import simulate
from her2lab.pathway.cache import ResultCache


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> ResultCache:
    return ResultCache(tmp_path_factory.mktemp("her2lab-cache"))


@pytest.fixture(scope="session")
def sim(cache: ResultCache):
    """``sim(profile, regimen, samples=2000, seed=1, **kw)``, memoised for the session."""

    @functools.cache
    def run(profile: str, regimen: str, samples: int = 2000, seed: int = 1, **kw):
        return simulate(profile, regimen, samples=samples, seed=seed, cache=cache, **kw)

    return run


@pytest.fixture(autouse=True)
def _private_cache_dir(cache: ResultCache, monkeypatch: pytest.MonkeyPatch) -> None:
    """Code that uses the default cache (the CLI, the claims) writes to the session's cache."""
    monkeypatch.setenv("HER2LAB_CACHE", str(cache.path))
