"""Overrides and batches: a run with overrides is, bit for bit, the run of the model changed the
slow way (``model.perturbed(...)``, new parameters, a fresh simulator); a batch is the
sequential runs; bad names and values are refused before anything runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from her2lab.boolnet import Model, Node, Overrides, StochasticSimulator
from her2lab.boolnet.expr import parse_expr
from her2lab.boolnet.generate import random_model
from her2lab.errors import SimulationError


def _model() -> Model:
    """A random 14-node network with a joint initial state and a mutation, plus $parameters in
    rates (tabulated nodes) and one wide node whose rate reads 16 nodes (a program node)."""
    base = random_model(14, seed=5, n_mutations=1)
    nodes = list(base)
    def rate(text: str):
        return parse_expr(text, boolean=False)

    nodes[0] = replace(nodes[0], rate_up=rate("@logic ? $k_up * (1 + N3) : 0"))
    nodes[1] = replace(nodes[1], rate_down=rate("@logic ? 0 : $k_down"))
    wide_inputs = [n.name for n in nodes[:14]]
    rule = " | ".join(f"({a} & !{b})" for a, b in zip(wide_inputs[::2], wide_inputs[1::2],
                                                      strict=True))
    nodes.append(Node("W", parse_expr(rule, boolean=True), rate_up=rate("@logic ? $k_up + N2 : 0"),
                      rate_down=rate("@logic ? 0 : 0.7 + N4 * N5"), initial=0.2))
    nodes.append(Node("V", parse_expr("W & N7", boolean=True), initial=0.0))
    model = Model(nodes, parameters={"k_up": 1.5, "k_down": 0.8},
                  joint_initial=base.joint_initial, name="ovr").validate()
    return model.perturbed(fixed=base.fixed, up_factor={"N6": 0.5})


def _slow_way(model: Model, ov: Overrides) -> Model:
    m = model.perturbed(fixed=ov.fixed, up_factor=ov.up_factor, down_factor=ov.down_factor)
    if ov.initial:
        m = m.with_initial(ov.initial)
    m.parameters.update({k.removeprefix("$"): v for k, v in ov.parameters.items()})
    return m


def _same(a, b) -> None:
    assert np.array_equal(a.node_probabilities, b.node_probabilities)
    assert np.array_equal(a.state_keys, b.state_keys)
    assert np.array_equal(a.state_probabilities, b.state_probabilities)
    assert np.array_equal(a.final_states, b.final_states)
    assert a.n_transitions == b.n_transitions


CASES = [
    Overrides(parameters={"k_up": 0.4}),
    Overrides(parameters={"$k_down": 3.0, "k_up": 0.0}),
    Overrides(initial={"N2": 0.9, "N13": 0.1}),  # N13 is in the joint initial group
    Overrides(fixed={"W": True, "N3": "OFF"}),
    Overrides(up_factor={"N0": 0.3, "W": 2.0, "N6": 0.5}, down_factor={"N1": 0.0}),
    Overrides(parameters={"k_up": 2.5}, initial={"V": 1.0}, fixed={"N4": False},
              up_factor={"N8": 0.2}, down_factor={"W": 3.0}),
]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_run_with_overrides_is_the_run_of_the_changed_model(threads):
    model = _model()
    before = model.fingerprint()
    sim = StochasticSimulator(model, samples=400, max_time=4.0, time_tick=0.5, threads=threads)
    for ov in CASES:
        fast = sim.run(seed=7, overrides=ov)
        slow = StochasticSimulator(_slow_way(model, ov), samples=400, max_time=4.0,
                                   time_tick=0.5, threads=threads).run(seed=7)
        _same(fast, slow)
    assert model.fingerprint() == before  # overrides never leak into the model
    _same(sim.run(seed=7), StochasticSimulator(model, samples=400, max_time=4.0, time_tick=0.5,
                                               threads=threads).run(seed=7))


def test_overrides_change_the_result_the_way_they_say():
    # the wide node W forced ON: P(W) = 1 in every window; its rate factor 0 on a node that
    # starts OFF keeps it OFF
    model = _model()
    sim = StochasticSimulator(model, samples=300, max_time=3.0, time_tick=1.0)
    res = sim.run(seed=1, overrides=Overrides(fixed={"W": 1}, initial={"V": 0.0},
                                              up_factor={"V": 0.0}))
    assert np.all(res.node_trajectory("W") == 1.0)
    assert np.all(res.node_trajectory("V") == 0.0)


def test_a_batch_equals_the_sequential_runs():
    model = _model()
    sim = StochasticSimulator(model, samples=300, max_time=3.0, time_tick=0.5, threads=2)
    sets = [None, *CASES, Overrides()]
    batch = sim.run_batch(sets, seed=3)
    assert len(batch) == len(sets)
    for ov, res in zip(sets, batch, strict=True):
        _same(res, sim.run(seed=3, overrides=ov))
    assert sim.run_batch([], seed=3) == []


def test_a_batch_with_a_seed_per_set_equals_each_set_run_alone_with_its_seed():
    # independent streams: set k of the batch is run(seeds[k]) of that set, whatever the
    # other sets and their seeds
    model = _model()
    sim = StochasticSimulator(model, samples=300, max_time=3.0, time_tick=0.5, threads=2)
    sets = [None, *CASES]
    seeds = [7 + 13 * k for k in range(len(sets))]
    batch = sim.run_batch(sets, seeds=seeds)
    for ov, sd, res in zip(sets, seeds, batch, strict=True):
        _same(res, sim.run(seed=sd, overrides=ov))
        assert res.seed == sd
    # the same set under two seeds in one batch: two different results
    a, b = sim.run_batch([None, None], seeds=[1, 2])
    assert not np.array_equal(a.node_probabilities, b.node_probabilities)
    with pytest.raises(SimulationError, match="2 seeds for 3 parameter sets"):
        sim.run_batch([None, None, None], seeds=[1, 2])
    with pytest.raises(SimulationError, match=r"must be an int in \[0, 2\*\*64\)"):
        sim.run_batch([None], seeds=[-1])


def test_unknown_names_and_bad_values_are_refused_naming_them():
    sim = StochasticSimulator(_model(), samples=10, max_time=1.0, time_tick=0.5)
    with pytest.raises(SimulationError, match=r"unknown parameter: 'k_upp' \(did you mean"):
        sim.run(overrides=Overrides(parameters={"k_upp": 1.0}))
    with pytest.raises(SimulationError, match=r"Overrides.fixed names unknown nodes: 'PTEN', "
                                              r"'AKT'"):
        sim.run(overrides=Overrides(fixed={"PTEN": False, "AKT": True}))
    with pytest.raises(SimulationError, match=r"up_factor.*'nope'"):
        sim.run_batch([None, Overrides(up_factor={"nope": 0.5})])
    with pytest.raises(SimulationError, match=r"initial\['N2'\] must be a probability"):
        sim.run(overrides=Overrides(initial={"N2": 1.5}))
    with pytest.raises(SimulationError, match=r"down_factor\['N2'\] must be a finite number"):
        sim.run(overrides=Overrides(down_factor={"N2": -1.0}))
    with pytest.raises(SimulationError, match="must be ON or OFF"):
        sim.run(overrides=Overrides(fixed={"N2": "maybe"}))
    with pytest.raises(SimulationError, match="must be a finite number >= 0 in every state"):
        sim.run(overrides=Overrides(parameters={"k_down": -2.0}))
    with pytest.raises(SimulationError, match="mapping"):
        Overrides(fixed=["N2"])  # type: ignore[arg-type]


def test_the_simulator_recompiles_when_the_model_changes():
    model = Model.from_rules({"A": "A", "B": "A"}, initial={"A": 1.0, "B": 0.0})
    sim = StochasticSimulator(model, samples=200, max_time=2.0, time_tick=1.0)
    on = sim.run(seed=0).final["B"]
    with model.perturb(knock_out=["A"]):
        assert sim.run(seed=0).final["B"] == 0.0
    assert sim.run(seed=0).final["B"] == on > 0.3
