"""Discrete synchronous and asynchronous updates."""

from __future__ import annotations

import numpy as np
import pytest

from her2lab.boolnet import DiscreteSimulator, Model
from her2lab.boolnet.discrete import synchronous_step
from her2lab.boolnet.generate import random_model
from her2lab.errors import SimulationError


def test_a_synchronous_negative_loop_oscillates_with_period_two():
    model = Model.from_rules({"A": "!A"}, initial=0.0)
    res = DiscreteSimulator(model, steps=4, samples=10).run(seed=0)
    assert list(res.node_probabilities[:, 0]) == [0.0, 1.0, 0.0, 1.0, 0.0]


def test_a_synchronous_step_applies_every_rule_at_once():
    model = Model.from_rules({"A": "B", "B": "A"})
    nxt = synchronous_step(model, np.array([[True, False]]))
    assert nxt.tolist() == [[False, True]]  # a swap, not a copy


def test_asynchronous_updates_move_one_node_at_a_time():
    # from A=1, B=0 under A=B, B=A: an asynchronous step copies one value; both nodes agree
    # after it, with A=B=1 or A=B=0 each half of the time (only a step on A or B changes it)
    model = Model.from_rules({"A": "B", "B": "A"}, initial={"A": 1.0, "B": 0.0})
    n = 20_000
    res = DiscreteSimulator(model, update="asynchronous", steps=1, samples=n).run(seed=2)
    final = res.final_states
    assert np.all(final[:, 0] == final[:, 1])
    assert abs(final[:, 0].mean() - 0.5) < 5 * np.sqrt(0.25 / n)


def test_fixed_nodes_keep_their_value_in_discrete_time():
    model = random_model(8, seed=3).perturbed(knock_out=["N1"], knock_in=["N2"])
    for update in ("synchronous", "asynchronous"):
        res = DiscreteSimulator(model, update=update, steps=10, samples=100).run(seed=1)
        assert np.all(res.node_probabilities[:, 1] == 0.0)
        assert np.all(res.node_probabilities[:, 2] == 1.0)


def test_discrete_runs_are_reproducible_and_framed_by_step():
    model = random_model(10, seed=4)
    a = DiscreteSimulator(model, update="asynchronous", steps=5, samples=300).run(seed=3)
    b = DiscreteSimulator(model, update="asynchronous", steps=5, samples=300).run(seed=3)
    assert np.array_equal(a.final_states, b.final_states)
    frame = a.to_frame()
    assert frame.index.name == "step" and len(frame) == 6


def test_a_bad_update_mode_names_the_choices():
    with pytest.raises(SimulationError, match="'synchronous' or 'asynchronous'"):
        DiscreteSimulator(Model.from_rules({"A": "A"}), update="random").run()
