"""Every public function and class a package exports has a numpydoc docstring.

For each package with an ``__all__``, each exported callable is read with
``numpydoc.docscrape`` and checked for: a one-line summary; every parameter of its signature
documented under ``Parameters`` (``self``/``cls`` excepted; ``*args``/``**kwargs`` only when the
docstring names them), and no name there that the signature lacks; a ``Returns`` (or
``Yields``) section when the return annotation is not ``None``. A class is checked against its
constructor, and may document its fields under ``Parameters`` or ``Attributes``. The public
methods a class defines itself (not inherited from pydantic or ``object``) are checked the
same way. Constants and other non-callable exports are skipped.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import warnings

import numpydoc.docscrape as numpydoc_docscrape  # the test extra installs it
import pytest

#: The packages whose ``__init__`` declares ``__all__``.
PACKAGES = [
    "her2lab",
    "her2lab.api",
    "her2lab.boolnet",
    "her2lab.boolnet.formats",
    "her2lab.knowledge",
    "her2lab.pathway",
    "her2lab.report",
    "her2lab.synthesis",
    "her2lab.virtual_trials",
]

#: Public callables of packages without an ``__all__``: the CLI's entry point (``her2lab.cli``
#: exports a Typer app and ``main``, the console script; its subcommands are documented by
#: their ``--help``, tested in tests/test_cli_errors.py).
EXTRA = {"her2lab.cli": ["main"]}

_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _exports() -> list[tuple[str, object]]:
    found: dict[int, tuple[str, object]] = {}
    listed = [(p, importlib.import_module(p).__all__) for p in PACKAGES] + list(EXTRA.items())
    for package, names in listed:
        module = importlib.import_module(package)
        for name in names:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                # one object exported by two packages is checked once, under its first name
                found.setdefault(id(obj), (f"{package}.{name}", obj))
    return sorted(found.values())


def _own_methods(cls: type) -> list[tuple[str, object]]:
    """The public methods and properties ``cls`` defines itself, in a her2lab module."""
    if issubclass(cls, enum.Enum):
        return []
    out = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        func = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
        if inspect.isfunction(func) and func.__module__.startswith("her2lab"):
            out.append((name, func))
    return out


def _documented(section) -> set[str]:
    """The names in a numpydoc parameter list (``a, b : int`` names two)."""
    names = set()
    for param in section:
        for name in param.name.split(","):
            names.add(name.strip().lstrip("*"))
    return names


def _returns_something(func) -> bool:
    try:
        annotation = inspect.signature(func).return_annotation
    except (TypeError, ValueError):
        return False
    if annotation is inspect.Signature.empty:
        return False
    return annotation not in (None, "None", type(None))


def _check_function(func, *, skip_first: bool) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doc = numpydoc_docscrape.FunctionDoc(func)
    problems = [f"numpydoc warns: {w.message}" for w in caught]
    if not doc["Summary"]:
        problems.append("no summary line")
    params = list(inspect.signature(func).parameters.values())
    if skip_first and params:
        params = params[1:]
    documented = _documented(doc["Parameters"])
    wanted = {p.name for p in params if p.kind not in _VARIADIC}
    optional = {p.name for p in params if p.kind in _VARIADIC}
    if missing := sorted(wanted - documented):
        problems.append(f"Parameters lacks {', '.join(missing)}")
    if extra := sorted(documented - wanted - optional):
        problems.append(f"Parameters names {', '.join(extra)}, not in the signature")
    if _returns_something(func) and not (doc["Returns"] or doc["Yields"]):
        problems.append("no Returns section")
    return problems


def _constructor_parameters(cls: type) -> list[str]:
    if issubclass(cls, BaseException) or issubclass(cls, enum.Enum):
        return []
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return []
    names = []
    for p in params:
        if p.kind in _VARIADIC:
            continue
        names.append(p.name)
    return names


def _check_class(cls: type) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doc = numpydoc_docscrape.ClassDoc(cls, config={"show_class_members": False})
    problems = [f"numpydoc warns: {w.message}" for w in caught]
    if not doc["Summary"]:
        problems.append("no summary line")
    params = _documented(doc["Parameters"])
    attributes = _documented(doc["Attributes"])
    wanted = set(_constructor_parameters(cls))
    if missing := sorted(wanted - params - attributes):
        section = "Attributes" if dataclasses.is_dataclass(cls) else "Parameters"
        problems.append(f"{section} lacks {', '.join(missing)}")
    if extra := sorted(params - wanted) if wanted else []:
        problems.append(f"Parameters names {', '.join(extra)}, not in the constructor")
    return problems


def _cases() -> list[tuple[str, object, bool]]:
    cases = []
    for qualname, obj in _exports():
        if inspect.isclass(obj):
            cases.append((qualname, obj, False))
            for name, method in _own_methods(obj):
                static = isinstance(inspect.getattr_static(obj, name), staticmethod)
                cases.append((f"{qualname}.{name}", method, not static))
        else:
            cases.append((qualname, obj, False))
    return cases


CASES = _cases()


@pytest.mark.parametrize(("qualname", "obj", "method"), CASES, ids=[c[0] for c in CASES])
def test_every_export_has_a_numpydoc_docstring(qualname, obj, method):
    if inspect.isclass(obj):
        problems = _check_class(obj)
    else:
        problems = _check_function(obj, skip_first=method)
    assert not problems, f"{qualname}: " + "; ".join(problems)


def test_the_walk_finds_the_exports():
    # an invariant of the walk itself: every package contributes, so a broken import or an
    # emptied __all__ cannot make the check above pass vacuously
    packages = {qualname.rsplit(".", 1)[0] for qualname, _ in _exports()}
    assert packages >= set(PACKAGES) - {"her2lab.boolnet.formats"}
    assert len(_exports()) > 100
