"""Fixtures of the knowledge-base tests: a private cache directory, the minimal data set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent.parent / "data"
MINIMAL = DATA / "kb_minimal"
BROKEN = DATA / "kb_broken"


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("her2lab-cache")


@pytest.fixture(autouse=True)
def _private_cache(session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Compiled databases go to a temporary directory, never to ~/.cache."""
    monkeypatch.setenv("HER2LAB_CACHE", str(session_cache))
    return session_cache


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache directory of this test's own, empty at the start."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("HER2LAB_CACHE", str(cache))
    return cache


@pytest.fixture(scope="session")
def minimal_kb():
    from her2lab.knowledge import load_directory

    return load_directory(MINIMAL)


@pytest.fixture
def minimal_copy(tmp_path: Path) -> Path:
    """A copy of the minimal data directory that the test may change."""
    dst = tmp_path / "kb"
    shutil.copytree(MINIMAL, dst)
    return dst
