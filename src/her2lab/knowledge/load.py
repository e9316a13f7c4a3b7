"""Read a data directory of curated YAML, validate every record and every cross-reference.

Layout of a data directory (the shipped one is ``her2lab/knowledge/data``)::

    meta.yaml            {seed: {citation, doi, published: YYYY-MM-DD}}
    drugs.yaml           a list of Drug records          targets.yaml     a list of Target
    mechanisms.yaml      a list of Mechanism             biomarkers.yaml  a list of Biomarker
    references.yaml      a list of Reference             conflicts.yaml   (optional) Conflicts
    trials/*.yaml        one Trial mapping per file

:func:`load_directory` collects **every** problem (YAML syntax, schema, cross-references,
duplicate IDs and aliases, drug identifiers) before raising one
:class:`~her2lab.errors.ValidationError`; each :class:`~her2lab.errors.Problem` names the file,
the line (from the YAML node marks), the field path inside the file (``arms[1].regimen[0]``,
``drugs[3].identifiers.drugbank``), what was expected and what was found. Nothing is returned,
and nothing compiled, when anything is invalid.

:func:`load` is the everyday entry point: it returns the typed knowledge base of a directory
(the shipped one by default), cached in-process on the content hash of the files and, across
processes, through the SQLite store of :mod:`her2lab.knowledge.store`.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import BaseModel

from her2lab.errors import Problem, ValidationError
from her2lab.knowledge.schema import (
    Biomarker,
    Conflict,
    Drug,
    KnowledgeBase,
    Mechanism,
    Provenance,
    Record,
    Reference,
    Target,
    Trial,
    _norm,
)

__all__ = ["DATA_DIR", "LIST_FILES", "Meta", "SeedMeta", "load", "load_directory"]

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

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SeedMeta(Record):
    citation: str
    doi: str = pydantic.Field(pattern=r"^10\.\d{4,9}/\S+$")
    received: dt.date | None = None
    accepted: dt.date | None = None
    published: dt.date


class Meta(Record):
    """``meta.yaml``: the seed publication; its date is ``KnowledgeBase.cited_on``."""

    seed: SeedMeta


# --------------------------------------------------------------------------- YAML with lines


@dataclass
class _Doc:
    """One parsed YAML file: its data and the node tree that knows the lines."""

    file: str
    data: Any
    node: yaml.Node | None
    label: str = ""  # root of field paths: "drugs" for drugs.yaml, "" for a trial file

    def field(self, path: tuple[Any, ...]) -> str:
        """Field path of ``path`` as a person reads it: ``drugs[3].aliases[0]``."""
        text = _path_str(path)
        if not self.label:
            return text
        return self.label if text == "(document)" else self.label + (
            text if text.startswith("[") else "." + text)

    def line(self, path: tuple[Any, ...] = ()) -> int | None:
        """Line (1-based) of the deepest node along ``path`` that exists.

        A mapping entry answers with the line of its key (``arms:``), a list item with the line
        where the item starts.
        """
        node = self.node
        if node is None:
            return None
        line = node.start_mark.line + 1
        for key in path:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                        line, node = k.start_mark.line + 1, v
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if not 0 <= key < len(node.value):
                    break
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        return line


def read_yaml_document(
    path: Path, file: str, problems: list[Problem], label: str = ""
) -> _Doc | None:
    """Parse one file; a syntax error becomes a Problem carrying the line of the error."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(file, "(file)", "a readable UTF-8 YAML file", str(exc)))
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        found = " ".join(str(s) for s in (exc.context, exc.problem) if s)
        problems.append(
            Problem(file, "(syntax)", "well-formed YAML", found or str(exc),
                    None if mark is None else mark.line + 1)
        )
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(file, "(syntax)", "well-formed YAML", str(exc)))
        return None
    finally:
        loader.dispose()
    doc = _Doc(file, data, node, label)
    _check_duplicate_keys(doc, node, (), problems)
    return doc


def _check_duplicate_keys(doc: _Doc, node: yaml.Node | None, path: tuple, problems: list) -> None:
    """PyYAML keeps the last of two equal keys silently; a curator wants to hear about it."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k)
            if key in seen:
                problems.append(Problem(
                    doc.file, doc.field((*path, key)), "each key once in a mapping",
                    f"'{key}' again (first at line {seen[key]})", k.start_mark.line + 1,
                ))
            else:
                seen[key] = k.start_mark.line + 1
            _check_duplicate_keys(doc, v, (*path, key), problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(doc, item, (*path, i), problems)


def _path_str(path: tuple[Any, ...]) -> str:
    """``('arms', 1, 'regimen', 0)`` -> ``arms[1].regimen[0]``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or "(document)"


# --------------------------------------------------------------------------- pydantic errors


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``X``, ``list[X]``, ``X | None``, ``dict[str, X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def _model_at(cls: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that the location ``loc`` (inside an instance of ``cls``) points into."""
    current: type[BaseModel] | None = cls
    for key in loc:
        if current is None:
            return None
        if isinstance(key, int):
            continue
        info = current.model_fields.get(key)
        if info is None:
            return None
        current = _unwrap_model(info.annotation)
    return current


# Messages of model-level validators that concern one field the message does not quote.
_MESSAGE_FIELDS = [
    (re.compile(r"is a ratio and must be above 0"), ("value",)),
    (re.compile(r"CI must lie above 0"), ("ci", "low")),
    (re.compile(r"does not contain its estimate"), ("ci",)),
    (re.compile(r"needs unit|is given in percent"), ("unit",)),
    (re.compile(r"needs a 'measure'"), ("measure",)),
    (re.compile(r"^duplicate arm id"), ("arms",)),
    (re.compile(r"^duplicate outcome id"), ("outcomes",)),
]
_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")
_OUTCOME_ARM = re.compile(r"^outcome '([^']+)' names arm '([^']+)'")


# Validator messages of the schema, rephrased as (expected, found) for a Problem.
_EXPLAIN = [
    (re.compile(r"^an? (HR|OR) is a ratio and must be above 0; got (.+)$"),
     "a {0} above 0 (a ratio)", "{1}"),
    (re.compile(r"^an? (HR|OR) CI must lie above 0; got low (.+)$"),
     "a {0} CI above 0 (a ratio)", "low {1}"),
    (re.compile(r"^the CI \[(.+), (.+)\] does not contain its estimate (.+)$"),
     "a CI that contains its estimate {2}", "[{0}, {1}]"),
    (re.compile(r"^'(\w+)' is a percentage and must lie in 0-100; got (.+)$"),
     "a percentage in 0-100", "{1}"),
    (re.compile(r"^CI low \((.+)\) is above CI high \((.+)\)$"),
     "CI low <= CI high", "low {0}, high {1}"),
]


def _explain(text: str, value: Any) -> tuple[str, str]:
    """(expected, found) for a validator's message; ``value`` is the input at the field."""
    for pattern, expected, found in _EXPLAIN:
        m = pattern.match(text)
        if m:
            return expected.format(*m.groups()), found.format(*m.groups())
    if "; got " in text:
        head, tail = text.rsplit("; got ", 1)
        return head, tail
    if value is None:
        return text, "nothing"
    return text, "a record that breaks this rule" if isinstance(value, dict) else _short(value)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _refine_loc(cls: type[BaseModel], loc: tuple, msg: str, data: Any) -> tuple:
    """Point a model-level error at the field it concerns, where the message tells which."""
    model = _model_at(cls, loc)
    if model is None:
        return loc
    m = _OUTCOME_ARM.match(msg)
    if m and model is Trial:
        node = _get(data, loc)
        outcomes = node.get("outcomes") if isinstance(node, dict) else None
        for i, o in enumerate(outcomes or []):
            if isinstance(o, dict) and o.get("id") == m.group(1):
                arms = o.get("arms") or []
                if o.get("arm") == m.group(2) or m.group(2) not in arms:
                    return (*loc, "outcomes", i, "arm")
                return (*loc, "outcomes", i, "arms", list(arms).index(m.group(2)))
        return (*loc, "outcomes")
    for pattern, sub in _MESSAGE_FIELDS:
        if pattern.search(msg) and sub[0] in model.model_fields:
            return (*loc, *sub)
    for name in _QUOTED.findall(msg):
        if name in model.model_fields:
            return (*loc, name)
    return loc


def _get(data: Any, loc: tuple) -> Any:
    for key in loc:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def problems_from_pydantic(
    exc: pydantic.ValidationError,
    cls: type[BaseModel],
    doc: _Doc,
    prefix: tuple[Any, ...] = (),
) -> list[Problem]:
    """Turn a pydantic error into Problems with file, line, field path, expected and found.

    ``prefix`` is where the validated object sits inside the file (``(3,)`` for the fourth
    record of a list file); field paths are given from the file's root.
    """
    data = _get(doc.data, prefix)
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(k for k in err["loc"] if isinstance(k, int) or "[" not in str(k))
        typ, msg, given = err["type"], err["msg"], err.get("input")
        if typ == "missing":
            expected, found = "a value (the field is required)", "nothing"
        elif typ == "extra_forbidden":
            owner = _model_at(cls, loc[:-1])
            allowed = ", ".join(owner.model_fields) if owner else "the fields of the schema"
            expected = f"one of the fields {allowed}"
            found = f"unknown field '{loc[-1]}'"
        elif typ in ("value_error", "assertion_error"):
            text = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
            loc = _refine_loc(cls, loc, text, data)
            expected, found = _explain(text, _get(data, loc))
        elif typ in ("literal_error", "enum"):
            expected, found = "one of " + msg.removeprefix("Input should be "), _short(given)
        else:
            expected = msg.removeprefix("Input should be ").removeprefix("Input ")
            found = _short(given)
        path = (*prefix, *loc)
        out.append(Problem(doc.file, doc.field(path), expected, found, doc.line(path)))
    return out


# --------------------------------------------------------------------------- the loader


@dataclass
class _Loaded:
    """What the first pass found: valid records with where they sit, and every raw ID.

    IDs of records that failed validation still count as defined (``raw_ids``), so one bad
    record does not also make every reference to it a problem; a kind whose file could not be
    read at all is ``unknown`` and references to it are not checked.
    """

    problems: list[Problem] = field(default_factory=list)
    records: dict[str, list[tuple[Any, _Doc, tuple]]] = field(default_factory=dict)
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
        found = {f"{t.id}/{o.id}" for t, _, _ in self.records.get("trials", []) for o in t.outcomes}
        return found | self.raw_ids.get("outcomes", set())


def _validate_list(kind: str, doc: _Doc, cls: type[Record], st: _Loaded) -> None:
    data = doc.data
    if data is None:
        data = []
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


def _first_pass(root: Path) -> _Loaded:
    st = _Loaded()
    label = root.as_posix().rstrip("/")

    def fname(rel: str) -> str:
        return f"{label}/{rel}"

    if not root.is_dir():
        st.problems.append(Problem(label, "(directory)", "a data directory", "no such directory"))
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
                        st.raw_ids.setdefault("outcomes", set()).add(f"{tid}/{o['id']}")
                continue
            st.records.setdefault("trials", []).append((rec, doc, ()))
    return st


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


def _check_identifiers(drug: Drug, doc: _Doc, at: tuple, problems: list[Problem]) -> None:
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


def _cross_check(st: _Loaded) -> None:
    """Every reference between records resolves; IDs and drug aliases are unique."""
    P = st.problems
    drugs, targets, mechs = st.ids("drugs"), st.ids("targets"), st.ids("mechanisms")
    biomarkers, trials, refs = st.ids("biomarkers"), st.ids("trials"), st.ids("references")
    outcome_ids = st.outcome_ids()
    subgroups = _union(mechs, biomarkers)

    def need(value: Any, valid: set[str] | None, what: str, doc: _Doc, path: tuple) -> None:
        """A problem unless ``value`` is among ``valid`` (None: that kind could not be read)."""
        if valid is not None and str(value) not in valid:
            P.append(Problem(doc.file, doc.field(path), f"{what} ({_few(valid)})", f"'{value}'",
                             doc.line(path)))

    def need_all(values: list, valid: set[str] | None, what: str, doc: _Doc, path: tuple) -> None:
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


def _few(values: set[str], n: int = 8) -> str:
    items = sorted(values)
    if not items:
        return "none defined"
    shown = ", ".join(items[:n])
    return f"one of {shown}" + (f" and {len(items) - n} more" if len(items) > n else "")


def _range(values: set[str]) -> str:
    nums = sorted(int(v) for v in values if v.isdigit())
    return f"{nums[0]}-{nums[-1]}" if nums else "none defined"


def load_directory(path: str | Path) -> KnowledgeBase:
    """Validate the data directory ``path`` and return its typed knowledge base.

    Raises :class:`~her2lab.errors.ValidationError` listing every problem found (YAML syntax,
    schema, cross-references, uniqueness, identifiers); nothing is returned when any is found.
    """
    root = Path(path)
    st = _first_pass(root)
    _cross_check(st)
    if st.problems:
        raise ValidationError(st.problems, f"{len(st.problems)} problem(s) in {root}")
    parts = {kind: [r for r, _, _ in st.records.get(kind, [])] for kind in LIST_FILES}
    parts["trials"] = [r for r, _, _ in st.records.get("trials", [])]
    kwargs: dict[str, Any] = {}
    if st.meta is not None:
        kwargs["cited_on"] = st.meta.seed.published
    return KnowledgeBase(**parts, **kwargs)  # records pass through unvalidated again


# --------------------------------------------------------------------------- cached load

_cache: dict[tuple[str, str], KnowledgeBase] = {}
_lock = threading.Lock()


def load(data_dir: str | Path | None = None) -> KnowledgeBase:
    """The typed knowledge base of ``data_dir`` (default: the shipped curated data).

    Cheap when called again: the result is cached in-process on the content hash of the YAML
    files, and a fresh process reads the validated knowledge base back from the SQLite store
    (compiled on first use and whenever the YAML changes) instead of validating it again.
    """
    from her2lab.knowledge import store

    root = Path(data_dir) if data_dir is not None else DATA_DIR
    digest = store.content_hash(root)
    key = (str(root.resolve()), digest)
    with _lock:
        kb = _cache.get(key)
        if kb is None:
            kb = store.load_or_compile(root, digest)
            _cache[key] = kb
    return kb


# --------------------------------------------------------------------------- other YAML files


def read_model_file(path: str | Path, cls: type[BaseModel]) -> Any:
    """Read one YAML file into ``cls``; every problem located (file, line, field) or raised.

    For data files beside the knowledge base (trial specifications, prevalence priors) that
    should fail the same way curated data does.
    """
    path = Path(path)
    problems: list[Problem] = []
    doc = read_yaml_document(path, str(path), problems)
    if doc is not None and not problems:
        try:
            return cls.model_validate(doc.data)
        except pydantic.ValidationError as exc:
            problems.extend(problems_from_pydantic(exc, cls, doc))
    raise ValidationError(problems, f"{path} is not a valid {cls.__name__}")
