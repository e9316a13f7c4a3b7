"""Integrated read-out nodes (``StochasticSimulator(integrate=...)``): a node no other node reads
has its P(ON) carried along each trajectory in closed form instead of being sampled. Its window
averages keep their expectation (checked against closed forms and against the sampled node of
the same run settings) and lose the variance of its own flips; the other nodes are untouched;
what cannot be integrated is refused, naming the node and why."""

from __future__ import annotations

import numpy as np
import pytest

from her2lab.boolnet import Model, Node, Overrides, StochasticSimulator
from her2lab.errors import SimulationError, UnknownIdError

Z = 5.0  # tolerances: Z binomial standard errors over the samples


def binomial_tol(p, n: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return Z * np.sqrt(np.maximum(p * (1 - p), 1.0 / n) / n)


def two_state_window_mean(a: float, b: float, dt: float, k: np.ndarray) -> np.ndarray:
    """Mean over [k dt, (k+1) dt) of P(ON) for a node flipping up at rate a and down at rate
    b, starting OFF (the formula of tests/boolnet/test_stochastic.py)."""
    lam = a + b
    t0, t1 = k * dt, (k + 1) * dt
    return a / lam * (1 - (np.exp(-lam * t0) - np.exp(-lam * t1)) / (lam * dt))


def _sim(model: Model, *, integrate=(), samples=2000, **kw) -> StochasticSimulator:
    opts = dict(samples=samples, max_time=3.0, time_tick=0.25, keep_final_states=False,
                outputs=[], integrate=list(integrate))
    opts.update(kw)
    return StochasticSimulator(model, **opts)


def test_an_undriven_two_state_node_integrates_to_its_closed_form_exactly():
    # no other node: every trajectory carries the same P(ON), so the result is the closed form
    # to rounding, whatever the samples and the seed (no Monte Carlo error at all)
    a, b = 0.7, 1.8
    model = Model([Node("X", "X", rate_up=str(a), rate_down=str(b), initial=0.0)])
    expected = two_state_window_mean(a, b, 0.25, np.arange(12))
    for seed, n in ((1, 3), (2, 50)):
        got = _sim(model, integrate=["X"], samples=n).run(seed=seed).node_trajectory("X")
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def _driven() -> Model:
    # D is absorbing with hazard 0.9 while A is ON; A flips on and off at rates 0.6 and 1.1;
    # B reads A (so the other nodes' paths are not trivial) and nothing reads D
    return Model([
        Node("A", "A", rate_up="0.6", rate_down="1.1", initial=0.3),
        Node("B", "A", rate_up="@logic ? 2 : 0", rate_down="@logic ? 0 : 2", initial=0.0),
        Node("D", "(A & !B) | D", rate_up="@logic ? 0.9 : 0", rate_down="0", initial=0.05),
    ])


def test_an_integrated_sink_has_the_sampled_expectation_and_a_smaller_variance():
    model = _driven()
    n = 20_000
    sampled = _sim(model, samples=n).run(seed=4)
    integ = _sim(model, integrate=["D"], samples=n).run(seed=4)
    ps, pi = sampled.node_trajectory("D"), integ.node_trajectory("D")
    # the two estimators of one expectation, each within its binomial bound
    assert np.all(np.abs(ps - pi) <= np.sqrt(2) * binomial_tol(ps, n))
    # the nodes it does not touch follow the full chain's law (their trajectories differ only
    # because D's flips no longer draw from the streams)
    for node in ("A", "B"):
        assert np.all(np.abs(sampled.node_trajectory(node) - integ.node_trajectory(node))
                      <= np.sqrt(2) * binomial_tol(sampled.node_trajectory(node), n))
    # variance over seeds, at a small sample: the integrated one is smaller (Rao-Blackwell)
    small = 200
    runs = {k: np.array([_sim(model, integrate=k, samples=small).run(seed=s)
                         .node_trajectory("D")[-1] for s in range(40)]) for k in ((), ("D",))}
    assert runs[("D",)].var(ddof=1) < runs[()].var(ddof=1)
    # and no flip of D is simulated
    assert integ.n_transitions < sampled.n_transitions


def test_a_forced_integrated_node_keeps_its_forced_value():
    model = _driven()
    sim = _sim(model, integrate=["D"], samples=100)
    on = sim.run(seed=1, overrides=Overrides(fixed={"D": True})).node_trajectory("D")
    off = sim.run(seed=1, overrides=Overrides(fixed={"D": False})).node_trajectory("D")
    np.testing.assert_allclose(on, 1.0)
    np.testing.assert_allclose(off, 0.0)


def test_a_batch_of_integrated_runs_equals_each_run_alone():
    model = _driven()
    sim = _sim(model, integrate=["D"], samples=500)
    sets = [Overrides(initial={"A": 0.1}), None, Overrides(initial={"D": 0.5})]
    batch = sim.run_batch(sets, seeds=[3, 4, 5])
    for ov, seed, got in zip(sets, (3, 4, 5), batch, strict=True):
        alone = sim.run(seed=seed, overrides=ov)
        np.testing.assert_allclose(got.node_probabilities, alone.node_probabilities,
                                   rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("node", "kw", "words"), [
    ("A", {}, ["'A'", "read by B, D"]),
    ("D", {"keep_final_states": True}, ["keep_final_states=False"]),
    ("D", {"discrete_time": True}, ["continuous time"]),
    ("D", {"outputs": ["D"]}, ["'D'", "output node"]),
])
def test_what_cannot_be_integrated_is_refused_naming_the_node_and_why(node, kw, words):
    with pytest.raises(SimulationError) as exc:
        _sim(_driven(), integrate=[node], **kw).run(seed=0)
    for w in words:
        assert w in str(exc.value)


def test_an_unknown_integrated_node_and_a_string_are_refused():
    with pytest.raises(UnknownIdError):
        _sim(_driven(), integrate=["Nope"]).run(seed=0)
    with pytest.raises(SimulationError, match="list of node names"):
        StochasticSimulator(_driven(), samples=10, outputs=[], keep_final_states=False,
                            integrate="D").run(seed=0)
