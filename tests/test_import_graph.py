"""The project's import graph: no cycle between its modules, and the statistics core of the
virtual trials imports nothing of the pathway model or the knowledge base."""

from __future__ import annotations

import ast
from pathlib import Path

import her2lab

SRC = Path(her2lab.__file__).parent


def _module(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, *, top_level: bool) -> set[str]:
    """Project modules imported by ``path`` (``top_level``: only at module level, outside
    ``if TYPE_CHECKING``; otherwise also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mod = _module(path)
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    for node in ast.walk(tree):  # type-only imports run nothing
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    nodes = tree.body if top_level else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("her2lab")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*pkg.split(".")[: len(pkg.split(".")) - node.level + 1], base])
                base = base.rstrip(".")
            if base.startswith("her2lab"):
                out.add(base)
                out |= {f"{base}.{a.name}" for a in node.names}
    return out


def _graph(*, top_level: bool) -> dict[str, set[str]]:
    """Module -> the project modules it imports; an import of one's own package (which Python
    runs first anyway) is not an edge."""
    files = {_module(p): p for p in SRC.rglob("*.py")}
    return {m: {i for i in _imports(p, top_level=top_level)
                if i in files and i != m and not m.startswith(i + ".")}
            for m, p in files.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_level_import_cycle_between_the_projects_modules():
    assert _cycles(_graph(top_level=True)) == []


def test_the_statistics_core_imports_no_pathway_knowledge_or_model_code():
    graph = _graph(top_level=False)
    stats = [m for m in graph if m.startswith("her2lab.virtual_trials.stats")]
    assert len(stats) == 4
    for m in stats:
        bad = {i for i in graph[m] if not (i.startswith("her2lab.virtual_trials.stats")
                                           or i == "her2lab.errors")}
        assert not bad, f"{m} imports {sorted(bad)}"


def test_no_import_cycle_even_through_imports_inside_functions():
    assert _cycles(_graph(top_level=False)) == []


def test_an_import_inside_a_function_is_an_edge_of_the_deferred_graph():
    # trial.plan_of_spec imports .spec inside the function (at module level only under
    # TYPE_CHECKING): an edge of the graph through deferred imports, not of the module-level one
    trial, spec = "her2lab.virtual_trials.trial", "her2lab.virtual_trials.spec"
    assert spec not in _graph(top_level=True)[trial]
    assert spec in _graph(top_level=False)[trial]
    assert _cycles({**_graph(top_level=False), spec: {trial}}) != []
