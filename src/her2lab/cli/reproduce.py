"""``her2lab reproduce``: the main job."""

from __future__ import annotations


def reproduce() -> None:
    """Build the knowledge base, run every reproduction stage and write the outputs."""
