"""Checks across records: every reference between records resolves, IDs and aliases are unique,
drug identifiers are valid (bioregistry), every cited reference number exists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from her2lab.errors import Problem
from her2lab.knowledge.layout import IDENTIFIER_PREFIXES
from her2lab.knowledge.records import Loaded
from her2lab.knowledge.schema import Drug, Provenance, _norm
from her2lab.yamlio import YamlDocument

__all__ = ["cross_check"]


def _provenances(obj: Any, path: tuple = ()) -> Iterator[tuple[tuple, Provenance]]:
    """Every Provenance inside a record, with its field path."""
    if isinstance(obj, Provenance):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _provenances(getattr(obj, name), (*path, name))
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _provenances(item, (*path, i))


def _check_identifiers(drug: Drug, doc: YamlDocument, at: tuple, problems: list[Problem]) -> None:
    if not drug.identifiers:
        return
    import bioregistry  # imported here: it costs ~0.5 s and only validation needs it

    for key, value in drug.identifiers.items():
        path = (*at, "identifiers", key)
        prefix = bioregistry.normalize_prefix(key)
        if prefix not in IDENTIFIER_PREFIXES:
            problems.append(Problem(doc.file, doc.field(path),
                                    "an identifier prefix among " + ", ".join(IDENTIFIER_PREFIXES),
                                    f"'{key}'", doc.line(path)))
            continue
        local = bioregistry.standardize_identifier(prefix, value)
        if not bioregistry.is_valid_identifier(prefix, local):
            pattern = bioregistry.get_pattern(prefix)
            problems.append(Problem(doc.file, doc.field(path),
                                    f"a {prefix} identifier matching {pattern}", f"'{value}'",
                                    doc.line(path)))


def _union(*sets: set[str] | None) -> set[str] | None:
    return None if any(x is None for x in sets) else set().union(*sets)  # type: ignore[arg-type]


def cross_check(st: Loaded) -> None:
    """Every reference between records resolves; IDs and drug aliases are unique."""
    P = st.problems
    drugs, targets, mechs = st.ids("drugs"), st.ids("targets"), st.ids("mechanisms")
    biomarkers, trials, refs = st.ids("biomarkers"), st.ids("trials"), st.ids("references")
    outcome_ids = st.outcome_ids()
    subgroups = _union(mechs, biomarkers)

    def need(value: Any, valid: set[str] | None, what: str, doc: YamlDocument,
             path: tuple) -> None:
        """A problem unless ``value`` is among ``valid`` (None: that kind could not be read)."""
        if valid is not None and str(value) not in valid:
            P.append(Problem(doc.file, doc.field(path), f"{what} ({_few(valid)})", f"'{value}'",
                             doc.line(path)))

    def need_all(values: list, valid: set[str] | None, what: str, doc: YamlDocument,
                 path: tuple) -> None:
        for j, v in enumerate(values):
            need(v, valid, what, doc, (*path, j))

    # uniqueness, per kind
    for kind, records in st.records.items():
        key = {"targets": "symbol", "references": "number"}.get(kind, "id")
        seen: dict[str, str] = {}
        for rec, doc, at in records:
            val = str(getattr(rec, key))
            line = doc.line((*at, key))
            if val in seen:
                P.append(Problem(doc.file, doc.field((*at, key)), f"a unique {kind[:-1]} {key}",
                                 f"'{val}', already used at {seen[val]}", line))
            else:
                seen[val] = f"{doc.file}:{line}"

    # every name and alias that a look-up (kb.drug(...), kb.trial(...)) accepts names one record
    for kind, fields in (("drugs", ("id", "name", "aliases")),
                         ("trials", ("id", "name", "aliases", "nct")),
                         ("targets", ("symbol", "aliases")),
                         ("mechanisms", ("id", "name")),
                         ("biomarkers", ("id", "name"))):
        owner: dict[str, str] = {}
        for rec, doc, at in st.records.get(kind, []):
            rid = rec.symbol if kind == "targets" else rec.id
            for fname in fields:
                vals = getattr(rec, fname)
                items = list(enumerate(vals)) if isinstance(vals, list) else [(None, vals)]
                for j, alias in items:
                    if alias is None:
                        continue
                    key = _norm(alias)
                    path = (*at, fname) if j is None else (*at, fname, j)
                    if key in owner and owner[key] != rid:
                        P.append(Problem(
                            doc.file, doc.field(path),
                            f"a name or alias that no other {kind[:-1]} uses "
                            "(compared ignoring case and punctuation)",
                            f"'{alias}', which also names {kind[:-1]} '{owner[key]}'",
                            doc.line(path)))
                    else:
                        owner.setdefault(key, rid)

    for d, doc, at in st.records.get("drugs", []):
        need_all(d.targets, targets, "a target symbol", doc, (*at, "targets"))
        need_all(d.components, drugs, "a drug ID", doc, (*at, "components"))
        _check_identifiers(d, doc, at, P)
    _check_component_loops(st.records.get("drugs", []), P)
    for m, doc, at in st.records.get("mechanisms", []):
        need_all(m.targets, targets, "a target symbol", doc, (*at, "targets"))
        need_all(m.counteracted_by, drugs, "a drug ID", doc, (*at, "counteracted_by"))
    for b, doc, at in st.records.get("biomarkers", []):
        if b.gene is not None:
            need(b.gene, targets, "a target symbol", doc, (*at, "gene"))
        if b.mechanism is not None:
            need(b.mechanism, mechs, "a mechanism ID", doc, (*at, "mechanism"))
        for i, s in enumerate(b.statements):
            sp = (*at, "statements", i)
            need(s.drug, drugs, "a drug ID", doc, (*sp, "drug"))
            need_all(s.outcomes, outcome_ids, "a 'trial/outcome' ID", doc, (*sp, "outcomes"))
    for t, doc, at in st.records.get("trials", []):
        need_all(t.drugs_tested, drugs, "a drug ID", doc, (*at, "drugs_tested"))
        for i, a in enumerate(t.arms):
            need_all(a.regimen, drugs, "a drug ID", doc, (*at, "arms", i, "regimen"))
        need_all(t.population.require, subgroups, "a mechanism or biomarker ID", doc,
                 (*at, "population", "require"))
        for i, o in enumerate(t.outcomes):
            if o.subgroup is not None:
                need(o.subgroup, subgroups, "a mechanism or biomarker ID", doc,
                     (*at, "outcomes", i, "subgroup"))
    subjects = {"trial": trials, "drug": drugs, "mech": mechs, "biomarker": biomarkers,
                "ref": refs}
    names = {"trial": "trial ID", "drug": "drug ID", "mech": "mechanism ID",
             "biomarker": "biomarker ID", "ref": "reference number"}
    for c, doc, at in st.records.get("conflicts", []):
        kind, _, local = c.subject.partition(":")
        valid = subjects[kind]
        if valid is not None and local not in valid:
            path = (*at, "subject")
            P.append(Problem(doc.file, doc.field(path),
                             f"'{kind}:' followed by a {names[kind]} ({_few(valid)})",
                             f"'{c.subject}'", doc.line(path)))
        for i, v in enumerate(c.values):
            if v.outcome is not None:
                need(v.outcome, outcome_ids, "a 'trial/outcome' ID", doc,
                     (*at, "values", i, "outcome"))

    # every reference number cited exists
    for records in st.records.values():
        for rec, doc, at in records:
            for path, prov in _provenances(rec, at):
                for j, r in enumerate(prov.refs):
                    if refs is not None and str(r) not in refs:
                        P.append(Problem(
                            doc.file, doc.field((*path, "refs", j)),
                            f"a reference number of references.yaml ({_range(refs)})",
                            str(r), doc.line((*path, "refs", j))))


def _check_component_loops(drugs: list, problems: list[Problem]) -> None:
    """A drug's components (a combination's drugs) must not lead back to it: each loop is one
    problem, at the first of its drugs in file order, naming the whole loop."""
    where = {d.id: (doc, at) for d, doc, at in drugs}
    parts = {d.id: [c for c in d.components if c in where] for d, _, _ in drugs}
    reported: set[frozenset[str]] = set()
    for start in parts:
        # depth-first from each drug: a path back to ``start`` is a loop through it
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in parts[node]:
                if nxt == start:
                    loop = frozenset(path)
                    if loop not in reported:
                        reported.add(loop)
                        doc, at = where[start]
                        k = parts[start].index(path[1] if len(path) > 1 else start)
                        fpath = (*at, "components", k)
                        problems.append(Problem(
                            doc.file, doc.field(fpath),
                            "components that do not lead back to the drug itself",
                            "the loop " + " -> ".join([*path, start]), doc.line(fpath)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))


def _few(values: set[str], n: int = 8) -> str:
    items = sorted(values)
    if not items:
        return "none defined"
    shown = ", ".join(items[:n])
    return f"one of {shown}" + (f" and {len(items) - n} more" if len(items) > n else "")


def _range(values: set[str]) -> str:
    nums = sorted(int(v) for v in values if v.isdigit())
    return f"{nums[0]}-{nums[-1]}" if nums else "none defined"
