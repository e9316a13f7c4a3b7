"""Discrete-time Boolean dynamics: synchronous and asynchronous updates.

* **synchronous**: every node takes the value of its rule at once, ``x(t+1) = f(x(t))``;
* **asynchronous** (random order): at each step one node, drawn uniformly, takes the value of
  its rule (a step that changes nothing still counts).

Knocked-out and knocked-in nodes keep their forced value; rates are ignored (they only matter
in continuous time, see :mod:`~her2lab.boolnet.stochastic`). Trajectories run vectorised over
samples with NumPy, each node's rule evaluated from its truth table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from her2lab.boolnet._compile import CompiledModel, compiled
from her2lab.boolnet.expr import evaluate
from her2lab.boolnet.model import Model
from her2lab.errors import SimulationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DiscreteResult", "DiscreteSimulator", "synchronous_step"]

Update = Literal["synchronous", "asynchronous"]


def _evaluate_rules(cm: CompiledModel, model: Model, states: np.ndarray,
                    nodes: np.ndarray | None = None) -> np.ndarray:
    """Values of the rules of ``nodes`` (default: all) in each row of ``states`` (bool)."""
    idx_nodes = np.arange(cm.n) if nodes is None else nodes
    out = np.empty((states.shape[0], len(idx_nodes)), dtype=bool)
    for col, i in enumerate(idx_nodes):
        support, table = cm.logic_tables[i]
        if table.size:  # tabulated (support of at most 20 nodes; a constant has one entry)
            index = np.zeros(states.shape[0], dtype=np.int64)
            for k, j in enumerate(support):
                index |= states[:, j].astype(np.int64) << k
            out[:, col] = table[index]
        else:  # a rule reading more than 20 nodes: evaluate the expression on arrays
            values = {cm.names[j]: states[:, j].astype(float) for j in support}
            out[:, col] = np.asarray(evaluate(model[cm.names[i]].logic, values)) > 0.5
    return out


def _apply_fixed(cm: CompiledModel, model: Model, states: np.ndarray) -> None:
    for name, value in model.fixed.items():
        states[:, cm.names.index(name)] = value


def synchronous_step(model: Model, states: np.ndarray) -> np.ndarray:
    """One synchronous update of each row of ``states`` (bool, samples x nodes)."""
    cm = compiled(model)
    states = np.atleast_2d(np.asarray(states, dtype=bool))
    nxt = _evaluate_rules(cm, model, states)
    _apply_fixed(cm, model, nxt)
    return nxt


@dataclass(frozen=True)
class DiscreteResult:
    """What one discrete-time run returns.

    Attributes
    ----------
    node_names : tuple of str
        The model's nodes, in column order.
    node_probabilities : numpy.ndarray
        ``[k, i]``: fraction of trajectories with node ``i`` ON after ``k`` steps (row 0 is the
        initial state), shape ``(steps + 1, nodes)``.
    final_states : numpy.ndarray
        Booleans (trajectory x node): the states after the last step.
    update : str
        ``"synchronous"`` or ``"asynchronous"``.
    steps : int
        Number of update steps.
    samples : int
        Number of trajectories.
    seed : int
        The seed of the run.
    """

    node_names: tuple[str, ...]
    node_probabilities: np.ndarray
    final_states: np.ndarray
    update: str
    steps: int
    samples: int
    seed: int

    @property
    def final(self) -> dict[str, float]:
        """P(node ON) after the last step."""
        return {n: float(p) for n, p in zip(self.node_names, self.node_probabilities[-1],
                                            strict=True)}

    def to_frame(self) -> pd.DataFrame:
        """Node probabilities, one row per step.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``step`` (0 to ``steps``), one column per node, P(ON).
        """
        import pandas as pd

        return pd.DataFrame(self.node_probabilities, columns=list(self.node_names),
                            index=pd.RangeIndex(self.steps + 1, name="step"))


class DiscreteSimulator:
    """Discrete-time simulation of a logical model, synchronous or asynchronous.

    The constructor only stores its arguments; they are checked by :meth:`run`. Rates are not
    used: a step applies the rules.

    Parameters
    ----------
    model : Model
        The model; its knock-outs and knock-ins hold throughout.
    update : {"synchronous", "asynchronous"}, optional
        ``"synchronous"`` (default): every rule at once per step; ``"asynchronous"``: one node,
        drawn uniformly per trajectory, per step.
    steps : int, optional
        Number of update steps, >= 0 (default 50).
    samples : int, optional
        Number of trajectories, >= 1 (default 1000).
    initial : mapping of str to int, optional
        Initial values (0/1) of some nodes (``{"A": 1}``); the others are drawn from the model's
        initial probabilities and joint initial states.
    """

    def __init__(
        self,
        model: Model,
        *,
        update: Update = "synchronous",
        steps: int = 50,
        samples: int = 1000,
        initial: Mapping[str, int] | None = None,
    ) -> None:
        self.model = model
        self.update = update
        self.steps = steps
        self.samples = samples
        self.initial = initial

    def run(self, seed: int = 0) -> DiscreteResult:
        """Simulate ``samples`` trajectories of ``steps`` updates.

        Parameters
        ----------
        seed : int, optional
            Seed of the random initial states and asynchronous choices (default 0).

        Returns
        -------
        DiscreteResult
            P(ON) per node after each step and the final states.

        Raises
        ------
        SimulationError
            If ``update`` is not synchronous/asynchronous, ``steps < 0`` or ``samples < 1``.
        UnknownIdError
            If ``initial`` names a node the model lacks.
        """
        if self.update not in ("synchronous", "asynchronous"):
            raise SimulationError(
                "The 'update' parameter of DiscreteSimulator must be 'synchronous' or "
                f"'asynchronous'. Got {self.update!r} instead."
            )
        for name, value, low in (("steps", self.steps, 0), ("samples", self.samples, 1)):
            if not isinstance(value, int) or value < low:
                raise SimulationError(
                    f"The {name!r} parameter of DiscreteSimulator must be an int >= {low}. "
                    f"Got {value!r} instead."
                )
        model = self.model
        cm = compiled(model)
        rng = np.random.default_rng(seed)
        p = np.array([model[n].initial for n in cm.names])
        states = rng.random((self.samples, cm.n)) < p
        for group in model.joint_initial:
            cols = [cm.names.index(n) for n in group.nodes]
            probs = np.array([q for q, _ in group.options])
            vals = np.array([v for _, v in group.options], dtype=bool)
            pick = rng.choice(len(probs), size=self.samples, p=probs / probs.sum())
            states[:, cols] = vals[pick]
        for name, value in (self.initial or {}).items():
            states[:, cm.names.index(model[name].name)] = bool(value)
        _apply_fixed(cm, model, states)
        probs = np.empty((self.steps + 1, cm.n))
        probs[0] = states.mean(axis=0)
        for k in range(1, self.steps + 1):
            if self.update == "synchronous":
                states = _evaluate_rules(cm, model, states)
            else:
                which = rng.integers(0, cm.n, size=self.samples)
                new = states.copy()
                for i in np.unique(which):
                    sel = which == i
                    new[sel, i] = _evaluate_rules(cm, model, states[sel], np.array([i]))[:, 0]
                states = new
            _apply_fixed(cm, model, states)
            probs[k] = states.mean(axis=0)
        return DiscreteResult(
            node_names=cm.names, node_probabilities=probs, final_states=states,
            update=self.update, steps=self.steps, samples=self.samples, seed=seed,
        )
