"""Simulation: Weibull proportional hazards, accrual, censoring, dropout, binary draws.

Tolerances are Monte Carlo errors derived from the sample size (4 standard errors, so a correct
simulator fails about once in 16,000 checks); seeds are fixed and hypothesis is derandomised,
so a failure repeats.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.errors import SimulationError
from her2lab.virtual_trials.stats.analyze import cox_two_group, kaplan_meier
from her2lab.virtual_trials.stats.simulate import (
    dropout_rate,
    event_probability,
    population_median,
    simulate_binary,
    simulate_survival,
    simulate_two_arm_binary,
    simulate_two_arm_survival,
    weibull_median,
    weibull_scale_from_median,
)

SETTINGS = settings(derandomize=True, deadline=None, max_examples=25)
shapes = st.floats(0.5, 3.0)
medians = st.floats(2.0, 60.0)


@SETTINGS
@given(median=medians, shape=shapes, mult=st.floats(0.1, 10.0))
def test_median_and_scale_are_inverse_of_each_other(median, shape, mult):
    scale = weibull_scale_from_median(median, shape, mult)
    assert weibull_median(scale, shape, mult) == pytest.approx(median, rel=1e-12)
    # and the survival function is 1/2 there
    assert math.exp(-mult * (median / scale) ** shape) == pytest.approx(0.5, rel=1e-12)


@SETTINGS
@given(median=medians, shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_simulated_control_median_matches_the_target_within_monte_carlo_error(
    median, shape, seed
):
    n = 4000
    rng = np.random.default_rng(seed)
    time, event, arm = simulate_two_arm_survival(
        rng, (n, 1), hr=1.0, control_median=median, shape=shape)
    assert event.all()  # no censoring asked for
    observed = kaplan_meier(time[arm == 0], event[arm == 0]).median()
    # SE of a sample median: 1 / (2 f(m) sqrt(n)), with f(m) = h(m) S(m) = h(m) / 2
    scale = weibull_scale_from_median(median, shape)
    density = 0.5 * shape / scale * (median / scale) ** (shape - 1)
    se = 1 / (2 * density * math.sqrt(n))
    assert abs(observed - median) < 4 * se


@SETTINGS
@given(
    hr=st.floats(0.3, 2.0),
    shape=shapes,
    accrual=st.floats(0.0, 36.0),
    follow_up=st.floats(6.0, 48.0),
    dropout=st.floats(0.0, 0.3),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_simulated_trial_recovers_its_input_hazard_ratio_within_monte_carlo_error(
    hr, shape, accrual, follow_up, dropout, seed
):
    rng = np.random.default_rng(seed)
    time, event, arm = simulate_two_arm_survival(
        rng, 1500, hr=hr, control_median=12.0, shape=shape, accrual_months=accrual,
        follow_up_months=follow_up, dropout_per_year=dropout)
    log_hr, _ = cox_two_group(time, event, arm == 1)
    d0, d1 = int(event[arm == 0].sum()), int(event[arm == 1].sum())
    # SE(log HR) ~ sqrt(1/D0 + 1/D1); this is sqrt(4/D) when the arms have D/2 events each
    se = math.sqrt(1 / d0 + 1 / d1)
    assert abs(log_hr - math.log(hr)) < 4 * se


@SETTINGS
@given(
    mult=st.floats(0.2, 5.0),
    shape=shapes,
    accrual=st.floats(0.0, 36.0),
    follow_up=st.one_of(st.none(), st.floats(0.0, 48.0)),
    dropout=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_event_probability_matches_the_share_of_simulated_events(
    mult, shape, accrual, follow_up, dropout, seed
):
    n = 20_000
    scale = weibull_scale_from_median(12.0, shape)
    kw = dict(shape=shape, scale=scale, accrual_months=accrual, follow_up_months=follow_up,
              dropout_per_year=dropout)
    _, event = simulate_survival(np.random.default_rng(seed), np.full(n, mult), **kw)
    p = event_probability(mult, **kw)
    se = math.sqrt(max(p * (1 - p), 1e-4) / n)
    assert abs(event.mean() - p) < 4 * se + 1e-4


def test_no_patient_is_followed_past_the_analysis_date():
    rng = np.random.default_rng(7)
    accrual, follow_up = 24.0, 12.0
    time, event = simulate_survival(
        rng, np.ones(50_000), shape=1.0, scale=30.0, accrual_months=accrual,
        follow_up_months=follow_up, dropout_per_year=0.0)
    assert time.max() <= accrual + follow_up
    # every patient is followed at least `follow_up` months unless the event came first
    assert np.all(event | (time >= follow_up))
    assert (~event).any() and event.any()


def test_without_follow_up_or_dropout_every_event_is_observed():
    time, event = simulate_survival(
        np.random.default_rng(1), np.ones(1000), shape=2.0, scale=10.0, accrual_months=12,
        follow_up_months=None, dropout_per_year=0.0)
    assert event.all() and np.all(time > 0)


def test_dropout_per_year_is_the_share_lost_within_twelve_months():
    n = 100_000
    # events so rare that only dropout censors
    time, event = simulate_survival(
        np.random.default_rng(2), np.full(n, 1e-9), shape=1.0, scale=10.0, accrual_months=0,
        follow_up_months=None, dropout_per_year=0.2)
    assert not event.any()
    lost = np.mean(time <= 12.0)
    assert abs(lost - 0.2) < 4 * math.sqrt(0.2 * 0.8 / n)
    assert dropout_rate(0.0) == 0.0


def test_a_seed_fixes_the_simulation():
    kw = dict(hr=0.7, control_median=10.0, shape=1.2, accrual_months=12,
              follow_up_months=6, dropout_per_year=0.05)
    a = simulate_two_arm_survival(np.random.default_rng(11), 200, **kw)
    b = simulate_two_arm_survival(np.random.default_rng(11), 200, **kw)
    c = simulate_two_arm_survival(np.random.default_rng(12), 200, **kw)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


def test_two_arm_trials_list_the_control_arm_first_with_the_sizes_asked():
    time, event, arm = simulate_two_arm_survival(
        np.random.default_rng(0), (30, 70), hr=0.5, control_median=5.0)
    assert time.shape == event.shape == arm.shape == (100,)
    assert (arm[:30] == 0).all() and (arm[30:] == 1).all()


def test_the_population_median_of_one_profile_is_the_weibull_median():
    assert population_median(np.array([2.0]), None, shape=1.5, scale=10.0) == pytest.approx(
        weibull_median(10.0, 1.5, 2.0), rel=1e-9)


@SETTINGS
@given(
    mults=st.lists(st.floats(0.1, 10.0), min_size=1, max_size=6),
    shape=shapes,
    data=st.data(),
)
def test_the_population_median_halves_the_mixture_survival(mults, shape, data):
    weights = np.array(data.draw(st.lists(st.floats(0.01, 1.0), min_size=len(mults),
                                          max_size=len(mults))))
    m = np.array(mults)
    med = population_median(m, weights, shape=shape, scale=12.0)
    surv = np.dot(weights / weights.sum(), np.exp(-m * (med / 12.0) ** shape))
    assert surv == pytest.approx(0.5, abs=1e-9)


def test_binary_draws_have_the_asked_probability():
    n = 50_000
    success, arm = simulate_two_arm_binary(
        np.random.default_rng(5), n, p_control=0.2, p_experimental=0.45)
    for k, p in ((0, 0.2), (1, 0.45)):
        assert abs(success[arm == k].mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert simulate_binary(np.random.default_rng(0), np.array([0.0, 1.0])).tolist() == [
        False, True]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (dict(shape=0.0), "'shape' parameter must be a finite number > 0"),
        (dict(scale=-1.0), "'scale' parameter"),
        (dict(dropout_per_year=1.0), "'dropout_per_year' parameter must be a probability"),
        (dict(accrual_months=-1.0), "'accrual_months' parameter"),
        (dict(follow_up_months=math.nan), "'follow_up_months' parameter"),
        (dict(hazard_multiplier=np.array([1.0, 0.0])), "'hazard_multiplier' parameter"),
    ],
)
def test_bad_settings_are_refused_with_a_message_naming_the_parameter(kwargs, needle):
    args = dict(hazard_multiplier=np.ones(3), shape=1.0, scale=1.0, accrual_months=0.0,
                follow_up_months=None, dropout_per_year=0.0)
    args.update(kwargs)
    with pytest.raises(SimulationError, match=needle):
        simulate_survival(np.random.default_rng(0), **args)


def test_probabilities_outside_zero_one_are_refused():
    with pytest.raises(SimulationError, match="probabilities in \\[0, 1\\]"):
        simulate_binary(np.random.default_rng(0), np.array([0.5, 1.2]))
