"""Virtual trials end to end on synthetic rates: plans, expected effects with intervals,
replicates, typed results."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from her2lab.errors import SimulationError
from her2lab.virtual_trials.calibration import Calibration
from her2lab.virtual_trials.defaults import RunSettings
from her2lab.virtual_trials.link import LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.spec import EXAMPLES_DIR
from her2lab.virtual_trials.trial import (
    TrialPlan,
    TrialResult,
    design,
    predict,
    simulate,
    simulate_once,
)

from .fakes import FakeRates


@pytest.fixture(scope="module")
def model():
    return TrialModel(FakeRates(), panel_size=8)


def test_a_kb_trial_becomes_a_plan_with_its_arms_sizes_and_anchor():
    plan = TrialPlan.from_kb("cleopatra")
    assert plan.endpoint == "PFS" and plan.control == "th_placebo"
    assert {a.name: a.n for a in plan.arms} == {"thp": 402, "th_placebo": 406}
    assert (plan.anchor.kind, plan.anchor.value) == ("median", 12.4)
    os_plan = TrialPlan.from_kb("cleopatra", endpoint="OS")
    assert os_plan.anchor.value == 37.6 and os_plan.anchor.pfs.value == 12.4


def test_a_single_arm_study_cannot_be_simulated_as_a_trial():
    with pytest.raises(SimulationError, match="two"):
        TrialPlan.from_kb("everolimus_paclitaxel_phase2")


def test_the_simulated_control_median_is_the_anchor(model):
    plan = TrialPlan.from_kb("emilia").with_sizes(40_000)
    plan = replace(plan, follow_up_months=1000.0, dropout_per_year=0.0)
    prep = model.prepare(plan, LinkParams())
    (t, _), arm = simulate_once(plan, prep, np.random.default_rng(1))
    # SE of a sample median ~ 1 / (2 f(m) sqrt(n)) < 0.05 months here
    assert np.median(t[arm == plan.control]) == pytest.approx(6.4, abs=0.2)


def test_results_are_typed_reproducible_and_json(model):
    a = simulate("neoaltto", Calibration.of_params(LinkParams()),
                       settings=RunSettings(replicates=3, seed=5), model=model)
    b = simulate("neoaltto", Calibration.of_params(LinkParams()),
                       settings=RunSettings(replicates=3, seed=5), model=model)
    assert isinstance(a, TrialResult)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert a.effect.measure == "OR" and a.effect.replicates.n == 3
    d = a.to_dict()
    assert {"expected", "pred_low", "pred_high", "replicates"} <= set(d["effects"][0])


def test_every_rate_and_interval_lies_in_0_100(model):
    res = simulate("neosphere", None, settings=RunSettings(replicates=2), model=model)
    for a in res.arms:
        assert 0 <= a.pred_low <= a.expected <= a.pred_high <= 100
    for e in res.effects:
        assert e.pred_low <= e.expected <= e.pred_high
        if e.measure == "difference":
            assert e.pred_low >= -100 and e.pred_high <= 100


def test_the_prediction_interval_widens_with_parameter_uncertainty(model):
    plan = TrialPlan.from_kb("emilia")
    one = RunSettings(replicates=1)
    sure = simulate(plan, Calibration.of_params(LinkParams()), settings=one, model=model)
    unsure = simulate(plan, None, settings=one, model=model)  # the priors
    w = [math.log(r.effect.pred_high / r.effect.pred_low) for r in (sure, unsure)]
    assert w[0] < w[1]
    assert sure.effect.param_sd == pytest.approx(0.0, abs=1e-12)  # the sd of equal draws


@pytest.mark.parametrize("path", sorted(EXAMPLES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_specification_runs(path, model):
    res = predict(path, None, settings=RunSettings(replicates=2), model=model)
    assert res.arms and math.isfinite(res.effect.expected)


def test_design_by_simulation_agrees_with_the_formula_within_simulation_error(model):
    from her2lab.virtual_trials.spec import load_spec

    plan = TrialPlan.from_spec(load_spec(EXAMPLES_DIR / "neoadjuvant_dual_blockade.yaml"))
    res = design(plan, Calibration.of_params(LinkParams()), replicates=200,
                       settings=RunSettings(seed=3), model=model)
    n_sim, n_formula = res.simulation["n_per_arm"], res.formula["n_per_arm"]
    # power from 200 replicates has SE ~0.028; near 80% power that is a relative error in n
    # of about 2 * 0.085 / (phi(0.84) * 2.8) ~ 0.21 at three SEs
    assert abs(n_sim - n_formula) / n_formula < 0.25
    assert res.expected.measure == "OR"


class _BackgroundKill(FakeRates):
    """FakeRates plus the same apoptosis and immune kill in every regimen, untreated too."""

    def rates(self, profile, drugs, potency=(), *, hr_positive=False):
        r = super().rates(profile, drugs, potency, hr_positive=hr_positive)
        kill = dict(r.kill)
        kill["targeted"] = kill.get("targeted", 0.0) + 0.3
        kill["immune"] = kill.get("immune", 0.0) + 0.1
        return type(r)(r.growth, kill)


def test_the_untreated_tumors_own_kill_is_not_counted_as_drug_kill():
    # invariant: an untreated phase kills nothing, and a kill that every regimen shares with
    # the untreated tumor (part of its untreated growth) changes no arm's kinetics
    plan = TrialPlan.from_kb("cleopatra")
    plain, shifted = TrialModel(FakeRates(), panel_size=8), TrialModel(_BackgroundKill(),
                                                                      panel_size=8)
    params = LinkParams()
    for arm in plan.arms:
        a = plain.kinetics(plan, arm.schedule, params, micro=False)
        b = shifted.kinetics(plan, arm.schedule, params, micro=False)
        np.testing.assert_allclose(b.kill, a.kill, rtol=1e-12)
    untreated = replace(plan.arms[0].schedule, phases=tuple(
        replace(p, drugs=()) for p in plan.arms[0].schedule.phases))
    k = shifted.kinetics(plan, untreated, params, micro=False)
    assert np.all(k.kill == 0.0)


class _EndocrineEscape(FakeRates):
    """FakeRates whose hormone-receptor-positive tumors lose half their targeted kill."""

    def rates(self, profile, drugs, potency=(), *, hr_positive=False):
        r = super().rates(profile, drugs, potency)
        kill = dict(r.kill)
        if hr_positive:
            kill["targeted"] = 0.5 * kill.get("targeted", 0.0)
        return type(r)(r.growth, kill)


def test_hormone_receptor_status_reaches_the_rates_of_each_patient_type():
    plan = TrialPlan.from_kb("cleopatra")
    m = TrialModel(_EndocrineEscape(), panel_size=8, chemo_points=1)
    params = LinkParams()
    k = m.kinetics(plan, plan.arms[0].schedule, params, micro=False)
    weights, _ = m.type_weights(np.array([1.0]))
    assert weights.size == 2  # one profile: HR-negative, HR-positive (one chemo node)
    plain = TrialModel(FakeRates(), panel_size=8, chemo_points=1).kinetics(
        plan, plan.arms[0].schedule, params, micro=False)
    # HR-negative types keep the plain kill; HR-positive ones lose part of it
    np.testing.assert_allclose(k.kill[:, 0::2], plain.kill[:, 0::2], rtol=1e-12)
    assert np.all(k.kill[:, 1::2] < plain.kill[:, 1::2])


def test_trastuzumab_given_before_adds_only_its_decayed_kill_in_pretreated_disease(monkeypatch):
    # EGF104900: patients progressing on trastuzumab. The kill trastuzumab adds to lapatinib has
    # decayed by acquired resistance, exp(-lambda tau), tau the months of prior exposure; an arm
    # without trastuzumab, and a first-line trial, are as they were
    from her2lab.virtual_trials import model as model_mod
    from her2lab.virtual_trials.link import KINETICS

    plan = TrialPlan.from_kb("egf104900")
    params = LinkParams(log_resistance=math.log(0.1))
    arms = {a.name: a.schedule for a in plan.arms}
    m = TrialModel(FakeRates(), panel_size=8)
    decayed = {n: m.kinetics(plan, s, params, micro=False).kill for n, s in arms.items()}
    first = TrialPlan.from_kb("cleopatra")
    first_kill = [m.kinetics(first, a.schedule, params, micro=False).kill for a in first.arms]
    monkeypatch.setattr(model_mod, "PRIOR_EXPOSED", ())
    fresh = TrialModel(FakeRates(), panel_size=8)
    full = {n: fresh.kinetics(plan, s, params, micro=False).kill for n, s in arms.items()}
    f = math.exp(-0.1 * KINETICS["prior_exposure_months"].value)
    np.testing.assert_array_equal(decayed["lap"], full["lap"])
    assert np.all(full["lap_tras"] > full["lap"])
    np.testing.assert_allclose(decayed["lap_tras"],
                               full["lap"] + f * (full["lap_tras"] - full["lap"]), rtol=1e-12)
    for arm, kill in zip(first.arms, first_kill, strict=True):
        np.testing.assert_array_equal(
            fresh.kinetics(first, arm.schedule, params, micro=False).kill, kill)


def test_a_setting_effect_scales_the_cytotoxic_kill_of_its_group_only():
    # the setting groups differ in chemosensitivity: exp(effect) on the cytotoxic kill of the
    # group's trials; an arm without a cytotoxic (lapatinib alone) and the other groups'
    # trials are unchanged
    plan = TrialPlan.from_kb("egf104900")        # metastatic, pretreated: no cytotoxic
    geyer = TrialPlan.from_kb("geyer_egf100151")  # pretreated: capecitabine +- lapatinib
    first = TrialPlan.from_kb("cleopatra")        # first line: docetaxel in both arms
    m = TrialModel(FakeRates(), panel_size=8)
    base = LinkParams()
    eff = 0.4
    moved = base.with_(setting=(("metastatic_pretreated", eff),))

    def kill(p, trial, arm):
        return m.kinetics(trial, trial.arm(arm).schedule, p, micro=False).kill

    for arm in ("lap", "lap_tras"):
        np.testing.assert_array_equal(kill(moved, plan, arm), kill(base, plan, arm))
    for arm in ("thp", "th_placebo"):
        np.testing.assert_array_equal(kill(moved, first, arm), kill(base, first, arm))
    # capecitabine alone: every kill of the arm is cytotoxic (FakeRates: 0.8 with a cytotoxic)
    np.testing.assert_allclose(kill(moved, geyer, "cap"), math.exp(eff) * kill(base, geyer, "cap"),
                               rtol=1e-12)
    # with lapatinib: the targeted part is unchanged, so the kill grows by less than exp(eff)
    lc0, lc1 = kill(base, geyer, "lap_cap"), kill(moved, geyer, "lap_cap")
    cap0 = kill(base, geyer, "cap")
    np.testing.assert_allclose(lc1 - lc0, (math.exp(eff) - 1) * cap0, rtol=1e-12)


def test_simulated_os_passes_through_the_anchored_median(model):
    # OS draws are each patient's PFS plus the post-progression survival of the patient's
    # type (per-type medians); their control median is the anchor the curves were solved for.
    # SE of a sample median ~ 1 / (2 f(m) sqrt(n)): f(m) > 0.01 per month, n = 40,000, so
    # under 0.25 months; the curves' grid (300 steps over the horizon) adds under 0.5
    plan = TrialPlan.from_kb("cleopatra", endpoint="OS").with_sizes(40_000)
    # follow-up past the median for every patient, so no time before it is censored
    plan = replace(plan, follow_up_months=60.0, dropout_per_year=0.0)
    prep = model.prepare(plan, LinkParams())
    ctrl = prep.outcomes[plan.control]
    assert ctrl.pps_median.shape == ctrl.weights.shape
    (t, _), arm = simulate_once(plan, prep, np.random.default_rng(3))
    assert np.median(t[arm == plan.control]) == pytest.approx(37.6, abs=1.0)
    assert ctrl.curves.median() == pytest.approx(37.6, abs=0.5)
