"""The HER2 model as data: ``data/her2.bnd`` (rules), ``data/her2.cfg`` (baseline settings).

The model is a MaBoSS network in which every node ``X`` has the same rate scheme::

    rate_up   = @logic ? $u_X : $g_X
    rate_down = @logic ? $i_X : $di_X

so a tumor profile and a regimen are nothing but values of these parameters and of the initial
states (see :mod:`her2lab.pathway.drugs` and :mod:`her2lab.pathway.mechanisms`). This module
reads the two files, keeps their text, and writes the configuration for a given set of
:class:`NodeRates`; the rules are never rewritten.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

from her2lab.errors import ModelDefinitionError

__all__ = ["Her2Model", "NodeRates", "load_model"]

_PARAM = re.compile(r"\$(\w+)\s*=\s*([-+0-9.eE]+)\s*;")
_ISTATE = re.compile(r"\[(\w+)\]\.istate\s*=\s*([0-9.]+)\s*\[1\]")
_NODE = re.compile(r"^Node\s+(\w+)", re.M)
_LOGIC = re.compile(r"^Node\s+(\w+)\s*\{\s*logic\s*=\s*([^;]+);", re.M)


@dataclass(frozen=True)
class NodeRates:
    """The four rate parameters of one node and its initial P(ON).

    ``u``: activation while the rule holds; ``g``: activation against the rule; ``i``:
    inactivation against the rule; ``d``: ordinary deactivation (the file stores ``di = d + i``).
    """

    u: float = 1.0
    g: float = 0.0
    i: float = 0.0
    d: float = 1.0
    initial: float = 0.0

    def __post_init__(self) -> None:
        for name in ("u", "g", "i", "d"):
            v = getattr(self, name)
            if not v >= 0:
                raise ModelDefinitionError(f"rate {name} must be >= 0; got {v}")
        if not 0.0 <= self.initial <= 1.0:
            raise ModelDefinitionError(f"initial must lie in [0, 1]; got {self.initial}")

    def with_(self, **changes: float) -> NodeRates:
        return replace(self, **changes)


@dataclass(frozen=True)
class Her2Model:
    """The model text and its baseline node settings (read-only)."""

    bnd: str
    cfg: str
    nodes: tuple[str, ...]
    rules: dict[str, str]
    baseline: dict[str, NodeRates]

    @property
    def digest(self) -> str:
        """A hash of the model text: part of every cache key."""
        return hashlib.sha256((self.bnd + "\0" + self.cfg).encode()).hexdigest()[:16]

    def config_text(
        self,
        rates: dict[str, NodeRates],
        *,
        samples: int,
        seed: int,
        max_time: float,
        time_tick: float = 1.0,
        threads: int = 1,
    ) -> str:
        """The MaBoSS ``.cfg`` text for these node settings and run settings."""
        unknown = sorted(set(rates) - set(self.nodes))
        if unknown:
            raise ModelDefinitionError(f"settings for nodes not in the HER2 model: {unknown}")
        lines = []
        for n in self.nodes:
            r = rates.get(n, self.baseline[n])
            lines.append(
                f"$u_{n} = {r.u:.12g}; $g_{n} = {r.g:.12g}; "
                f"$i_{n} = {r.i:.12g}; $di_{n} = {r.d + r.i:.12g};"
            )
        for n in self.nodes:
            p = rates.get(n, self.baseline[n]).initial
            lines.append(f"[{n}].istate = {p:.12g}[1], {1 - p:.12g}[0];")
        lines += [
            f"sample_count = {int(samples)};",
            f"max_time = {max_time:g};",
            f"time_tick = {time_tick:g};",
            "discrete_time = 0;",
            "use_physrandgen = 0;",
            f"seed_pseudorandom = {int(seed)};",
            f"thread_count = {int(threads)};",
        ]
        return "\n".join(lines) + "\n"


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def _parse_baseline(bnd: str, cfg: str) -> Her2Model:
    bnd_code, cfg_code = _strip_comments(bnd), _strip_comments(cfg)
    nodes = tuple(_NODE.findall(bnd_code))
    rules = {m.group(1): " ".join(m.group(2).split()) for m in _LOGIC.finditer(bnd_code)}
    params = {k: float(v) for k, v in _PARAM.findall(cfg_code)}
    istates = {k: float(v) for k, v in _ISTATE.findall(cfg_code)}
    baseline = {}
    for n in nodes:
        try:
            u, g, i, di = (params[f"{p}_{n}"] for p in ("u", "g", "i", "di"))
        except KeyError as exc:
            raise ModelDefinitionError(
                f"her2.cfg: node {n} lacks the parameter ${exc.args[0]}; every node needs "
                "$u_, $g_, $i_ and $di_"
            ) from None
        baseline[n] = NodeRates(u=u, g=g, i=i, d=di - i, initial=istates.get(n, 0.0))
    return Her2Model(bnd=bnd, cfg=cfg, nodes=nodes, rules=rules, baseline=baseline)


@cache
def load_model() -> Her2Model:
    """The shipped HER2 model (cached; the object is immutable)."""
    data = resources.files("her2lab.pathway") / "data"
    bnd = (data / "her2.bnd").read_text(encoding="utf-8")
    cfg = (data / "her2.cfg").read_text(encoding="utf-8")
    return _parse_baseline(bnd, cfg)
