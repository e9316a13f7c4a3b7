"""The first pass over a data directory: every file read and each record validated alone.

Problems are collected, never raised: :mod:`her2lab.knowledge.validate` adds the
cross-reference checks of :mod:`her2lab.knowledge.crossref` and raises them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from her2lab.errors import Problem
from her2lab.knowledge.layout import LIST_FILES, META_FILE, OPTIONAL_FILES, TRIALS_DIR, Meta
from her2lab.knowledge.schema import Record, Reference, Target, Trial, outcome_key
from her2lab.yamlio import YamlDocument, problems_from_pydantic, read_yaml_document

__all__ = ["Loaded", "first_pass"]


@dataclass
class Loaded:
    """What the first pass found: valid records with where they sit, and every raw ID.

    IDs of records that failed validation still count as defined (``raw_ids``), so one bad
    record does not also make every reference to it a problem; a kind whose file could not be
    read at all is ``unknown`` and references to it are not checked.
    """

    problems: list[Problem] = field(default_factory=list)
    records: dict[str, list[tuple[Any, YamlDocument, tuple]]] = field(default_factory=dict)
    raw_ids: dict[str, set[str]] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    meta: Meta | None = None

    def ids(self, kind: str) -> set[str] | None:
        if kind in self.unknown:
            return None
        key = {"targets": "symbol", "references": "number"}.get(kind, "id")
        found = {str(getattr(r, key)) for r, _, _ in self.records.get(kind, [])}
        return found | self.raw_ids.get(kind, set())

    def outcome_ids(self) -> set[str] | None:
        if "trials" in self.unknown:
            return None
        found = {outcome_key(t, o) for t, _, _ in self.records.get("trials", [])
                 for o in t.outcomes}
        return found | self.raw_ids.get("outcomes", set())


def _validate_list(kind: str, doc: YamlDocument, cls: type[Record], st: Loaded) -> None:
    data = doc.data
    if doc.node is None and kind in OPTIONAL_FILES:
        return
    if doc.node is None:  # an empty file: one problem, not one per reference to its records
        st.problems.append(Problem(doc.file, "(document)",
                                   f"a YAML list of {cls.__name__} records", "an empty file"))
        st.unknown.add(kind)
        return
    if not isinstance(data, list):
        st.problems.append(Problem(doc.file, "(document)", f"a YAML list of {cls.__name__} records",
                                   type(data).__name__, doc.line()))
        st.unknown.add(kind)
        return
    key = "symbol" if cls is Target else "number" if cls is Reference else "id"
    for i, item in enumerate(data):
        try:
            rec = cls.model_validate(item)
        except pydantic.ValidationError as exc:
            st.problems.extend(problems_from_pydantic(exc, cls, doc, (i,)))
            if isinstance(item, dict) and key in item:
                st.raw_ids.setdefault(kind, set()).add(str(item[key]))
            continue
        st.records.setdefault(kind, []).append((rec, doc, (i,)))


def first_pass(root: Path) -> Loaded:
    st = Loaded()
    label = root.as_posix().rstrip("/")

    def fname(rel: str) -> str:
        return f"{label}/{rel}"

    if not root.is_dir():
        found = "a file" if root.exists() else "no such directory"
        st.problems.append(Problem(label, "(directory)", "a data directory", found))
        return st
    known = {META_FILE, *(f for f, _ in LIST_FILES.values())}
    for p in sorted(root.iterdir()):
        if p.is_file() and p.suffix in (".yaml", ".yml") and p.name not in known:
            st.problems.append(Problem(fname(p.name), "(file)", "one of " + ", ".join(sorted(known))
                                       + " or trials/*.yaml", f"unexpected file {p.name}"))

    meta_path = root / META_FILE
    if not meta_path.is_file():
        st.problems.append(Problem(fname(META_FILE), "(file)", "meta.yaml naming the seed",
                                   "no such file"))
    else:
        doc = read_yaml_document(meta_path, fname(META_FILE), st.problems)
        if doc is not None:
            try:
                st.meta = Meta.model_validate(doc.data)
            except pydantic.ValidationError as exc:
                st.problems.extend(problems_from_pydantic(exc, Meta, doc))

    for kind, (name, cls) in LIST_FILES.items():
        path = root / name
        if not path.is_file() and kind in OPTIONAL_FILES:
            continue
        if not path.is_file():
            st.problems.append(Problem(fname(name), "(file)", f"a YAML list of {kind}",
                                       "no such file"))
            st.unknown.add(kind)
            continue
        doc = read_yaml_document(path, fname(name), st.problems, kind)
        if doc is None:
            st.unknown.add(kind)
        else:
            _validate_list(kind, doc, cls, st)

    trial_dir = root / TRIALS_DIR
    if not trial_dir.is_dir():
        st.problems.append(Problem(fname(TRIALS_DIR), "(directory)",
                                   "a directory of trial files", "no such directory"))
        st.unknown.add("trials")
    else:
        for path in sorted([*trial_dir.glob("*.yaml"), *trial_dir.glob("*.yml")]):
            doc = read_yaml_document(path, fname(f"{TRIALS_DIR}/{path.name}"), st.problems)
            if doc is None:
                st.unknown.add("trials")
                continue
            if not isinstance(doc.data, dict):
                st.problems.append(Problem(doc.file, "(document)", "one Trial mapping",
                                           type(doc.data).__name__, doc.line()))
                st.unknown.add("trials")
                continue
            try:
                rec = Trial.model_validate(doc.data)
            except pydantic.ValidationError as exc:
                st.problems.extend(problems_from_pydantic(exc, Trial, doc))
                tid = str(doc.data.get("id"))
                st.raw_ids.setdefault("trials", set()).add(tid)
                outcomes = doc.data.get("outcomes")
                for o in outcomes if isinstance(outcomes, list) else []:
                    if isinstance(o, dict) and "id" in o:
                        st.raw_ids.setdefault("outcomes", set()).add(
                            outcome_key(tid, str(o["id"])))
                continue
            st.records.setdefault("trials", []).append((rec, doc, ()))
    return st
