"""The on-disk pathway cache has a size cap (issue 24, point 12): past it the oldest written
results are evicted, for every user of the cache (CLI and API share ``ResultCache``)."""

from __future__ import annotations

import pytest

from her2lab.errors import DataError
from her2lab.pathway.cache import DEFAULT_MAX_MB, ResultCache, cache_key, cache_max_bytes

NODES = {f"node_{i}": 0.123456789 * i for i in range(40)}  # about 1 KB of JSON per row


def _put(cache: ResultCache, i: int) -> str:
    key = cache_key("row", str(i))
    cache.put(key, NODES, profile="p", regimen="r", samples=10, seed=i, backend="test")
    return key


def test_the_cache_stays_under_its_cap_and_keeps_the_newest(tmp_path):
    cap = 100_000
    cache = ResultCache(tmp_path, max_bytes=cap)
    keys = [_put(cache, i) for i in range(400)]  # about 400 KB written, four times the cap
    assert cache.size() <= cap
    assert 0 < len(cache) < 400
    assert cache.get(keys[-1]) == NODES  # the newest kept
    assert cache.get(keys[0]) is None  # the oldest evicted
    kept = [k for k in keys if cache.get(k) is not None]
    assert kept == keys[-len(kept):]  # evicted oldest first, nothing newer lost
    # the file does not grow past the cap by much: freed pages are reused
    assert cache.file.stat().st_size <= 2 * cap


def test_the_cap_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("HER2LAB_CACHE_MAX_MB", raising=False)
    assert cache_max_bytes() == int(DEFAULT_MAX_MB * 1e6)
    monkeypatch.setenv("HER2LAB_CACHE_MAX_MB", "1.5")
    assert cache_max_bytes() == 1_500_000
    for bad in ("0", "-1", "lots", "nan", "inf"):
        monkeypatch.setenv("HER2LAB_CACHE_MAX_MB", bad)
        with pytest.raises(DataError, match="HER2LAB_CACHE_MAX_MB"):
            cache_max_bytes()


def test_serve_takes_the_cap_as_an_option():
    from typer.testing import CliRunner

    from her2lab.cli import app

    out = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert "--cache-max-mb" in out.output
