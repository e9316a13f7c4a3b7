"""The one place where the HER2 model meets a simulation engine.

``final_probabilities(bnd, cfg, backend=...)`` returns P(node ON) at the end of the run for every
node. Backends:

``boolnet``  her2lab's own engine (:mod:`her2lab.boolnet`), the default;
``maboss``   MaBoSS through the ``cmaboss`` package, the reference the model is checked against
             (a test-only dependency: it must be installed with ``pip install her2lab[test]``).

Seeds, sample counts and the simulated time are in the ``cfg`` text (MaBoSS semantics).
"""

from __future__ import annotations

from typing import Literal

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
    from her2lab.boolnet import StochasticSimulator, parse_maboss

    model = parse_maboss(bnd, cfg, bnd_source="her2.bnd", cfg_source="her2.cfg", name="her2")
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
