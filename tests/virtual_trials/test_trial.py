"""Virtual trials from the knowledge base and from specifications, end to end."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from her2lab.errors import SimulationError
from her2lab.virtual_trials.link import LinkParams, ResponseModel
from her2lab.virtual_trials.spec import EXAMPLES_DIR, load_spec
from her2lab.virtual_trials.trial import TrialPlan, prepare, run_trial, simulate_once

SMALL = dict(samples=200, panel_size=6)


def test_a_kb_trial_becomes_a_plan_with_its_arms_sizes_and_anchor():
    plan = TrialPlan.from_kb("cleopatra")
    assert plan.endpoint == "PFS" and plan.control == "th_placebo"
    assert {a.name: a.n for a in plan.arms} == {"thp": 402, "th_placebo": 406}
    assert plan.anchor == ("median", 12.4, 0.0)


def test_a_single_arm_study_cannot_be_simulated_as_a_trial():
    with pytest.raises(SimulationError, match="two"):
        TrialPlan.from_kb("everolimus_paclitaxel_phase2")


def test_the_simulated_control_median_is_the_anchor():
    plan = TrialPlan.from_kb("emilia").with_sizes(40_000)
    plan = replace(plan, follow_up_months=1000.0, dropout_per_year=0.0)
    prep = prepare(plan, LinkParams(), ResponseModel(samples=200), panel_size=6)
    (t, e), arm = simulate_once(plan, prep, np.random.default_rng(1))
    ctrl = t[arm == plan.control]
    # SE of a sample median ~ 1 / (2 f(m) sqrt(n)); f(m) >= 0.05/month here, so SE < 0.06
    assert np.median(ctrl) == pytest.approx(6.4, abs=0.25)
    assert e.all()


def test_runs_are_reproducible_for_a_seed():
    plan = TrialPlan.from_kb("neoaltto")
    a = run_trial(plan, LinkParams(), replicates=3, seed=5, **SMALL)
    b = run_trial(plan, LinkParams(), replicates=3, seed=5, **SMALL)
    assert a == b
    assert a["effect"]["measure"] == "OR"
    assert set(a["replicates"]["statistics"]) >= {"effect.estimate", "effect.p"}


def test_a_time_to_event_result_has_arms_effect_replicates_and_curves():
    res = run_trial(TrialPlan.from_kb("th3resa"), LinkParams(), replicates=2, **SMALL)
    assert [a["name"] for a in res["arms"]] == ["tdm1", "tpc"]
    assert res["effect"]["measure"] == "HR"
    assert res["effect"]["ci_low"] <= res["effect"]["estimate"] <= res["effect"]["ci_high"]
    for curve in res["curves"].values():
        assert np.all(np.diff(curve["survival"]) <= 0)  # Kaplan-Meier never increases


@pytest.mark.parametrize("path", sorted(EXAMPLES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_specification_runs(path):
    plan = TrialPlan.from_spec(load_spec(path))
    res = run_trial(plan, LinkParams(), replicates=2, **SMALL)
    assert res["arms"] and res["effect"]["estimate"] is not None


def test_enrichment_reaches_the_population():
    spec = load_spec(EXAMPLES_DIR / "everolimus_pten_loss.yaml")
    plan = TrialPlan.from_spec(spec)
    assert "pten_loss" in plan.require


def test_design_by_simulation_agrees_with_schoenfeld_within_simulation_error():
    from her2lab.virtual_trials.trial import design_trial

    plan = TrialPlan.from_spec(load_spec(EXAMPLES_DIR / "everolimus_pten_loss.yaml"))
    # a steep link, so the effect (and the trial) is of a realistic size
    res = design_trial(plan, LinkParams(beta=12.0), replicates=200, seed=3, **SMALL)
    n_sim, n_formula = res["simulation"]["n_per_arm"], res["formula"]["n_per_arm"]
    # power from 200 replicates has SE ~0.028; near 80% power n scales as (z_a + z_b)^2, so a
    # 3-SE error in power is a relative error in n of about 2 * 0.085 / (phi(0.84) * 2.8) ~ 0.21
    assert abs(n_sim - n_formula) / n_formula < 0.25
    assert res["expected_effect"]["measure"] == "HR"
