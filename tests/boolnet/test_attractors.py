"""Attractors: exact search, mpbn, and agreement between them; known answers."""

from __future__ import annotations

import pytest

from her2lab.boolnet import Model, attractors
from her2lab.boolnet.generate import random_model
from her2lab.errors import SimulationError


def test_a_toggle_switch_has_two_steady_states():
    model = Model.from_rules({"A": "!B", "B": "!A"})
    found = attractors(model, method="exact")
    assert sorted(tuple(a.pattern.values()) for a in found) == [(0, 1), (1, 0)]
    assert all(a.kind == "steady state" for a in found)


def test_a_negative_loop_has_one_cyclic_attractor_of_four_states():
    model = Model.from_rules({"A": "!B", "B": "A"})
    (att,) = attractors(model, method="exact")
    assert att.kind == "cycle" and att.size == 4
    assert att.pattern == {"A": "*", "B": "*"}


def test_synchronous_and_asynchronous_attractors_can_differ():
    # A=B, B=A: synchronously (0,1) and (1,0) swap forever; asynchronously they are transient
    model = Model.from_rules({"A": "B", "B": "A"})
    sync = attractors(model, update="synchronous", method="exact")
    asyn = attractors(model, update="asynchronous", method="exact")
    assert sorted(a.size for a in sync) == [1, 1, 2]
    assert sorted(a.size for a in asyn) == [1, 1]


def test_fixed_inputs_select_the_attractors():
    model = Model.from_rules({"I": "I", "A": "I", "B": "A & !I"})
    on = attractors(model, fixed={"I": 1}, method="exact")
    assert [a.pattern for a in on] == [{"I": 1, "A": 1, "B": 0}]


def test_exact_asynchronous_search_honours_rates_that_block_a_transition():
    # B's up rate is 0: A=1, B=0 becomes stable under MaBoSS semantics (it is not with the
    # default rates, where B follows A)
    blocked = Model.from_rules({"A": "A", "B": "A"}, rate_up={"B": "0"})
    free = Model.from_rules({"A": "A", "B": "A"})
    patterns = [a.pattern for a in attractors(blocked, fixed={"A": 1}, method="exact")]
    assert patterns == [{"A": 1, "B": 0}, {"A": 1, "B": 1}]
    patterns = [a.pattern for a in attractors(free, fixed={"A": 1}, method="exact")]
    assert patterns == [{"A": 1, "B": 1}]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_exact_steady_states_equal_mpbns_fixed_points(seed):
    # steady states do not depend on the semantics: both methods must find the same ones
    model = random_model(12, seed=seed, state_dependent_rates=False)
    exact = {tuple(a.pattern.values()) for a in attractors(model, method="exact")
             if a.kind == "steady state"}
    mp = {tuple(a.pattern.values()) for a in attractors(model, method="mpbn")
          if a.kind == "steady state"}
    assert exact == mp


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_minimal_trap_space_holds_an_exact_asynchronous_attractor(seed):
    model = random_model(10, seed=seed, state_dependent_rates=False)
    exact = attractors(model, method="exact")
    for space in attractors(model, method="mpbn"):
        inside = [a for a in exact
                  if all(v == "*" or a.pattern[n] == v for n, v in space.pattern.items())]
        assert inside, space.pattern


def test_too_many_free_nodes_for_exact_search_is_an_error_with_advice():
    model = random_model(12, seed=1)
    with pytest.raises(SimulationError, match="method='mpbn'"):
        attractors(model, method="exact", max_exact_nodes=8)


@pytest.mark.needs_shared
def test_sahin_2009_with_egf_has_one_proliferative_steady_state(sahin):
    # the published model (Sahin et al. 2009, BMC Syst Biol 3:1): with EGF, the G1/S switch
    # settles with pRB1 phosphorylated (ON)
    found = attractors(sahin, fixed={"v_EGF": 1})
    assert len(found) == 1 and found[0].kind == "steady state"
    assert found[0].pattern["v_pRB1"] == 1
    knocked = attractors(sahin, fixed={"v_EGF": 1, "v_MYC": 0})
    assert all(a.pattern["v_pRB1"] == 0 for a in knocked)
