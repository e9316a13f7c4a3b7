"""The one place where the HER2 model meets a simulation engine.

``final_probabilities(bnd, cfg, backend=...)`` returns P(node ON) at the end of the run for every
node. Backends:

``boolnet``  her2lab's own engine (:mod:`her2lab.boolnet`), the default;
``maboss``   MaBoSS through the ``cmaboss`` package, the reference the model is checked against
             (a test-only dependency: it must be installed with ``pip install her2lab[test]``).

Seeds, sample counts and the simulated time are in the ``cfg`` text (MaBoSS semantics).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Literal

from her2lab.errors import ReferenceToolError, SimulationError

__all__ = ["BACKENDS", "Backend", "final_probabilities"]

Backend = Literal["boolnet", "maboss"]
BACKENDS: tuple[Backend, ...] = ("boolnet", "maboss")


def final_probabilities(bnd: str, cfg: str, *, backend: Backend = "boolnet") -> dict[str, float]:
    """P(ON) of every node at the last time point of a stochastic run of ``bnd`` + ``cfg``."""
    if backend == "boolnet":
        return _boolnet(bnd, cfg)
    if backend == "maboss":
        return _maboss(bnd, cfg)
    raise SimulationError(f"backend must be one of {list(BACKENDS)}; got {backend!r} instead")


def _maboss(bnd: str, cfg: str) -> dict[str, float]:
    try:
        import cmaboss
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ReferenceToolError(
            "the 'maboss' backend needs the cmaboss package (pip install 'her2lab[test]')"
        ) from exc
    try:
        sim = cmaboss.MaBoSSSim(network_str=bnd, config_str=cfg)
        res = sim.run()
        probs, _times, names, _err = res.get_last_nodes_probtraj()
    except Exception as exc:  # cmaboss raises its own BNException and RuntimeError
        raise ReferenceToolError(f"MaBoSS (cmaboss) failed on the HER2 model: {exc}") from exc
    row = probs[-1]
    out = {str(n): float(p) for n, p in zip(names, row, strict=True)}
    return out


def _boolnet(bnd: str, cfg: str) -> dict[str, float]:
    from her2lab.boolnet import StochasticSimulator

    model = _boolnet_model(bnd, cfg)
    conf = model.config
    sim = StochasticSimulator(
        model,
        samples=int(float(conf.get("sample_count", "1000"))),
        max_time=float(conf.get("max_time", "10")),
        time_tick=float(conf.get("time_tick", "1")),
        threads=int(float(conf.get("thread_count", "1"))),
        outputs=[n for n in _PHENOTYPE_NODES if n in model],
        keep_final_states=False,
    )
    res = sim.run(seed=int(float(conf.get("seed_pseudorandom", "0"))))
    return {str(k): float(v) for k, v in res.final.items()}


_PHENOTYPE_NODES = ("Proliferation", "Apoptosis", "Angiogenesis", "Immune_kill")

# A profile and a regimen change only the numbers of the .cfg, never the .bnd. Parsing the
# 42-node network costs more than simulating it, so the network is parsed once per text and a
# .cfg made only of plain statements ($p = number; [X].istate = p[1], q[0]; key = value;) is
# read with regular expressions; anything else goes through the engine's full parser.
_TEMPLATES: dict[str, Any] = {}
_STMT_PARAM = re.compile(r"^\$([A-Za-z_]\w*)\s*=\s*([-+0-9.eE]+)$")
_STMT_ISTATE = re.compile(
    r"^\[\s*([A-Za-z_]\w*)\s*\]\s*\.istate\s*=\s*([0-9.eE+-]+)\s*\[\s*1\s*\]\s*,"
    r"\s*([0-9.eE+-]+)\s*\[\s*0\s*\]$"
)
_STMT_SETTING = re.compile(r"^([A-Za-z_]\w*)\s*=\s*([^;]+)$")


def _boolnet_model(bnd: str, cfg: str) -> Any:
    from her2lab.boolnet import Model, parse_maboss

    template = _TEMPLATES.get(bnd)
    if template is None:
        template = parse_maboss(bnd, cfg, bnd_source="her2.bnd", cfg_source="her2.cfg")
        if len(_TEMPLATES) > 8:
            _TEMPLATES.clear()
        _TEMPLATES[bnd] = template
        return template
    params: dict[str, float] = {}
    initial: dict[str, float] = {}
    config: dict[str, str] = {}
    for raw in re.sub(r"//[^\n]*", "", cfg).split(";"):
        stmt = raw.strip()
        if not stmt:
            continue
        if m := _STMT_PARAM.match(stmt):
            params[m.group(1)] = float(m.group(2))
        elif m := _STMT_ISTATE.match(stmt):
            on, off = float(m.group(2)), float(m.group(3))
            if abs(on + off - 1) > 1e-9 or m.group(1) not in template:
                return parse_maboss(bnd, cfg)  # let the full parser report the problem
            initial[m.group(1)] = on
        elif m := _STMT_SETTING.match(stmt):
            config[m.group(1)] = m.group(2).strip()
        else:
            return parse_maboss(bnd, cfg)
    if set(params) != set(template.parameters) or set(initial) != set(template.node_names):
        return parse_maboss(bnd, cfg)  # only a complete .cfg takes the fast path
    nodes = [replace(n, initial=initial.get(n.name, n.initial)) for n in template]
    return Model(nodes, parameters=params, name=template.name, config=config).validate()
