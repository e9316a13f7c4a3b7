"""her2lab: an open in-silico laboratory for HER2-positive breast cancer.

>>> import her2lab
>>> kb = her2lab.load()          # the curated knowledge base, typed  # doctest: +SKIP

``load`` is imported on first use, so ``import her2lab`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from her2lab.errors import Her2labError

if TYPE_CHECKING:
    from her2lab.knowledge import load

__version__ = "0.1.0"
__all__ = ["Her2labError", "__version__", "load"]


def __getattr__(name: str) -> Any:
    if name == "load":
        from her2lab.knowledge import load

        return load
    raise AttributeError(f"module 'her2lab' has no attribute {name!r}")
