"""The curated HER2 knowledge base: typed records, loading and validation, the SQLite store.

>>> from her2lab.knowledge import load
>>> kb = load()                       # the shipped data, validated once and cached
>>> kb.drug("Herceptin").id           # doctest: +SKIP
'trastuzumab'

:func:`load` returns a :class:`KnowledgeBase`; :func:`load_directory` validates any directory
laid out like the shipped one and raises :class:`~her2lab.errors.ValidationError` listing every
problem. Queries over the compiled database live in :mod:`her2lab.knowledge.query`.
"""

from her2lab.knowledge.load import load
from her2lab.knowledge.schema import (
    CI,
    Arm,
    Biomarker,
    Conflict,
    ConflictValue,
    Drug,
    DrugClass,
    Endpoint,
    KnowledgeBase,
    Mechanism,
    Outcome,
    Population,
    PredictiveStatement,
    Provenance,
    PValue,
    Reference,
    Setting,
    Target,
    Timepoint,
    Trial,
)
from her2lab.knowledge.validate import load_directory

__all__ = [
    "CI",
    "Arm",
    "Biomarker",
    "Conflict",
    "ConflictValue",
    "Drug",
    "DrugClass",
    "Endpoint",
    "KnowledgeBase",
    "Mechanism",
    "Outcome",
    "PValue",
    "Population",
    "PredictiveStatement",
    "Provenance",
    "Reference",
    "Setting",
    "Target",
    "Timepoint",
    "Trial",
    "load",
    "load_directory",
]
