"""Reading YAML data files with line numbers, and turning schema errors into located problems.

Every layer that reads a YAML file a person wrote (the knowledge base, trial specifications,
prevalence tables, calibration files) goes through this module, so that all of them fail the
same way: a :class:`~her2lab.errors.ValidationError` whose problems each name the file, the
line, the field path inside the file (``arms[1].regimen[0]``), what was expected and what was
found.

>>> from her2lab.yamlio import read_model_file
>>> spec = read_model_file("trial.yaml", TrialSpec)        # doctest: +SKIP

Hostile input is bounded before anything expands it: a file larger than :data:`MAX_BYTES`, a
document whose aliases would expand to more than :data:`MAX_NODES` nodes (the "billion laughs"
alias bomb), a recursive alias, and nesting deeper than :data:`MAX_DEPTH` are each reported as
one problem within milliseconds. Files that are not UTF-8 text, directories where a file is
expected, impossible dates (``2020-13-01``) and keys given twice in one mapping are problems
too, never exceptions of the YAML library.

Schema validators that concern one field say which, through :func:`field_error`: the problem
then points at that field and carries the validator's own ``expected`` and ``found``, read from
pydantic's structured error (its ``ctx``), never from the text of the message.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml
from pydantic import BaseModel
from pydantic_core import PydanticCustomError

from her2lab.errors import Problem, ValidationError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "YamlDocument",
    "field_error",
    "field_path",
    "problems_from_pydantic",
    "read_model_file",
    "read_yaml_document",
]

#: Largest YAML file read (bytes). Curated files are a few hundred kilobytes at most.
MAX_BYTES = 16 * 1024 * 1024
#: Most nodes a document may expand to once aliases are followed (every use of an alias counts
#: its whole anchored subtree again): a 281-byte alias bomb expands to billions.
MAX_NODES = 1_000_000
#: Deepest nesting of collections in a document.
MAX_DEPTH = 200

#: The ``type`` of the pydantic errors that :func:`field_error` builds.
FIELD_ERROR = "her2lab_field"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

M = TypeVar("M", bound=BaseModel)


# --------------------------------------------------------------------------- the document


def field_path(path: tuple[Any, ...]) -> str:
    """``('arms', 1, 'regimen', 0)`` -> ``arms[1].regimen[0]``; ``()`` -> ``(document)``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or "(document)"


@dataclass
class YamlDocument:
    """One parsed YAML file: its data and the node tree that knows the lines.

    ``label`` is the root of field paths (``drugs`` for ``drugs.yaml``, so that problems read
    ``drugs[3].aliases[0]``; empty for a file holding one mapping).
    """

    file: str
    data: Any
    node: yaml.Node | None
    label: str = ""

    def field(self, path: tuple[Any, ...]) -> str:
        """Field path of ``path`` as a person reads it: ``drugs[3].aliases[0]``."""
        text = field_path(path)
        if not self.label:
            return text
        if text == "(document)":
            return self.label
        return self.label + (text if text.startswith("[") else "." + text)

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

    def problem(self, path: tuple[Any, ...], expected: str, found: str) -> Problem:
        """A :class:`Problem` at ``path`` of this document (file, line and field filled in)."""
        return Problem(self.file, self.field(path), expected, found, self.line(path))


def _read_text(path: Path, file: str, problems: list[Problem]) -> str | None:
    """The file's text, or None with a problem saying why it cannot be read."""

    def fail(found: str) -> None:
        problems.append(Problem(file, "(file)", "a readable UTF-8 YAML file", found))

    try:
        if path.is_dir():
            fail("a directory")
            return None
        size = path.stat().st_size
        if size > MAX_BYTES:
            fail(f"{size} bytes (at most {MAX_BYTES} are read)")
            return None
        raw = path.read_bytes()
    except FileNotFoundError:
        fail("no such file")
        return None
    except OSError as exc:
        fail(exc.strerror or type(exc).__name__)
        return None
    if len(raw) > MAX_BYTES:  # a pipe or special file that reported no size
        fail(f"more than {MAX_BYTES} bytes")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(file, "(file)", "UTF-8 text",
                                f"byte 0x{raw[exc.start]:02x}, which is not UTF-8 (a binary or "
                                "differently encoded file)", line))
        return None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        problems.append(Problem(file, "(file)", "UTF-8 text", "a NUL byte (a binary file)", line))
        return None
    return text


def _check_size(root: yaml.Node, file: str) -> Problem | None:
    """A problem when ``root`` nests too deep, aliases itself, or expands to too many nodes.

    Iterative (no recursion limit) and linear in the number of distinct nodes: the expanded
    size of a node shared through aliases is counted once and reused.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    # (node, depth, children expanded?)
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            total = 1 + sum(size[id(c)] for c in children)
            if total > MAX_NODES:
                return Problem(file, "(document)",
                               f"a document of at most {MAX_NODES} nodes once aliases are "
                               "expanded", "more (aliases that expand exponentially, an alias "
                               "bomb)", node.start_mark.line + 1)
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            return Problem(file, "(document)", "aliases that do not contain themselves",
                           "a recursive alias", node.start_mark.line + 1)
        if depth > MAX_DEPTH:
            return Problem(file, "(document)", f"collections nested at most {MAX_DEPTH} deep",
                           "deeper nesting", node.start_mark.line + 1)
        on_path.add(key)
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) in on_path:
                return Problem(file, "(document)", "aliases that do not contain themselves",
                               "a recursive alias", child.start_mark.line + 1)
            if id(child) not in size:
                stack.append((child, depth + 1, False))
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for kv in node.value for n in kv]
    return []


def _bad_scalar(root: yaml.Node, loader: Any) -> tuple[yaml.Node, str] | None:
    """The first scalar the constructor cannot build (an impossible date), with the reason."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP:
            try:
                yaml.SafeLoader.construct_yaml_timestamp(loader, node)
            except (ValueError, OverflowError) as exc:
                return node, str(exc)
        stack.extend(reversed(_children(node)))
    return None


def _duplicate_keys(doc: YamlDocument, problems: list[Problem]) -> None:
    """PyYAML keeps the last of two equal keys silently; a curator wants to hear about it."""
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, tuple]] = [] if doc.node is None else [(doc.node, ())]
    found: list[Problem] = []
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:  # an aliased subtree is checked once, where it is anchored
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k)
                line = k.start_mark.line + 1
                if key in first:
                    found.append(Problem(doc.file, doc.field((*path, key)),
                                         "each key once in a mapping",
                                         f"'{key}' again (first at line {first[key]})", line))
                else:
                    first[key] = line
                stack.append((v, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
    problems.extend(sorted(found, key=lambda p: p.line or 0))


def read_yaml_document(
    path: str | Path,
    file: str | None = None,
    problems: list[Problem] | None = None,
    label: str = "",
) -> YamlDocument | None:
    """Parse one YAML file into a :class:`YamlDocument` (data and line-numbered nodes).

    ``file`` is the name problems give (default: ``path`` as given). With a ``problems`` list,
    every problem found is appended to it and None is returned when the file could not be
    parsed (a document with only duplicate keys is still returned). Without one, problems
    raise a :class:`~her2lab.errors.ValidationError`.
    """
    path = Path(path)
    file = str(path) if file is None else file
    collect: list[Problem] = [] if problems is None else problems
    before = len(collect)
    doc = _parse(path, file, collect, label)
    if problems is None and len(collect) > before:
        raise ValidationError(collect, f"{file} is not a valid YAML file")
    return doc


def _parse(path: Path, file: str, problems: list[Problem], label: str) -> YamlDocument | None:
    text = _read_text(path, file, problems)
    if text is None:
        return None
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            found = " ".join(str(s) for s in (exc.context, exc.problem) if s)
            problems.append(Problem(file, "(syntax)", "well-formed YAML", found or str(exc),
                                    None if mark is None else mark.line + 1))
            return None
        except yaml.YAMLError as exc:
            problems.append(Problem(file, "(syntax)", "well-formed YAML", str(exc)))
            return None
        except RecursionError:
            problems.append(Problem(file, "(document)", f"collections nested at most "
                                    f"{MAX_DEPTH} deep", "deeper nesting"))
            return None
        if node is None:
            return YamlDocument(file, None, None, label)
        bad = _check_size(node, file)
        if bad is not None:
            problems.append(bad)
            return None
        try:
            data = loader.construct_document(node)
        except (ValueError, OverflowError, TypeError, yaml.YAMLError) as exc:
            where = _bad_scalar(node, loader)
            if where is not None:
                scalar, reason = where
                problems.append(Problem(file, "(value)", "a valid date (YYYY-MM-DD)",
                                        f"'{scalar.value}' ({reason})",
                                        scalar.start_mark.line + 1))
            else:
                mark = getattr(exc, "problem_mark", None)
                problems.append(Problem(file, "(value)", "values YAML can construct",
                                        getattr(exc, "problem", None) or str(exc),
                                        None if mark is None else mark.line + 1))
            return None
    finally:
        loader.dispose()
    doc = YamlDocument(file, data, node, label)
    _duplicate_keys(doc, problems)
    return doc


# --------------------------------------------------------------------------- pydantic errors


def field_error(at: str | tuple[Any, ...], expected: str, found: str) -> PydanticCustomError:
    """An error for a model validator to raise that points at one of its fields.

    ``at`` is the field's name or a path below the validated model (``("outcomes", 2, "arm")``);
    ``expected`` and ``found`` become the problem's. ::

        raise field_error("value", "a HR above 0 (a ratio)", str(self.value))
    """
    path = (at,) if isinstance(at, str) else tuple(at)
    return PydanticCustomError(
        FIELD_ERROR, "{field}: expected {expected}; found {found}",
        {"at": path, "field": field_path(path), "expected": expected, "found": found},
    )


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


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _found(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping that breaks this rule"
    if isinstance(value, list):
        return "a list that breaks this rule"
    return _short(value)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _real_loc(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """``loc`` without the steps pydantic inserts for unions and validators
    (``function-after[...]``, ``tagged-union[...]``): a step is kept when the data has it (a
    key a person wrote may contain brackets too), or when it is the last (a missing field)."""
    out: list[Any] = []
    for i, key in enumerate(loc):
        in_list = isinstance(key, int) and isinstance(data, list) and 0 <= key < len(data)
        if in_list or (isinstance(data, dict) and key in data):
            out.append(key)
            data = data[key]
        elif isinstance(key, str) and "[" in key and i < len(loc) - 1:
            continue  # a tag of pydantic's, not a place in the file
        else:
            out.append(key)
            data = None
    return tuple(out)


def problems_from_pydantic(
    exc: pydantic.ValidationError,
    cls: type[BaseModel],
    doc: YamlDocument,
    prefix: tuple[Any, ...] = (),
) -> list[Problem]:
    """Turn a pydantic error into Problems with file, line, field path, expected and found.

    Reads pydantic's structured errors (``type``, ``loc``, ``input``, ``ctx``): errors built
    by :func:`field_error` point at the field they name and carry their own expected/found.
    ``prefix`` is where the validated object sits inside the file (``(3,)`` for the fourth
    record of a list file); field paths are given from the file's root.
    """
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = _real_loc(err["loc"], _at(doc.data, prefix))
        typ, msg, given = err["type"], err["msg"], err.get("input")
        ctx = err.get("ctx") or {}
        if typ == FIELD_ERROR:
            loc = (*loc, *ctx["at"])
            expected, found = str(ctx["expected"]), str(ctx["found"])
        elif typ == "missing":
            expected, found = "a value (the field is required)", "nothing"
        elif typ == "extra_forbidden" and loc:
            owner = _model_at(cls, loc[:-1])
            allowed = ", ".join(owner.model_fields) if owner else "the fields of the schema"
            expected, found = f"one of the fields {allowed}", f"unknown field '{loc[-1]}'"
        elif typ in ("value_error", "assertion_error"):
            error = ctx.get("error")
            expected = str(error) if error is not None else msg
            found = _found(given) if given is not None else "nothing"
        elif typ in ("literal_error", "enum"):
            expected = "one of " + str(ctx.get("expected", msg))
            found = _short(given)
        else:
            expected = msg.removeprefix("Input should be ").removeprefix("Input ")
            found = _short(given)
        out.append(doc.problem((*prefix, *loc), expected, found))
    return out


# --------------------------------------------------------------------------- one model per file


def read_model_file(
    path: str | Path,
    cls: type[M],
    *,
    check: Callable[[Any, YamlDocument], list[Problem]] | None = None,
) -> M:
    """Read one YAML file into ``cls``; every problem located (file, line, field) or raised.

    For data files beside the knowledge base (trial specifications, prevalence priors,
    calibration files) that should fail the same way curated data does. ``check`` may add
    problems about the data before validation (it receives the raw data and the document).
    Raises :class:`~her2lab.errors.ValidationError`; an empty file is a problem too.
    """
    path = Path(path)
    problems: list[Problem] = []
    doc = read_yaml_document(path, str(path), problems)
    if doc is not None and not problems:
        if doc.node is None:
            problems.append(Problem(str(path), "(document)",
                                    f"a {cls.__name__} mapping", "an empty file"))
        else:
            if check is not None:
                problems.extend(check(doc.data, doc))
            if not problems:
                try:
                    return cls.model_validate(doc.data)
                except pydantic.ValidationError as exc:
                    problems.extend(problems_from_pydantic(exc, cls, doc))
    raise ValidationError(problems, f"{path} is not a valid {cls.__name__}")
