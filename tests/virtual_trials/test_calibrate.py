"""Calibration targets, the fit, and validation summaries.

The fit is checked against synthetic targets built from a known linear predictor (so the
parameter it should recover is known by construction); the end-to-end run checks determinism
and the shape of the result on a small panel.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pytest

from her2lab.knowledge import load
from her2lab.virtual_trials.calibrate import (
    PRIORS,
    Calibration,
    calibrate,
    fit,
    summarise,
    targets_from_kb,
)

SEED_DATE = dt.date(2014, 8, 12)


@pytest.fixture(scope="module")
def targets():
    return targets_from_kb(load(), SEED_DATE)


def test_targets_cover_the_randomized_trials_with_effects(targets):
    trials = {t.trial for t in targets}
    assert {"cleopatra", "emilia", "th3resa", "egf104900", "geyer_egf100151", "bolero3",
            "neoaltto", "neosphere", "nsabp_b41", "averel", "beth", "altto"} <= trials
    # single-arm studies and ongoing trials give no comparative target
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
    assert t.anchor == ("median", 12.4, 0.0)


def test_altto_honours_its_97_5_percent_ci_and_is_anchored_by_its_landmark(targets):
    t = next(t for t in targets if t.trial == "altto")
    z = 2.241403  # two-sided 97.5% interval
    assert t.se == pytest.approx((math.log(1.02) - math.log(0.70)) / (2 * z), rel=1e-4)
    assert t.anchor == ("rate", 48.0, 0.86)


def test_subgroups_enter_only_through_a_modelled_mechanism(targets):
    bolero = {t.outcome: t for t in targets if t.trial == "bolero3"}
    assert bolero["pfs_hr_pten_low"].require == ("pten_loss",)
    assert "pfs_hr_ps6_high" not in bolero  # pS6 has no mechanism in the model


def test_weeks_are_converted_to_months_for_anchors(targets):
    t = next(t for t in targets if (t.trial, t.outcome) == ("bolero3", "pfs_hr"))
    assert t.anchor[1] == pytest.approx(25.1 * 7 * 12 / 365.25)


def test_as_of_keeps_only_what_was_published(targets):
    early = targets_from_kb(load(), dt.date(2012, 12, 31))
    assert 0 < len(early) < len(targets)
    assert all(t.published <= dt.date(2012, 12, 31) for t in early)
    assert "th3resa" not in {t.trial for t in early}  # Lancet Oncol 2014


class LinearPredictor:
    """predict = -beta * d (log HR) or logistic(gamma * d) - like; known by construction."""

    def predict(self, target, params):
        d = target.n / 100.0
        if target.kind == "log_hr":
            return -params.beta * d
        return 0.3 + 0.01 * params.gamma * d


def test_fit_recovers_known_parameters_from_exact_targets(targets):
    base_hr = next(t for t in targets if t.kind == "log_hr")
    base_rate = next(t for t in targets if t.kind == "rate")
    true_beta, true_gamma = 4.2, 11.0
    synth = []
    for i, d in enumerate((0.05, 0.1, 0.2)):
        synth.append(replace(base_hr, outcome=f"h{i}", n=int(d * 100), se=0.001,
                             observed=-true_beta * d))
        synth.append(replace(base_rate, outcome=f"r{i}", n=int(d * 100), se=1e-5,
                             observed=0.3 + 0.01 * true_gamma * d))
    params, obj = fit(synth, LinearPredictor())
    # with these SEs the data's curvature is >= 1e4 per unit parameter, so the priors
    # (SD 3 and 6) move the optimum by less than 1e-4
    assert params.beta == pytest.approx(true_beta, abs=1e-3)
    assert params.gamma == pytest.approx(true_gamma, abs=1e-3)
    expected_penalty = sum(((v - PRIORS[k][0]) / PRIORS[k][1]) ** 2
                           for k, v in (("beta", true_beta), ("gamma", true_gamma)))
    assert obj == pytest.approx(expected_penalty, rel=1e-3)


def test_summary_metrics_are_computed_from_the_rows():
    rows = [
        {"measure": "HR", "abs_error": 0.1, "direction_ok": True,
         "reported_inside_prediction": True, "inside_reported_ci": True},
        {"measure": "HR", "abs_error": 0.3, "direction_ok": False,
         "reported_inside_prediction": False, "inside_reported_ci": False},
        {"measure": "rate", "abs_error": 5.0, "direction_ok": True,
         "reported_inside_prediction": True, "inside_reported_ci": False},
    ]
    s = summarise(rows)
    assert s["median_abs_error_log_hr"] == pytest.approx(0.2)
    assert s["median_abs_error_rate_points"] == pytest.approx(5.0)
    assert s["direction_accuracy"] == pytest.approx(2 / 3)
    assert s["coverage"] == pytest.approx(2 / 3)


@pytest.fixture(scope="module")
def small_calibration():
    return calibrate(SEED_DATE, panel_size=6, samples=200, bootstrap_reps=3)


def test_calibration_is_deterministic_for_a_seed(small_calibration):
    again = calibrate(SEED_DATE, panel_size=6, samples=200, bootstrap_reps=3)
    assert again.params == small_calibration.params
    assert again.intervals == small_calibration.intervals


def test_the_fit_table_reports_every_target_against_its_prediction(small_calibration):
    cal = small_calibration
    assert len(cal.table) == len(cal.targets) == cal.settings["targets"]
    for row in cal.table:
        assert row["pred_low"] <= row["predicted"] <= row["pred_high"]
    d = cal.to_dict()
    back = Calibration.from_dict(d)
    assert back.params == cal.params


def test_the_calibrated_potency_is_a_grid_value_with_its_profile_interval(small_calibration):
    from her2lab.virtual_trials.calibrate import POTENCY_GRID

    lo, hi = small_calibration.intervals["potency.lapatinib"]
    assert lo in POTENCY_GRID["lapatinib"] and hi in POTENCY_GRID["lapatinib"]
    fitted = dict(small_calibration.params.potency)
    if fitted:
        assert lo <= fitted["lapatinib"] <= hi


def test_potencies_survive_a_round_trip_through_json():
    from her2lab.virtual_trials.link import LinkParams

    p = LinkParams(beta=2.0, potency={"lapatinib": 0.55})
    assert LinkParams(**p.to_dict()) == p
