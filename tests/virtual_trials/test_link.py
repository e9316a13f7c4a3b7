"""The tumor-burden link: burden over a schedule, pCR, progression, cure, OS, the Cox limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from her2lab.virtual_trials import link
from her2lab.virtual_trials.link import (
    KINETICS,
    Anchor,
    ArmKinetics,
    arm_curves,
    expected_effects,
    limiting_cox_from_curves,
    limiting_cox_log_hr,
    log_burden_end,
    log_burden_grid,
    mixture_curves,
    progression_times,
)
from her2lab.virtual_trials.stats.analyze import cox_two_group
from her2lab.virtual_trials.stats.simulate import simulate_survival

W = np.array([0.2, 0.5, 0.3])
M = np.array([0.5, 1.0, 2.5])


def kin(kill, months=(3.0,), growth=0.2, lam=0.2, w=W):
    kill = np.atleast_2d(np.asarray(kill, dtype=float))
    n = kill.shape[1]
    return ArmKinetics(np.asarray(w, float)[:n] / np.sum(np.asarray(w, float)[:n]),
                       np.full_like(kill, growth), kill, tuple(months), np.full(n, growth), lam)


@pytest.mark.parametrize("hr", [0.5, 0.78, 1.0, 1.4])
def test_limiting_cox_is_the_true_hr_when_hazards_are_proportional(hr):
    one = np.array([1.0])
    b = limiting_cox_log_hr(one * hr, one, one, shape=1.2, scale=10.0, accrual=24, follow_up=12)
    assert b == pytest.approx(math.log(hr), abs=2e-3)


def test_heterogeneity_attenuates_the_marginal_hr_towards_one():
    # non-collapsibility: the same conditional HR in every profile, a marginal HR nearer 1
    b = limiting_cox_log_hr(M * 0.5, M, W, shape=1.0, scale=10.0, accrual=24, follow_up=120)
    assert math.log(0.5) < b < 0


def test_limiting_cox_matches_a_large_simulated_trial():
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
    est, se = cox_two_group(t, e, np.r_[np.ones(n, bool), np.zeros(n, bool)])
    assert abs(est - b) < 4 * se  # Monte Carlo error of the simulated estimate


def test_the_log_burden_of_one_phase_has_the_closed_form():
    k = kin([[1.5, 0.5]], months=(4.0,), growth=0.2, lam=0.25)
    expect = 0.2 * 4 - np.array([1.5, 0.5]) / 0.25 * (1 - math.exp(-0.25 * 4))
    assert log_burden_end(k) == pytest.approx(expect)


def test_the_burden_grid_is_continuous_across_phases_and_ends_at_the_closed_form():
    k = kin([[1.0], [2.0]], months=(1.5, 2.5))
    t = np.linspace(0.01, 4.0, 4000)
    ly = log_burden_grid(k, t)[0]
    assert np.max(np.abs(np.diff(ly))) < 0.01  # no jump at the phase boundary
    assert ly[-1] == pytest.approx(log_burden_end(k)[0], abs=1e-6)


def test_without_kill_progression_is_the_recist_growth_time():
    k = kin([[0.0]], months=(math.inf,), growth=0.2)
    t, depth = progression_times(k)
    assert t[0] == pytest.approx(math.log(KINETICS["progression_volume"].value) / 0.2, rel=1e-3)
    assert depth[0] == 0.0


def test_more_kill_means_a_later_progression_and_a_deeper_nadir():
    k = kin([[0.5, 1.0, 2.0]], months=(math.inf,))
    t, depth = progression_times(k)
    assert np.all(np.diff(t) > 0) and np.all(np.diff(depth) > 0)


def test_pcr_is_anchored_on_the_control_and_rises_with_kill():
    arms = {"c": kin([[1.0, 1.2, 1.4]]), "e": kin([[1.3, 1.5, 1.7]])}
    out = arm_curves(arms, "c", "pCR", Anchor("binary", 0.29), horizon=60, early=True)
    assert out["c"].rate == pytest.approx(0.29, abs=1e-6)
    assert out["e"].rate > 0.29
    assert np.all((out["e"].prob >= 0) & (out["e"].prob <= 1))


def test_orr_is_anchored_on_the_control():
    arms = {"c": kin([[0.6, 0.8, 1.0]], months=(math.inf,)),
            "e": kin([[0.9, 1.1, 1.3]], months=(math.inf,))}
    out = arm_curves(arms, "c", "ORR", Anchor("binary", 0.4), horizon=60, early=False)
    assert out["c"].rate == pytest.approx(0.4, abs=1e-6) and out["e"].rate > 0.4


def test_a_metastatic_control_passes_through_its_median_and_the_better_arm_has_hr_below_one():
    arms = {"c": kin([[0.5, 0.7, 0.9]], months=(math.inf,)),
            "e": kin([[0.7, 0.9, 1.1]], months=(math.inf,))}
    out = arm_curves(arms, "c", "PFS", Anchor("median", 12.4), horizon=80, early=False)
    assert out["c"].curves.median() == pytest.approx(12.4, rel=5e-3)
    (e,) = expected_effects(out, "c", "PFS", accrual=24, follow_up=12, dropout_per_year=0.05)
    assert e.measure == "HR" and 0.3 < e.estimate < 1.0


def _os_and_pfs_hr():
    arms = {"c": kin([[0.5, 0.7, 0.9]], months=(math.inf,)),
            "e": kin([[0.7, 0.9, 1.1]], months=(math.inf,))}
    kw = dict(accrual=24, follow_up=24, dropout_per_year=0.05)
    pfs = arm_curves(arms, "c", "PFS", Anchor("median", 12.0), horizon=200, early=False)
    os_ = arm_curves(arms, "c", "OS", Anchor("median", 36.0, pfs=Anchor("median", 12.0)),
                     horizon=200, early=False)
    # the anchor counts progressions as the OS curve does: the control passes through it
    assert os_["c"].curves.median() == pytest.approx(36.0, rel=1e-3)
    landmark = arm_curves(arms, "c", "OS", Anchor("rate", 0.7, time=25.0,
                                                  pfs=Anchor("median", 12.0)),
                          horizon=80, early=False)
    assert landmark["c"].curves.at(25.0) == pytest.approx(0.7, abs=1e-3)
    return (os_, expected_effects(pfs, "c", "PFS", **kw)[0].estimate,
            expected_effects(os_, "c", "OS", **kw)[0].estimate)


def test_post_progression_survival_is_longer_after_a_deeper_nadir():
    # the burden at progression is the nadir times the progression volume: a deeper nadir
    # leaves more room to the lethal burden, so the better arm's types live longer after it
    os_, _, hr_os = _os_and_pfs_hr()
    assert np.all(os_["e"].pps_median > os_["c"].pps_median)
    assert hr_os < 1.0


def test_os_is_diluted_when_post_progression_survival_hardly_depends_on_the_nadir(monkeypatch):
    # a lethal burden far above the burden at progression: post-progression survival is about
    # the same in both arms, and later lines dilute the first line's difference
    monkeypatch.setitem(link.KINETICS, "lethal_log_ratio", link.Constant(200.0, "test"))
    _, hr_pfs, hr_os = _os_and_pfs_hr()
    assert hr_pfs < hr_os < 1.0


def test_early_disease_is_anchored_on_its_landmark_and_cure_dilutes_the_hazard_ratio():
    arms = {"c": kin([[0.8, 1.0, 1.2]], months=(12.0,)),
            "e": kin([[0.9, 1.1, 1.3]], months=(12.0,))}
    out = arm_curves(arms, "c", "DFS", Anchor("rate", 0.86, 48.0), horizon=120, early=True)
    assert out["c"].curves.at(48.0) == pytest.approx(0.86, abs=2e-3)
    assert np.all(out["e"].cure >= out["c"].cure)
    (e,) = expected_effects(out, "c", "DFS", accrual=42, follow_up=48, dropout_per_year=0.02)
    assert 0.3 < e.estimate < 1.0


def _adjuvant_hr() -> float:
    arms = {"c": kin([[0.8, 1.0, 1.2]], months=(12.0,)),
            "e": kin([[0.9, 1.1, 1.3]], months=(12.0,))}
    out = arm_curves(arms, "c", "DFS", Anchor("rate", 0.86, 48.0), horizon=120, early=True)
    assert out["c"].curves.at(48.0) == pytest.approx(0.86, abs=2e-3)
    # the patients' weights sum to one over types and burden nodes
    assert out["e"].weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert out["e"].weights.size == out["e"].cure.size == out["e"].median.size
    (e,) = expected_effects(out, "c", "DFS", accrual=42, follow_up=48, dropout_per_year=0.02)
    return e.estimate


def test_the_micrometastatic_burden_spreads_by_its_stated_sd_between_patients():
    arms = {"c": kin([[0.8, 1.0, 1.2]], months=(12.0,)),
            "e": kin([[0.9, 1.1, 1.3]], months=(12.0,))}
    out = arm_curves(arms, "c", "DFS", Anchor("rate", 0.86, 48.0), horizon=120, early=True)
    o = out["c"]
    k = link.MICROMET_POINTS
    z, wz = link.chemo_nodes(k)
    assert o.weights.size == o.cure.size == o.median.size == 3 * k
    assert np.allclose(o.weights.reshape(3, k), np.outer(arms["c"].weights, wz), atol=1e-15)
    # cure = exp(-N y): log(-log cure) is the log residual burden, type + sd * node
    cured = (o.cure > 1e-12) & (o.cure < 1 - 1e-12)
    log_res = np.where(cured, np.log(-np.log(np.where(cured, o.cure, 0.5))), np.nan)
    log_res = log_res.reshape(3, k)
    sd = link.KINETICS["micromet_sd"].value
    pairs = 0
    for row in log_res:
        i = np.nonzero(np.isfinite(row))[0]
        if i.size >= 2:
            assert np.allclose(np.diff(row[i]), sd * np.diff(z[i]), atol=1e-6)
            pairs += i.size - 1
    assert pairs >= 3
    # the population curve is the weighted mixture of the patients' curves
    assert _adjuvant_hr() < 1.0


def test_the_limiting_cox_from_curves_is_symmetric_in_the_arms():
    t = np.linspace(0.1, 60, 300)
    a = mixture_curves(t, W, np.array([6.0, 10.0, 20.0]))
    b = mixture_curves(t, W, np.array([8.0, 14.0, 26.0]))
    kw = dict(accrual=24.0, follow_up=12.0)
    ab = limiting_cox_from_curves(t, b.S, b.f, a.S, a.f, **kw)
    ba = limiting_cox_from_curves(t, a.S, a.f, b.S, b.f, **kw)
    assert ab == pytest.approx(-ba, abs=1e-6) and ab < 0


def test_os_curves_are_progression_then_post_progression_survival_convolved():
    # the frequency-domain sum over types equals, to rounding, each type's direct discrete
    # convolution of its progression mass with the survival (density) of the time since
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 120.0, 301)[1:]
    w = rng.dirichlet(np.ones(40))
    w[::5] = 0.0  # types of weight 0 are skipped
    pfs, pps = rng.uniform(2.0, 30.0, 40), rng.uniform(3.0, 40.0, 40)
    got = link.os_curves(t, w, pfs, pps)
    s_p, _ = link._lognormal_sf(t, pfs, link.KINETICS["kinetic_sd"].value)
    sf, pdf = link._lognormal_sf(t, pps, link.KINETICS["pps_sd"].value)
    S, f = w @ s_p, np.zeros(t.size)
    for j in np.nonzero(w)[0]:
        mass = -np.diff(np.concatenate([[1.0], s_p[j]]))  # progressions in each step
        S += w[j] * np.convolve(mass, np.concatenate([[1.0], sf[j, :-1]]))[:t.size]
        f += w[j] * np.convolve(mass, np.concatenate([[0.0], pdf[j, :-1]]))[:t.size]
    assert np.max(np.abs(got.S - np.clip(S, 0, 1))) < 1e-12
    assert np.max(np.abs(got.f - f)) < 1e-12
    # OS is never shorter than PFS, starts below 1 and never rises (the progressions of a
    # step are its PFS curve's drop; a density times the step overshot it on steep stretches)
    assert np.all(w @ s_p - 1e-12 <= got.S) and got.S[0] <= 1.0
    assert np.all(np.diff(got.S) <= 1e-12)
