"""The set-up's kernel build (``python -m her2lab.kernels``)."""

from __future__ import annotations

import os
from pathlib import Path

from her2lab import kernels


def test_building_the_kernels_leaves_the_users_cache_alone(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("HER2LAB_CACHE", str(cache))
    done = kernels.build()
    assert set(done) == {"native", "native_seconds", "link_seconds"}
    assert os.environ["HER2LAB_CACHE"] == str(cache)
    assert not cache.exists()  # its small pathway runs went to a temporary cache


def test_the_make_setup_builds_them():
    root = Path(__file__).resolve().parents[1]
    assert "-m her2lab.kernels" in (root / "Makefile").read_text()
