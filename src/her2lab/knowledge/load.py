"""The everyday entry point: :func:`load` returns the typed knowledge base of a directory.

The shipped data (:data:`~her2lab.knowledge.layout.DATA_DIR`) by default, cached in-process on
the content hash of the files and, across processes, through the SQLite store of
:mod:`her2lab.knowledge.store`. Validation itself is :mod:`her2lab.knowledge.validate`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from her2lab.knowledge import store
from her2lab.knowledge.layout import DATA_DIR
from her2lab.knowledge.schema import KnowledgeBase

__all__ = ["DATA_DIR", "load"]

_cache: dict[tuple[str, str], KnowledgeBase] = {}
_lock = threading.Lock()


def load(data_dir: str | Path | None = None) -> KnowledgeBase:
    """The typed knowledge base of a data directory (default: the shipped curated data).

    Cheap when called again: the result is cached in-process on the content hash of the YAML
    files, and a fresh process reads the validated knowledge base back from the SQLite store
    (compiled on first use and whenever the YAML changes) instead of validating it again.

    Parameters
    ----------
    data_dir : str or Path, optional
        A directory laid out like ``her2lab/knowledge/data`` (default: that one).

    Returns
    -------
    KnowledgeBase
        The validated knowledge base.

    Raises
    ------
    ValidationError
        If the directory's data does not validate (every problem listed, with file, line and
        field).
    """
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    digest = store.content_hash(root)
    key = (str(root.resolve()), digest)
    with _lock:
        kb = _cache.get(key)
        if kb is None:
            kb = store.load_or_compile(root, digest)
            _cache[key] = kb
    return kb

