"""Analysis: Kaplan–Meier, Cox, log-rank against lifelines; binary statistics against their
closed forms; the JSON shape of the interface; replicate summaries."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times
from scipy import stats

from her2lab.errors import SimulationError
from her2lab.virtual_trials.stats.analyze import (
    analyze_binary,
    analyze_survival,
    cox_two_group,
    kaplan_meier,
    logrank_two_group,
    summarize_replicates,
)
from her2lab.virtual_trials.stats.simulate import simulate_two_arm_binary, simulate_two_arm_survival

SETTINGS = settings(derandomize=True, deadline=None, max_examples=30)
Z = stats.norm.ppf(0.975)


@st.composite
def survival_data(draw, min_size=2, max_size=60):
    """Small data sets with ties (integer times) and censoring, both groups non-empty."""
    n = draw(st.integers(min_size, max_size))
    time = np.array(draw(st.lists(st.integers(1, 15), min_size=n, max_size=n)), dtype=float)
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    group = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    group[0], group[-1] = False, True
    return time, event, group


def trial(seed=1, n=300, hr=0.7, **kw):
    args = dict(hr=hr, control_median=12.0, shape=1.2, accrual_months=18.0,
                follow_up_months=12.0, dropout_per_year=0.05)
    args.update(kw)
    return simulate_two_arm_survival(np.random.default_rng(seed), n, **args)


# --------------------------------------------------------------------------- Kaplan–Meier


@SETTINGS
@given(survival_data(min_size=1))
def test_kaplan_meier_curves_never_increase_and_their_bands_hold_the_estimate(data):
    time, event, _ = data
    km = kaplan_meier(time, event)
    assert np.all(np.diff(km.survival) <= 0)
    assert np.all(np.diff(km.times) > 0) and km.times[0] == 0.0
    assert np.all((km.survival >= 0) & (km.survival <= 1))
    assert np.all(km.ci_low <= km.survival + 1e-12)
    assert np.all(km.survival <= km.ci_high + 1e-12)


@SETTINGS
@given(survival_data(min_size=1))
def test_kaplan_meier_equals_lifelines_at_every_time(data):
    time, event, _ = data
    km = kaplan_meier(time, event)
    ref = KaplanMeierFitter().fit(time, event)
    np.testing.assert_allclose(km.times, ref.survival_function_.index.to_numpy())
    np.testing.assert_allclose(km.survival, ref.survival_function_.to_numpy().ravel(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(km.ci_low, ref.confidence_interval_.iloc[:, 0], atol=1e-12)
    np.testing.assert_allclose(km.ci_high, ref.confidence_interval_.iloc[:, 1], atol=1e-12)
    med, lo, hi = km.quantile_time(0.5)
    assert med == ref.median_survival_time_
    ref_ci = median_survival_times(ref.confidence_interval_).to_numpy().ravel()
    assert (lo, hi) == (ref_ci[0], ref_ci[1])


def test_kaplan_meier_at_reads_the_step_holding_at_a_time():
    km = kaplan_meier(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, True, False, True]))
    assert km.at(0.5) == 1.0
    assert km.at(1.0) == pytest.approx(0.75)
    assert km.at(2.5) == pytest.approx(0.5)
    assert km.at(10.0) == 0.0


# --------------------------------------------------------------------------- Cox, log-rank


@SETTINGS
@given(survival_data(min_size=8))
def test_the_numpy_cox_fit_equals_lifelines_with_tied_times(data):
    time, event, group = data
    if not event[group].any() or not event[~group].any():
        assert math.isnan(cox_two_group(time, event, group)[0])
        return
    df = pd.DataFrame({"t": time, "e": event.astype(int), "x": group.astype(float)})
    try:
        with np.errstate(all="ignore"):
            ref = CoxPHFitter().fit(df, "t", "e")
    except (ConvergenceWarning, ConvergenceError):
        return  # lifelines distrusts its own fit on (nearly) separated data: nothing to compare
    beta, se = cox_two_group(time, event, group)
    # lifelines stops its Newton steps at a looser tolerance than ours (on near-separated
    # data its estimate can lie 1e-4 below the maximum); both are the MLE far within the SE
    assert abs(beta - ref.params_["x"]) < 1e-3 * se
    assert se == pytest.approx(ref.standard_errors_["x"], rel=1e-3)


@SETTINGS
@given(survival_data(min_size=2))
def test_the_numpy_log_rank_test_equals_lifelines(data):
    time, event, group = data
    stat, p = logrank_two_group(time, event, group)
    with np.errstate(all="ignore"):
        ref = logrank_test(time[~group], time[group], event[~group], event[group])
    if not event.any():
        assert p == 1.0
        return
    assert stat == pytest.approx(ref.test_statistic, rel=1e-9, abs=1e-12)
    assert p == pytest.approx(ref.p_value, rel=1e-9, abs=1e-12)


def test_cox_on_a_simulated_trial_equals_lifelines_to_six_digits():
    time, event, arm = trial(seed=3, n=500)
    df = pd.DataFrame({"t": time, "e": event.astype(int), "x": (arm == 1).astype(float)})
    ref = CoxPHFitter().fit(df, "t", "e")
    beta, se = cox_two_group(time, event, arm == 1)
    assert beta == pytest.approx(ref.params_["x"], abs=1e-6)
    assert se == pytest.approx(ref.standard_errors_["x"], rel=1e-6)


def test_the_two_engines_give_the_same_analysis():
    time, event, arm = trial(seed=4, n=400)
    a = analyze_survival(time, event, arm, control=0, landmark_months=12, engine="lifelines")
    b = analyze_survival(time, event, arm, control=0, landmark_months=12, engine="numpy")
    assert (a.engine, b.engine) == ("lifelines", "numpy")

    def close(x, y):
        if isinstance(x, dict):
            assert x.keys() == y.keys()
            for k in x:
                close(x[k], y[k])
        elif isinstance(x, list):
            for u, v in zip(x, y, strict=True):
                close(u, v)
        elif isinstance(x, float):
            assert x == pytest.approx(y, rel=1e-6)
        else:
            assert x == y

    close(a.to_dict(), b.to_dict())


# --------------------------------------------------------------------------- analyze_survival


def test_a_survival_analysis_has_the_interface_json_shape():
    time, event, arm = trial(seed=5)
    labels = np.where(arm == 1, "experimental", "control")
    res = analyze_survival(time, event, labels, control="control", landmark_months=12)
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert [a["name"] for a in d["arms"]] == ["control", "experimental"]
    for a in d["arms"]:
        assert {"n", "events", "median", "ci_low", "ci_high", "landmark"} <= a.keys()
        assert a["n"] == 300 and 0 < a["events"] <= 300
        assert a["ci_low"] <= a["median"] <= a["ci_high"]
        assert a["landmark"]["ci_low"] <= a["landmark"]["rate"] <= a["landmark"]["ci_high"]
    eff = d["effect"]
    assert eff["measure"] == "HR" and eff["arm"] == "experimental"
    assert eff["ci_low"] < eff["estimate"] < eff["ci_high"]
    assert 0 <= eff["p"] <= 1 and eff["test"] == "log-rank"
    assert d["effects"] == [eff]


def test_the_hazard_ratio_ci_is_the_wald_interval_of_the_cox_fit():
    time, event, arm = trial(seed=6)
    res = analyze_survival(time, event, arm, control=0, engine="numpy")
    beta, se = cox_two_group(time, event, arm == 1)
    assert math.log(res.effect.estimate) == pytest.approx(beta)
    assert math.log(res.effect.ci_low) == pytest.approx(beta - Z * se)
    assert math.log(res.effect.ci_high) == pytest.approx(beta + Z * se)


def test_each_experimental_arm_is_compared_with_the_control_on_their_patients_only():
    t1, e1, a1 = trial(seed=7, n=200, hr=0.5)
    t2, e2, _ = trial(seed=8, n=200, hr=1.0)
    time = np.concatenate([t1, t2[200:]])
    event = np.concatenate([e1, e2[200:]])
    arm = np.concatenate([np.where(a1 == 1, "A", "ctl"), np.full(200, "B")])
    res = analyze_survival(time, event, arm, control="ctl")
    assert [e.arm for e in res.effects] == ["A", "B"]
    pair = analyze_survival(time[arm != "B"], event[arm != "B"], arm[arm != "B"],
                            control="ctl")
    assert res.effects[0] == pair.effect
    assert res.effects[0].estimate < res.effects[1].estimate


def test_a_median_not_reached_is_null_in_json():
    time, event, arm = trial(seed=9, n=100, hr=0.1, follow_up_months=1.0, accrual_months=1.0)
    d = analyze_survival(time, event, arm, control=0).to_dict()
    assert d["arms"][1]["median"] is None and d["arms"][1]["ci_high"] is None


@pytest.mark.parametrize("engine", ["lifelines", "numpy"])
def test_an_arm_without_events_gives_a_null_hazard_ratio_and_no_warning(engine):
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    event = np.array([True, True, True, False, False, False])
    arm = np.array([0, 0, 0, 1, 1, 1])
    res = analyze_survival(time, event, arm, control=0, engine=engine)
    assert res.to_dict()["effect"]["estimate"] is None
    assert 0 < res.effect.p < 1


@pytest.mark.parametrize("engine", ["lifelines", "numpy"])
def test_arms_separated_by_their_events_give_a_null_hazard_ratio_and_no_warning(engine):
    time = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 11.0, 12.0, 13.0])
    arm = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    res = analyze_survival(time, np.ones(8, bool), arm, control=0, engine=engine)
    assert res.to_dict()["effect"]["estimate"] is None
    with np.errstate(all="ignore"):
        ref = logrank_test(time[arm == 0], time[arm == 1])
    assert res.effect.p == pytest.approx(ref.p_value)


def test_an_unknown_control_is_refused_naming_the_arms():
    time, event, arm = trial(seed=1, n=10)
    with pytest.raises(SimulationError, match=r"must name one of the arms \['0', '1'\]"):
        analyze_survival(time, event, arm, control="placebo")


# --------------------------------------------------------------------------- binary


def wilson(k, n, z=Z):
    """Wilson's score interval in closed form (Wilson 1927; Agresti & Coull 1998, eq. 2)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@SETTINGS
@given(n=st.integers(1, 500), data=st.data())
def test_binary_rates_carry_the_wilson_interval_of_the_closed_form(n, data):
    k = data.draw(st.integers(0, n))
    success = np.r_[np.arange(n) < k, [True, False]]
    arm = np.r_[np.zeros(n, int), [1, 1]]
    res = analyze_binary(success, arm, control=0)
    a = res.arm("0")
    lo, hi = wilson(k, n)
    assert (a.n, a.successes, a.rate) == (n, k, k / n)
    assert a.ci_low == pytest.approx(lo, abs=1e-12)
    assert a.ci_high == pytest.approx(hi, abs=1e-12)


def test_odds_ratio_difference_and_chi_square_against_their_formulas():
    # NOAH-like counts: 43/112 vs 22/116
    s1, n1, s0, n0 = 43, 112, 22, 116
    success = np.r_[np.arange(n0) < s0, np.arange(n1) < s1]
    arm = np.r_[np.full(n0, "ctl"), np.full(n1, "exp")]
    res = analyze_binary(success, arm, control="ctl", measure="OR")
    odds = res.effect
    assert odds.measure == "OR"
    a, b, c, d = s1, n1 - s1, s0, n0 - s0
    assert odds.estimate == pytest.approx(a * d / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)  # Woolf
    assert odds.ci_low == pytest.approx(a * d / (b * c) * math.exp(-Z * se))
    assert odds.ci_high == pytest.approx(a * d / (b * c) * math.exp(Z * se))
    # Pearson chi-square without continuity correction
    p1, p0, pp = s1 / n1, s0 / n0, (s1 + s0) / (n1 + n0)
    chi2 = (p1 - p0) ** 2 / (pp * (1 - pp) * (1 / n1 + 1 / n0))
    assert odds.p == pytest.approx(stats.chi2.sf(chi2, 1)) and odds.test == "chi-square"
    # Newcombe's hybrid score interval (method 10) from the two Wilson intervals
    diff = next(e for e in res.effects if e.measure == "difference")
    l1, u1 = wilson(s1, n1)
    l0, u0 = wilson(s0, n0)
    assert diff.estimate == pytest.approx(p1 - p0)
    assert diff.ci_low == pytest.approx(p1 - p0 - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2))
    assert diff.ci_high == pytest.approx(p1 - p0 + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2))


def test_small_tables_use_fisher_and_empty_cells_get_half_a_patient():
    success = np.array([True, True, True, False, False, False, False, False])
    arm = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    res = analyze_binary(success, arm, control=0, measure="OR")
    assert res.effect.test == "Fisher exact"
    assert res.effect.p == pytest.approx(stats.fisher_exact([[3, 1], [0, 4]])[1])
    assert res.effect.estimate == pytest.approx((3.5 * 4.5) / (1.5 * 0.5))


def test_a_binary_analysis_has_the_interface_json_shape():
    success, arm = simulate_two_arm_binary(np.random.default_rng(2), 150, p_control=0.25,
                                           p_experimental=0.4)
    d = json.loads(json.dumps(analyze_binary(success, arm, control=0).to_dict(),
                              allow_nan=False))
    assert d["endpoint_kind"] == "binary"
    for a in d["arms"]:
        assert {"name", "n", "successes", "rate", "ci_low", "ci_high"} == a.keys()
    assert d["effect"]["measure"] == "difference"
    assert {e["measure"] for e in d["effects"]} == {"difference", "OR"}
    assert {"measure", "estimate", "ci_low", "ci_high", "p"} <= d["effect"].keys()


# --------------------------------------------------------------------------- replicates


def test_replicate_summaries_give_each_statistic_and_the_power():
    analyses = [analyze_survival(*trial(seed=s, n=150, hr=0.6)[:2], trial(seed=s, n=150)[2],
                                 control=0, engine="numpy", landmark_months=12)
                for s in range(40)]
    summary = summarize_replicates(analyses, alpha=0.05)
    p = np.array([a.effect.p for a in analyses])
    assert summary.replicates == 40
    assert summary.power == pytest.approx(np.mean(p < 0.05))
    assert summary.power_se == pytest.approx(math.sqrt(summary.power * (1 - summary.power) / 40))
    est = summary.statistics["effect.estimate"]
    values = np.array([a.effect.estimate for a in analyses])
    assert est.mean == pytest.approx(values.mean())
    assert est.p2_5 == pytest.approx(np.percentile(values, 2.5))
    assert est.p97_5 == pytest.approx(np.percentile(values, 97.5))
    assert {"arms.0.median", "arms.1.events", "arms.1.landmark_rate", "effect.p"} <= set(
        summary.statistics)
    json.dumps(summary.to_dict(), allow_nan=False)


def test_missing_values_are_counted_not_averaged():
    time = np.array([1.0, 2.0, 3.0, 4.0])
    analyses = [analyze_survival(time, np.array([True, True, False, False]),
                                 np.array([0, 0, 1, 1]), control=0)] * 3
    s = summarize_replicates(analyses)
    assert s.statistics["effect.estimate"].missing == 3
    assert s.statistics["effect.estimate"].n == 0
    assert s.to_dict()["statistics"]["effect.estimate"]["mean"] is None
