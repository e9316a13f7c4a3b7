"""What a knowledge-base data directory contains: its files, and the schema of ``meta.yaml``.

Layout of a data directory (the shipped one is ``her2lab/knowledge/data``)::

    meta.yaml            {seed: {citation, doi, published: YYYY-MM-DD}}
    drugs.yaml           a list of Drug records          targets.yaml     a list of Target
    mechanisms.yaml      a list of Mechanism             biomarkers.yaml  a list of Biomarker
    references.yaml      a list of Reference             conflicts.yaml   (optional) Conflicts
    trials/*.yaml        one Trial mapping per file
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pydantic

from her2lab.knowledge.schema import (
    Biomarker,
    Conflict,
    Drug,
    Mechanism,
    Record,
    Reference,
    Target,
)

__all__ = [
    "DATA_DIR",
    "IDENTIFIER_PREFIXES",
    "LIST_FILES",
    "META_FILE",
    "OPTIONAL_FILES",
    "TRIALS_DIR",
    "Meta",
    "SeedMeta",
]

DATA_DIR = Path(__file__).parent / "data"

#: The list files of a data directory: KnowledgeBase field -> (file name, record class).
LIST_FILES: dict[str, tuple[str, type[Record]]] = {
    "drugs": ("drugs.yaml", Drug),
    "targets": ("targets.yaml", Target),
    "mechanisms": ("mechanisms.yaml", Mechanism),
    "biomarkers": ("biomarkers.yaml", Biomarker),
    "references": ("references.yaml", Reference),
    "conflicts": ("conflicts.yaml", Conflict),
}
#: List files a directory may leave out (the KB field then stays empty).
OPTIONAL_FILES = frozenset({"conflicts"})
META_FILE = "meta.yaml"
TRIALS_DIR = "trials"

#: Drug identifier prefixes accepted in ``Drug.identifiers`` (bioregistry's canonical names).
IDENTIFIER_PREFIXES = ("drugbank", "ncit", "chebi", "pubchem.compound")

class SeedMeta(Record):
    citation: str
    doi: str = pydantic.Field(pattern=r"^10\.\d{4,9}/\S+$")
    received: dt.date | None = None
    accepted: dt.date | None = None
    published: dt.date


class Meta(Record):
    """``meta.yaml``: the seed publication; its date is ``KnowledgeBase.cited_on``."""

    seed: SeedMeta
