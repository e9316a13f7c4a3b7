"""Targets, the joint fit, and validation: on the knowledge base's targets with synthetic
rates (the fit's machinery), and dates."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from her2lab.knowledge import load
from her2lab.virtual_trials.calibration import Calibration, calibrate, date_check
from her2lab.virtual_trials.fit import (
    WITHIN_TRIAL_CORRELATION,
    _covariance,
    fit,
    leave_out,
    median_log_ratio,
    objective,
    predict_targets,
)
from her2lab.virtual_trials.link import ArmOutcome, Curves, LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.population import Population, load_prevalence
from her2lab.virtual_trials.rows import rows_for
from her2lab.virtual_trials.targets import targets_from_kb
from her2lab.virtual_trials.validation import summarize

from .fakes import FakeRates

SEED_DATE = dt.date(2014, 8, 12)


@pytest.fixture(scope="module")
def targets():
    return targets_from_kb(load(), SEED_DATE)


@pytest.fixture(scope="module")
def model():
    return TrialModel(FakeRates(), panel_size=4, chemo_points=1)


def test_targets_cover_the_randomized_trials_with_effects(targets):
    trials = {t.trial for t in targets}
    assert {"cleopatra", "emilia", "th3resa", "egf104900", "geyer_egf100151", "bolero3",
            "neoaltto", "neosphere", "nsabp_b41", "averel", "beth", "altto"} <= trials
    assert not trials & {"cortes_pertuzumab", "marianne", "tanespimycin_trastuzumab_phase2"}


def test_preferred_values_of_conflicts_replace_the_others(targets):
    ids = {(t.trial, t.outcome) for t in targets}
    assert ("nsabp_b41", "pcr_lap_text") in ids and ("nsabp_b41", "pcr_lap_table") not in ids
    assert ("geyer_egf100151", "ttp_hr_text") in ids
    assert ("geyer_egf100151", "ttp_hr_table") not in ids


def test_a_hr_target_carries_its_log_and_the_se_of_its_ci(targets):
    t = next(t for t in targets if (t.trial, t.outcome) == ("cleopatra", "pfs_hr"))
    assert t.observed == pytest.approx(math.log(0.69))
    assert t.se == pytest.approx((math.log(0.81) - math.log(0.58)) / (2 * 1.959964), rel=1e-4)
    altto = next(t for t in targets if t.trial == "altto")
    z = 2.241403  # ALTTO's two-sided 97.5% interval
    assert altto.se == pytest.approx((math.log(1.02) - math.log(0.70)) / (2 * z), rel=1e-4)
    assert (altto.plan.anchor.kind, altto.plan.anchor.value, altto.plan.anchor.time) == (
        "rate", 0.86, 48.0)


def test_medians_and_a_p_value_become_a_target(targets):
    # neratinib vs lapatinib + capecitabine: PFS 4.5 vs 6.8 months, p = 0.231 (seed ref 45)
    t = next(t for t in targets if (t.trial, t.outcome) == (
        "neratinib_vs_lapatinib_capecitabine", "pfs_p"))
    assert t.derived == "median+p"
    assert t.observed == pytest.approx(-math.log(4.5 / 6.8))
    assert t.se == pytest.approx(abs(math.log(4.5 / 6.8)) / 1.19706, rel=1e-3)


def test_a_median_ratio_is_compared_with_the_models_median_ratio():
    # exponential arms with medians 4.5 and 6.8 months: the target's scale, log(6.8 / 4.5)
    t = np.linspace(0.05, 60.0, 1200)

    def arm(median: float) -> ArmOutcome:
        s = np.exp(-math.log(2) * t / median)
        return ArmOutcome(np.ones(1), curves=Curves(t, s, s * math.log(2) / median))

    assert median_log_ratio(arm(4.5), arm(6.8)) == pytest.approx(math.log(6.8 / 4.5), rel=1e-3)
    # a median not reached within the grid: no value, not a guess
    assert math.isnan(median_log_ratio(arm(4.5), arm(500.0)))


def test_a_target_from_medians_is_predicted_by_medians_not_by_the_cox_hr(targets, model):
    # the model's arms are not proportional hazards (OS: progression then post-progression
    # survival), so the Cox HR and the median ratio differ; the target is the latter
    t = next(t for t in targets if (t.trial, t.outcome) == (
        "neratinib_vs_lapatinib_capecitabine", "os_p"))
    params = LinkParams()
    prep = model.prepare_memo(t.plan, params)
    want = median_log_ratio(prep.outcomes[t.arm], prep.outcomes[t.reference])
    assert predict_targets([t], params, model)[0] == pytest.approx(want, rel=1e-12)
    hr = next(e for e in prep.effects if e.arm == t.arm and e.measure == "HR").estimate
    assert abs(math.log(hr) - want) > 1e-3


def test_subgroups_enter_only_through_a_modelled_mechanism(targets):
    bolero = {t.outcome: t for t in targets if t.trial == "bolero3"}
    assert bolero["pfs_hr_pten_low"].plan.require == ("pten_loss",)
    assert "pfs_hr_ps6_high" not in bolero


def test_nothing_published_after_as_of_is_used(targets):
    early = targets_from_kb(load(), dt.date(2012, 12, 31))
    assert 0 < len(early) < len(targets)
    assert all(t.published <= dt.date(2012, 12, 31) for t in early)
    d = date_check(dt.date(2012, 12, 31), early)
    assert set(d["prevalence_priors_after_as_of_replaced"]) == {"immune_cold", "pd_l1_high"}
    # the PIK3CA prior no longer cites the September 2014 paper
    assert load_prevalence().mechanisms["pik3ca_mutation"].published <= SEED_DATE
    assert date_check(SEED_DATE, targets)["prevalence_priors_after_as_of_replaced"] == []


def test_a_later_prior_is_replaced_by_the_uninformative_one():
    pop = Population.for_setting("neoadjuvant", as_of=dt.date(2012, 12, 31))
    assert pop.prevalence["immune_cold"] == 0.5
    assert Population.for_setting("neoadjuvant").prevalence["immune_cold"] == 0.70


def test_results_of_one_trial_are_correlated_in_the_objective(targets):
    cleo = [t for t in targets if t.trial == "cleopatra"]
    c = _covariance(cleo, np.zeros(len(cleo)))
    assert c[0, 1] == pytest.approx(WITHIN_TRIAL_CORRELATION * cleo[0].se * cleo[1].se)
    neo = [t for t in targets if t.trial == "neosphere"]
    c = _covariance(neo, np.array([t.observed for t in neo]))
    assert np.all(c > 0)  # the arms share the anchoring control's sampling error


def test_the_panel_is_deterministic_whatever_the_global_random_state():
    np.random.seed(1)
    a = Population.for_setting("metastatic_first_line").panel(32)
    np.random.seed(2)
    b = Population.for_setting("metastatic_first_line").panel(32)
    assert np.array_equal(a.masks, b.masks) and np.array_equal(a.index, b.index)


@pytest.mark.slow
def test_the_fit_recovers_parameters_that_generated_the_targets(targets, model):
    # targets replaced by the model's own predictions at known parameters (and their SEs):
    # the fit, started at the priors, returns those parameters within a fraction of their SE
    from dataclasses import replace

    sub = [t for t in targets if t.trial in ("emilia", "neosphere", "altto", "cleopatra",
                                             "geyer_egf100151", "th3resa", "nsabp_b41")]
    truth = LinkParams(log_kill=1.1, log_targeted=0.4, log_resistance=-1.4, tki_offset=0.05)
    pred = predict_targets(sub, truth, model)
    synth = [replace(t, observed=float(p)) for t, p in zip(sub, pred, strict=True)]
    f = fit(synth, model)
    assert objective(f.params, synth, model) <= objective(truth, synth, model) + 1e-3
    se = f.se
    for i, name in enumerate(("log_kill", "log_targeted", "log_resistance")):
        # the priors pull the estimate: within one SE of the truth
        assert abs(f.params.vector()[i] - truth.vector()[i]) < se[name] + 0.05, name
    # leave one trial out: one Newton step agrees with a refit without it
    p, _ = leave_out(f, "emilia")
    rest = [t for t in synth if t.trial != "emilia"]
    refit = fit(rest, model, start=f.params, uncertainty=False)
    assert np.max(np.abs(p.vector()[:3] - refit.params.vector()[:3])) < 0.25
    rows = rows_for(synth, f.params, f.cov, model)
    s = summarize(rows)
    assert s["mean_z2"] < s["null"]["mean_z2"] and s["direction_accuracy"] >= 0.8


@pytest.mark.slow
def test_calibrate_writes_typed_rows_inside_0_100_and_is_deterministic(model):
    early = dt.date(2012, 12, 31)
    a = calibrate(early, model=model)
    d = a.to_dict()
    targets = targets_from_kb(load(), early)
    assert d["as_of"] == "2012-12-31" and len(d["table"]) == len(targets)
    assert a.counts["targets"] == len(targets) and a.as_of == early
    assert objective(a.params, targets, model) == pytest.approx(a.fit.objective, abs=1e-9)
    for row in a.table:
        assert row.pred_low <= row.expected <= row.pred_high
        if row.measure == "rate":
            assert 0 <= row.pred_low <= row.pred_high <= 100


@pytest.mark.slow
def test_leave_one_out_by_refit_agrees_with_the_newton_step(model):
    from her2lab.virtual_trials.validation import leave_one_out

    early = dt.date(2012, 12, 31)
    two = ["emilia", "neosphere"]
    f = fit(targets_from_kb(load(), early), model)  # one full fit
    full = Calibration(f.params, f.cov, early, fit=f)
    newton = leave_one_out(early, model=model, trials=two, calibration=full)
    refit = leave_one_out(early, model=model, refit=True, trials=two, calibration=full)
    assert refit["method"].startswith("a refit") and len(refit["rows"]) == len(newton["rows"])
    assert set(newton["params"]) == set(refit["params"]) == set(two)
    for trial, p in refit["params"].items():
        q = newton["params"][trial]
        # one Newton step is exact for a quadratic objective: close, not equal, here
        assert abs(p["log_kill"] - q["log_kill"]) < 0.25, trial


def test_direction_is_undefined_for_a_reported_null_effect(targets):
    # BETH reported HR 1.00: no direction to get right, whatever the rounding of the model's
    # expected log HR; CLEOPATRA's 0.69 has one
    from her2lab.virtual_trials.rows import _row

    beth = next(t for t in targets if t.trial == "beth")
    assert beth.observed == 0.0
    sims = 0.01  # the parameters' SD of the prediction
    assert _row(beth, 1.8e-15, sims).direction_ok is None
    cleo = next(t for t in targets if (t.trial, t.outcome) == ("cleopatra", "pfs_hr"))
    assert _row(cleo, math.log(0.8), sims).direction_ok is True
    assert _row(cleo, math.log(1.2), sims).direction_ok is False
    rows = [_row(beth, 1.8e-15, sims), _row(cleo, math.log(1.2), sims)]
    assert summarize(rows)["direction_accuracy"] == 0.0


def test_delta_method_intervals_match_the_spread_of_parameter_draws(targets, model):
    # the delta method's SD of each prediction, sqrt(g' C g), against the SD over draws from
    # the parameters' normal approximation (the method it replaced): with a covariance small
    # enough that the predictions are linear over it, the two agree within the draws' own
    # sampling error (relative SE of an SD from k draws: 1 / sqrt(2 (k - 1)))
    from her2lab.virtual_trials.fit import draws
    from her2lab.virtual_trials.rows import prediction_jacobian

    sub = [t for t in targets if t.trial in ("emilia", "neosphere", "cleopatra", "altto")]
    params = LinkParams(log_kill=0.8, log_targeted=0.5, log_resistance=-1.8, tki_offset=-0.2)
    n = len(LinkParams.NAMES)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((n, n))
    cov = 1e-3 * (a @ a.T / n + np.eye(n))
    centre, jac = prediction_jacobian(sub, params, model)
    assert np.array_equal(centre, predict_targets(sub, params, model))
    delta = np.sqrt(np.einsum("ij,jk,ik->i", jac, cov, jac))
    k = 400
    sims = np.array([predict_targets(sub, p, model) for p in draws(params, cov, k, seed=5)])
    spread = sims.std(axis=0, ddof=1)
    rel_se = 1 / math.sqrt(2 * (k - 1))
    assert np.all(delta > 0)
    assert np.all(np.abs(spread / delta - 1) < 5 * rel_se), (spread, delta)
    # the rows carry it (log scale for ratios; for rates on the logit scale)
    rows = rows_for(sub, params, cov, model)
    for t, r, d, e in zip(sub, rows, delta, centre, strict=True):
        want = d if t.kind != "rate" else d / (e * (1 - e))
        assert r.param_sd == pytest.approx(want, rel=1e-12)


def test_a_fits_own_jacobian_gives_the_rows_computed_afresh(targets, model):
    # the calibration's rows take the Jacobian from the fit's curvature evaluations (the same
    # stencil): the same rows as computing it again
    sub = [t for t in targets if t.trial in ("emilia", "neosphere", "nsabp_b41")]
    f = fit(sub, model, maxiter=3)
    assert f.curvature.predictions.shape == (len(sub), len(LinkParams.NAMES))
    kept = rows_for(sub, f.params, f.cov, model, jacobian=f.curvature.predictions)
    fresh = rows_for(sub, f.params, f.cov, model)
    for a, b in zip(kept, fresh, strict=True):
        assert a.param_sd == pytest.approx(b.param_sd, rel=1e-9, abs=1e-12)
        assert a.expected == b.expected
    with pytest.raises(ValueError, match="one row per target"):
        rows_for(sub, f.params, f.cov, model, jacobian=f.curvature.predictions[1:])
