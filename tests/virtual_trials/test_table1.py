"""The virtual Table 1, the main job's headline table, on synthetic rates: the validation rows
of the Table 1 targets, every comparable Table 1 effect once, the reported figures as the
knowledge base gives them, and the CSVs' columns."""

from __future__ import annotations

import dataclasses

import pytest

from her2lab.knowledge import load
from her2lab.virtual_trials.calibration import Calibration
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.rows import rows_for
from her2lab.virtual_trials.stages import AS_OF, virtual_table1, virtual_table1_rows
from her2lab.virtual_trials.targets import TABLE1_RATE_TRIALS, table1_targets

from .fakes import FakeRates

SEED = 7


@pytest.fixture(scope="module")
def kb():
    return load()


@pytest.fixture(scope="module")
def cal():
    # the priors (a covariance, so the intervals have a parameter part), dated as the stage's
    return dataclasses.replace(Calibration.priors(), as_of=AS_OF)


@pytest.fixture(scope="module")
def model():
    return TrialModel(FakeRates(), panel_size=4, chemo_points=1)


@pytest.fixture(scope="module")
def table(cal, kb, model):
    return virtual_table1(cal, kb, model)


def test_the_table_is_the_validation_rows_of_the_table1_targets(cal, kb, model, table):
    targets = table1_targets(kb, AS_OF)
    expected = rows_for(targets, cal.params, cal.cov, model)
    pairs = virtual_table1_rows(cal, kb, model)
    assert [t for t, _ in pairs] == targets
    assert [r for _, r in pairs] == expected
    effects, rates = table
    by_key = {(t.trial, t.outcome): r for t, r in pairs}
    for e in effects + rates:
        t = next(t for t in targets if kb.trial(t.trial).name == e["trial"]
                 and (t.outcome == e.get("outcome") or t.arm == e.get("arm")))
        r = by_key[(t.trial, t.outcome)]
        for field in ("reported", "reported_low", "reported_high", "expected", "pred_low",
                      "pred_high"):
            assert e[field] == getattr(r, field), (e["trial"], field)
        inside = e["inside_reported_ci"] if "outcome" in e else e["inside_arm_interval"]
        assert inside == r.inside_reported_ci


def test_every_comparable_table1_effect_appears_once(kb, table):
    effects, rates = table
    keys = [(e["trial"], e["outcome"]) for e in effects]
    assert len(keys) == len(set(keys))
    # comparable: a Table 1 trial's effect on its primary endpoint, in the whole population,
    # with both bounds of a CI, not superseded by a recorded conflict
    comparable = {(r.trial.name, r.outcome.id) for r in kb.outcomes(kind="effect", subgroup=None)
                  if r.trial.in_table1 and r.trial.primary_endpoint is not None
                  and r.outcome.endpoint == r.trial.primary_endpoint and r.outcome.ci
                  and r.outcome.ci.low is not None and r.outcome.ci.high is not None}
    assert set(keys) == comparable
    # and no Table 1 trial is left out: each shows an effect or its arm rates
    shown = {e["trial"] for e in effects} | {r["trial"] for r in rates}
    assert shown == {t.name for t in kb.trials if t.in_table1}


def test_the_reported_figures_are_the_knowledge_bases(kb, table):
    effects, rates = table
    by_name = {t.name: t for t in kb.trials}
    for e in effects:
        o = next(o for o in by_name[e["trial"]].outcomes if o.id == e["outcome"])
        assert (e["reported"], e["reported_low"], e["reported_high"]) == (
            o.value, o.ci.low, o.ci.high)
        assert e["measure"] == o.measure and e["arms"] == " vs ".join(o.arms)
        assert e["null"] == (0.0 if o.measure == "difference" else 1.0)
        assert e["null_inside_reported_ci"] == (o.ci.low <= e["null"] <= o.ci.high)
        assert e["inside_reported_ci"] == (o.ci.low <= e["expected"] <= o.ci.high)
    for r in rates:
        # the arm's one pCR rate that no recorded conflict supersedes (B-41's table values are)
        (ref,) = kb.outcomes(trial=by_name[r["trial"]], kind="rate", endpoint="pCR",
                             subgroup=None, arm=r["arm"])
        o = ref.outcome
        assert r["reported"] == o.value
        if o.ci is not None and o.ci.low is not None:
            assert (r["reported_low"], r["reported_high"]) == (o.ci.low, o.ci.high)
        else:  # the normal approximation's 95% interval around the reported rate
            assert r["reported_low"] < o.value < r["reported_high"]
        assert r["inside_arm_interval"] == (r["reported_low"] <= r["expected"]
                                            <= r["reported_high"])


def test_every_arm_of_the_rate_trials_is_shown_once_beside_its_control(kb, table):
    _, rates = table
    for tid in TABLE1_RATE_TRIALS:
        t = kb.trial(tid)
        rows = [r for r in rates if r["trial"] == t.name]
        assert sorted(r["arm"] for r in rows) == sorted(a.id for a in t.arms)
        (control,) = [r for r in rows if r["control"]]
        # the control arm anchors the trial: expected at its reported rate
        assert control["expected"] == pytest.approx(control["reported"], abs=1e-6)
    for r in rates:
        assert r["pred_low"] <= r["expected"] <= r["pred_high"]


def test_the_csv_columns_are_those_the_stage_writes(table):
    effects, rates = table
    assert all(list(e) == [
        "trial", "outcome", "endpoint", "measure", "arms", "reported", "reported_low",
        "reported_high", "expected", "pred_low", "pred_high", "inside_reported_ci", "null",
        "null_inside_reported_ci"] for e in effects)
    assert all(list(r) == [
        "trial", "arm", "control", "reported", "reported_low", "reported_high", "expected",
        "pred_low", "pred_high", "inside_arm_interval"] for r in rates)
