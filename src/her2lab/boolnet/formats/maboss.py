"""MaBoSS files: the network (``.bnd``) and the run configuration (``.cfg``).

``.bnd``::

    Node ERBB1 {
      logic = EGF & !P;
      rate_up = @logic ? $k_up : 0;
      rate_down = @logic ? 0 : 1;
    }

``.cfg``::

    $k_up = 2;
    [EGF].istate = 0.5 [1], 0.5 [0];     P(ON) at time 0 (written this way by write_maboss)
    [A, B].istate = 0.3 [1, 0], 0.7 [0, 1];  a joint initial distribution
    P.is_internal = 1;
    sample_count = 10000; max_time = 50; time_tick = 0.5;

As in MaBoSS, ``X.istate = v`` sets X to 1 for any non-zero ``v`` and to 0 for ``0``, except
``-1`` which means random (0.5); a node without ``istate`` starts at random. A node without a
``logic`` keeps its value under the default rates (an input). Run settings (``sample_count``,
``max_time``, ...) are kept in ``Model.config`` and written back.

Perturbations are written *baked in*: a knocked-out node gets rates 0 and starts OFF, a rate
factor multiplies the rate expression. Read back, such a model simulates the same.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

from her2lab.boolnet.expr import (
    BinOp,
    Const,
    Expr,
    Var,
    evaluate,
    parse_expr,
    to_maboss,
)
from her2lab.boolnet.model import DEFAULT_RATE_DOWN, DEFAULT_RATE_UP, JointInitial, Model, Node
from her2lab.errors import ModelDefinitionError, ModelSyntaxError
from her2lab.textfile import read_text

__all__ = ["format_maboss", "parse_maboss", "read_maboss", "write_maboss"]

_SETTINGS = {
    "sample_count", "max_time", "time_tick", "discrete_time", "use_physrandgen",
    "use_glibcrandgen", "seed_pseudorandom", "thread_count", "statdist_traj_count",
    "statdist_cluster_threshold", "statdist_similarity_cache_max_size", "display_traj",
}


_COMMENT_OR_STRING = re.compile(r'"[^"]*"|//[^\n]*|/\*.*?(?:\*/|$)', re.S)


def _blank_comments(text: str) -> str:
    """Replace // and /* */ comments by spaces, keeping every newline (so positions hold);
    text inside double quotes (descriptions) is left alone."""

    def blank(m: re.Match[str]) -> str:
        part = m.group()
        if part.startswith('"'):
            return part
        return "".join(ch if ch == "\n" else " " for ch in part)

    return _COMMENT_OR_STRING.sub(blank, text)


class _Text:
    def __init__(self, text: str, source: str) -> None:
        self.raw = text
        self.text = _blank_comments(text)
        self.source = source
        self.lines = text.split("\n")
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]

    def where(self, pos: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, pos)
        return line, pos - self.line_starts[line - 1] + 1

    def error(self, message: str, pos: int) -> ModelSyntaxError:
        line, col = self.where(pos)
        return ModelSyntaxError(message, source=self.source, line=line, column=col,
                                text=self.lines[line - 1] if line - 1 < len(self.lines) else "")

    def expr(self, start: int, end: int, *, boolean: bool) -> Expr:
        line, col = self.where(start)
        snippet = self.text[start:end]
        lead = len(snippet) - len(snippet.lstrip())
        line, col = self.where(start + lead)
        return parse_expr(snippet.strip(), boolean=boolean, source=self.source, line=line,
                          column=col, source_lines=self.lines)


_WS = re.compile(r"\s*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _parse_bnd(t: _Text, params: dict[str, Expr]) -> tuple[list[Node], dict[str, int]]:
    text = t.text
    pos = 0
    nodes: list[Node] = []
    where: dict[str, int] = {}
    n = len(text)
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= n:
            break
        if text[pos] == "$":
            m = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*=").match(text, pos)
            end = text.find(";", pos)
            if m is None or end < 0:
                raise t.error("expected '$name = value;'", pos)
            params[m.group(1)] = t.expr(m.end(), end, boolean=False)
            pos = end + 1
            continue
        m = _IDENT.match(text, pos)
        if m is None or m.group().lower() != "node":
            raise t.error("expected 'Node NAME { ... }'", pos)
        pos = _WS.match(text, m.end()).end()  # type: ignore[union-attr]
        m = _IDENT.match(text, pos)
        if m is None:
            raise t.error("expected a node name after 'Node'", pos)
        name = m.group()
        name_pos = pos
        pos = _WS.match(text, m.end()).end()  # type: ignore[union-attr]
        if pos >= n or text[pos] != "{":
            raise t.error(f"expected '{{' after 'Node {name}'", pos)
        close = text.find("}", pos)
        if close < 0:
            raise t.error(f"the block of node {name!r} is not closed with '}}'", pos)
        attrs: dict[str, Expr | str] = {}
        apos = pos + 1
        while True:
            apos = _WS.match(text, apos).end()  # type: ignore[union-attr]
            if apos >= close:
                break
            am = _IDENT.match(text, apos)
            if am is None:
                raise t.error(f"expected an attribute (logic, rate_up, ...) in node {name!r}",
                              apos)
            key = am.group()
            eq = _WS.match(text, am.end()).end()  # type: ignore[union-attr]
            if eq >= close or text[eq] != "=":
                raise t.error(f"expected '=' after {key!r}", eq)
            semi = text.find(";", eq)
            if semi < 0 or semi > close:
                raise t.error(f"expected ';' at the end of {key!r} in node {name!r}",
                              min(close, n - 1))
            if key in attrs:
                raise t.error(f"attribute {key!r} of node {name!r} is given twice", apos)
            if key == "logic":
                attrs[key] = t.expr(eq + 1, semi, boolean=True)
            elif key in ("rate_up", "rate_down"):
                attrs[key] = t.expr(eq + 1, semi, boolean=False)
            else:
                attrs[key] = text[eq + 1:semi].strip().strip('"')
            apos = semi + 1
        if name in where:
            line, _ = t.where(name_pos)
            raise ModelDefinitionError(
                f"{t.source}:{line}: node {name!r} is defined twice (first on line "
                f"{where[name]}); give each node one block"
            )
        where[name] = t.where(name_pos)[0]
        logic = attrs.get("logic")
        nodes.append(
            Node(
                name,
                logic if isinstance(logic, Expr) else Var(name),
                rate_up=attrs.get("rate_up", DEFAULT_RATE_UP),  # type: ignore[arg-type]
                rate_down=attrs.get("rate_down", DEFAULT_RATE_DOWN),  # type: ignore[arg-type]
                description=str(attrs.get("description", "")),
            )
        )
        pos = close + 1
    return nodes, where


_ISTATE_GROUP = re.compile(r"\[([^\]]*)\]\s*\.\s*istate\s*=", re.S)
_OPTION = re.compile(r"\s*([^\[,]+?)\s*\[([^\]]*)\]\s*(,|$)", re.S)


def _number(t: _Text, start: int, end: int, params: dict[str, float], what: str) -> float:
    expr = t.expr(start, end, boolean=False)
    missing = expr.parameters() - params.keys()
    if missing:
        raise t.error(f"{what} uses undefined parameter(s) "
                      + ", ".join("$" + m for m in sorted(missing)), start)
    if expr.variables():
        raise t.error(f"{what} must be a number; it reads node(s) {sorted(expr.variables())}",
                      start)
    return float(evaluate(expr, {}, parameters=params))


def _resolve_params(raw: dict[str, Expr], source: str) -> dict[str, float]:
    values: dict[str, float] = {}
    pending = dict(raw)
    while pending:
        progress = False
        for k, e in list(pending.items()):
            if e.parameters() <= values.keys():
                if e.variables():
                    raise ModelDefinitionError(
                        f"{source}: parameter ${k} must be a number; it reads nodes"
                    )
                values[k] = float(evaluate(e, {}, parameters=values))
                del pending[k]
                progress = True
        if not progress:
            missing = sorted({p for e in pending.values() for p in e.parameters()} - raw.keys())
            detail = (f"undefined parameter(s) {', '.join('$' + m for m in missing)}"
                      if missing else "a circular definition")
            raise ModelDefinitionError(
                f"{source}: cannot evaluate parameter(s) "
                f"{', '.join('$' + k for k in sorted(pending))}: {detail}"
            )
    return values


def parse_maboss(
    bnd: str, cfg: str = "", *, bnd_source: str = "<bnd>", cfg_source: str = "<cfg>",
    name: str = "model",
) -> Model:
    """Parse MaBoSS network and configuration text into a :class:`Model`.

    Parameters
    ----------
    bnd : str
        The network text (``Node X { logic = ...; rate_up = ...; }``).
    cfg : str, optional
        The configuration text: ``$parameters``, initial states (``X.istate``, joint
        ``[A, B].istate``), ``is_internal`` flags and run settings (kept in ``Model.config``).
    bnd_source, cfg_source : str, optional
        Names of the two files, for error messages.
    name : str, optional
        The model's name (default ``"model"``).

    Returns
    -------
    Model
        The model, validated.

    Raises
    ------
    ModelSyntaxError
        If either text does not parse (file, line and column named).
    ModelDefinitionError
        If the model is invalid (a node defined twice, an unknown node or parameter, ...).
    """
    tb = _Text(bnd, bnd_source)
    raw_params: dict[str, Expr] = {}
    nodes, _ = _parse_bnd(tb, raw_params)
    if not nodes:
        raise ModelDefinitionError(f"{bnd_source}: no node is defined")
    by_name = {nd.name: nd for nd in nodes}

    tc = _Text(cfg, cfg_source)
    text = tc.text
    # first pass: parameters (they may be used before they are defined in the file)
    statements: list[tuple[int, int]] = []
    pos = 0
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text):
            break
        semi = text.find(";", pos)
        if semi < 0:
            raise tc.error("expected ';' at the end of the statement", pos)
        statements.append((pos, semi))
        pos = semi + 1
    for start, end in statements:
        stmt = text[start:end]
        if stmt.startswith("$"):
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*=", stmt)
            if m is None:
                raise tc.error("expected '$name = value;'", start)
            raw_params[m.group(1)] = tc.expr(start + m.end(), end, boolean=False)
    params = _resolve_params(raw_params, cfg_source)

    initial: dict[str, float] = {}
    internal: set[str] = set()
    groups: list[JointInitial] = []
    config: dict[str, str] = {}

    def check_node(nm: str, at: int) -> str:
        if nm not in by_name:
            raise ModelDefinitionError(
                f"{cfg_source}:{tc.where(at)[0]}: unknown node {nm!r}; the network defines: "
                + ", ".join(sorted(by_name))
            )
        return nm

    for start, end in statements:
        stmt = text[start:end]
        if stmt.startswith("$"):
            continue
        gm = _ISTATE_GROUP.match(stmt)
        if gm:
            members = [s.strip() for s in gm.group(1).split(",") if s.strip()]
            for nm in members:
                check_node(nm, start)
            options = []
            rest_start = start + gm.end()
            rest = text[rest_start:end]
            opos = 0
            while opos < len(rest.rstrip()):
                om = _OPTION.match(rest, opos)
                if om is None:
                    raise tc.error("expected 'p [v1, v2, ...]' options separated by commas",
                                   rest_start + opos)
                p = _number(tc, rest_start + om.start(1), rest_start + om.end(1), params,
                            "an istate probability")
                vals_txt = [v.strip() for v in om.group(2).split(",")]
                try:
                    vals = tuple(int(v) for v in vals_txt)
                except ValueError:
                    raise tc.error("istate values must be 0 or 1",
                                   rest_start + om.start(2)) from None
                options.append((p, vals))
                opos = om.end()
            if len(members) == 1:
                on = sum(p for p, v in options if v and v[0] == 1)
                tot = sum(p for p, _ in options)
                for p, v in options:
                    if len(v) != 1 or v[0] not in (0, 1) or not 0 <= p <= 1:
                        raise ModelDefinitionError(
                            f"{cfg_source}:{tc.where(start)[0]}: istate of {members[0]!r} "
                            f"needs probabilities in [0, 1] and values 0 or 1; got {p!r} "
                            f"[{', '.join(map(str, v))}]"
                        )
                if abs(tot - 1) > 1e-9:
                    raise ModelDefinitionError(
                        f"{cfg_source}:{tc.where(start)[0]}: the istate probabilities of "
                        f"{members[0]!r} must sum to 1; they sum to {tot!r}"
                    )
                initial[members[0]] = on
            else:
                groups.append(JointInitial(tuple(members), tuple(options)))
            continue
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*([A-Za-z_]+)\s*=", stmt)
        if m:
            nm, attr = m.group(1), m.group(2)
            check_node(nm, start)
            val = _number(tc, start + m.end(), end, params, f"{nm}.{attr}")
            if attr == "istate":
                initial[nm] = 0.5 if val == -1 else (1.0 if val != 0 else 0.0)
            elif attr == "is_internal":
                if val:
                    internal.add(nm)
                else:
                    internal.discard(nm)
            elif attr == "refstate":
                config[f"{nm}.refstate"] = str(val)
            else:
                raise tc.error(f"unknown node attribute {attr!r} (expected istate, is_internal "
                               "or refstate)", start + m.start(2))
            continue
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*=", stmt)
        if m and m.group(1) in _SETTINGS:
            config[m.group(1)] = text[start + m.end():end].strip()
            continue
        raise tc.error(f"unknown statement {stmt.strip()[:40]!r}", start)

    out = []
    for nd in nodes:
        out.append(Node(nd.name, nd.logic, nd.rate_up, nd.rate_down,
                        initial=initial.get(nd.name, 0.5), internal=nd.name in internal,
                        description=nd.description))
    return Model(out, parameters=params, joint_initial=groups, name=name, config=config).validate()


def read_maboss(bnd: str | Path, cfg: str | Path | None = None) -> Model:
    """Read a MaBoSS ``.bnd`` file and its ``.cfg``.

    Parameters
    ----------
    bnd : str or Path
        The network file; the model is named after its stem.
    cfg : str or Path, optional
        The configuration file; by default the ``.cfg`` beside ``bnd``, if there is one.

    Returns
    -------
    Model
        The model read.

    Raises
    ------
    ModelSyntaxError
        If a file cannot be read or does not parse.
    ModelDefinitionError
        If the model the files define is invalid.
    """
    bnd = Path(bnd)
    if cfg is None:
        beside = bnd.with_suffix(".cfg")
        cfg = beside if beside.exists() else None
    cfg_text = (read_text(cfg, what="MaBoSS .cfg", error=ModelSyntaxError)
                if cfg is not None else "")
    bnd_text = read_text(bnd, what="MaBoSS .bnd model", error=ModelSyntaxError)
    return parse_maboss(bnd_text, cfg_text, bnd_source=str(bnd),
                        cfg_source=str(cfg) if cfg is not None else "<cfg>", name=bnd.stem)


def _num(v: float) -> str:
    return repr(float(v)) if v != int(v) else str(int(v))


def format_maboss(model: Model, **settings: object) -> tuple[str, str]:
    """The ``(bnd, cfg)`` texts of a model, perturbations baked in.

    Parameters
    ----------
    model : Model
        The model; knock-outs/-ins and rate factors are written into its rates.
    **settings : object
        Run settings (``sample_count=...``, ``max_time=...``, ...) that override
        ``model.config``.

    Returns
    -------
    tuple of (str, str)
        The network text and the configuration text.
    """
    fixed = model.fixed
    grouped = {nm for g in model.joint_initial for nm in g.nodes}
    for nm in fixed:
        if nm in grouped:
            raise ModelDefinitionError(
                f"cannot write node {nm!r} as forced: it is part of a joint initial state; "
                "remove it from the group first"
            )
    bnd_lines = []
    for node in model:
        up, down = node.rate_up, node.rate_down
        fu, fd = model.rate_factors(node.name)
        if node.name in fixed:
            up, down = Const(0.0), Const(0.0)
        else:
            if fu != 1.0:
                up = BinOp("*", Const(fu), up)
            if fd != 1.0:
                down = BinOp("*", Const(fd), down)
        bnd_lines.append(f"Node {node.name} {{")
        if node.description:
            bnd_lines.append(f'  description = "{node.description}";')
        bnd_lines.append(f"  logic = {to_maboss(node.logic)};")
        bnd_lines.append(f"  rate_up = {to_maboss(up)};")
        bnd_lines.append(f"  rate_down = {to_maboss(down)};")
        bnd_lines.append("}")
        bnd_lines.append("")
    cfg_lines = [f"${k} = {_num(v)};" for k, v in model.parameters.items()]
    for node in model:
        if node.name in grouped:
            continue
        p = (1.0 if fixed[node.name] else 0.0) if node.name in fixed else node.initial
        cfg_lines.append(f"[{node.name}].istate = {_num(p)} [1], {_num(1 - p)} [0];")
    for g in model.joint_initial:
        opts = ", ".join(f"{_num(p)} [{', '.join(str(v) for v in vals)}]" for p, vals in g.options)
        cfg_lines.append(f"[{', '.join(g.nodes)}].istate = {opts};")
    for node in model:
        if node.internal:
            cfg_lines.append(f"{node.name}.is_internal = 1;")
    config = {k: v for k, v in model.config.items() if "." not in k}
    config.update({k: str(v) for k, v in settings.items()})
    for k, v in config.items():
        if k not in _SETTINGS:
            raise ModelDefinitionError(
                f"unknown MaBoSS setting {k!r}; expected one of: {', '.join(sorted(_SETTINGS))}"
            )
        cfg_lines.append(f"{k} = {v};")
    return "\n".join(bnd_lines), "\n".join(cfg_lines) + "\n"


def write_maboss(model: Model, bnd: str | Path, cfg: str | Path | None = None,
                 **settings: object) -> None:
    """Write a model as a ``.bnd`` and a ``.cfg`` file, atomically.

    Both files are written whole before either replaces an old one.

    Parameters
    ----------
    model : Model
        The model to write (perturbations baked in, as :func:`format_maboss`).
    bnd : str or Path
        The network file to write.
    cfg : str or Path, optional
        The configuration file (default: beside ``bnd``, with the suffix ``.cfg``).
    **settings : object
        Run settings that override ``model.config``.

    Raises
    ------
    OutputError
        If a file cannot be written.
    """
    from her2lab.atomic import atomic_path

    bnd = Path(bnd)
    cfg = bnd.with_suffix(".cfg") if cfg is None else Path(cfg)
    b, c = format_maboss(model, **settings)
    with atomic_path(bnd) as tmp_bnd, atomic_path(cfg) as tmp_cfg:
        tmp_bnd.write_text(b, encoding="utf-8")
        tmp_cfg.write_text(c, encoding="utf-8")
