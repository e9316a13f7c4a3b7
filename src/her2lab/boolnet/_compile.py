"""Compile a :class:`Model` into flat arrays for the generic numba kernels.

Each node gets one *flip rate*: the rate at which it changes value in the current state,
``rate_down`` when it is ON and ``rate_up`` when it is OFF, with ``@logic`` replaced by its rule,
parameters by their values, and perturbation factors applied. Since node values are 0 or 1, the
flip rate is a function of the Boolean values of the few nodes it reads (its *support*), so it is
tabulated: ``table[offset + index]`` where bit ``j`` of ``index`` is the value of support node
``j``. Nodes whose support is larger than :data:`MAX_TABLE_INPUTS` fall back to a small postfix
program run by the kernel's stack machine.

The compiled form depends only on the model (not on run settings) and is cached by the model's
fingerprint, so a second run of the same model does not compile it again. The numba kernels
themselves are generic: they are compiled once per installation (``cache=True``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from her2lab.boolnet.expr import (
    And,
    BinOp,
    Cond,
    Const,
    Expr,
    Logic,
    Neg,
    Not,
    Or,
    Param,
    Var,
    Xor,
    evaluate,
    substitute,
)
from her2lab.boolnet.model import Model, Node
from her2lab.errors import ModelDefinitionError

RATE_UNITS = 2.0**60
"""The kernel counts rates in integer units: ``unit = (largest tabulated rate x nodes) /
RATE_UNITS``, so the total rate stays below 2**63 and a rate is resolved to ~1e-18 of the
largest; a rate below that resolution (absurdly small next to the others) would round to 0."""

MAX_TABLE_INPUTS = 14
"""Largest support tabulated (2**14 floats = 128 KiB per node); larger ones run as programs."""

# opcodes of the stack machine (see _kernel._run_program)
OP_VAR, OP_CONST, OP_NOT, OP_AND, OP_OR, OP_XOR, OP_NEG = 0, 1, 2, 3, 4, 5, 6
OP_ADD, OP_SUB, OP_MUL, OP_DIV = 7, 8, 9, 10
OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, OP_COND = 11, 12, 13, 14, 15, 16, 17
_BINOPS = {"+": OP_ADD, "-": OP_SUB, "*": OP_MUL, "/": OP_DIV, "<": OP_LT, "<=": OP_LE,
           ">": OP_GT, ">=": OP_GE, "==": OP_EQ, "!=": OP_NE}


@dataclass(frozen=True)
class CompiledModel:
    """Flat arrays describing a model's flip rates, dependencies and initial states."""

    names: tuple[str, ...]
    n_words: int
    node_word: np.ndarray  # int64[n]
    node_mask: np.ndarray  # uint64[n]
    node_shift: np.ndarray  # uint64[n]
    kind: np.ndarray  # int8[n]: 0 table, 1 program
    in_off: np.ndarray  # int64[n+1]: support of node i is in_word/in_shift[in_off[i]:in_off[i+1]]
    in_word: np.ndarray  # int64
    in_shift: np.ndarray  # uint64: bit position of each support node in its word
    tab_off: np.ndarray  # int64[n]
    table: np.ndarray  # float64
    itable: np.ndarray  # int64: table in units of `unit`
    unit: float
    prog_off: np.ndarray  # int64[n+1]
    code: np.ndarray  # int64: opcode, argument pairs
    consts: np.ndarray  # float64
    max_stack: int
    dep_off: np.ndarray  # int64[n+1]: nodes whose flip rate reads node j
    dep_idx: np.ndarray  # int64
    dep_bit: np.ndarray  # int64: 1 << (position of node j in the support of dep_idx[.])
    pdep_off: np.ndarray  # int64[n+1]: program nodes whose flip rate reads node j
    pdep_idx: np.ndarray  # int64
    p_on: np.ndarray  # float64[n]: independent P(ON) at t=0; -1 for nodes in a joint group
    g_node_off: np.ndarray  # int64[g+1]
    g_nodes: np.ndarray  # int64
    g_opt_off: np.ndarray  # int64[g+1]
    g_opt_cum: np.ndarray  # float64: cumulative probabilities of options
    g_opt_vals: np.ndarray  # int64: bit k = value of the k-th node of the group
    force_mask: np.ndarray  # uint64[n_words]
    force_val: np.ndarray  # uint64[n_words]
    logic_tables: tuple[tuple[tuple[int, ...], np.ndarray], ...]  # per node: support, 0/1 table
    model: Model | None = None  # a private copy of the compiled model (for overrides)
    param_readers: dict[str, tuple[int, ...]] | None = None  # parameter -> nodes reading it

    @property
    def n(self) -> int:
        return len(self.names)


def flip_rate_expr(model: Model, name: str) -> Expr:
    """The flip rate of ``name`` as one expression of the state (see module docstring)."""
    if name in model.fixed:
        return Const(0.0)
    up_f, down_f = model.rate_factors(name)
    return _flip_expr(model[name], model.parameters, up_f, down_f)


def _rate_exprs(node: Node) -> tuple[Expr, Expr]:
    """The up and down rates of ``node`` with ``@logic`` replaced by its rule (``$parameters``
    left in place)."""

    def resolve(e: Expr) -> Expr | None:
        return node.logic if isinstance(e, Logic) else None

    return substitute(node.rate_up, resolve), substitute(node.rate_down, resolve)


def _flip_expr(node: Node, params: Mapping[str, float], up_f: float, down_f: float) -> Expr:
    def resolve(e: Expr) -> Expr | None:
        if isinstance(e, Logic):
            return node.logic
        if isinstance(e, Param):
            return Const(float(params[e.name]))
        return None

    up = substitute(node.rate_up, resolve)
    down = substitute(node.rate_down, resolve)
    if up_f != 1.0:
        up = BinOp("*", Const(up_f), up)
    if down_f != 1.0:
        down = BinOp("*", Const(down_f), down)
    return Cond(Var(node.name), down, up)


def _support_values(support: list[str]) -> dict[str, np.ndarray]:
    idx = np.arange(1 << len(support), dtype=np.int64)
    return {v: ((idx >> j) & 1).astype(float) for j, v in enumerate(support)}


def _tabulate(expr: Expr, support: list[str], values: dict[str, np.ndarray] | None = None,
              parameters: Mapping[str, float] | None = None) -> np.ndarray:
    if values is None:
        values = _support_values(support)
    out = evaluate(expr, values, parameters=parameters)
    return np.broadcast_to(np.asarray(out, dtype=float), (1 << len(support),)).copy()


def _emit(expr: Expr, index: dict[str, int], code: list[int], consts: list[float]) -> int:
    """Append postfix code for ``expr``; return the stack depth it needs."""
    if isinstance(expr, Const):
        consts.append(expr.value)
        code += [OP_CONST, len(consts) - 1]
        return 1
    if isinstance(expr, Var):
        code += [OP_VAR, index[expr.name]]
        return 1
    if isinstance(expr, Not | Neg):
        d = _emit(expr.arg, index, code, consts)
        code += [OP_NOT if isinstance(expr, Not) else OP_NEG, 0]
        return d
    if isinstance(expr, And | Or):
        op = OP_AND if isinstance(expr, And) else OP_OR
        d = _emit(expr.args[0], index, code, consts)
        for a in expr.args[1:]:
            d = max(d, 1 + _emit(a, index, code, consts))
            code += [op, 0]
        return d
    if isinstance(expr, Xor | BinOp):
        op = OP_XOR if isinstance(expr, Xor) else _BINOPS[expr.op]
        d1 = _emit(expr.left, index, code, consts)
        d2 = _emit(expr.right, index, code, consts)
        code += [op, 0]
        return max(d1, 1 + d2)
    if isinstance(expr, Cond):
        d1 = _emit(expr.cond, index, code, consts)
        d2 = _emit(expr.then, index, code, consts)
        d3 = _emit(expr.other, index, code, consts)
        code += [OP_COND, 0]
        return max(d1, 1 + d2, 2 + d3)
    raise TypeError(f"cannot compile {expr!r}")


def _describe_state(support: list[str], index: int) -> str:
    return ", ".join(f"{v}={(index >> j) & 1}" for j, v in enumerate(support)) or "any state"


def compile_model(model: Model) -> CompiledModel:
    """Compile ``model`` (validated first) into a :class:`CompiledModel`."""
    model.validate()
    names = model.node_names
    n = len(names)
    if n == 0:
        raise ModelDefinitionError(f"model {model.name!r} has no nodes")
    index = {nm: i for i, nm in enumerate(names)}
    n_words = (n + 63) // 64
    node_word = np.array([i >> 6 for i in range(n)], dtype=np.int64)
    node_mask = np.array([1 << (i & 63) for i in range(n)], dtype=np.uint64)

    kind = np.zeros(n, dtype=np.int8)
    in_off = [0]
    in_nodes: list[int] = []
    tab_off = np.zeros(n, dtype=np.int64)
    tables: list[tuple[int, np.ndarray]] = []
    prog_off = [0]
    code: list[int] = []
    consts: list[float] = []
    max_stack = 1
    readers: list[dict[int, int]] = [{} for _ in range(n)]  # reader -> position in its support
    logic_tables = []

    for i, name in enumerate(names):
        node = model[name]
        expr = flip_rate_expr(model, name)
        support = sorted(expr.variables() | {name}, key=index.__getitem__)
        for pos, v in enumerate(support):
            readers[index[v]][i] = pos
        in_nodes += [index[v] for v in support]
        in_off.append(len(in_nodes))
        if len(support) <= MAX_TABLE_INPUTS:
            tab = _tabulate(expr, support)
            bad = np.flatnonzero(~(np.isfinite(tab) & (tab >= 0)))
            if bad.size:
                raise ModelDefinitionError(
                    f"the rate of node {name!r} must be a finite number >= 0 in every state; "
                    f"it is {float(tab[bad[0]])!r} when {_describe_state(support, int(bad[0]))}"
                )
            tables.append((i, tab))
        else:
            kind[i] = 1
            max_stack = max(max_stack, _emit(expr, index, code, consts))
        prog_off.append(len(code))
        # the node's logic alone, for the discrete updates and attractor search
        lsupport = sorted(node.logic.variables(), key=index.__getitem__)
        if len(lsupport) <= 20:
            ltab = _tabulate(node.logic, lsupport) > 0.5
        else:
            ltab = np.zeros(0, dtype=bool)
        logic_tables.append((tuple(index[v] for v in lsupport), ltab))

    # Tables laid out largest first, so that each one's offset is a multiple of its size (all
    # are powers of 2): the kernel keeps absolute indices, and flipping bit k of an absolute
    # index flips bit k of the node's own index.
    tables.sort(key=lambda it: -it[1].size)
    tab_len = 0
    for i, tab in tables:
        tab_off[i] = tab_len
        tab_len += tab.size
    table_parts = [tab for _, tab in sorted(tables, key=lambda it: tab_off[it[0]])]
    top_size = tables[0][1].size if tables else 1
    pad = -tab_len % top_size  # a whole table set is a multiple of the largest table too
    if pad:
        table_parts.append(np.zeros(pad))

    # readers of node j: table nodes (dep_*) and program nodes (pdep_*), in separate lists
    dep_off, pdep_off = [0], [0]
    dep_idx: list[int] = []
    dep_bit: list[int] = []
    pdep_idx: list[int] = []
    for j in range(n):
        for reader in sorted(readers[j]):
            if kind[reader] == 0:
                dep_idx.append(reader)
                dep_bit.append(1 << readers[j][reader])
            else:  # support > MAX_TABLE_INPUTS (possibly > 63): no table index to keep
                pdep_idx.append(reader)
        dep_off.append(len(dep_idx))
        pdep_off.append(len(pdep_idx))

    # initial states
    in_group = {nm for g in model.joint_initial for nm in g.nodes}
    p_on = np.array(
        [-1.0 if nm in in_group else model[nm].initial for nm in names], dtype=np.float64
    )
    g_node_off, g_nodes, g_opt_off, g_opt_cum, g_opt_vals = [0], [], [0], [], []
    for g in model.joint_initial:
        if len(g.nodes) > 62:
            raise ModelDefinitionError("a joint initial state may hold at most 62 nodes")
        g_nodes += [index[nm] for nm in g.nodes]
        g_node_off.append(len(g_nodes))
        cum = 0.0
        for p, vals in g.options:
            cum += p
            g_opt_cum.append(cum)
            g_opt_vals.append(sum(int(v) << k for k, v in enumerate(vals)))
        g_opt_cum[-1] = 1.0 if g.options else 0.0
        g_opt_off.append(len(g_opt_cum))

    force_mask = np.zeros(n_words, dtype=np.uint64)
    force_val = np.zeros(n_words, dtype=np.uint64)
    for nm, val in model.fixed.items():
        i = index[nm]
        force_mask[i >> 6] |= np.uint64(1 << (i & 63))
        if val:
            force_val[i >> 6] |= np.uint64(1 << (i & 63))

    in_arr = np.array(in_nodes, dtype=np.int64)
    table = np.concatenate(table_parts) if table_parts else np.zeros(1)
    itable, unit = _integer_rates(table, n, bool(kind.any()))
    return CompiledModel(
        names=tuple(names),
        n_words=n_words,
        node_word=node_word,
        node_mask=node_mask,
        node_shift=np.array([i & 63 for i in range(n)], dtype=np.uint64),
        kind=kind,
        in_off=np.array(in_off, dtype=np.int64),
        in_word=in_arr >> 6,
        in_shift=(in_arr & 63).astype(np.uint64),
        tab_off=tab_off,
        table=table,
        itable=itable,
        unit=unit,
        prog_off=np.array(prog_off, dtype=np.int64),
        code=np.array(code or [0], dtype=np.int64),
        consts=np.array(consts or [0.0], dtype=np.float64),
        max_stack=max_stack + 1,
        dep_off=np.array(dep_off, dtype=np.int64),
        dep_idx=np.array(dep_idx, dtype=np.int64),
        dep_bit=np.array(dep_bit, dtype=np.int64),
        pdep_off=np.array(pdep_off, dtype=np.int64),
        pdep_idx=np.array(pdep_idx or [0], dtype=np.int64),
        p_on=p_on,
        g_node_off=np.array(g_node_off, dtype=np.int64),
        g_nodes=np.array(g_nodes or [0], dtype=np.int64),
        g_opt_off=np.array(g_opt_off, dtype=np.int64),
        g_opt_cum=np.array(g_opt_cum or [0.0], dtype=np.float64),
        g_opt_vals=np.array(g_opt_vals or [0], dtype=np.int64),
        force_mask=force_mask,
        force_val=force_val,
        logic_tables=tuple(logic_tables),
        model=model.copy(),
        param_readers={
            p: tuple(i for i, nm in enumerate(names)
                     if p in model[nm].rate_up.parameters() | model[nm].rate_down.parameters())
            for p in model.parameters
        },
    )


_CACHE: OrderedDict[str, CompiledModel] = OrderedDict()
_CACHE_SIZE = 64


_CACHE_LOCK = threading.Lock()  # executor workers may be threads of one process


def compiled(model: Model) -> CompiledModel:
    """The compiled form of ``model``, from the cache when the same model was compiled before."""
    key = model.fingerprint()
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    out = compile_model(model)
    with _CACHE_LOCK:
        _CACHE[key] = out
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return out


def cache_info() -> dict[str, int]:
    """How many compiled models the cache holds (for tests and diagnostics)."""
    return {"size": len(_CACHE), "max_size": _CACHE_SIZE}


# ---------------------------------------------------------------------------------- overrides


@dataclass(frozen=True)
class SetArrays:
    """The arrays of one parameter set (a compiled model with overrides applied)."""

    table: np.ndarray  # float64, same layout as CompiledModel.table
    itable: np.ndarray
    unit: float
    kind: np.ndarray  # int8[n]: 0 table, 1 program, 2 rate always 0 (fixed program node)
    programs: dict[int, tuple[list[int], list[float], int]]  # node -> code, consts, depth
    p_on: np.ndarray
    g_active: np.ndarray  # int8[groups]
    force_mask: np.ndarray
    force_val: np.ndarray


def _integer_rates(table: np.ndarray, n: int, has_programs: bool) -> tuple[np.ndarray, float]:
    top = float(table.max()) if table.size else 0.0
    if has_programs:  # program rates are not known in advance: leave them headroom
        top = max(top, 1.0) * 1e3
    unit = max(top, 1e-300) * n / RATE_UNITS
    itable = np.floor(table / unit + 0.5).astype(np.int64)
    itable[(table > 0) & (itable == 0)] = 1  # a positive rate stays positive
    return itable, unit


def _split_rates(cm: CompiledModel, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node ``i``'s up and down rates tabulated over its support (parameters of the compiled
    model, no factors), and its own value per table entry; cached on ``cm``."""
    cache = cm.__dict__.setdefault("_split", {})
    hit = cache.get(i)
    if hit is None:
        support = [cm.names[j] for j in _support(cm, i)]
        values = _support_values(support)
        node = cm.model[cm.names[i]]
        up, down = _rate_exprs(node)
        params = {k: float(v) for k, v in cm.model.parameters.items()}
        hit = (_tabulate(up, support, values, params), _tabulate(down, support, values, params),
               values[cm.names[i]])
        cache[i] = hit
    return hit


def _support(cm: CompiledModel, i: int) -> list[int]:
    words = cm.in_word[cm.in_off[i]:cm.in_off[i + 1]]
    shifts = cm.in_shift[cm.in_off[i]:cm.in_off[i + 1]]
    return [int(w) * 64 + int(b) for w, b in zip(words, shifts, strict=True)]


def apply_overrides(
    cm: CompiledModel,
    *,
    parameters: Mapping[str, float],
    initial: Mapping[str, float],
    fixed: Mapping[str, bool],
    up_factor: Mapping[str, float],
    down_factor: Mapping[str, float],
) -> SetArrays:
    """The arrays of ``cm`` with overrides applied (names and values already checked).

    The result is what compiling ``model.perturbed(fixed=fixed, up_factor=..., down_factor=...)
    .with_initial(initial)`` with ``parameters`` changed would give, up to the layout of the
    tables of nodes forced by ``fixed`` (their rate is 0 whatever the layout): only the tables
    of the nodes whose rates read a changed parameter or get a factor are recomputed, from the
    parsed expressions."""
    model = cm.model
    assert model is not None
    index = {nm: i for i, nm in enumerate(cm.names)}
    n = cm.n
    table = cm.table.copy()
    kind = cm.kind.copy()
    params = dict(model.parameters)
    params.update({k: float(v) for k, v in parameters.items()})
    all_fixed = model.fixed
    all_fixed.update(fixed)
    changed: set[int] = set()
    for p in parameters:
        changed.update(cm.param_readers.get(p, ()))
    changed.update(index[nm] for nm in up_factor)
    changed.update(index[nm] for nm in down_factor)
    programs: dict[int, tuple[list[int], list[float], int]] = {}
    for nm in fixed:
        i = index[nm]
        changed.discard(i)
        if kind[i] == 0:
            end = cm.tab_off[i] + (1 << (cm.in_off[i + 1] - cm.in_off[i]))
            table[cm.tab_off[i]:end] = 0.0
        else:
            kind[i] = 2
    param_changed = set()
    for p in parameters:
        param_changed.update(cm.param_readers.get(p, ()))
    for i in sorted(changed):
        nm = cm.names[i]
        if nm in all_fixed:
            continue  # fixed in the model itself: its rate stays 0
        base_up, base_down = model.rate_factors(nm)
        up_f = base_up * float(up_factor[nm]) if nm in up_factor else base_up
        down_f = base_down * float(down_factor[nm]) if nm in down_factor else base_down
        if kind[i] == 1:
            code: list[int] = []
            consts: list[float] = []
            expr = _flip_expr(model[nm], params, up_f, down_f)
            depth = _emit(expr, index, code, consts)
            programs[i] = (code, consts, depth)
            continue
        support = _support(cm, i)
        if i in param_changed:
            names = [cm.names[j] for j in support]
            tab = _tabulate(_flip_expr(model[nm], params, up_f, down_f), names)
        else:
            up, down, own = _split_rates(cm, i)
            upv = up_f * up if up_f != 1.0 else up
            downv = down_f * down if down_f != 1.0 else down
            tab = np.where(own > 0, downv, upv) * 1.0
        bad = np.flatnonzero(~(np.isfinite(tab) & (tab >= 0)))
        if bad.size:
            from her2lab.errors import SimulationError

            raise SimulationError(
                f"with these overrides the rate of node {nm!r} must be a finite number >= 0 "
                f"in every state; it is {float(tab[bad[0]])!r} when "
                f"{_describe_state([cm.names[j] for j in support], int(bad[0]))}"
            )
        table[cm.tab_off[i]:cm.tab_off[i] + tab.size] = tab
    itable, unit = _integer_rates(table, n, bool((kind == 1).any()))

    p_on = cm.p_on.copy()
    g_active = np.ones(len(model.joint_initial), dtype=np.int8)
    if initial:
        for g, group in enumerate(model.joint_initial):
            if set(group.nodes) & initial.keys():
                g_active[g] = 0
                for nm in group.nodes:
                    p_on[index[nm]] = model[nm].initial
        for nm, p in initial.items():
            p_on[index[nm]] = float(p)
    force_mask = cm.force_mask.copy()
    force_val = cm.force_val.copy()
    for nm, val in fixed.items():
        i = index[nm]
        bit = np.uint64(1 << (i & 63))
        force_mask[i >> 6] |= bit
        if val:
            force_val[i >> 6] |= bit
        else:
            force_val[i >> 6] &= ~bit
    return SetArrays(table, itable, unit, kind, programs, p_on, g_active, force_mask, force_val)
