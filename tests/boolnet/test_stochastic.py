"""The stochastic simulator: exact results on models with a closed form, invariants,
reproducibility, perturbations, settings errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.boolnet import Model, Node, StochasticSimulator
from her2lab.boolnet.generate import random_model
from her2lab.errors import ModelDefinitionError, SimulationError, UnknownIdError

Z = 5.0  # tolerances are Z standard errors of a binomial proportion over the samples


def binomial_tol(p: np.ndarray | float, n: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return Z * np.sqrt(np.maximum(p * (1 - p), 1.0 / n) / n)


def two_state_window_mean(a: float, b: float, dt: float, k: np.ndarray) -> np.ndarray:
    """Mean over [k dt, (k+1) dt) of P(ON) for a node flipping up at rate a and down at rate b,
    starting OFF: P(t) = a/(a+b) (1 - exp(-(a+b) t))."""
    lam = a + b
    t0, t1 = k * dt, (k + 1) * dt
    return a / lam * (1 - (np.exp(-lam * t0) - np.exp(-lam * t1)) / (lam * dt))


def test_a_two_state_node_matches_its_closed_form():
    a, b = 0.7, 1.8
    model = Model([Node("X", "X", rate_up=str(a), rate_down=str(b), initial=0.0)])
    n = 20_000
    res = StochasticSimulator(model, samples=n, max_time=3.0, time_tick=0.25).run(seed=11)
    expected = two_state_window_mean(a, b, 0.25, np.arange(12))
    got = res.node_trajectory("X")
    assert np.all(np.abs(got - expected) <= binomial_tol(expected, n))


def test_logic_dependent_rates_and_parameters_are_honoured():
    # Y copies X (which is fixed ON) at rate $k: P(Y ON at t) = 1 - exp(-k t)
    model = Model(
        [
            Node("X", "X", initial=1.0),
            Node("Y", "X", rate_up="@logic ? $k : 0", rate_down="@logic ? 0 : 1", initial=0.0),
        ],
        parameters={"k": 2.0},
    )
    n = 20_000
    res = StochasticSimulator(model, samples=n, max_time=2.0, time_tick=0.5).run(seed=3)
    k = 2.0
    t0 = np.arange(4) * 0.5
    expected = 1 - (np.exp(-k * t0) - np.exp(-k * (t0 + 0.5))) / (k * 0.5)
    assert np.all(np.abs(res.node_trajectory("Y") - expected) <= binomial_tol(expected, n))


def test_windows_follow_maboss_floor_of_max_time_over_tick():
    model = Model.from_rules({"A": "!A"})
    res = StochasticSimulator(model, samples=10, max_time=1.05, time_tick=0.1).run(seed=0)
    assert len(res.times) == 10
    assert res.times[-1] == pytest.approx(0.9)


def test_the_same_seed_and_threads_give_identical_results_and_another_seed_differs():
    model = random_model(12, seed=5)
    sim = StochasticSimulator(model, samples=2000, max_time=5, time_tick=0.5, threads=2)
    a, b, c = sim.run(seed=1), sim.run(seed=1), sim.run(seed=2)
    assert np.array_equal(a.node_probabilities, b.node_probabilities)
    assert np.array_equal(a.final_states, b.final_states)
    assert not np.array_equal(a.node_probabilities, c.node_probabilities)


def test_trajectories_do_not_depend_on_the_thread_count():
    # each trajectory has its own random stream, so the per-trajectory final states are the
    # same whatever the chunking; sums agree up to rounding
    model = random_model(10, seed=8)
    kw = dict(samples=1500, max_time=4, time_tick=0.5)
    one = StochasticSimulator(model, threads=1, **kw).run(seed=4)
    three = StochasticSimulator(model, threads=3, **kw).run(seed=4)
    assert np.array_equal(one.final_states, three.final_states)
    np.testing.assert_allclose(one.node_probabilities, three.node_probabilities, atol=1e-12)


def test_knock_out_pins_a_node_off_and_knock_in_pins_it_on():
    model = random_model(10, seed=2)
    sim = StochasticSimulator(model.perturbed(knock_out=["N3"], knock_in=["N4"]), samples=500,
                              max_time=5, time_tick=0.5)
    res = sim.run(seed=0)
    assert np.all(res.node_trajectory("N3") == 0.0)
    assert np.all(res.node_trajectory("N4") == 1.0)
    assert not res.final_states[:, 3].any() and res.final_states[:, 4].all()


def test_a_zero_up_factor_blocks_activation_and_the_model_is_unchanged_after():
    model = Model.from_rules({"A": "A", "B": "A"}, initial={"A": 1.0, "B": 0.0})
    with model.perturb(up_factor={"B": 0.0}):
        blocked = StochasticSimulator(model, samples=300, max_time=3, time_tick=1).run(seed=0)
    free = StochasticSimulator(model, samples=300, max_time=3, time_tick=1).run(seed=0)
    assert blocked.final["B"] == 0.0
    assert free.final["B"] > 0.8


def test_graded_inhibition_slows_activation_by_the_factor():
    # B turns ON at rate f (A is ON); window mean of 1 - exp(-f t) over [0, 1)
    model = Model.from_rules({"A": "A", "B": "A"}, initial={"A": 1.0, "B": 0.0})
    n = 20_000
    for f in (1.0, 0.3):
        res = StochasticSimulator(model.perturbed(up_factor={"B": f}), samples=n, max_time=1,
                                  time_tick=1).run(seed=9)
        expected = 1 - (1 - math.exp(-f)) / f
        assert abs(res.final["B"] - expected) <= binomial_tol(expected, n)


def test_joint_initial_states_are_sampled_jointly():
    from her2lab.boolnet import JointInitial

    model = Model(
        [Node("A", "A"), Node("B", "B")],
        joint_initial=[JointInitial(("A", "B"), ((0.25, (1, 0)), (0.75, (0, 1))))],
    )
    n = 20_000
    res = StochasticSimulator(model, samples=n, max_time=0.1, time_tick=0.1).run(seed=0)
    assert not (res.final_states[:, 0] & res.final_states[:, 1]).any()
    assert abs(res.final["A"] - 0.25) <= binomial_tol(0.25, n)


def test_state_probabilities_name_states_like_maboss():
    model = Model.from_rules({"A": "A", "B": "B"}, initial={"A": 1.0, "B": 0.0})
    res = StochasticSimulator(model, samples=10, max_time=1, time_tick=1).run(seed=0)
    assert res.final_state_probabilities == {"A": 1.0}
    both = Model.from_rules({"A": "A", "B": "B"}, initial=1.0)
    res = StochasticSimulator(both, samples=10, max_time=1, time_tick=1).run(seed=0)
    assert res.final_state_probabilities == {"A -- B": 1.0}
    off = Model.from_rules({"A": "A"}, initial=0.0)
    res = StochasticSimulator(off, samples=10, max_time=1, time_tick=1).run(seed=0)
    assert res.final_state_probabilities == {"<nil>": 1.0}


def test_to_frame_and_to_dict_have_one_row_or_value_per_window():
    model = random_model(6, seed=1)
    res = StochasticSimulator(model, samples=200, max_time=2, time_tick=0.5).run(seed=0)
    frame = res.to_frame()
    assert list(frame.columns) == model.node_names
    assert frame.index.name == "time" and len(frame) == 4
    assert res.to_frame("states").shape[0] == 4
    d = res.to_dict()
    assert set(d) == {"times", "nodes", "final", "states"}
    assert d["final"] == {n: v[-1] for n, v in d["nodes"].items()}


def test_more_than_64_nodes_are_simulated_on_several_words():
    # a chain N0 -> N1 -> ... -> N69 with N0 fixed ON: the last node can only turn ON late
    rules = {"N0": "N0"} | {f"N{i}": f"N{i - 1}" for i in range(1, 70)}
    model = Model.from_rules(rules, initial=0.0).perturbed(knock_in=["N0"])
    res = StochasticSimulator(model, samples=200, max_time=3, time_tick=1,
                              outputs=["N0", "N69"]).run(seed=0)
    assert res.final["N0"] == 1.0
    assert res.final["N1"] > 0.5
    assert res.final["N69"] == 0.0
    assert res.final_states.shape == (200, 70)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"samples": 0}, "'samples' parameter"),
        ({"max_time": -1.0}, "'max_time' parameter"),
        ({"time_tick": 0.0}, "'time_tick' parameter"),
        ({"threads": 0}, "'threads' parameter"),
        ({"outputs": "A"}, "'outputs' parameter"),
    ],
)
def test_bad_settings_raise_a_simulation_error_naming_the_parameter(kwargs, fragment):
    model = Model.from_rules({"A": "!A"})
    with pytest.raises(SimulationError, match=fragment):
        StochasticSimulator(model, **kwargs).run(seed=0)


def test_an_unknown_output_node_lists_the_valid_ones():
    model = Model.from_rules({"A": "!A"})
    with pytest.raises(UnknownIdError, match="expected one of: A"):
        StochasticSimulator(model, outputs=["B"]).run(seed=0)


def test_a_rate_that_turns_negative_is_reported():
    model = Model([Node("A", "A", rate_down="1 - 2 * A")])  # -1 while A is ON
    with pytest.raises(ModelDefinitionError, match="rate of node 'A'"):
        StochasticSimulator(model).run(seed=0)


def test_a_second_run_of_the_same_model_reuses_the_compiled_form():
    from her2lab.boolnet import _compile

    model = random_model(8, seed=21)
    StochasticSimulator(model, samples=10, max_time=1, time_tick=1).run(seed=0)
    first = _compile.compiled(model)
    assert _compile.compiled(model.copy()) is first


# ------------------------------------------------------------------ invariants (hypothesis)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    n_nodes=st.integers(2, 9),
    model_seed=st.integers(0, 10_000),
    seed=st.integers(0, 2**32),
    threads=st.integers(1, 3),
)
def test_probabilities_are_in_unit_interval_and_state_rows_sum_to_one(
    n_nodes, model_seed, seed, threads
):
    model = random_model(n_nodes, seed=model_seed, n_mutations=1)
    res = StochasticSimulator(model, samples=200, max_time=3, time_tick=0.5,
                              threads=threads).run(seed=seed)
    assert np.all((res.node_probabilities >= 0) & (res.node_probabilities <= 1))
    np.testing.assert_allclose(res.state_probabilities.sum(axis=1), 1.0, atol=1e-9)
    # a node's probability is the sum of the probabilities of the states where it is ON
    for k, node in enumerate(res.output_nodes):
        col = res.node_names.index(node)
        on = np.array([(int(key) >> k) & 1 for key in res.state_keys], dtype=bool)
        np.testing.assert_allclose(res.state_probabilities[:, on].sum(axis=1),
                                   res.node_probabilities[:, col], atol=1e-9)
    assert abs(sum(res.last_state_distribution().values()) - 1.0) < 1e-9


def test_rates_run_as_programs_give_the_same_trajectories_as_tables(monkeypatch):
    # nodes whose rate reads more than MAX_TABLE_INPUTS nodes run on the kernel's stack
    # machine; forcing every node onto it must not change a single trajectory
    from her2lab.boolnet import _compile

    model = random_model(12, seed=13, n_mutations=1)
    model.parameters["k"] = 1.5
    model.set_node(Node("N0", "N1 & !N2 | N3 ^ N4", rate_up="@logic ? $k * (N5 ? 2 : 0.5) : 0",
                        rate_down="@logic ? 0 : 1 + N6 / 2"))
    kw = dict(samples=500, max_time=4, time_tick=0.5)
    tables = StochasticSimulator(model, **kw).run(seed=3)
    monkeypatch.setattr(_compile, "MAX_TABLE_INPUTS", 0)
    monkeypatch.setattr(_compile, "_CACHE", type(_compile._CACHE)())
    assert _compile.compile_model(model).kind.all()
    programs = StochasticSimulator(model, **kw).run(seed=3)
    assert np.array_equal(tables.final_states, programs.final_states)
    np.testing.assert_allclose(tables.node_probabilities, programs.node_probabilities,
                               atol=1e-12)


def test_the_kernels_exponential_sampler_is_exponential():
    # Kolmogorov-Smirnov against Exp(1) on 200,000 draws of the ziggurat sampler; with a fixed
    # seed the statistic is deterministic, and 0.005 is ~2.2 times the 5% critical value
    # (1.36 / sqrt(200,000) = 0.003), a bound a wrong table (bias of ~1%) would exceed.
    from numba import njit
    from scipy import stats

    from her2lab.boolnet._kernel import _exponential

    @njit
    def draw(n):
        out = np.empty(n)
        st = np.uint64(0x1234ABCD)
        for i in range(n):
            e, st = _exponential(st)
            out[i] = e
        return out

    x = draw(200_000)
    assert stats.kstest(x, "expon").statistic < 0.005
    assert abs(x.mean() - 1.0) < 5 / np.sqrt(x.size)


def test_the_kernels_choice_point_is_the_high_half_of_the_128_bit_product():
    # floor(z n / 2**64), checked against Python's exact integers at the edges (0, 1, 2**64 - 1,
    # powers of two) and on random pairs; always below n, so the chosen point is in [0, n)
    from numba import njit

    from her2lab.boolnet._kernel import _mul_high

    @njit
    def high(a, b):
        out = np.empty(a.size, dtype=np.uint64)
        for i in range(a.size):
            out[i] = _mul_high(a[i], b[i])
        return out

    top = 2**64 - 1
    edges = [0, 1, 2, 2**32, 2**60, 2**63, top]
    pairs = [(a, b) for a in edges for b in edges]
    rng = np.random.default_rng(5)
    pairs += [(int(a), int(b)) for a, b in rng.integers(0, 2**64, size=(1000, 2),
                                                       dtype=np.uint64, endpoint=False)]
    a = np.array([p[0] for p in pairs], dtype=np.uint64)
    b = np.array([p[1] for p in pairs], dtype=np.uint64)
    got = [int(v) for v in high(a, b)]
    assert got == [(x * y) >> 64 for x, y in pairs]
    assert all(g < y for g, (_, y) in zip(got, pairs, strict=True) if y > 0)


@pytest.mark.parametrize("first", [True, False])
def test_a_node_reading_70_nodes_matches_its_closed_form(first):
    # Y = X0 & ... & X69, every X an input starting ON: Y starts OFF and turns ON at rate 1
    # (its down rate is 0 while the rule holds), so P(Y ON at t) = 1 - exp(-t). Its rate reads
    # 71 nodes over two 64-bit words (it was an OverflowError); Z reads Y and 69 others.
    xs = [f"X{i}" for i in range(70)]
    y = Node("Y", " & ".join(xs), initial=0.0)
    z = Node("Z", " | ".join(["Y", *xs[1:]]), initial=1.0)
    inputs = [Node(x, x, initial=1.0) for x in xs]
    model = Model([y, z, *inputs] if first else [*inputs, z, y])
    n = 4000
    res = StochasticSimulator(model, samples=n, max_time=2.0, time_tick=0.5).run(seed=2)
    expected = two_state_window_mean(1.0, 0.0, 0.5, np.arange(4))
    got = res.node_trajectory("Y")
    assert np.all(np.abs(got - expected) <= binomial_tol(expected, n))
    assert np.all(res.node_trajectory("Z") == 1.0)
