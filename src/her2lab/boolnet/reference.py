"""Run a :class:`Model` on MaBoSS (the PyPI package ``cmaboss``), our reference engine.

Used by the equivalence tests and by ``bench/engine.py``. The model goes through
:func:`~her2lab.boolnet.formats.maboss.format_maboss`, so what MaBoSS runs is exactly what our
writer writes. Results come back as a :class:`SimulationResult` with our node order and state
labels (MaBoSS orders the nodes of a state label its own way), so both engines' results compare
field by field.

``cmaboss`` is a test/benchmark dependency (``pip install her2lab[test]``); without it these
functions raise :class:`~her2lab.errors.ReferenceToolError`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import numpy as np

from her2lab.boolnet.formats.maboss import format_maboss
from her2lab.boolnet.model import Model
from her2lab.boolnet.stochastic import SimulationResult
from her2lab.errors import ReferenceToolError

__all__ = ["maboss_available", "run_maboss"]


def maboss_available() -> bool:
    """Whether ``cmaboss`` can be imported."""
    try:
        importlib.import_module("cmaboss")
    except ImportError:
        return False
    return True


def run_maboss(
    model: Model,
    *,
    samples: int,
    max_time: float,
    time_tick: float,
    seed: int = 0,
    threads: int = 1,
    outputs: Sequence[str] | None = None,
    discrete_time: bool = False,
) -> SimulationResult:
    """Simulate ``model`` with MaBoSS; ``outputs`` (default: all nodes) are the non-internal
    nodes, whose per-node and per-state trajectories MaBoSS reports."""
    n = len(model)
    if n > 1024:
        raise ReferenceToolError(f"MaBoSS handles at most 1024 nodes; the model has {n}")
    width = next(w for w in (64, 128, 256, 512, 1024) if n <= w)
    try:
        cmaboss = importlib.import_module("cmaboss" if width == 64 else f"cmaboss_{width}n")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ReferenceToolError(
            "MaBoSS is not available: install the test extra (pip install 'her2lab[test]'), "
            "which provides the PyPI package cmaboss"
        ) from exc
    outs = list(model.node_names if outputs is None else outputs)
    m = model.copy()
    from dataclasses import replace

    for node in m:
        m.set_node(replace(node, internal=node.name not in outs))
    bnd, cfg = format_maboss(
        m,
        sample_count=samples,
        max_time=max_time,
        time_tick=time_tick,
        thread_count=threads,
        seed_pseudorandom=seed,
        discrete_time=int(discrete_time),
        use_physrandgen=0,
    )
    try:
        sim = cmaboss.MaBoSSSim(network_str=bnd, config_str=cfg)
        res = sim.run()
        node_probs, times, node_names, _ = res.get_nodes_probtraj()
        st_probs, _, st_names, _ = res.get_probtraj()
    except Exception as exc:  # cmaboss raises its own BNException and others
        raise ReferenceToolError(f"MaBoSS failed on model {model.name!r}: {exc}") from exc

    times = np.asarray(times, dtype=float)
    col = {n: i for i, n in enumerate(node_names)}
    probs = np.zeros((len(times), len(outs)))
    for j, n in enumerate(outs):
        if n in col:
            probs[:, j] = np.asarray(node_probs)[:, col[n]]
    order = {n: k for k, n in enumerate(outs)}
    keys: list[int] = []
    if len(outs) > 64:  # states over more than 64 nodes do not fit our uint64 keys
        st_names, st_probs = [], np.zeros((len(times), 0))
    for name in st_names:
        on = [] if name == "<nil>" else [s.strip() for s in name.split("--")]
        keys.append(sum(1 << order[n] for n in on))
    st = np.asarray(st_probs, dtype=float)
    sort = np.argsort(np.array(keys, dtype=np.uint64), kind="stable")
    return SimulationResult(
        times=times,
        node_names=tuple(outs),
        node_probabilities=probs,
        output_nodes=tuple(outs),
        state_keys=np.array(keys, dtype=np.uint64)[sort],
        state_probabilities=st[:, sort] if st.size else st,
        final_states=np.zeros((0, len(outs)), dtype=bool),
        samples=samples,
        max_time=max_time,
        time_tick=time_tick,
        seed=seed,
        threads=threads,
        n_transitions=-1,
        settings={"engine": "MaBoSS (cmaboss)"},
    )
