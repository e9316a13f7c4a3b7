"""Attractors: steady states and cyclic attractors, with nodes held fixed where asked.

Two methods:

* ``"exact"``: the state transition graph over every state of the free (not fixed) nodes is
  built and its terminal strongly connected components are the attractors. Asynchronous
  transitions are MaBoSS's: node ``i`` may flip in state ``s`` exactly when its flip rate is
  non-zero, so rate expressions (and knock-outs) are honoured. Synchronous transitions apply
  every rule at once. Cost grows as 2**free nodes; by default up to 18 free nodes.
* ``"mpbn"``: the minimal trap spaces of the logic rules (the attractors of the most permissive
  semantics; Pauleve et al., Nat. Commun. 2020), computed by ``mpbn`` with answer-set
  programming: fast on large networks. Each one contains at least one asynchronous attractor;
  steady states (no free node) are exact. Rates are not taken into account.

``method="auto"`` takes ``"exact"`` when the free nodes are few enough, ``"mpbn"`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from her2lab.boolnet._compile import compiled, flip_rate_expr
from her2lab.boolnet.discrete import _evaluate_rules
from her2lab.boolnet.expr import evaluate, to_bnet
from her2lab.boolnet.model import Model
from her2lab.errors import ReferenceToolError, SimulationError

__all__ = ["Attractor", "attractors"]

MAX_EXACT_NODES = 18


@dataclass(frozen=True)
class Attractor:
    """One attractor of a logical model.

    Attributes
    ----------
    kind : str
        ``"steady state"``, ``"cycle"`` (an exact cyclic attractor) or ``"trap space"`` (a
        minimal trap space from mpbn).
    pattern : dict of str to int or str
        Each node's value (0/1), ``"*"`` where it varies within the attractor.
    states : numpy.ndarray or None
        For exact attractors, every state (rows of 0/1, in node order); ``None`` for a trap
        space.
    """

    kind: str
    pattern: dict[str, int | str]
    states: np.ndarray | None = None

    @property
    def size(self) -> int | None:
        """Number of states (``None`` for a trap space, whose reachable part is not computed)."""
        return None if self.states is None else int(self.states.shape[0])

    def to_dict(self, max_states: int = 64) -> dict[str, Any]:
        """The attractor as a JSON-ready dict.

        Parameters
        ----------
        max_states : int, optional
            List the states only when there are at most this many (default 64).

        Returns
        -------
        dict
            ``kind``, ``size``, ``pattern`` and, for small exact attractors, ``states``.
        """
        out: dict[str, Any] = {"kind": self.kind, "size": self.size, "pattern": self.pattern}
        if self.states is not None and self.states.shape[0] <= max_states:
            out["states"] = [[int(v) for v in row] for row in self.states]
        return out


def _pattern(names: tuple[str, ...], states: np.ndarray) -> dict[str, int | str]:
    first = states[0]
    same = (states == first).all(axis=0)
    return {n: (int(first[i]) if same[i] else "*") for i, n in enumerate(names)}


def _flip_rates(model: Model, states: np.ndarray) -> np.ndarray:
    cm = compiled(model)
    out = np.empty(states.shape, dtype=float)
    for i, name in enumerate(cm.names):
        lo, hi = cm.in_off[i], cm.in_off[i + 1]
        support = [int(w) * 64 + int(sft) for w, sft in zip(cm.in_word[lo:hi], cm.in_shift[lo:hi],
                                                           strict=True)]
        if cm.kind[i] == 0:
            index = np.zeros(states.shape[0], dtype=np.int64)
            for k, j in enumerate(support):
                index |= states[:, j].astype(np.int64) << k
            size = 1 << len(support)
            out[:, i] = cm.table[cm.tab_off[i]: cm.tab_off[i] + size][index]
        else:
            values = {cm.names[j]: states[:, j].astype(float) for j in support}
            out[:, i] = np.broadcast_to(evaluate(flip_rate_expr(model, name), values),
                                        (states.shape[0],))
    return out


def _exact(model: Model, update: str) -> list[Attractor]:
    cm = compiled(model)
    fixed = model.fixed
    free = [i for i, n in enumerate(cm.names) if n not in fixed]
    m = len(free)
    codes = np.arange(1 << m, dtype=np.int64)
    states = np.zeros((codes.size, cm.n), dtype=bool)
    for pos, i in enumerate(free):
        states[:, i] = (codes >> pos) & 1
    for name, value in fixed.items():
        states[:, cm.names.index(name)] = value

    if update == "synchronous":
        nxt = _evaluate_rules(cm, model, states)
        dst = np.zeros(codes.size, dtype=np.int64)
        for pos, i in enumerate(free):
            dst |= nxt[:, i].astype(np.int64) << pos
        src = codes
    else:
        rates = _flip_rates(model, states)
        srcs, dsts = [], []
        for pos, i in enumerate(free):
            can = rates[:, i] > 0
            srcs.append(codes[can])
            dsts.append(codes[can] ^ (1 << pos))
        src = np.concatenate(srcs) if srcs else np.zeros(0, dtype=np.int64)
        dst = np.concatenate(dsts) if dsts else np.zeros(0, dtype=np.int64)

    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    graph = csr_matrix((np.ones(src.size, dtype=np.int8), (src, dst)),
                       shape=(codes.size, codes.size))
    _, labels = connected_components(graph, directed=True, connection="strong")
    leaving = labels[src] != labels[dst]
    non_terminal = np.zeros(labels.max() + 1, dtype=bool)
    non_terminal[labels[src[leaving]]] = True
    out = []
    for comp in np.flatnonzero(~non_terminal):
        members = states[labels == comp]
        kind = "steady state" if members.shape[0] == 1 else "cycle"
        out.append(Attractor(kind, _pattern(cm.names, members), members.astype(np.int8)))
    out.sort(key=lambda a: (a.size, list(a.states[0])))
    return out


def _mpbn(model: Model) -> list[Attractor]:
    try:
        import mpbn
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ReferenceToolError("mpbn is not installed (pip install mpbn)") from exc
    fixed = model.fixed
    rules = {}
    for node in model:
        if node.name in fixed:
            rules[node.name] = "1" if fixed[node.name] else "0"
        else:
            rules[node.name] = to_bnet(node.logic)
    try:
        net = mpbn.MPBooleanNetwork(rules)
        found = list(net.attractors())
    except Exception as exc:  # mpbn/clingo raise a variety of errors
        raise ReferenceToolError(f"mpbn failed on model {model.name!r}: {exc}") from exc
    out = []
    for att in found:
        pattern: dict[str, int | str] = {
            n: (att[n] if att[n] == "*" else int(att[n])) for n in model.node_names
        }
        steady = all(v != "*" for v in pattern.values())
        states = np.array([[pattern[n] for n in model.node_names]], dtype=np.int8) if steady \
            else None
        out.append(Attractor("steady state" if steady else "trap space", pattern, states))
    out.sort(key=lambda a: [str(a.pattern[n]) for n in model.node_names])
    return out


def attractors(
    model: Model,
    *,
    update: Literal["asynchronous", "synchronous"] = "asynchronous",
    method: Literal["auto", "exact", "mpbn"] = "auto",
    fixed: Mapping[str, object] | None = None,
    max_exact_nodes: int = MAX_EXACT_NODES,
) -> list[Attractor]:
    """The attractors of a model with some nodes held fixed.

    Two methods (see the module docstring): ``"exact"`` builds the state transition graph over
    the free nodes and returns its terminal strongly connected components, honouring rates and
    knock-outs; ``"mpbn"`` computes the minimal trap spaces of the rules (fast on large networks,
    independent of the update mode, rates ignored).

    Parameters
    ----------
    model : Model
        The model; its knock-outs and knock-ins are held.
    update : {"asynchronous", "synchronous"}, optional
        Update mode of the exact method (default ``"asynchronous"``, MaBoSS's transitions).
    method : {"auto", "exact", "mpbn"}, optional
        ``"auto"`` (default) takes ``"exact"`` when the free nodes number at most
        ``max_exact_nodes``, ``"mpbn"`` otherwise.
    fixed : mapping of str to object, optional
        Nodes held at a value (ON/OFF, 1/0), typically the inputs (``{"EGF": 1}``).
    max_exact_nodes : int, optional
        Most free nodes the exact method accepts (its cost grows as 2**free nodes; default 18).

    Returns
    -------
    list of Attractor
        Every attractor found.

    Raises
    ------
    SimulationError
        If ``update`` or ``method`` is unknown, or the exact method is asked for more free
        nodes than ``max_exact_nodes``.
    ReferenceToolError
        If mpbn is needed but not installed, or fails.
    UnknownIdError
        If ``fixed`` names a node the model lacks.
    """
    if update not in ("asynchronous", "synchronous"):
        raise SimulationError(
            "The 'update' parameter of attractors must be 'asynchronous' or 'synchronous'. "
            f"Got {update!r} instead."
        )
    if method not in ("auto", "exact", "mpbn"):
        raise SimulationError(
            "The 'method' parameter of attractors must be 'auto', 'exact' or 'mpbn'. "
            f"Got {method!r} instead."
        )
    work = model.perturbed(fixed=fixed) if fixed else model
    n_free = len(work) - len(work.fixed)
    if method == "auto":
        method = "exact" if n_free <= max_exact_nodes else "mpbn"
    if method == "exact":
        if n_free > max_exact_nodes:
            raise SimulationError(
                f"exact attractor search over {n_free} free nodes (2**{n_free} states) exceeds "
                f"max_exact_nodes={max_exact_nodes}; fix inputs, raise max_exact_nodes, or use "
                "method='mpbn'"
            )
        return _exact(work, update)
    return _mpbn(work)
