"""Duration response: every arm followed over the same calendar time (issue 23).

Adjuvant arms that differ only by how long trastuzumab is given after the same chemotherapy
with trastuzumab. Properties of the model, not fitted figures: more cycles of an effective
anti-HER2 drug never raise the hazard, the gain flattens (the kill decays by acquired
resistance, rate ``lambda``), and phases without any drug change nothing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from her2lab.virtual_trials import link
from her2lab.virtual_trials.link import Anchor, LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.plan import PlanArm, TrialPlan
from her2lab.virtual_trials.schedule import Phase, Schedule
from her2lab.virtual_trials.stats.analyze import cox_two_group
from her2lab.virtual_trials.trial import simulate_once

from .fakes import FakeRates

CHEMO = (Phase(("fec",), 3), Phase(("docetaxel", "trastuzumab"), 3))


def _arm(name: str, tail: int, empty: int = 0, n: int = 2000) -> PlanArm:
    phases = list(CHEMO)
    if tail:
        phases.append(Phase(("trastuzumab",), tail))
    if empty:
        phases.append(Phase((), empty))
    return PlanArm(name, Schedule(tuple(phases)), n)


def _plan(*arms: PlanArm) -> TrialPlan:
    # ALTTO-like: 86% disease-free at 4 years in the control (the first arm)
    return TrialPlan(name="DURATION", setting="adjuvant", prior_trastuzumab=False, require=(),
                     exclude=(), arms=arms, control=arms[0].name, endpoint="DFS",
                     accrual_months=36.0, follow_up_months=60.0, dropout_per_year=0.02,
                     anchor=Anchor("rate", 0.86, 48.0), landmark_months=48.0)


@pytest.fixture(scope="module")
def model():
    return TrialModel(FakeRates(), panel_size=8)


def _hr(model, plan, params, arm):
    prep = model.prepare(plan, params)
    return next(e.estimate for e in prep.effects if e.arm == arm and e.measure == "HR")


@pytest.mark.parametrize("resistance", [0.03, 0.2, 1.0])
def test_more_cycles_of_trastuzumab_never_raise_the_hazard(model, resistance):
    params = LinkParams(log_resistance=math.log(resistance))
    cycles = list(range(1, 41))
    plan = _plan(_arm("c0", 0), *(_arm(f"c{n}", n) for n in cycles))
    prep = model.prepare(plan, params)
    hr = [1.0] + [next(e.estimate for e in prep.effects if e.arm == f"c{n}") for n in cycles]
    # each further cycle: an HR against no tail at most that of one cycle fewer (to rounding
    # of the Cox limit's root, 1e-10 on the log scale)
    assert np.all(np.diff(np.log(hr)) <= 1e-8), np.round(hr, 4)
    assert hr[-1] < 1.0
    # and the cure share never falls: a patient cured during treatment stays cured
    cure = [float(prep.outcomes[f"c{n}"].weights @ prep.outcomes[f"c{n}"].cure)
            for n in [0, *cycles]]
    assert np.all(np.diff(cure) >= -1e-12)


def test_the_gain_of_a_further_year_is_much_less_than_that_of_the_first_six_months(model):
    # 17 three-weekly cycles are a year of trastuzumab, 8 about six months (with the 3 cycles
    # given with docetaxel); log HR of 6 months against none, 2 years against 1
    params = LinkParams(log_resistance=math.log(0.2))
    plan = _plan(_arm("none", 0), _arm("six", 5), _arm("year", 14), _arm("two", 31))
    prep = model.prepare(plan, params)
    hr = {e.arm: e.estimate for e in prep.effects}
    first = -math.log(hr["six"])
    second = math.log(hr["year"]) - math.log(hr["two"])
    assert first > 0 and second >= 0
    # the kill of trastuzumab has decayed by exp(-lambda * 12) after a year: the second
    # year's gain is a small fraction of the first six months'
    assert second < 0.2 * first, (first, second)


def test_an_empty_phase_changes_nothing_in_the_expected_effect(model):
    params = LinkParams()
    plan = _plan(_arm("short", 0), _arm("short_empty", 0, empty=14), _arm("year", 14),
                 _arm("year_empty", 14, empty=14))
    prep = model.prepare(plan, params)
    o = prep.outcomes
    np.testing.assert_array_equal(o["short_empty"].cure, o["short"].cure)
    np.testing.assert_array_equal(o["short_empty"].median, o["short"].median)
    np.testing.assert_array_equal(o["year_empty"].median, o["year"].median)
    assert _hr(model, plan, params, "short_empty") == pytest.approx(1.0, abs=1e-9)


def test_the_same_arm_plus_14_empty_cycles_gives_hr_one_within_two_se(model):
    # the simulated trial: two arms with the same treatment, drawn independently; the Cox
    # estimate's SE comes from the trial itself
    plan = _plan(_arm("short", 0, n=3000), _arm("short_empty", 0, empty=14, n=3000))
    prep = model.prepare(plan, LinkParams())
    (time, event), arm = simulate_once(plan, prep, np.random.default_rng(23))
    est, se = cox_two_group(time, event, arm == "short_empty")
    assert event.sum() > 300
    assert abs(est) < 2 * se, (est, se)


def test_a_decayed_kill_adds_no_growth():
    # a drug whose kill has decayed leaves the tumor growing at most at its untreated rate,
    # whatever growth the rates model gives under it
    class _FasterUnder(FakeRates):
        def rates(self, profile, drugs, potency=(), *, hr_positive=False):
            r = super().rates(profile, drugs, potency)
            return type(r)(r.growth * (1.5 if "trastuzumab" in drugs else 1.0), r.kill)

    m = TrialModel(_FasterUnder(), panel_size=8)
    plan = _plan(_arm("c", 0), _arm("e", 14))
    k = m.kinetics(plan, plan.arm("e").schedule, LinkParams(), micro=True)
    assert np.all(k.growth <= k.untreated[None, :] + 1e-15)


def test_the_lineage_denominator_solves_its_differential_equation():
    # D' = d(t) / y(t), (ln y)' = g - d(t), d(t) = kill exp(-lambda t), integrated numerically
    from scipy.integrate import solve_ivp

    k = link.ArmKinetics(np.array([0.3, 0.3, 0.4]),
                         np.array([[0.2, 0.25, 0.1], [0.2, 0.2, 0.2], [0.23, 0.23, 0.23]]),
                         np.array([[3.0, 0.5, 20.0], [1.0, 0.0, 2.0], [0.0, 0.0, 0.0]]),
                         (4.0, 6.0, 3.0), np.full(3, 0.23), 0.2)
    tr = link.follow_up(k)
    assert tr.end == pytest.approx(10.0)  # the empty last phase is dropped

    for j in range(3):
        def f(t, y, j=j):
            p = 0 if t <= 4 else 1
            d = k.kill[p, j] * math.exp(-0.2 * t)
            return [k.growth[p, j] - d, d * math.exp(-y[0])]

        sol = solve_ivp(f, [0, 10], [0.0, 1.0], rtol=1e-11, atol=1e-12, t_eval=tr.t,
                        max_step=0.01)
        np.testing.assert_allclose(tr.log_y[j], sol.y[0], atol=1e-7)
        np.testing.assert_allclose(tr.log_den[j], np.log(sol.y[1]), rtol=1e-7, atol=1e-7)
    # D never falls
    assert np.all(np.diff(tr.log_den, axis=1) >= 0)
