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
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from her2lab.boolnet import _abi
from her2lab.boolnet._compile import CompiledModel, compiled
from her2lab.boolnet.model import Model
from her2lab.errors import SimulationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Overrides", "SimulationResult", "StochasticSimulator", "state_label"]

_STATE_BUDGET_FLOATS = 1 << 26  # 512 MiB of virtual memory; only rows in use are touched


def state_label(on_nodes: Iterable[str]) -> str:
    """MaBoSS's name of a state: the ON nodes joined by ``" -- "``; ``"<nil>"`` if none."""
    on = list(on_nodes)
    return " -- ".join(on) if on else "<nil>"


@dataclass(frozen=True)
class SimulationResult:
    """What one stochastic run returns.

    Probabilities are means over averaging windows of width ``time_tick``; each row of
    ``state_probabilities`` sums to 1.

    Attributes
    ----------
    times : numpy.ndarray
        Start time of each averaging window (model time units), shape ``(windows,)``.
    node_names : tuple of str
        The nodes whose trajectories were kept, in column order of ``node_probabilities``.
    node_probabilities : numpy.ndarray
        ``[k, i]``: mean over window ``k`` of P(node ``node_names[i]`` ON).
    output_nodes : tuple of str
        The nodes whose joint states are tracked; bit ``b`` of a state key is
        ``output_nodes[b]``.
    state_keys : numpy.ndarray
        Bit mask over ``output_nodes`` of each tracked state, in column order (named by
        ``state_labels``).
    state_probabilities : numpy.ndarray
        ``[k, j]``: mean over window ``k`` of P(output state ``state_keys[j]``).
    final_states : numpy.ndarray
        Booleans (trajectory x node) of each trajectory's state at ``max_time``, over
        ``final_state_nodes``; empty unless the simulator kept them.
    samples : int
        Number of trajectories.
    max_time : float
        Simulated time span (model time units).
    time_tick : float
        Width of the averaging windows (model time units).
    seed : int
        The seed of the run.
    threads : int
        Threads the run was allowed.
    n_transitions : int
        Total number of node flips over all trajectories.
    settings : dict
        Notes on the run, for the record (``states``: why output states were not tracked,
        when they were not).
    final_state_nodes : tuple of str or None
        The columns of ``final_states``; ``None`` means ``node_names``.
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
    final_state_nodes: tuple[str, ...] | None = None  # columns of final_states (node_names)

    # ------------------------------------------------------------------ summaries
    def state_label_of(self, key: int) -> str:
        """The MaBoSS-style name of an output state.

        Parameters
        ----------
        key : int
            The state's bit mask over ``output_nodes``.

        Returns
        -------
        str
            The ON nodes joined by ``" -- "`` (``"<nil>"`` when none is ON).
        """
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
        """P(node ON) per averaging window.

        Parameters
        ----------
        node : str
            A node in ``node_names``.

        Returns
        -------
        numpy.ndarray
            One probability per window, aligned with ``times``.

        Raises
        ------
        UnknownIdError
            If the node's trajectory was not kept.
        """
        try:
            i = self.node_names.index(node)
        except ValueError:
            from her2lab.errors import UnknownIdError

            raise UnknownIdError("node", node, list(self.node_names)) from None
        return self.node_probabilities[:, i].copy()

    def last_state_distribution(self, nodes: Sequence[str] | None = None) -> dict[str, float]:
        """Distribution of the trajectories' states at ``max_time`` over some nodes.

        Parameters
        ----------
        nodes : sequence of str, optional
            The nodes to tabulate (default: the output nodes); they must be in
            ``final_state_nodes``.

        Returns
        -------
        dict of str to float
            Share of trajectories in each state met, keyed by the MaBoSS-style state name.
        """
        nodes = list(self.output_nodes if nodes is None else nodes)
        columns = self.final_state_nodes or self.node_names
        cols = [columns.index(n) for n in nodes]
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
        """A conservative Monte Carlo standard error of a window mean.

        It is that of a binomial proportion over ``samples`` independent trajectories; time
        averaging within a window only lowers it.

        Parameters
        ----------
        p : float or numpy.ndarray
            Probabilities read from this result (``node_probabilities`` or ``final``).

        Returns
        -------
        float or numpy.ndarray
            ``sqrt(p (1 - p) / samples)``, of the shape of ``p``.
        """
        return np.sqrt(np.asarray(p) * (1 - np.asarray(p)) / self.samples)

    # ------------------------------------------------------------------ export
    def to_frame(self, kind: str = "nodes") -> pd.DataFrame:
        """The trajectories as a DataFrame indexed by window start time.

        Parameters
        ----------
        kind : {"nodes", "states"}, optional
            ``"nodes"`` (default): one column per node, P(ON); ``"states"``: one column per output
            state, P(state).

        Returns
        -------
        pandas.DataFrame
            One row per averaging window.

        Raises
        ------
        ValueError
            If ``kind`` is neither ``"nodes"`` nor ``"states"``.
        """
        if kind == "nodes":
            cols, data = list(self.node_names), self.node_probabilities
        elif kind == "states":
            cols, data = list(self.state_labels), self.state_probabilities
        else:
            raise ValueError(f"kind must be 'nodes' or 'states'; got {kind!r} instead")
        import pandas as pd

        frame = pd.DataFrame(data, index=pd.Index(self.times, name="time"), columns=cols)
        return frame

    def to_dict(self, nodes: Sequence[str] | None = None) -> dict[str, Any]:
        """The JSON shape of ``her2lab boolnet simulate --format json``.

        Parameters
        ----------
        nodes : sequence of str, optional
            Restrict the node trajectories to these nodes (default: every node kept).

        Returns
        -------
        dict
            ``times`` (window starts), ``nodes`` (P(ON) per window per node), ``final``
            (P(ON) in the last window) and ``states`` (final state probabilities), JSON-ready.
        """
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

    The constructor only stores its arguments; they are checked, and nothing runs, until
    :meth:`run`.

    Parameters
    ----------
    model : Model
        The model; its perturbations at the time of :meth:`run` apply.
    samples : int, optional
        Number of trajectories, >= 1 (default 1000).
    max_time : float, optional
        Simulated time span, > 0, in the model's time units (default 10).
    time_tick : float, optional
        Width of the averaging windows, in (0, ``max_time``] (default 0.1).
    threads : int, optional
        Number of threads the run may use, >= 1; no more than the CPUs are used (default 1).
    outputs : sequence of str, optional
        Nodes whose joint states are tracked per window (default: the non-internal nodes, as
        MaBoSS does). At most 64; the number of distinct states met must fit the accumulator.
    keep_final_states : bool, optional
        Keep each trajectory's state at ``max_time`` (``samples x nodes`` booleans; default
        True).
    nodes : sequence of str, optional
        Nodes whose trajectories are returned (default: every node, each from its own
        accumulator). When given and all output nodes, their trajectories are derived from the
        output states' (as MaBoSS does: sums of state probabilities, exact up to rounding), so
        no per-node accumulator is kept at all.
    discrete_time : bool, optional
        MaBoSS's ``discrete_time = 1``: the next node is chosen with probability proportional
        to its rate, as usual, but every transition takes exactly ``time_tick`` instead of an
        exponential waiting time (default False).
    chunks : int, optional
        Number of blocks the trajectories are split into, each computed alone from its own
        random streams into its own accumulators; ``None`` (the default): ``threads``. A result
        depends on the seed and the chunks only, never on the threads that ran them; pass both
        to use several threads with results fixed whatever the thread count.
    integrate : sequence of str, optional
        Nodes whose P(ON) is integrated along each trajectory instead of sampled (default
        none). Such a node must be read by no other node (a read-out, such as an absorbing
        death node): it then changes no other node's path, so between two flips of the nodes
        it reads it is a two-state chain with constant rates, whose P(ON) has a closed form.
        Its trajectory has the same expectation as a sampled one's and a smaller variance
        (Rao-Blackwell: the noise of its own flips is gone), and its flips cost no events. It
        must be a tabulated node outside a joint initial group, not an output (its joint
        states are not sampled) and the run continuous-time without final states.
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
        nodes: Sequence[str] | None = None,
        discrete_time: bool = False,
        chunks: int | None = None,
        integrate: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.samples = samples
        self.max_time = max_time
        self.time_tick = time_tick
        self.threads = threads
        self.chunks = chunks
        self.outputs = outputs
        self.keep_final_states = keep_final_states
        self.nodes = nodes
        self.discrete_time = discrete_time
        self.integrate = integrate
        self._cm: CompiledModel | None = None
        self._token: tuple[Any, ...] | None = None
        self._read_outs: dict[tuple[Any, ...], tuple[CompiledModel, Any]] = {}

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
        if self.chunks is not None and (not isinstance(self.chunks, int | np.integer)
                                        or self.chunks < 1):
            raise bad("chunks", "None or an int >= 1", self.chunks)

    def _n_chunks(self) -> int:
        return int(self.threads if self.chunks is None else self.chunks)

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

    def _compiled(self) -> CompiledModel:
        """The compiled model, compiled once and reused while the model is unchanged (the
        same node objects, perturbations, parameters and joint initial states)."""
        m = self.model
        token = (tuple(m._nodes.values()), m._pert, tuple(m.parameters.items()),
                 tuple(m.joint_initial))
        old = self._token
        if (old is not None and self._cm is not None and len(old[0]) == len(token[0])
                and all(a is b for a, b in zip(old[0], token[0], strict=True))
                and old[1] is token[1] and old[2] == token[2] and old[3] == token[3]):
            return self._cm
        self._cm = compiled(m)
        self._token = token
        return self._cm

    def _result_nodes(self, names: Sequence[str]) -> list[str]:
        if self.nodes is None:
            return list(names)
        if isinstance(self.nodes, str):
            raise SimulationError(
                "The 'nodes' parameter of StochasticSimulator must be a list of node names. "
                f"Got the string {self.nodes!r} instead."
            )
        nodes = list(self.nodes)
        for nd in nodes:
            self.model[nd]  # raises UnknownIdError listing the valid names
        return nodes

    def memory_bytes(self) -> int:
        """An upper estimate of the memory one :meth:`run` needs, before running it.

        It follows the arrays the run allocates: per averaging window (``max_time / time_tick`` of
        them), chunk and node whose trajectory is returned, the accumulators and the arrays derived
        from them; per window and chunk at least one row of output-state accumulators (their total
        virtual size is capped, see ``_STATE_BUDGET_FLOATS``); and, with ``keep_final_states``, one
        bit per trajectory and node (the only cost that grows with ``samples``). Used to refuse,
        before any work, a run that cannot fit.

        Returns
        -------
        int
            The estimate, in bytes.

        Raises
        ------
        SimulationError
            If a setting is invalid (as :meth:`run` would).
        """
        self._check()
        cm = self._compiled()
        outputs = self._output_nodes()
        result_nodes = self._result_nodes(list(cm.names))
        n_windows = math.floor(float(self.max_time) / float(self.time_tick) + 1e-9)
        chunks = self._n_chunks()
        track = bool(outputs)
        want = (1 << min(len(outputs), 40)) if track else 1
        rows = max(1, min(want, _STATE_BUDGET_FLOATS // (chunks * (2 * n_windows + 2))))
        derive = (self.nodes is not None and track and want <= rows
                  and set(result_nodes) <= set(outputs))
        n_cols = 0 if derive else len(result_nodes)
        w = n_windows + 1
        node_acc = chunks * w * 2 * n_cols * 8
        node_derived = 3 * chunks * w * n_cols * 8 + 2 * w * len(result_nodes) * 8
        state_acc = chunks * rows * (2 * w) * 8 if track else chunks * rows * 4 * 8
        state_acc = min(state_acc, _STATE_BUDGET_FLOATS * 8 + chunks * 2 * w * 8)
        merged = 3 * w * min(rows * chunks, want) * 8 if track else 0
        finals = (int(self.samples) * (cm.n_words * 8 + cm.n)
                  if self.keep_final_states else 0)
        return int(node_acc + node_derived + state_acc + merged + finals + (1 << 20))

    def run(self, seed: int = 0, overrides: Overrides | None = None) -> SimulationResult:
        """Simulate ``samples`` trajectories.

        Parameters
        ----------
        seed : int, optional
            An int >= 0 that fixes the randomness (default 0): the same seed and chunks give the
            same result, bit for bit.
        overrides : Overrides, optional
            Parameters, initial states, forced nodes and rate factors changed for this run only,
            without recompiling: the result equals (bit for bit) that of a fresh simulator on the
            model so changed, with the same seed.

        Returns
        -------
        SimulationResult
            Window averages of node and output-state probabilities, and the final states.

        Raises
        ------
        SimulationError
            If a setting or the seed is invalid (``samples < 1``, ``time_tick`` outside (0,
            ``max_time``], ...), an override names an unknown node or parameter, a rate
            evaluates to a negative or non-finite value, or more distinct output states occur
            than the accumulator holds.
        UnknownIdError
            If ``outputs`` or ``nodes`` names a node the model lacks.
        """
        return self._run([overrides], [seed])[0]

    def run_batch(self, overrides: Iterable[Overrides | None], seed: int = 0, *,
                  seeds: Sequence[int] | None = None) -> list[SimulationResult]:
        """Run one parameter set per entry of ``overrides`` in one kernel call.

        Every set uses the same ``seed`` (common random numbers: trajectory ``j`` of every set
        starts from the same stream), or, given ``seeds``, set ``k`` uses ``seeds[k]``
        (independent streams); either way each result equals ``run(seed, overrides=...)`` of
        that set with its seed.

        Parameters
        ----------
        overrides : iterable of Overrides or None
            One parameter set per run; ``None`` runs the model as it is.
        seed : int, optional
            An int >= 0 shared by every set (default 0); ignored when ``seeds`` is given.
        seeds : sequence of int, optional
            One seed per set, in the order of ``overrides``.

        Returns
        -------
        list of SimulationResult
            The results, in the order of ``overrides``.

        Raises
        ------
        SimulationError
            If a setting, the seed or an override is invalid, a rate evaluates to a negative
            or non-finite value, or more distinct output states occur than the accumulator
            holds.
        """
        sets = list(overrides)
        if seeds is None:
            seeds = [seed] * len(sets)
        else:
            seeds = list(seeds)
            if len(seeds) != len(sets):
                raise SimulationError(
                    f"run_batch got {len(seeds)} seeds for {len(sets)} parameter sets; pass one "
                    "seed per set")
        if not sets:
            return []
        return self._run(sets, seeds)

    def _run(self, sets: list[Overrides | None], seeds: list[int]) -> list[SimulationResult]:
        self._check()
        for seed in seeds:
            if (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
                    or seed >= 2**64):
                raise SimulationError(
                    f"The 'seed' parameter of StochasticSimulator.run must be an int in "
                    f"[0, 2**64). Got {seed!r} instead."
                )
        cm = self._compiled()
        checked = [_checked_overrides(cm, ov) for ov in sets]
        outputs = self._output_nodes()
        n_windows = math.floor(float(self.max_time) / float(self.time_tick) + 1e-9)
        n_chunks = self._n_chunks()
        # sets per kernel call: accumulators of at most ~64 MiB per call
        per_set = n_chunks * n_windows * cm.n * 16 + n_chunks * 4096
        group = max(1, min(len(checked), (64 << 20) // max(per_set, 1)))
        results: list[SimulationResult] = []
        for at in range(0, len(checked), group):
            part = checked[at:at + group]
            part_seeds = seeds[at:at + group]
            got = self._run_group(cm, part, outputs, part_seeds, force_alone=False)
            for k, res in enumerate(got):
                if res is None:  # the batch's state accumulators overflowed: run it alone
                    res = self._run_group(cm, [part[k]], outputs, [part_seeds[k]],
                                          force_alone=True)[0]
                results.append(res)
        return results

    def _read_out(self, cm: CompiledModel, outputs: list[str], result_nodes: list[str],
                  derive: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The kernel's arrays that depend on the compiled model and on what is read out only
        (each node's output bit and accumulator column, the node records, the readers), made
        once and reused while those stay the same (the kernel only reads them)."""
        integrate = self._integrate_names()
        key = (tuple(outputs), tuple(result_nodes), derive, integrate)
        hit = self._read_outs.get(key)
        if hit is not None and hit[0] is cm:
            return hit[1]
        index = {name: i for i, name in enumerate(cm.names)}
        out_pos = np.full(cm.n, -1, dtype=np.int64)
        for k, o in enumerate(outputs):
            out_pos[index[o]] = k
        node_col = np.full(cm.n, -1, dtype=np.int64)
        if not derive:
            for k, nd in enumerate(result_nodes):
                node_col[index[nd]] = k
        marg = self._integrated(cm, integrate, outputs, node_col)
        made = (out_pos, node_col, _node_records(cm, node_col, out_pos), _dep_pairs(cm), marg)
        if len(self._read_outs) >= 8 or any(v[0] is not cm for v in self._read_outs.values()):
            self._read_outs.clear()
        self._read_outs[key] = (cm, made)
        return made

    def _integrate_names(self) -> tuple[str, ...]:
        if isinstance(self.integrate, str):
            raise SimulationError(
                "The 'integrate' parameter of StochasticSimulator must be a list of node names. "
                f"Got the string {self.integrate!r} instead."
            )
        return tuple(self.integrate)

    def _integrated(self, cm: CompiledModel, names: tuple[str, ...], outputs: list[str],
                    node_col: np.ndarray) -> np.ndarray:
        """``marg`` of the kernel: for each node integrated (see ``integrate``), the bit of the
        node in its own table index; 0 for the others."""
        marg = np.zeros(cm.n, dtype=np.int64)
        if not names:
            return marg
        if self.discrete_time:
            raise SimulationError(
                "StochasticSimulator: 'integrate' needs continuous time (with discrete_time "
                "every transition takes one tick, so leaving a node's flips out would change "
                "the others' timing)")
        if self.keep_final_states:
            raise SimulationError(
                "StochasticSimulator: 'integrate' needs keep_final_states=False (an integrated "
                "node has a probability, not a state, at the end)")
        index = {name: i for i, name in enumerate(cm.names)}
        in_group = {nm for g in self.model.joint_initial for nm in g.nodes}
        for nm in names:
            self.model[nm]  # raises UnknownIdError listing the valid names
            i = index[nm]
            readers = {int(j) for j in cm.dep_idx[cm.dep_off[i]:cm.dep_off[i + 1]]}
            readers |= {int(j) for j in cm.pdep_idx[cm.pdep_off[i]:cm.pdep_off[i + 1]]}
            others = sorted(cm.names[j] for j in readers - {i})
            why = None
            if others:
                why = f"it is read by {', '.join(others)}"
            elif cm.kind[i] != 0:
                why = "its rate reads too many nodes to be tabulated"
            elif nm in in_group:
                why = "it is in a joint initial-state group"
            elif nm in outputs:
                why = "it is an output node (joint states are sampled); leave it out of outputs"
            if why:
                raise SimulationError(
                    f"StochasticSimulator: node {nm!r} cannot be integrated: {why}; only a node "
                    "no other node reads can be")
            if node_col[i] < 0:
                continue  # its trajectory is not returned: sampling it costs only events
            # its bit in its own table index: the compiled readers' list has it (a node's
            # support always holds the node itself)
            for d in range(int(cm.dep_off[i]), int(cm.dep_off[i + 1])):
                if int(cm.dep_idx[d]) == i:
                    marg[i] = int(cm.dep_bit[d])
        return marg

    def _run_group(self, cm: CompiledModel, sets: list[dict[str, Any] | None],
                   outputs: list[str], seeds: list[int], *, force_alone: bool
                   ) -> list[SimulationResult | None]:
        notes: dict[str, Any] = {}
        if self.outputs is None and sum(not nd.internal for nd in self.model) > 64:
            notes["states"] = (
                "not tracked: more than 64 non-internal nodes; pass outputs=[...] to track the "
                "states of a few nodes"
            )
        names = list(cm.names)
        samples = int(self.samples)
        dt = float(self.time_tick)
        max_time = float(self.max_time)
        n_windows = math.floor(max_time / dt + 1e-9)
        n_chunks = self._n_chunks()
        n_sets = len(sets)
        arrays = _set_arrays(cm, sets)
        track = bool(outputs)
        total_chunks = n_sets * n_chunks
        result_nodes = self._result_nodes(names)
        # Output-state accumulators: one row (per window and one more, for flips after the
        # last window: the sum of signed flip times and the count of +-1 steps, side by side;
        # see the kernel) per distinct state met, handed out in order of
        # first visit. The arrays are allocated zeroed by calloc, so only the rows of states
        # actually met use memory; their virtual size is capped at _STATE_BUDGET_FLOATS.
        want = (1 << min(len(outputs), 40)) if track else 1
        max_rows = max(1, min(want, _STATE_BUDGET_FLOATS // (total_chunks * (2 * n_windows + 2))))
        if not track:
            max_rows = 1
        cap = 1 << math.ceil(math.log2(max_rows * 4 / 3 + 2))  # hash slots, load <= 3/4
        # Node trajectories: from the output states when every node asked for is an output
        # and every state of the outputs fits (so the states cannot overflow); otherwise
        # accumulated per node, for the nodes asked for only.
        derive = (self.nodes is not None and track and want <= max_rows
                  and set(result_nodes) <= set(outputs))
        out_pos, node_col, node_rec, dep_pairs, marg = self._read_out(cm, outputs,
                                                                      result_nodes, derive)
        n_cols = 0 if derive else len(result_nodes)
        # per window (and one more, for flips after the last window) and node: the sum of
        # signed flip times within the window and the count of +-1 steps, side by side
        node_acc = np.zeros((total_chunks, n_windows + 1, 2 * n_cols), dtype=np.float64)
        block_shift = max(0, round(math.log2(math.sqrt(cm.n))))
        state_table = np.full((total_chunks, 2 * cap), -1, dtype=np.int64)  # (key, row) pairs
        row_key = np.zeros((total_chunks, max_rows), dtype=np.uint64)
        state_acc = np.zeros((total_chunks, max_rows, 2 * n_windows + 2 if track else 4),
                             dtype=np.float64)
        state_count = np.zeros(total_chunks, dtype=np.int64)
        finals = np.zeros((n_sets * samples if self.keep_final_states else 0, cm.n_words),
                          dtype=np.uint64)
        flags = np.zeros(total_chunks, dtype=np.int64)
        n_events = np.zeros(total_chunks, dtype=np.int64)
        args = (
            cm.n, cm.n_words, cm.node_word, cm.node_mask, cm.node_shift, arrays.kinds,
            cm.in_off, cm.in_word, cm.in_shift, cm.tab_off, arrays.tab_base, arrays.itable,
            arrays.units, arrays.prog_start, arrays.prog_end, arrays.code, arrays.consts,
            cm.pdep_idx, node_rec, dep_pairs, arrays.p_ons,
            cm.g_node_off, cm.g_nodes, cm.g_opt_off, cm.g_opt_cum, cm.g_opt_vals,
            arrays.g_active, arrays.force_masks, arrays.force_vals, out_pos, int(track),
            node_col, marg, block_shift, int(bool(self.discrete_time)), samples,
            max_time, dt, n_windows, np.array([int(x) for x in seeds], dtype=np.uint64),
            n_chunks,
            node_acc, state_table, row_key, state_acc, state_count, finals, flags,
            n_events,
        )
        n_blocks = (cm.n >> block_shift) + 1
        # rt: rates and table indices, padded with rate-0 nodes to whole blocks
        scratch = (cm.n_words, n_blocks << block_shift, n_blocks, arrays.max_stack)
        _run_kernel(args, scratch, total_chunks, int(self.threads))

        norm = samples * dt
        times = np.arange(n_windows) * dt
        out: list[SimulationResult | None] = []
        for p in range(n_sets):
            lo, hi = p * n_chunks, (p + 1) * n_chunks
            all_flags = int(np.bitwise_or.reduce(flags[lo:hi]))
            set_notes = dict(notes)
            set_outputs = outputs
            set_track = track
            if all_flags & _abi.FLAG_BAD_RATE:
                raise SimulationError(
                    f"a rate of model {self.model.name!r} evaluated to a negative, infinite or "
                    "NaN value during the run (or, for a rate computed at run time, to more "
                    "than 1000 times the largest tabulated rate); check the rate expressions "
                    "of its nodes"
                )
            if all_flags & _abi.FLAG_STATE_OVERFLOW and n_sets > 1 and not force_alone:
                out.append(None)  # the caller reruns this set alone, with the whole budget
                continue
            if all_flags & _abi.FLAG_STATE_OVERFLOW and self.outputs is None:
                # Default outputs (all non-internal nodes) met too many states to track
                # jointly: per-node results stand; joint states are left out, and the result
                # says so.
                set_notes["states"] = (
                    f"not tracked: more than {max_rows} distinct states of the "
                    f"{len(outputs)} non-internal nodes; pass outputs=[...] to track the "
                    "states of a few nodes"
                )
                set_track = False
                set_outputs = []
            elif all_flags & _abi.FLAG_STATE_OVERFLOW:
                raise SimulationError(
                    f"more than {max_rows} distinct states of the {len(outputs)} output nodes "
                    "occurred; pass fewer output nodes (outputs=[...], or mark nodes internal)"
                )

            # time ON in window k: the signed flip times in it, plus dt times the number of
            # trajectories ON at its end (prefix sums of the +-1 steps)
            acc = (node_acc[lo:hi, :n_windows, 0::2]
                   + dt * np.cumsum(node_acc[lo:hi, :n_windows, 1::2], axis=1))
            node_probs = acc.sum(axis=0) / norm

            # merge the per-chunk state tables
            keys = np.zeros(0, dtype=np.uint64)
            state_probs = np.zeros((n_windows, 0))
            if set_track:
                # each chunk has one row per state it met; a state met in several chunks has a
                # row in each: sum them (keys are unique within a chunk, so += by index is
                # exact)
                chunk_keys = [row_key[c, : state_count[c]] for c in range(lo, hi)]
                keys, inverse = np.unique(np.concatenate(chunk_keys), return_inverse=True)
                merged = np.zeros((keys.size, n_windows))
                at = 0
                for c, ck in zip(range(lo, hi), chunk_keys, strict=True):
                    k = ck.size
                    sacc = (state_acc[c, :k, 0:2 * n_windows:2]
                            + dt * np.cumsum(state_acc[c, :k, 1:2 * n_windows:2], axis=1))
                    merged[inverse[at:at + k]] += sacc
                    at += k
                merged /= norm
                np.clip(merged, 0.0, 1.0, out=merged)  # rounding only: sums of durations <= dt
                state_probs = merged.T
                if derive:
                    # P(node ON) = sum of the probabilities of the output states holding it
                    bits = [outputs.index(nd) for nd in result_nodes]
                    on = ((keys[:, None] >> np.array(bits, dtype=np.uint64)) & np.uint64(1))
                    node_probs = state_probs @ on.astype(np.float64)

            if self.keep_final_states:
                # node i is bit i % 64 of word i // 64: little-endian bit order over the words
                raw = np.ascontiguousarray(
                    finals[p * samples:(p + 1) * samples].astype("<u8")).view(np.uint8)
                bits = np.unpackbits(raw, axis=1, bitorder="little")[:, : cm.n].astype(bool)
            else:
                bits = np.zeros((0, cm.n), dtype=bool)

            out.append(SimulationResult(
                times=times,
                node_names=tuple(result_nodes),
                node_probabilities=np.clip(node_probs, 0.0, 1.0),
                output_nodes=tuple(set_outputs),
                state_keys=keys,
                state_probabilities=state_probs,
                final_states=bits,
                samples=samples,
                max_time=max_time,
                time_tick=dt,
                seed=int(seeds[p]),
                threads=int(self.threads),
                n_transitions=int(n_events[lo:hi].sum()),
                settings=set_notes,
                final_state_nodes=cm.names,
            ))
        return out



def _node_records(cm: CompiledModel, node_col: np.ndarray, out_pos: np.ndarray) -> np.ndarray:
    """What the kernel reads of a node after choosing it, in one record (8 int64s, one cache
    line) per node: word, mask, accumulator column, output bit, and its readers' ranges."""
    rec = np.empty((cm.n, 8), dtype=np.int64)
    rec[:, 0] = cm.node_word
    rec[:, 1] = cm.node_mask.view(np.int64)
    rec[:, 2] = node_col
    rec[:, 3] = out_pos
    rec[:, 4] = cm.dep_off[:-1]
    rec[:, 5] = cm.dep_off[1:]
    rec[:, 6] = cm.pdep_off[:-1]
    rec[:, 7] = cm.pdep_off[1:]
    return rec.ravel()


def _dep_pairs(cm: CompiledModel) -> np.ndarray:
    """The table readers of every node as (reader, bit of its table index) pairs, flat."""
    pairs = np.empty((cm.dep_idx.size, 2), dtype=np.int64)
    pairs[:, 0] = cm.dep_idx
    pairs[:, 1] = cm.dep_bit
    return pairs.ravel() if pairs.size else np.zeros(2, dtype=np.int64)


_NP_DTYPES = {name: np.dtype(name) for name in ("int8", "int64", "uint64", "float64")}
_runner: Any = None
_runner_lock = threading.Lock()


def _kernel_backend() -> tuple[str, Any]:
    """The kernel: ``("native", fn)``, the shared library of :mod:`._native` (no numba
    loaded), or ``("numba", fn)``, numba's own compiled kernel, where the library cannot be
    had. Chosen once per process."""
    global _runner
    with _runner_lock:
        if _runner is None:
            from her2lab.boolnet import _native

            fn = _native.load()
            if fn is not None:
                _runner = ("native", fn)
            else:
                from her2lab.boolnet._kernel import simulate_chunks

                _runner = ("numba", simulate_chunks)
        return _runner


def _scratch_space(scratch: tuple[int, int, int, int]) -> list[np.ndarray]:
    """One thread's scratch arrays of the kernel (see ``_abi.SCRATCH``), from ``(n_words,
    padded node count, blocks, program stack depth)``."""
    n_words, n, n_blocks, max_stack = scratch
    return [np.zeros(n_words, dtype=np.uint64), np.zeros(2 * n, dtype=np.int64),
            np.zeros(n_blocks, dtype=np.int64), np.zeros(max(max_stack, 1), dtype=np.float64),
            np.zeros(2 * n, dtype=np.float64)]


def _run_kernel(args: tuple[Any, ...], scratch: tuple[int, int, int, int],
                total_chunks: int, threads: int) -> None:
    """Run the kernel's chunks ``0 .. total_chunks - 1``, on up to ``threads`` threads (no more
    than the CPUs). Each chunk is computed alone, from its own streams, into its own rows, so
    the result depends on the chunking, never on which thread ran a chunk or when."""
    kind, fn = _kernel_backend()
    spec = _abi.ARGS
    call: list[Any] = []
    dims: list[int] = []
    keep: list[np.ndarray] = []  # arrays passed by address stay alive until the call ends
    for (name, dtype, ndim), value in zip(spec[:-len(_abi.SCRATCH)], args, strict=True):
        if ndim == 0:
            if kind == "native":
                call.append(int(value) if dtype != "float64" else float(value))
            else:
                call.append(np.uint64(value) if dtype == "uint64" else value)
            continue
        arr = value
        if arr.dtype != _NP_DTYPES[dtype] or arr.ndim != ndim or not arr.flags.c_contiguous:
            raise AssertionError(f"kernel argument {name}: {arr.dtype}[{arr.ndim}]")
        if kind == "native":
            keep.append(arr)
            dims.extend(arr.shape)
            call.append(arr.ctypes.data)
        else:
            call.append(arr)
    workers = max(1, min(int(threads), total_chunks, os.cpu_count() or 1))

    # every thread's arguments made here, before any thread starts: a kernel thread then only
    # makes its call (it needs the GIL for no more than that)
    calls = []
    for _ in range(workers):
        ws = _scratch_space(scratch)
        keep.extend(ws)
        if kind == "native":
            dims_ws = np.array(dims + [w.shape[0] for w in ws], dtype=np.int64)
            keep.append(dims_ws)
            calls.append((dims_ws.ctypes.data, *call, *(w.ctypes.data for w in ws)))
        else:
            calls.append((*call, *ws))

    if workers == 1:
        fn(0, total_chunks, *calls[0])
        return
    # Chunks handed out as the threads ask for them, a few at a time (the kernel releases the
    # GIL; a thread takes the lock only between its calls): a thread whose core is slower, or
    # taken by another process, runs fewer chunks instead of holding up the run. The first
    # thread is the calling one, the others come from a pool kept for the process (starting
    # threads for every run would cost more than a small run). Which thread runs a chunk
    # never changes the result.
    step = max(1, total_chunks // (8 * workers))
    handed = [0]
    lock = threading.Lock()

    def work(k: int) -> None:
        while True:
            with lock:
                lo = handed[0]
                if lo >= total_chunks:
                    return
                hi = handed[0] = min(total_chunks, lo + step)
            fn(lo, hi, *calls[k])

    pool = _thread_pool()
    futures = [pool.submit(work, k) for k in range(1, workers)]
    try:
        work(0)
    except BaseException:
        with lock:  # the other threads stop after their current chunks
            handed[0] = total_chunks
        raise
    finally:
        for f in futures:
            f.result()


_pool: ThreadPoolExecutor | None = None


def _thread_pool() -> ThreadPoolExecutor:
    """The process's pool of kernel threads (one fewer than the CPUs: the calling thread runs
    a block too), made on first use."""
    global _pool
    with _runner_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1) - 1),
                                       thread_name_prefix="her2lab-kernel")
        return _pool


def _forget_pool() -> None:
    # a forked child has the pool's object but not its threads: it makes its own
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)

@dataclass(frozen=True)
class Overrides:
    """Changes to a compiled model for one run, applied to arrays (no text, no recompiling).

    ``sim.run(seed, overrides=Overrides(...))`` equals, bit for bit, a fresh simulator on
    ``model.perturbed(fixed=..., up_factor=..., down_factor=...).with_initial(initial)`` with
    ``parameters`` changed, run with the same seed. Names and values are checked when the run
    starts: an unknown node or parameter raises :class:`SimulationError` naming it.

    Attributes
    ----------
    parameters : mapping of str to float
        MaBoSS ``$parameters`` (name with or without ``$``) -> new value; the rate tables of the
        nodes whose rates read them are recomputed from the parsed expressions.
    initial : mapping of str to float
        node -> P(ON) at t = 0 (a joint initial state holding one of these nodes is dropped, as
        :meth:`Model.with_initial` does).
    fixed : mapping of str to object
        node -> forced value (``True``/``False``, ``"ON"``/``"OFF"``, 1/0): a mutation, as
        ``knock_in``/``knock_out``; it wins over rate factors.
    up_factor, down_factor : mapping of str to float
        node -> factor >= 0 multiplying its up/down rate, on top of the model's own factors.
    """

    parameters: Mapping[str, float] = field(default_factory=dict)
    initial: Mapping[str, float] = field(default_factory=dict)
    fixed: Mapping[str, object] = field(default_factory=dict)
    up_factor: Mapping[str, float] = field(default_factory=dict)
    down_factor: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("parameters", "initial", "fixed", "up_factor", "down_factor"):
            value = getattr(self, name)
            if not isinstance(value, Mapping):
                raise SimulationError(
                    f"Overrides.{name} must be a mapping of names to values; got "
                    f"{type(value).__name__} {value!r} instead"
                )
            object.__setattr__(self, name, dict(value))

    def __bool__(self) -> bool:
        return any((self.parameters, self.initial, self.fixed, self.up_factor,
                    self.down_factor))


def _unknown(kind: str, field_name: str, bad: list[str], known: Iterable[str]) -> SimulationError:
    import difflib

    known = list(known)
    hints = []
    for b in bad:
        close = difflib.get_close_matches(b, known, n=1)
        if close:
            hints.append(f"{b!r} (did you mean {close[0]!r}?)")
        else:
            hints.append(repr(b))
    listing = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
    return SimulationError(
        f"Overrides.{field_name} names unknown {kind}{'s' if len(bad) > 1 else ''}: "
        f"{', '.join(hints)}; the model's {kind}s are: {listing or '(none)'}"
    )


def _checked_overrides(cm: CompiledModel, ov: Overrides | None) -> dict[str, Any] | None:
    """Validated, normalised overrides (None when there is nothing to change)."""
    if ov is None:
        return None
    if not isinstance(ov, Overrides):
        raise SimulationError(
            f"overrides must be an Overrides instance or None; got {type(ov).__name__} instead"
        )
    if not ov:
        return None
    from her2lab.boolnet.model import _parse_fixed
    from her2lab.errors import ModelDefinitionError

    names = set(cm.names)
    known_params = cm.model.parameters if cm.model is not None else {}
    params: dict[str, float] = {}
    bad = [k for k in ov.parameters if str(k).removeprefix("$") not in known_params]
    if bad:
        raise _unknown("parameter", "parameters", bad, known_params)
    for k, v in ov.parameters.items():
        if isinstance(v, bool) or not isinstance(v, int | float | np.number) \
                or not math.isfinite(float(v)):
            raise SimulationError(
                f"Overrides.parameters[{k!r}] must be a finite number; got {v!r} instead")
        params[str(k).removeprefix("$")] = float(v)
    out: dict[str, Any] = {"parameters": params}
    for field_name in ("initial", "fixed", "up_factor", "down_factor"):
        mapping = getattr(ov, field_name)
        bad = [k for k in mapping if k not in names]
        if bad:
            raise _unknown("node", field_name, bad, cm.names)
    initial: dict[str, float] = {}
    for k, v in ov.initial.items():
        if isinstance(v, bool) or not isinstance(v, int | float | np.number) \
                or not 0.0 <= float(v) <= 1.0:
            raise SimulationError(
                f"Overrides.initial[{k!r}] must be a probability in [0, 1]; got {v!r} instead")
        initial[k] = float(v)
    fixed: dict[str, bool] = {}
    for k, v in ov.fixed.items():
        try:
            fixed[k] = _parse_fixed(v, k)
        except ModelDefinitionError as exc:
            raise SimulationError(f"Overrides.fixed: {exc}") from None
    out["initial"] = initial
    out["fixed"] = fixed
    for field_name in ("up_factor", "down_factor"):
        factors: dict[str, float] = {}
        for k, v in getattr(ov, field_name).items():
            if isinstance(v, bool) or not isinstance(v, int | float | np.number) \
                    or not math.isfinite(float(v)) or float(v) < 0:
                raise SimulationError(
                    f"Overrides.{field_name}[{k!r}] must be a finite number >= 0; got {v!r} "
                    "instead")
            factors[k] = float(v)
        out[field_name] = factors
    return out


@dataclass(frozen=True)
class _BatchArrays:
    kinds: np.ndarray
    tab_base: np.ndarray
    itable: np.ndarray
    units: np.ndarray
    prog_start: np.ndarray
    prog_end: np.ndarray
    code: np.ndarray
    consts: np.ndarray
    max_stack: int
    p_ons: np.ndarray
    g_active: np.ndarray
    force_masks: np.ndarray
    force_vals: np.ndarray


def _set_arrays(cm: CompiledModel, sets: list[dict[str, Any] | None]) -> _BatchArrays:
    """The kernel's per-set arrays (one row per parameter set)."""
    from her2lab.boolnet._compile import OP_CONST, apply_overrides

    n_sets = len(sets)
    n_groups = cm.g_node_off.shape[0] - 1
    kinds = np.empty((n_sets, cm.n), dtype=np.int8)
    units = np.empty(n_sets, dtype=np.float64)
    p_ons = np.empty((n_sets, cm.n), dtype=np.float64)
    g_active = np.ones((n_sets, max(n_groups, 1)), dtype=np.int8)
    force_masks = np.empty((n_sets, cm.n_words), dtype=np.uint64)
    force_vals = np.empty((n_sets, cm.n_words), dtype=np.uint64)
    prog_start = np.empty((n_sets, cm.n), dtype=np.int64)
    prog_end = np.empty((n_sets, cm.n), dtype=np.int64)
    prog_start[:] = cm.prog_off[:-1]
    prog_end[:] = cm.prog_off[1:]
    tab_base = np.zeros(n_sets, dtype=np.int64)
    itables: list[np.ndarray] = []
    code = list(cm.code)
    consts = list(cm.consts)
    max_stack = cm.max_stack
    size = cm.itable.size
    base_at = -1  # where the unchanged table sits, shared by the sets that do not change it
    for p, ov in enumerate(sets):
        if ov is None:
            kinds[p] = cm.kind
            units[p] = cm.unit
            p_ons[p] = cm.p_on
            force_masks[p] = cm.force_mask
            force_vals[p] = cm.force_val
            if base_at < 0:
                base_at = len(itables) * size
                itables.append(cm.itable)
            tab_base[p] = base_at
            continue
        sa = apply_overrides(cm, **ov)
        kinds[p] = sa.kind
        units[p] = sa.unit
        p_ons[p] = sa.p_on
        if n_groups:
            g_active[p, :n_groups] = sa.g_active
        force_masks[p] = sa.force_mask
        force_vals[p] = sa.force_val
        tab_base[p] = len(itables) * size
        itables.append(sa.itable)
        for i, (pcode, pconsts, depth) in sa.programs.items():
            shifted = list(pcode)
            for k in range(0, len(shifted), 2):
                if shifted[k] == OP_CONST:
                    shifted[k + 1] += len(consts)
            prog_start[p, i] = len(code)
            code += shifted
            prog_end[p, i] = len(code)
            consts += pconsts
            max_stack = max(max_stack, depth + 1)
    return _BatchArrays(
        kinds=kinds, tab_base=tab_base,
        itable=itables[0] if len(itables) == 1 else np.concatenate(itables),
        units=units, prog_start=prog_start, prog_end=prog_end,
        code=np.asarray(code, dtype=np.int64), consts=np.asarray(consts, dtype=np.float64),
        max_stack=max_stack, p_ons=p_ons, g_active=g_active, force_masks=force_masks,
        force_vals=force_vals,
    )
