"""The curated HER2 knowledge base: typed records, loading and validation, the SQLite store.

>>> from her2lab.knowledge import load
>>> kb = load()                       # the shipped data, validated once and cached
>>> kb.drug("Herceptin").id           # doctest: +SKIP
'trastuzumab'

:func:`load` returns a :class:`KnowledgeBase`; :func:`load_directory` validates any directory
laid out like the shipped one and raises :class:`~her2lab.errors.ValidationError` listing every
problem. Queries over the compiled database live in :mod:`her2lab.knowledge.query`; typed
queries over the records are methods of :class:`KnowledgeBase` (``kb.outcomes(endpoint="pCR",
kind="rate", subgroup=None)`` returns :class:`OutcomeRef` values with ``.trial``, ``.outcome``
and ``.key``; ``kb.superseded()``; ``Trial.arm_size(arm)``; ``Endpoint.is_time_to_event``).
"""

from her2lab.knowledge.load import load
from her2lab.knowledge.schema import (
    ANY,
    ASSUMED_ARM_SIZE,
    BINARY,
    CI,
    TIME_TO_EVENT,
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
    OutcomeRef,
    Population,
    PredictiveStatement,
    Provenance,
    PValue,
    Reference,
    Setting,
    Target,
    Timepoint,
    Trial,
    outcome_key,
)
from her2lab.knowledge.validate import load_directory

__all__ = [
    "ANY",
    "ASSUMED_ARM_SIZE",
    "BINARY",
    "CI",
    "TIME_TO_EVENT",
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
    "OutcomeRef",
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
    "outcome_key",
]
