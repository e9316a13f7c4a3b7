"""The HER2 model as data: ``data/her2.bnd`` (rules), ``data/her2.cfg`` (baseline settings).

Read once with boolnet's MaBoSS reader (the project's one MaBoSS parser) into a
:class:`her2lab.boolnet.Model`. Every node ``X`` that is not a profile node has the rate scheme::

    rate_up   = @logic ? $u_X : $g_X
    rate_down = @logic ? $i_X : $di_X

so a regimen is nothing but values of these parameters, and a tumor profile the initial P(ON)
of the profile nodes (``M_<mechanism>``, ``HR_pos``), which never change during a run. Both are
applied to the compiled model as typed overrides (:mod:`her2lab.pathway.simulate`); no text is
written or parsed to run a condition.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from her2lab.errors import ModelDefinitionError

__all__ = ["Her2Model", "NodeRates", "load_model"]


@dataclass(frozen=True)
class NodeRates:
    """The four rate parameters of one node: ``u``/``g`` activation with/against its rule,
    ``i``/``di`` inactivation with/against its rule (per day)."""

    u: float = 1.0
    g: float = 0.0
    i: float = 0.0
    di: float = 1.0

    def __post_init__(self) -> None:
        for name in ("u", "g", "i", "di"):
            v = getattr(self, name)
            if not v >= 0:
                raise ModelDefinitionError(f"rate {name} must be >= 0; got {v}")

    def with_(self, **changes: float) -> NodeRates:
        return replace(self, **changes)

    def parameters(self, node: str) -> dict[str, float]:
        return {f"u_{node}": self.u, f"g_{node}": self.g, f"i_{node}": self.i,
                f"di_{node}": self.di}


@dataclass(frozen=True)
class Her2Model:
    """The HER2 model: its text, the parsed engine model and its baseline settings (read-only).

    Attributes
    ----------
    bnd, cfg : str
        The MaBoSS texts of ``data/her2.bnd`` and ``data/her2.cfg``.
    engine : her2lab.boolnet.Model
        The parsed model (never mutated: copies are made to export a condition).
    nodes : tuple of str
        Every node, in model order.
    rules : dict of str to str
        Each node's logic rule, as text.
    profile_nodes : tuple of str
        The nodes a tumor profile sets (``M_<mechanism>``, ``HR_pos``); they never change
        during a run.
    baseline : dict of str to NodeRates
        Each non-profile node's baseline rates ``u``, ``g``, ``i``, ``di`` (per day), the
        parameters a regimen changes.
    initial : dict of str to float
        Each node's baseline P(ON) at t = 0.
    """

    bnd: str
    cfg: str
    engine: Any  # her2lab.boolnet.Model (not mutated: copies are made to export a condition)
    nodes: tuple[str, ...]
    rules: dict[str, str]
    profile_nodes: tuple[str, ...]
    baseline: dict[str, NodeRates]
    initial: dict[str, float]

    @property
    def digest(self) -> str:
        """A hash of the model text: part of every cache key."""
        return hashlib.sha256((self.bnd + "\0" + self.cfg).encode()).hexdigest()[:16]


@cache
def load_model() -> Her2Model:
    """The shipped HER2 model, parsed once (the object is immutable).

    Returns
    -------
    Her2Model
        The model of ``her2lab/pathway/data``.

    Raises
    ------
    ModelDefinitionError
        If the shipped files do not define a valid model (a packaging error).
    """
    from her2lab.boolnet import parse_maboss

    data = resources.files("her2lab.pathway") / "data"
    bnd = (data / "her2.bnd").read_text(encoding="utf-8")
    cfg = (data / "her2.cfg").read_text(encoding="utf-8")
    engine = parse_maboss(bnd, cfg, bnd_source="her2.bnd", cfg_source="her2.cfg")
    params = engine.parameters
    nodes = tuple(engine.node_names)
    rated = {n for n in nodes if f"u_{n}" in params}
    profile = tuple(n for n in nodes if n not in rated)
    baseline = {}
    for n in nodes:
        if n in rated:
            try:
                baseline[n] = NodeRates(*(params[f"{p}_{n}"] for p in ("u", "g", "i", "di")))
            except KeyError as exc:
                raise ModelDefinitionError(
                    f"her2.cfg: node {n} lacks the parameter ${exc.args[0]}; every rated node "
                    "needs $u_, $g_, $i_ and $di_"
                ) from None
    from her2lab.boolnet.expr import to_maboss

    rules = {n: _clean(to_maboss(engine[n].logic)) for n in nodes}
    initial = {n: float(engine[n].initial) for n in nodes}
    return Her2Model(bnd=bnd, cfg=cfg, engine=engine, nodes=nodes, rules=rules,
                     profile_nodes=profile, baseline=baseline, initial=initial)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
