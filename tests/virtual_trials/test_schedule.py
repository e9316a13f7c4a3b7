"""Schedules, the one table of defaults, and plans from the knowledge base and from specs."""

from __future__ import annotations

import math

import pytest

from her2lab.errors import DataError
from her2lab.knowledge import load
from her2lab.virtual_trials.defaults import SETTING_DEFAULTS
from her2lab.virtual_trials.plan import TrialPlan
from her2lab.virtual_trials.schedule import DAYS_PER_MONTH, Phase, Schedule
from her2lab.virtual_trials.spec import EXAMPLES_DIR, TrialSpec, load_spec


def test_neoaltto_is_six_weeks_of_anti_her2_then_twelve_with_paclitaxel():
    plan = TrialPlan.from_kb("neoaltto")
    s = plan.arm("pac_lap_tras").schedule
    assert [p.drugs for p in s.phases] == [("lapatinib", "trastuzumab"),
                                           ("lapatinib", "trastuzumab", "paclitaxel")]
    assert s.months == pytest.approx(18 * 7 / DAYS_PER_MONTH)


def test_altto_arms_carry_the_chemotherapy_every_patient_received():
    # ALTTO (design 2): an anthracycline, then weekly paclitaxel with the anti-HER2 therapy,
    # then the anti-HER2 therapy alone; a year of it in all (52 weekly doses)
    plan = TrialPlan.from_kb("altto")
    for arm, her2 in (("tras", ("trastuzumab",)), ("tras_lap", ("trastuzumab", "lapatinib"))):
        phases = plan.arm(arm).schedule.phases
        assert phases[0].drugs == ("fec",)
        assert "paclitaxel" in phases[1].drugs
        anti = [p for p in phases if set(her2) <= set(p.drugs)]
        assert sum(p.cycles * p.cycle_days for p in anti) == 52 * 7
        assert all(set(p.drugs) - {"fec", "paclitaxel"} in (set(), set(her2)) for p in phases)


def test_th3resa_physicians_choice_carries_trastuzumab():
    # most of TH3RESA's control patients received trastuzumab with chemotherapy (Krop 2014)
    s = TrialPlan.from_kb("th3resa").arm("tpc").schedule
    assert s.until_progression
    assert set(s.phases[-1].drugs) == {"physicians_choice", "trastuzumab"}


def test_a_flat_regimen_is_one_phase_of_its_settings_default():
    s = Schedule.flat(["trastuzumab"], "adjuvant")
    d = SETTING_DEFAULTS["adjuvant"]
    assert len(s.phases) == 1 and s.phases[0].cycles == d.cycles
    assert Schedule.flat(["trastuzumab"], "metastatic_first_line").until_progression
    assert math.isinf(Schedule.flat(["x"], "metastatic_pretreated").months)


def test_only_the_last_phase_may_run_until_progression():
    with pytest.raises(DataError, match="last phase"):
        Schedule((Phase(("a",), None), Phase(("b",), 3)))


def test_every_curated_schedule_names_the_arms_targeted_drugs_and_model_drugs():
    from her2lab.pathway import DRUGS

    kb = load()
    chemo = {d.id for d in kb.drugs if d.drug_class.value in ("chemotherapy",
                                                              "chemotherapy_regimen")}
    n = 0
    for t in kb.trials:
        for a in t.arms:
            if a.schedule is None:
                continue
            n += 1
            used = {d for ph in a.schedule for d in ph.drugs}
            assert used <= set(DRUGS), (t.id, a.id)
            if "physicians_choice" in a.regimen:
                # a schedule may say what the physician's choice mostly was
                assert used - chemo >= set(a.regimen) - chemo, (t.id, a.id)
            else:
                assert used - chemo == set(a.regimen) - chemo, (t.id, a.id)
            assert a.schedule_provenance.locator
    assert n >= 20


def test_a_spec_keeps_an_explicit_zero(tmp_path):
    spec = TrialSpec.model_validate({
        "name": "Z", "setting": "metastatic_pretreated", "control": "c", "endpoint": "PFS",
        "arms": [{"name": "e", "regimen": ["lapatinib"], "n": 10},
                 {"name": "c", "regimen": [], "n": 10}],
        "dropout_per_year": 0, "accrual_months": 0, "control_median_months": 6.0})
    plan = TrialPlan.from_spec(spec)
    assert plan.dropout_per_year == 0.0 and plan.accrual_months == 0.0
    d = SETTING_DEFAULTS["metastatic_pretreated"]
    assert plan.follow_up_months == d.follow_up_months


def test_a_spec_without_levels_gets_the_settings_defaults_and_baseline():
    plan = TrialPlan.from_spec(load_spec(EXAMPLES_DIR / "adjuvant_dual_blockade.yaml"))
    d = SETTING_DEFAULTS["adjuvant"]
    assert (plan.accrual_months, plan.dropout_per_year) == (d.accrual_months, d.dropout_per_year)
    # ALTTO's control arm: 86% disease-free at 4 years (knowledge base, altto/dfs4y_tras)
    assert plan.anchor.source.startswith("baseline")
    assert plan.endpoint == "iDFS"
    assert len(plan.arm("dual").schedule.phases) == 2


def test_a_schedule_in_a_spec_is_resolved_and_checked(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(
        "name: S\nsetting: neoadjuvant\ncontrol: c\nendpoint: pCR\narms:\n"
        "  - {name: e, regimen: [Herceptin], n: 5, schedule: [{drugs: [Herceptin, Taxol], "
        "cycles: 4}]}\n  - {name: c, regimen: [], n: 5}\n")
    spec = load_spec(p)
    assert spec.arms[0].schedule[0].drugs == ["trastuzumab", "paclitaxel"]
