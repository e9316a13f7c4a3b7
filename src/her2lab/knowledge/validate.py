"""Validate a data directory of curated YAML: every record and every cross-reference.

:func:`load_directory` collects **every** problem (YAML syntax, schema, cross-references,
duplicate IDs and aliases, drug identifiers) before raising one
:class:`~her2lab.errors.ValidationError`; each :class:`~her2lab.errors.Problem` names the file,
the line (from the YAML node marks), the field path inside the file (``arms[1].regimen[0]``,
``drugs[3].identifiers.drugbank``), what was expected and what was found. Nothing is returned,
and nothing compiled, when anything is invalid. The layout of a directory is described in
:mod:`her2lab.knowledge.layout`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from her2lab.errors import ValidationError
from her2lab.knowledge.crossref import cross_check
from her2lab.knowledge.layout import LIST_FILES
from her2lab.knowledge.records import first_pass
from her2lab.knowledge.schema import KnowledgeBase

__all__ = ["load_directory"]


def load_directory(path: str | Path) -> KnowledgeBase:
    """Validate a data directory and return its typed knowledge base.

    Parameters
    ----------
    path : str or Path
        A directory laid out like the shipped ``her2lab/knowledge/data``.

    Returns
    -------
    KnowledgeBase
        The knowledge base, returned only when nothing is wrong.

    Raises
    ------
    ValidationError
        Listing every problem found (YAML syntax, schema, cross-references, uniqueness,
        identifiers), each with file, line and field.
    """
    root = Path(path)
    st = first_pass(root)
    cross_check(st)
    if st.problems:
        raise ValidationError(st.problems, f"{len(st.problems)} problem(s) in {root}")
    parts = {kind: [r for r, _, _ in st.records.get(kind, [])] for kind in LIST_FILES}
    parts["trials"] = [r for r, _, _ in st.records.get("trials", [])]
    kwargs: dict[str, Any] = {}
    if st.meta is not None:
        kwargs["cited_on"] = st.meta.seed.published
    return KnowledgeBase(**parts, **kwargs)  # records pass through unvalidated again
