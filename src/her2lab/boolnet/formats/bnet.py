"""The bnet format (pyboolnet, BoolNet, biodivine): one ``target, factors`` line per node.

::

    # comments start with '#'
    targets, factors
    EGF, EGF              an input: a self-loop keeps its value
    ERBB1, EGF & !P
    P, ERBB1 | EGF

bnet carries the logic only: rates are MaBoSS's defaults (1) and initial P(ON) is 0.5 when read,
and a model's rates, initial states and perturbations are not written (use MaBoSS files for
those).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from her2lab.boolnet.expr import Var, parse_expr, to_bnet
from her2lab.boolnet.model import Model, Node
from her2lab.errors import ModelDefinitionError, ModelSyntaxError
from her2lab.textfile import read_text

__all__ = ["format_bnet", "parse_bnet", "read_bnet", "write_bnet"]


def parse_bnet(
    text: str,
    *,
    source: str = "<bnet>",
    undefined: Literal["error", "input"] = "error",
    name: str = "model",
) -> Model:
    """Parse bnet text (``target, rule`` lines) into a :class:`Model`.

    Parameters
    ----------
    text : str
        The bnet text.
    source : str, optional
        Name of its file, for error messages (default ``"<bnet>"``).
    undefined : {"error", "input"}, optional
        ``"error"`` (default) rejects a node that a rule reads but no line defines; ``"input"``
        adds it as an input (``X, X``), as several tools do silently.
    name : str, optional
        The model's name (default ``"model"``).

    Returns
    -------
    Model
        The model, with MaBoSS's default rates and initial P(ON) 0.5.

    Raises
    ------
    ModelSyntaxError
        If a line or rule does not parse (the line is named).
    ModelDefinitionError
        If a node is defined twice, no node is defined, or a rule reads an undefined node with
        ``undefined="error"``.
    """
    nodes: dict[str, Node] = {}
    where: dict[str, int] = {}
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0]
        if not line.strip():
            continue
        if "," not in line:
            col = len(line) - len(line.lstrip()) + 1
            raise ModelSyntaxError(
                "expected 'target, rule' (a comma between the node and its rule)",
                source=source, line=lineno, column=col, text=raw,
            )
        target_part, rule_part = line.split(",", 1)
        target = target_part.strip()
        tcol = len(target_part) - len(target_part.lstrip()) + 1
        if target.lower() == "targets" and rule_part.strip().lower() == "factors":
            continue
        if not target or not target.replace("_", "a").isalnum() or target[0].isdigit():
            raise ModelSyntaxError(
                f"invalid node name {target!r} (letters, digits and '_', not starting with a "
                "digit)", source=source, line=lineno, column=tcol, text=raw,
            )
        rcol = len(target_part) + 2 + (len(rule_part) - len(rule_part.lstrip()))
        expr = parse_expr(rule_part.strip(), boolean=True, source=source, line=lineno,
                          column=rcol, source_lines=lines)
        if target in nodes:
            raise ModelDefinitionError(
                f"{source}:{lineno}: node {target!r} is defined twice (first on line "
                f"{where[target]}); give each node one rule"
            )
        nodes[target] = Node(target, expr)
        where[target] = lineno
    if not nodes:
        raise ModelDefinitionError(f"{source}: no node is defined (expected 'target, rule' lines)")
    problems = []
    for target, node in nodes.items():
        for v in sorted(node.logic.variables() - nodes.keys()):
            if undefined == "input":
                continue
            problems.append(
                f"{source}:{where[target]}: the rule of {target!r} reads {v!r}, which no line "
                f"defines; add the line '{v}, {v}' if it is an input"
            )
    if problems:
        raise ModelDefinitionError(
            "undefined node(s) (to declare every such node an input, read with "
            "undefined='input', or --undefined-as-input on the command line):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    if undefined == "input":
        for target in list(nodes):
            for v in sorted(nodes[target].logic.variables() - nodes.keys()):
                nodes[v] = Node(v, Var(v))
    return Model(nodes.values(), name=name).validate()


def read_bnet(path: str | Path, *, undefined: Literal["error", "input"] = "error") -> Model:
    """Read a ``.bnet`` file (see :func:`parse_bnet`).

    Parameters
    ----------
    path : str or Path
        The file; the model is named after its stem.
    undefined : {"error", "input"}, optional
        What to do with a node read but not defined, as in :func:`parse_bnet`.

    Returns
    -------
    Model
        The model read.

    Raises
    ------
    ModelSyntaxError
        If the file cannot be read or does not parse.
    ModelDefinitionError
        If the model it defines is invalid.
    """
    path = Path(path)
    text = read_text(path, what="bnet model", error=ModelSyntaxError)
    return parse_bnet(text, source=str(path), undefined=undefined, name=path.stem)


def format_bnet(model: Model) -> str:
    """The bnet text of a model (logic only).

    Parameters
    ----------
    model : Model
        The model; rates, initial states and perturbations are not representable in bnet.

    Returns
    -------
    str
        One ``target, rule`` line per node, with a header line.
    """
    width = max(len(n) for n in model.node_names)
    lines = ["targets, factors"]
    for node in model:
        lines.append(f"{(node.name + ','):<{width + 1}} {to_bnet(node.logic)}")
    return "\n".join(lines) + "\n"


def write_bnet(model: Model, path: str | Path) -> None:
    """Write a model as a ``.bnet`` file (logic only), atomically.

    Parameters
    ----------
    model : Model
        The model to write.
    path : str or Path
        The file to write; an old one is replaced only once the new one is complete.

    Raises
    ------
    OutputError
        If the file cannot be written.
    """
    from her2lab.atomic import atomic_write_text

    atomic_write_text(path, format_bnet(model))
