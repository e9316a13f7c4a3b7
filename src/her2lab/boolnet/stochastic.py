"""Continuous-time stochastic simulation with MaBoSS semantics.

::

    sim = StochasticSimulator(model, samples=10_000, max_time=50, time_tick=0.5, threads=2)
    result = sim.run(seed=1)
    result.final["pRB1"]        # P(pRB1 ON), mean over the last time window
    result.to_frame()           # node probabilities per window (pandas)

What the numbers mean (as MaBoSS reports them): time is cut into windows
``[k dt, (k+1) dt)`` for ``k = 0 .. floor(max_time / dt) - 1``; the value reported at time
``k dt`` is the *mean over the window*, over time and over trajectories, of the indicator that
the node is ON (or that the output nodes are in a given state). ``final`` is the last window.
``final_states`` holds, per trajectory, the state at ``max_time`` (the "last state", a
different quantity from the last window's mean when the process has not settled).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numba
import numpy as np
import pandas as pd

from her2lab.boolnet import _kernel
from her2lab.boolnet._compile import CompiledModel, compiled
from her2lab.boolnet.model import Model
from her2lab.errors import SimulationError

__all__ = ["SimulationResult", "StochasticSimulator", "state_label"]

_STATE_BUDGET_FLOATS = 1 << 26  # 512 MiB of virtual memory; only rows in use are touched


def state_label(on_nodes: Iterable[str]) -> str:
    """MaBoSS's name of a state: the ON nodes joined by ``" -- "``; ``"<nil>"`` if none."""
    on = list(on_nodes)
    return " -- ".join(on) if on else "<nil>"


@dataclass(frozen=True)
class SimulationResult:
    """What one stochastic run returns.

    ``node_probabilities[k, i]``: mean over window ``k`` of P(node ``i`` ON).
    ``state_probabilities[k, j]``: mean over window ``k`` of P(output state ``j``); state ``j``
    is ``state_keys[j]``, a bit mask over ``output_nodes`` (bit ``b`` set: ``output_nodes[b]``
    ON), named MaBoSS-style by ``state_labels[j]``; each row sums to 1.
    ``final_states``: bool array (trajectory x node) of the states at ``max_time``.
    """

    times: np.ndarray
    node_names: tuple[str, ...]
    node_probabilities: np.ndarray
    output_nodes: tuple[str, ...]
    state_keys: np.ndarray
    state_probabilities: np.ndarray
    final_states: np.ndarray
    samples: int
    max_time: float
    time_tick: float
    seed: int
    threads: int
    n_transitions: int
    settings: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ summaries
    def state_label_of(self, key: int) -> str:
        """The MaBoSS-style name of the output state with bit mask ``key``."""
        key = int(key)
        return state_label(o for b, o in enumerate(self.output_nodes) if (key >> b) & 1)

    @cached_property
    def state_labels(self) -> tuple[str, ...]:
        """MaBoSS-style names of the states (``"A -- B"``, ``"<nil>"``), in column order."""
        return tuple(self.state_label_of(k) for k in self.state_keys)

    @property
    def final(self) -> dict[str, float]:
        """P(node ON) in the last time window (mean over the window), per node."""
        if self.node_probabilities.shape[0] == 0:
            return {}
        last = self.node_probabilities[-1]
        return {n: float(p) for n, p in zip(self.node_names, last, strict=True)}

    @property
    def final_state_probabilities(self) -> dict[str, float]:
        """P(output state) in the last time window, per state with non-zero probability."""
        if self.state_probabilities.shape[0] == 0:
            return {}
        last = self.state_probabilities[-1]
        nz = np.flatnonzero(last > 0)
        nz = nz[np.argsort(-last[nz], kind="stable")]
        return {self.state_label_of(self.state_keys[j]): float(last[j]) for j in nz}

    def node_trajectory(self, node: str) -> np.ndarray:
        """P(node ON) per window."""
        try:
            i = self.node_names.index(node)
        except ValueError:
            from her2lab.errors import UnknownIdError

            raise UnknownIdError("node", node, list(self.node_names)) from None
        return self.node_probabilities[:, i].copy()

    def last_state_distribution(self, nodes: Sequence[str] | None = None) -> dict[str, float]:
        """Distribution of the states at ``max_time`` over ``nodes`` (default: output nodes)."""
        nodes = list(self.output_nodes if nodes is None else nodes)
        cols = [self.node_names.index(n) for n in nodes]
        sub = self.final_states[:, cols]
        if sub.shape[0] == 0:
            return {}
        uniq, counts = np.unique(sub, axis=0, return_counts=True)
        out = {}
        for row, cnt in zip(uniq, counts, strict=True):
            label = state_label(n for n, v in zip(nodes, row, strict=True) if v)
            out[label] = float(cnt / sub.shape[0])
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def standard_error(self, p: float | np.ndarray) -> float | np.ndarray:
        """A conservative Monte Carlo standard error of a window mean ``p``: that of a binomial
        proportion over ``samples`` independent trajectories (time averaging within a window
        only lowers it)."""
        return np.sqrt(np.asarray(p) * (1 - np.asarray(p)) / self.samples)

    # ------------------------------------------------------------------ export
    def to_frame(self, kind: str = "nodes") -> pd.DataFrame:
        """A DataFrame indexed by window start time: ``kind="nodes"`` (one column per node) or
        ``kind="states"`` (one column per output state)."""
        if kind == "nodes":
            cols, data = list(self.node_names), self.node_probabilities
        elif kind == "states":
            cols, data = list(self.state_labels), self.state_probabilities
        else:
            raise ValueError(f"kind must be 'nodes' or 'states'; got {kind!r} instead")
        frame = pd.DataFrame(data, index=pd.Index(self.times, name="time"), columns=cols)
        return frame

    def to_dict(self, nodes: Sequence[str] | None = None) -> dict[str, Any]:
        """The JSON shape of ``her2lab boolnet simulate --format json``."""
        nodes = list(self.node_names if nodes is None else nodes)
        idx = [self.node_names.index(n) for n in nodes]
        return {
            "times": [float(t) for t in self.times],
            "nodes": {n: [float(v) for v in self.node_probabilities[:, i]]
                      for n, i in zip(nodes, idx, strict=True)},
            "final": {n: self.final[n] for n in nodes},
            "states": self.final_state_probabilities,
        }


class StochasticSimulator:
    """Continuous-time (Gillespie) simulation of a logical model with MaBoSS semantics.

    Parameters (stored as given; nothing runs until :meth:`run`):

    model
        The :class:`Model`. Its perturbations at the time of :meth:`run` apply.
    samples
        Number of trajectories.
    max_time, time_tick
        Simulated time span and width of the averaging windows.
    threads
        Number of parallel chunks of trajectories. A result is reproducible for a given seed
        and thread count.
    outputs
        Nodes whose joint states are tracked per window (default: the non-internal nodes, as
        MaBoSS does). At most 64; the number of distinct states met must fit the accumulator.
    keep_final_states
        Keep each trajectory's state at ``max_time`` (``samples x nodes`` booleans).
    """

    def __init__(
        self,
        model: Model,
        *,
        samples: int = 1000,
        max_time: float = 10.0,
        time_tick: float = 0.1,
        threads: int = 1,
        outputs: Sequence[str] | None = None,
        keep_final_states: bool = True,
    ) -> None:
        self.model = model
        self.samples = samples
        self.max_time = max_time
        self.time_tick = time_tick
        self.threads = threads
        self.outputs = outputs
        self.keep_final_states = keep_final_states

    def _check(self) -> None:
        def bad(name: str, expected: str, got: object) -> SimulationError:
            return SimulationError(
                f"The {name!r} parameter of StochasticSimulator must be {expected}. "
                f"Got {got!r} instead."
            )

        if not isinstance(self.samples, int | np.integer) or self.samples < 1:
            raise bad("samples", "an int >= 1", self.samples)
        if not (isinstance(self.max_time, int | float) and math.isfinite(self.max_time)
                and self.max_time > 0):
            raise bad("max_time", "a finite number > 0", self.max_time)
        if not (isinstance(self.time_tick, int | float) and math.isfinite(self.time_tick)
                and 0 < self.time_tick <= self.max_time):
            raise bad("time_tick", f"a number in (0, max_time={self.max_time}]", self.time_tick)
        if not isinstance(self.threads, int | np.integer) or self.threads < 1:
            raise bad("threads", "an int >= 1", self.threads)

    def _output_nodes(self) -> list[str]:
        if self.outputs is None:
            outs = [n.name for n in self.model if not n.internal]
        else:
            if isinstance(self.outputs, str):
                raise SimulationError(
                    "The 'outputs' parameter of StochasticSimulator must be a list of node "
                    f"names. Got the string {self.outputs!r} instead."
                )
            outs = list(self.outputs)
            for o in outs:
                self.model[o]  # raises UnknownIdError listing the valid names
        if len(outs) > 64:
            if self.outputs is None:
                return []  # too many to track jointly; per-node trajectories still computed
            raise SimulationError(
                f"at most 64 output nodes can be tracked jointly; got {len(outs)}. "
                "Pass outputs=[...] with fewer nodes."
            )
        return outs

    def run(self, seed: int = 0) -> SimulationResult:
        """Simulate ``samples`` trajectories; ``seed`` (an int >= 0) fixes the randomness."""
        self._check()
        if not isinstance(seed, int | np.integer) or seed < 0 or seed >= 2**64:
            raise SimulationError(
                f"The 'seed' parameter of StochasticSimulator.run must be an int in [0, 2**64). "
                f"Got {seed!r} instead."
            )
        cm: CompiledModel = compiled(self.model)
        outputs = self._output_nodes()
        notes: dict[str, Any] = {}
        if self.outputs is None and sum(not nd.internal for nd in self.model) > 64:
            notes["states"] = (
                "not tracked: more than 64 non-internal nodes; pass outputs=[...] to track the "
                "states of a few nodes"
            )
        names = list(cm.names)
        out_pos = np.full(cm.n, -1, dtype=np.int64)
        for k, o in enumerate(outputs):
            out_pos[names.index(o)] = k
        samples = int(self.samples)
        dt = float(self.time_tick)
        max_time = float(self.max_time)
        n_windows = math.floor(max_time / dt + 1e-9)
        n_chunks = int(self.threads)
        track = bool(outputs)
        # Output-state accumulators: one row (n_windows partial + n_windows+1 whole-window
        # counts) per distinct state met, handed out in order of first visit. The arrays are
        # allocated zeroed by calloc, so only the rows of states actually met use memory;
        # their virtual size is capped at _STATE_BUDGET_FLOATS.
        want = (1 << min(len(outputs), 40)) if track else 1
        max_rows = max(1, min(want, _STATE_BUDGET_FLOATS // (n_chunks * (2 * n_windows + 1))))
        if not track:
            max_rows = 1
        cap = 1 << math.ceil(math.log2(max_rows * 4 / 3 + 2))  # hash slots, load <= 3/4
        node_acc = np.zeros((n_chunks, n_windows, cm.n), dtype=np.float64)
        node_full = np.zeros((n_chunks, n_windows + 1, cm.n), dtype=np.float64)
        state_table = np.full((n_chunks, 2 * cap), -1, dtype=np.int64)  # (key, row) pairs
        row_key = np.zeros((n_chunks, max_rows), dtype=np.uint64)
        # per row: n_windows partial windows, then n_windows + 1 whole-window differences
        state_acc = np.zeros((n_chunks, max_rows, 2 * n_windows + 1 if track else 3),
                             dtype=np.float64)
        state_count = np.zeros(n_chunks, dtype=np.int64)
        finals = np.zeros((samples if self.keep_final_states else 0, cm.n_words),
                          dtype=np.uint64)
        flags = np.zeros(n_chunks, dtype=np.int64)
        n_events = np.zeros(n_chunks, dtype=np.int64)
        threads_before = numba.get_num_threads()
        numba.set_num_threads(min(n_chunks, numba.config.NUMBA_NUM_THREADS))
        try:
            _kernel.simulate_kernel(
                cm.n, cm.n_words, cm.node_word, cm.node_mask, cm.node_shift, cm.kind,
                cm.in_off, cm.in_word, cm.in_shift, cm.tab_off, cm.itable, cm.unit, cm.prog_off,
                cm.code, cm.consts, cm.max_stack, cm.dep_off, cm.dep_idx, cm.dep_bit, cm.p_on,
                cm.g_node_off, cm.g_nodes, cm.g_opt_off, cm.g_opt_cum, cm.g_opt_vals,
                cm.force_mask, cm.force_val, out_pos, track, samples, max_time, dt, n_windows,
                np.uint64(seed), n_chunks,
                node_acc, node_full, state_table, row_key, state_acc, state_count, finals, flags,
                n_events,
            )
        finally:
            numba.set_num_threads(threads_before)
        all_flags = int(np.bitwise_or.reduce(flags))

        if all_flags & _kernel.FLAG_BAD_RATE:
            raise SimulationError(
                f"a rate of model {self.model.name!r} evaluated to a negative, infinite or NaN "
                "value during the run (or, for a rate computed at run time, to more than 1000 "
                "times the largest tabulated rate); check the rate expressions of its nodes"
            )
        if all_flags & _kernel.FLAG_STATE_OVERFLOW and self.outputs is None:
            # Default outputs (all non-internal nodes) met too many states to track jointly:
            # per-node results stand; joint states are left out, and the result says so.
            notes["states"] = (
                f"not tracked: more than {max_rows} distinct states of the {len(outputs)} "
                "non-internal nodes; pass outputs=[...] to track the states of a few nodes"
            )
            track = False
            outputs = []
        elif all_flags & _kernel.FLAG_STATE_OVERFLOW:
            raise SimulationError(
                f"more than {max_rows} distinct states of the {len(outputs)} output nodes "
                "occurred; pass fewer output nodes (outputs=[...], or mark nodes internal)"
            )

        norm = samples * dt
        # whole windows were counted in difference arrays: prefix sums give their number
        node_acc = node_acc + dt * np.cumsum(node_full[:, :n_windows], axis=1)
        node_probs = node_acc.sum(axis=0) / norm
        times = np.arange(n_windows) * dt

        # merge the per-chunk state tables
        keys = np.zeros(0, dtype=np.uint64)
        state_probs = np.zeros((n_windows, 0))
        if track:
            # each chunk has one row per state it met; a state met in several chunks has a
            # row in each: sum them (keys are unique within a chunk, so += by index is exact)
            chunk_keys = [row_key[c, : state_count[c]] for c in range(n_chunks)]
            keys, inverse = np.unique(np.concatenate(chunk_keys), return_inverse=True)
            merged = np.zeros((keys.size, n_windows))
            at = 0
            for c, ck in enumerate(chunk_keys):
                k = ck.size
                acc = state_acc[c, :k, :n_windows]
                acc += dt * np.cumsum(state_acc[c, :k, n_windows:2 * n_windows], axis=1)
                merged[inverse[at:at + k]] += acc
                at += k
            merged /= norm
            np.clip(merged, 0.0, 1.0, out=merged)  # rounding only: sums of durations <= dt
            state_probs = merged.T

        if self.keep_final_states:
            # node i is bit i % 64 of word i // 64: little-endian bit order over the words
            raw = np.ascontiguousarray(finals.astype("<u8")).view(np.uint8)
            bits = np.unpackbits(raw, axis=1, bitorder="little")[:, : cm.n].astype(bool)
        else:
            bits = np.zeros((0, cm.n), dtype=bool)

        return SimulationResult(
            times=times,
            node_names=cm.names,
            node_probabilities=np.clip(node_probs, 0.0, 1.0),
            output_nodes=tuple(outputs),
            state_keys=keys,
            state_probabilities=state_probs,
            final_states=bits,
            samples=samples,
            max_time=max_time,
            time_tick=dt,
            seed=int(seed),
            threads=n_chunks,
            n_transitions=int(n_events.sum()),
            settings=notes,
        )
