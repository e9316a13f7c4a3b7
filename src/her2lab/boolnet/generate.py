"""Seeded random logical models, for tests against MaBoSS and for benchmarks.

Each node reads 1 to ``max_inputs`` random nodes (so feedback loops are the rule, not the
exception), its rule is a random AND/OR combination of possibly negated inputs, its up and down
rates are drawn in ``rate_range`` (some are state-dependent: they read a second node), its
initial P(ON) is drawn in [0, 1] (some nodes start fixed at 0 or 1), and ``n_mutations`` random
nodes are knocked out or in.
"""

from __future__ import annotations

import numpy as np

from her2lab.boolnet.expr import And, Cond, Const, Expr, Logic, Not, Or, Var
from her2lab.boolnet.model import JointInitial, Model, Node

__all__ = ["random_model"]


def _random_rule(rng: np.random.Generator, inputs: list[str]) -> Expr:
    lits: list[Expr] = [Not(Var(v)) if rng.random() < 0.35 else Var(v) for v in inputs]
    if len(lits) == 1:
        return lits[0]
    rng.shuffle(lits)
    # split into 1-2 clauses; combine as (a & b) | c or a | (b & c) ...
    cut = int(rng.integers(1, len(lits)))
    left, right = lits[:cut], lits[cut:]

    def clause(xs: list[Expr]) -> Expr:
        if len(xs) == 1:
            return xs[0]
        return And(tuple(xs)) if rng.random() < 0.5 else Or(tuple(xs))

    a, b = clause(left), clause(right)
    return Or((a, b)) if rng.random() < 0.5 else And((a, b))


def random_model(
    n_nodes: int,
    *,
    seed: int,
    max_inputs: int = 3,
    rate_range: tuple[float, float] = (0.2, 3.0),
    n_mutations: int = 0,
    state_dependent_rates: bool = True,
    joint_initial: bool = True,
) -> Model:
    """A random model of ``n_nodes`` nodes named ``N0, N1, ...``, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    names = [f"N{i}" for i in range(n_nodes)]
    lo, hi = rate_range
    nodes = []
    for i, name in enumerate(names):
        k = int(rng.integers(1, max_inputs + 1))
        inputs = [names[j] for j in rng.choice(n_nodes, size=min(k, n_nodes), replace=False)]
        rule = _random_rule(rng, inputs)
        up_c = round(float(rng.uniform(lo, hi)), 3)
        down_c = round(float(rng.uniform(lo, hi)), 3)
        rate_up: Expr = Cond(Logic(), Const(up_c), Const(0.0))
        if state_dependent_rates and rng.random() < 0.2:
            other = names[int(rng.integers(n_nodes))]
            alt = round(float(rng.uniform(lo, hi)), 3)
            rate_up = Cond(Logic(), Cond(Var(other), Const(up_c), Const(alt)), Const(0.0))
        rate_down: Expr = Cond(Logic(), Const(0.0), Const(down_c))
        u = rng.random()
        initial = 0.0 if u < 0.15 else 1.0 if u < 0.3 else round(float(rng.uniform(0, 1)), 3)
        nodes.append(Node(name, rule, rate_up=rate_up, rate_down=rate_down, initial=initial))
        del i
    groups = []
    if joint_initial and n_nodes >= 4:
        a, b = names[-2], names[-1]
        groups.append(JointInitial((a, b), ((0.3, (1, 0)), (0.5, (0, 1)), (0.2, (1, 1)))))
    model = Model(nodes, joint_initial=groups, name=f"random{n_nodes}_s{seed}").validate()
    if n_mutations:
        picks = rng.choice(n_nodes - 2, size=min(n_mutations, n_nodes - 2), replace=False)
        fixed = {names[int(j)]: bool(rng.random() < 0.5) for j in picks}
        model = model.perturbed(fixed=fixed)
    return model
