"""An on-disk cache of simulated (profile, regimen) results, in SQLite (stdlib ``sqlite3``).

Virtual trials ask for the same (profile, regimen) many times; a result is stored under a key
that hashes everything it depends on: the model text (``.bnd`` and baseline ``.cfg``), the
configuration written for the run (which holds every rate, initial state, sample count, seed
and simulated time), and the backend. Change any of them and the key changes, so a stale result
is never returned.

The database lives in ``$HER2LAB_CACHE`` (default ``~/.cache/her2lab``) as ``pathway.sqlite``.
Its size is capped: when the rows stored pass ``max_bytes`` (``$HER2LAB_CACHE_MAX_MB``
megabytes, default :data:`DEFAULT_MAX_MB`; ``her2lab serve --cache-max-mb``), the oldest
written rows are deleted until they take at most 90% of it. The file does not shrink, but the
pages freed are reused, so it stays near the cap. Every user of the cache (the CLI, the API,
the virtual trials) shares it and its cap.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MAX_MB", "ResultCache", "cache_dir", "cache_key", "cache_max_bytes"]

DEFAULT_MAX_MB = 256.0
"""Default cap of the cache, in megabytes (10**6 bytes): some 50,000 results."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    regimen TEXT NOT NULL,
    samples INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    backend TEXT NOT NULL,
    nodes TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


def cache_dir() -> Path:
    """The cache directory: ``$HER2LAB_CACHE`` or ``~/.cache/her2lab``."""
    env = os.environ.get("HER2LAB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "her2lab"


def cache_max_bytes() -> int:
    """The cap: ``$HER2LAB_CACHE_MAX_MB`` megabytes, or :data:`DEFAULT_MAX_MB`."""
    from her2lab.errors import DataError

    env = os.environ.get("HER2LAB_CACHE_MAX_MB")
    if env is None or not env.strip():
        return int(DEFAULT_MAX_MB * 1e6)
    try:
        mb = float(env)
    except ValueError:
        mb = float("nan")
    if not (mb > 0 and mb < 1e7):
        raise DataError(f"HER2LAB_CACHE_MAX_MB: expected a positive number of megabytes "
                        f"(below 10,000,000); got {env!r}")
    return int(mb * 1e6)


def cache_key(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()


def engine_fingerprint() -> str:
    """A digest of the engine's source, so results computed by another version of the engine
    (or of this cache's callers) are never served from the cache."""
    from importlib import resources

    h = hashlib.sha256()
    for pkg in ("her2lab.boolnet", "her2lab.pathway"):
        root = resources.files(pkg)
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".py"):
                h.update(entry.name.encode())
                h.update(entry.read_bytes())
    return h.hexdigest()[:16]


class ResultCache:
    """Final node probabilities keyed by :func:`cache_key`; safe across processes. At most
    ``max_bytes`` of rows (default :func:`cache_max_bytes`), the oldest written evicted first."""

    def __init__(self, directory: Path | str | None = None, *,
                 max_bytes: int | None = None) -> None:
        self.path = Path(directory) if directory is not None else cache_dir()
        self.file = self.path / "pathway.sqlite"
        self.max_bytes = cache_max_bytes() if max_bytes is None else int(max_bytes)
        if self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive; got {max_bytes!r}")

    def _connect(self) -> sqlite3.Connection:
        self.path.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.file, timeout=30)
        con.execute(_SCHEMA)
        return con

    def get(self, key: str) -> dict[str, Any] | None:
        return self.get_many([key]).get(key)

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The stored results of ``keys`` (those found), over one connection."""
        out: dict[str, dict[str, Any]] = {}
        try:
            with closing(self._connect()) as con:
                for i in range(0, len(keys), 500):
                    part = keys[i:i + 500]
                    marks = ",".join("?" * len(part))
                    for k, nodes in con.execute(
                            f"SELECT key, nodes FROM results WHERE key IN ({marks})", part):
                        out[k] = json.loads(nodes)
        except (sqlite3.Error, OSError):  # no cache (read-only, or HER2LAB_CACHE is a file)
            return {}
        return out

    def put_many(self, rows: list[tuple[str, dict[str, Any], str, str, int, int, str]]) -> None:
        """Store ``(key, nodes, profile, regimen, samples, seed, backend)`` rows in one
        transaction (one commit, not one per row), then evict down to the cap."""
        if not rows:
            return
        try:
            with closing(self._connect()) as con, con:
                con.executemany(
                    "INSERT OR REPLACE INTO results (key, profile, regimen, samples, seed, backend,"
                    " nodes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(k, prof, reg, n, s, b, json.dumps(nodes))
                     for k, nodes, prof, reg, n, s, b in rows])
                self._evict(con)
        except (sqlite3.Error, OSError):  # a read-only cache must not stop a simulation
            return

    def put(self, key: str, nodes: dict[str, Any], *, profile: str, regimen: str,
            samples: int, seed: int, backend: str) -> None:
        self.put_many([(key, nodes, profile, regimen, samples, seed, backend)])

    def size(self) -> int:
        """Bytes the rows take (the file's pages in use)."""
        try:
            if not self.file.is_file():
                return 0
            with closing(self._connect()) as con:
                return self._used(con)
        except (sqlite3.Error, OSError):
            return 0

    @staticmethod
    def _used(con: sqlite3.Connection) -> int:
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * con.execute("PRAGMA page_size").fetchone()[0])

    def _evict(self, con: sqlite3.Connection) -> None:
        """Delete the oldest written rows until they take at most 90% of the cap."""
        used = self._used(con)
        if used <= self.max_bytes:
            return
        rows = int(con.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        while used > 0.9 * self.max_bytes and rows > 0:
            per_row = used / rows
            n = max(1, min(rows, math.ceil((used - 0.9 * self.max_bytes) / per_row)))
            con.execute("DELETE FROM results WHERE rowid IN "
                        "(SELECT rowid FROM results ORDER BY rowid LIMIT ?)", (n,))
            rows -= n
            after = self._used(con)
            if after >= used:  # pages not yet freed (one row per page): stop, next put goes on
                break
            used = after

    def __len__(self) -> int:
        try:
            if not self.file.is_file():
                return 0
            with closing(self._connect()) as con:
                return int(con.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        except (sqlite3.Error, OSError):
            return 0

    def clear(self) -> None:
        if self.file.exists():
            with closing(self._connect()) as con, con:
                con.execute("DELETE FROM results")
