"""Design: Schoenfeld's formula against published values; simulated power and sample size
against the formulas within simulation error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from her2lab.errors import SimulationError
from her2lab.virtual_trials.stats.design import (
    power_by_simulation,
    sample_size_by_simulation,
    schoenfeld_design,
    schoenfeld_events,
    schoenfeld_power,
    schoenfeld_sample_size,
    two_proportion_sample_size,
)
from her2lab.virtual_trials.stats.simulate import (
    event_probability,
    simulate_two_arm_binary,
    simulate_two_arm_survival,
    weibull_scale_from_median,
)


def exponential_trial(hr=0.7, **kw):
    return lambda rng, n: simulate_two_arm_survival(rng, n, hr=hr, control_median=12.0, **kw)


@pytest.mark.parametrize(
    ("kwargs", "events"),
    [
        # Schoenfeld (1983), Biometrics 39:499: HR 0.7, two-sided 0.05, 80% power, 1:1:
        # (1.95996 + 0.84162)^2 / (0.25 * log(0.7)^2) = 246.8 -> the familiar 247 events
        (dict(hr=0.7), 247),
        (dict(hr=1 / 0.7), 247),  # symmetric in log HR
        # (1.95996 + 1.28155)^2 / (0.25 * log(0.75)^2) = 507.8
        (dict(hr=0.75, power=0.9), 508),
        # 2:1 allocation: a(1 - a) = 2/9 instead of 1/4
        (dict(hr=0.7, allocation=2 / 3), 278),
        # one-sided 0.025 is two-sided 0.05
        (dict(hr=0.7, alpha=0.025, sided=1), 247),
    ],
)
def test_schoenfeld_events_match_published_worked_values(kwargs, events):
    assert schoenfeld_events(**kwargs) == events


def test_schoenfeld_power_inverts_the_events_formula():
    assert schoenfeld_power(0.7, 246.79) == pytest.approx(0.8, abs=1e-4)
    assert schoenfeld_power(0.7, 247) > 0.8 > schoenfeld_power(0.7, 246)


def test_schoenfeld_sample_size_divides_the_events_by_the_event_probability():
    assert schoenfeld_sample_size(0.7, 1.0) == 247
    assert schoenfeld_sample_size(0.7, 0.5) == 494  # 246.79 / 0.5 = 493.6


def test_a_schoenfeld_design_without_censoring_needs_as_many_patients_as_events():
    d = schoenfeld_design(0.7, control_median=12.0)
    assert (d.events, d.n_total, d.n_control, d.n_experimental) == (247, 247, 124, 124)
    assert d.event_probability == pytest.approx(1.0, abs=1e-6)


def test_a_schoenfeld_design_with_censoring_simulates_to_its_events_and_power():
    kw = dict(shape=1.3, accrual_months=24.0, follow_up_months=6.0, dropout_per_year=0.1)
    d = schoenfeld_design(0.7, control_median=12.0, **kw)
    assert 0.3 < d.event_probability < 0.9 and d.n_total > d.events
    est = power_by_simulation(exponential_trial(**kw), d.n_control, 1000,
                              rng=np.random.default_rng(5))
    # expected events: D / P * P = D, up to rounding the arms up
    sd = math.sqrt(d.n_total * d.event_probability * (1 - d.event_probability) / 1000)
    assert abs(est.mean_events - d.n_total * d.event_probability) < 4 * sd + 1
    assert abs(est.power - 0.8) < 4 * est.se


def test_two_proportion_sample_size_against_the_closed_form():
    # 30% vs 45%, 1:1: (1.95996 sqrt(2 * .375 * .625) + 0.84162 sqrt(.3 * .7 + .45 * .55))^2
    # / .15^2 = 162.33 per arm, 324.67 in all -> 325
    assert two_proportion_sample_size(0.3, 0.45) == 325


def test_simulated_power_agrees_with_schoenfeld_under_proportional_hazards():
    # 124 patients per arm, every event observed: 248 events, Schoenfeld power 0.802
    est = power_by_simulation(exponential_trial(), 124, 2000, rng=np.random.default_rng(1))
    assert est.mean_events == 248
    expected = schoenfeld_power(0.7, est.mean_events)
    assert abs(est.power - expected) < 4 * est.se
    assert est.se == pytest.approx(math.sqrt(est.power * (1 - est.power) / 2000))


def test_simulated_power_with_accrual_and_censoring_agrees_with_schoenfeld():
    kw = dict(shape=1.5, accrual_months=24.0, follow_up_months=12.0, dropout_per_year=0.05)
    est = power_by_simulation(exponential_trial(**kw), 200, 1500,
                              rng=np.random.default_rng(2))
    expected = schoenfeld_power(0.7, est.mean_events)
    assert abs(est.power - expected) < 4 * est.se
    # and the event count is the one the quadrature predicts
    scale = weibull_scale_from_median(12.0, 1.5)
    p = [event_probability(m, scale=scale, **kw) for m in (1.0, 0.7)]
    assert est.mean_events == pytest.approx(200 * sum(p), rel=0.02)


def test_simulated_sample_size_agrees_with_schoenfeld_within_simulation_error():
    res = sample_size_by_simulation(exponential_trial(), 0.8, replicates=1000,
                                    rng=np.random.default_rng(3))
    target = schoenfeld_events(0.7) / 2  # every event observed: n per arm = D / 2
    # power rises by dP/dn = phi(z_0.8) * |log HR| / (2 sqrt(2 n)) per patient at n = 124;
    # the power SE of 1000 replicates, sqrt(.8 * .2 / 1000), is worth SE / (dP/dn) patients
    slope = stats.norm.pdf(stats.norm.ppf(0.8)) * abs(math.log(0.7)) / (2 * math.sqrt(2 * target))
    tolerance = 4 * math.sqrt(0.8 * 0.2 / 1000) / slope
    assert abs(res.n_per_arm - target) < tolerance
    assert abs(res.at_n.power - 0.8) < 4 * res.at_n.se
    ns = [e.n_per_arm for e in res.evaluations]
    assert ns == sorted(ns) and res.n_per_arm in ns


def test_simulated_binary_power_agrees_with_the_normal_approximation():
    n = two_proportion_sample_size(0.3, 0.45) // 2
    sim = lambda rng, k: simulate_two_arm_binary(rng, k, p_control=0.3, p_experimental=0.45)  # noqa: E731
    est = power_by_simulation(sim, n, 1000, rng=np.random.default_rng(4))
    assert est.mean_events is None
    assert abs(est.power - 0.8) < 4 * est.se


def test_a_seed_fixes_the_simulated_power():
    a = power_by_simulation(exponential_trial(), 40, 100, rng=np.random.default_rng(9))
    b = power_by_simulation(exponential_trial(), 40, 100, rng=np.random.default_rng(9))
    assert a == b


def test_string_arm_labels_work_with_a_named_control():
    def sim(rng, n):
        t, e, arm = simulate_two_arm_survival(rng, n, hr=0.5, control_median=6.0)
        return t, e, np.where(arm == 1, "exp", "ctl")

    est = power_by_simulation(sim, 50, 50, rng=np.random.default_rng(0), control="ctl")
    assert est.power > 0.5


def test_a_simulator_with_three_arms_is_refused():
    def sim(rng, n):
        return np.ones(3), np.ones(3, bool), np.array([0, 1, 2])

    with pytest.raises(SimulationError, match="must return two arms"):
        power_by_simulation(sim, 1, 1, rng=np.random.default_rng(0))


def test_an_unreachable_power_says_so():
    with pytest.raises(SimulationError, match="not reached with n_max=64"):
        sample_size_by_simulation(exponential_trial(hr=0.99), 0.9, replicates=20,
                                  rng=np.random.default_rng(0), n_max=64)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [(dict(hr=1.0), "'hr' parameter"), (dict(hr=0.7, power=1.0), "'power' parameter"),
     (dict(hr=0.7, allocation=0.0), "'allocation'"), (dict(hr=0.7, sided=3), "'sided'")],
)
def test_bad_design_inputs_are_refused(kwargs, needle):
    with pytest.raises(SimulationError, match=needle):
        schoenfeld_events(**kwargs)
