"""The link from response to hazard and probability: anchoring and the limiting Cox HR."""

from __future__ import annotations

import math

import numpy as np
import pytest

from her2lab.virtual_trials.analyze import cox_two_group
from her2lab.virtual_trials.link import (
    ResponseModel,
    anchor_intercept,
    anchor_scale,
    anchor_scale_from_rate,
    binary_rates,
    limiting_cox_log_hr,
    survival_curve,
)
from her2lab.virtual_trials.simulate import simulate_survival

W = np.array([0.2, 0.5, 0.3])
M = np.array([0.5, 1.0, 2.5])


@pytest.mark.parametrize("shape", [0.8, 1.0, 1.3])
def test_the_anchored_population_median_is_the_reported_median(shape):
    scale = anchor_scale(M, W, shape, 12.4)
    assert survival_curve(np.array([12.4]), M, W, shape, scale)[0] == pytest.approx(0.5)


def test_a_landmark_rate_anchors_the_scale():
    scale = anchor_scale_from_rate(M, W, 1.0, 48.0, 0.86)
    assert survival_curve(np.array([48.0]), M, W, 1.0, scale)[0] == pytest.approx(0.86)


@pytest.mark.parametrize("hr", [0.5, 0.78, 1.0, 1.4])
def test_limiting_cox_is_the_true_hr_when_hazards_are_proportional(hr):
    # a homogeneous population: proportional hazards hold, and the Cox estimate converges to
    # log(hr) whatever the censoring
    one = np.array([1.0])
    b = limiting_cox_log_hr(one * hr, one, one, shape=1.2, scale=10.0, accrual=24, follow_up=12)
    assert b == pytest.approx(math.log(hr), abs=2e-3)


def test_heterogeneity_attenuates_the_marginal_hr_towards_one():
    # the same conditional HR in every profile, but profiles differ in risk: the marginal
    # (unstratified) Cox HR lies between the conditional HR and 1 (non-collapsibility)
    b = limiting_cox_log_hr(M * 0.5, M, W, shape=1.0, scale=10.0, accrual=24, follow_up=120)
    assert math.log(0.5) < b < 0


def test_limiting_cox_matches_a_large_simulated_trial():
    # heterogeneous response to treatment: hazards are not proportional in the mixture
    ctrl = np.array([1.0, 1.0, 1.0])
    exp_ = np.array([0.2, 1.0, 1.3])
    kw = dict(shape=1.2, scale=8.0, accrual=24.0, follow_up=12.0)
    b = limiting_cox_log_hr(exp_, ctrl, W, **kw)
    rng = np.random.default_rng(7)
    n = 60_000
    idx = rng.choice(3, size=2 * n, p=W)
    mult = np.concatenate([exp_[idx[:n]], ctrl[idx[n:]]])
    t, e = simulate_survival(rng, mult, shape=1.2, scale=8.0, accrual_months=24.0,
                             follow_up_months=12.0, dropout_per_year=0.05)
    x = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    est, se = cox_two_group(t, e, x)
    assert abs(est - b) < 4 * se  # Monte Carlo error of the simulated estimate


def test_the_anchored_intercept_gives_the_reported_rate():
    r = np.array([0.2, 0.5, 0.8])
    a = anchor_intercept(r, W, 6.0, 0.295)
    assert binary_rates({"c": r}, W, 6.0, a)["c"] == pytest.approx(0.295)
    higher = binary_rates({"e": r + 0.1}, W, 6.0, a)["e"]
    assert higher > 0.295  # a better response means a higher rate for gamma > 0


def test_anchors_reject_rates_outside_zero_one():
    with pytest.raises(ValueError):
        anchor_intercept(np.array([0.5]), np.array([1.0]), 6.0, 1.3)
    with pytest.raises(ValueError):
        anchor_scale_from_rate(M, W, 1.0, 12.0, 0.0)


def test_responses_are_memoised(monkeypatch):
    calls = []

    class Fake:
        response = 0.5

    def fake_simulate(profile, regimen, **kw):
        calls.append((tuple(profile), tuple(regimen)))
        return Fake()

    import her2lab.pathway as pathway

    monkeypatch.setattr(pathway, "simulate", fake_simulate)
    rm = ResponseModel(samples=10)
    masks = np.array([0, 1, 0], dtype=np.uint16)
    assert rm.responses(masks, ("trastuzumab",)).tolist() == [0.5, 0.5, 0.5]
    rm.responses(masks, ("trastuzumab",))
    assert len(calls) == 2  # two distinct profiles, each simulated once
