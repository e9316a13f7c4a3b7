"""The statistical audit: known problems of the seed are found; consistent figures pass.

Synthetic results are built from formulas (a Wald interval from an SE, a two-sided normal p),
so each expectation below follows from the formula, not from running the audit.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from her2lab.knowledge import KnowledgeBase, Trial, load
from her2lab.knowledge.audit import decimals, half_unit, run_audit


@pytest.fixture(scope="module")
def findings():
    return run_audit(load())


def _kinds(findings, subject_prefix):
    return {f.kind for f in findings if f.subject.startswith(subject_prefix)}


def test_the_seed_has_no_unrecorded_error(findings):
    errors = [f for f in findings if f.severity == "error"]
    assert errors == []


def test_neoaltto_difference_does_not_equal_its_arms(findings):
    # Table 1 and text: 51.3% - 29.5% = 21.8, reported as 21.1.
    assert "difference_arithmetic" in _kinds(findings, "outcome:neoaltto/pcr_diff")


def test_bolero3_p_agrees_with_its_ci_only_one_sided(findings):
    # HR 0.78 (0.65-0.96): z = ln(0.78)/((ln 0.96 - ln 0.65)/3.92) = -2.5, two-sided P ~ 0.012.
    f = [f for f in findings if f.subject == "outcome:bolero3/pfs_hr" and f.kind == "p_vs_ci"]
    assert f and "one-sided" in f[0].message


def test_table_and_text_disagreements_are_reported_as_recorded(findings):
    tvt = [f for f in findings if f.kind == "table_vs_text"]
    # the seed's two, and PATINA's congress and journal hazard ratios (conflict patina_pfs_hr)
    assert {f.trial for f in tvt} == {"nsabp_b41", "geyer_egf100151", "patina"}
    assert all(f.severity == "info" and "recorded" in f.message for f in tvt)


def test_every_recorded_conflict_is_reported(findings):
    kb = load()
    reported = [f for f in findings if f.kind.startswith("recorded_conflict")]
    assert len(reported) == len(kb.conflicts)


def test_altto_p_is_consistent_once_the_97_5_percent_level_is_honoured(findings):
    # HR 0.84, 97.5% CI 0.70-1.02, P = 0.048: with z_0.9875 = 2.24 the implied P is ~0.04.
    assert not [f for f in findings if f.subject == "outcome:altto/dfs_hr"]


# --------------------------------------------------------------------------- synthetic trials


def _kb_with(trial: dict, conflicts=()) -> KnowledgeBase:
    base = load()
    return KnowledgeBase.model_validate(
        {**base.model_dump(), "trials": [Trial.model_validate(trial)], "conflicts": list(conflicts)}
    )


def _trial(outcomes, arms=None):
    arms = arms or [
        {"id": "e", "label": "E", "regimen": ["trastuzumab", "pertuzumab"], "n": 200},
        {"id": "c", "label": "C", "regimen": ["trastuzumab"], "n": 200},
    ]
    return {
        "id": "synthetic", "name": "SYNTHETIC", "phase": "III", "randomized": True,
        "setting": "metastatic_first_line", "population": {"description": "test"},
        "design": "test", "arms": arms, "outcomes": outcomes,
        "published": "2020-01-01", "published_source": "test fixture",
        "provenance": {"locator": "test fixture"},
    }


def _hr(value, low, high, p, relation="=", level=0.95, oid="hr"):
    return {"id": oid, "endpoint": "PFS", "kind": "effect", "measure": "HR", "arms": ["e", "c"],
            "value": value, "ci": {"low": low, "high": high, "level": level},
            "p": {"value": p, "relation": relation}, "provenance": {"locator": "test fixture"}}


def _audit_one(outcomes, arms=None, conflicts=()):
    return run_audit(_kb_with(_trial(outcomes, arms), conflicts))


@settings(max_examples=60, deadline=None)
@given(
    log_hr=st.floats(-1.2, 1.2).filter(lambda x: abs(x) > 1e-3),
    se=st.floats(0.05, 0.4),
    level=st.sampled_from([0.95, 0.975]),
)
def test_a_consistent_hr_ci_and_p_raise_no_finding(log_hr, se, level):
    z = stats.norm.ppf(0.5 + level / 2)
    hr = round(math.exp(log_hr), 2)
    lo, hi = round(math.exp(log_hr - z * se), 2), round(math.exp(log_hr + z * se), 2)
    p = 2 * stats.norm.sf(abs(log_hr) / se)
    if not (lo < hr < hi) or lo <= 0 or p < 1e-6:
        return
    p_rep = float(f"{p:.2g}")
    found = _audit_one([_hr(hr, lo, hi, p_rep, level=level)])
    assert [f for f in found if f.kind in ("p_vs_ci", "ci_centre", "significance_vs_ci")] == []


def test_a_p_value_far_from_its_ci_is_reported():
    # HR 0.70 (0.60-0.82): SE = (ln 0.82 - ln 0.60)/3.92 = 0.080, z = 4.47, P ~ 8e-6, not 0.03.
    found = _audit_one([_hr(0.70, 0.60, 0.82, 0.03)])
    assert any(f.kind == "p_vs_ci" and f.severity == "warning" for f in found)


def test_a_significant_p_next_to_a_ci_that_includes_one_is_an_error():
    found = _audit_one([_hr(0.90, 0.75, 1.08, 0.01)])
    assert any(f.kind == "significance_vs_ci" and f.severity == "error" for f in found)


def test_an_off_centre_estimate_is_reported():
    # geometric centre of 0.50-0.90 is 0.67; 0.85 is far off it on the log scale
    found = _audit_one([_hr(0.85, 0.50, 0.90, 0.3)])
    assert any(f.kind == "ci_centre" for f in found)


def _rate(oid, arm, value, ci=None, endpoint="pCR"):
    d = {"id": oid, "endpoint": endpoint, "kind": "rate", "arm": arm, "value": value,
         "unit": "percent", "provenance": {"locator": "test fixture"}}
    if ci:
        d["ci"] = {"low": ci[0], "high": ci[1]}
    return d


def test_a_difference_that_is_not_the_difference_of_its_arms_is_reported():
    diff = {"id": "d", "endpoint": "pCR", "kind": "effect", "measure": "difference",
            "unit": "points", "arms": ["e", "c"], "value": 15.0, "ci": {"low": 5.0, "high": 25.0},
            "provenance": {"locator": "test fixture"}}
    found = _audit_one([_rate("re", "e", 50.0), _rate("rc", "c", 30.0), diff])
    assert any(f.kind == "difference_arithmetic" and "20" in f.message for f in found)
    ok = _audit_one([_rate("re", "e", 50.0), _rate("rc", "c", 30.0), {**diff, "value": 20.0}])
    assert not any(f.kind == "difference_arithmetic" for f in ok)


def test_an_odds_ratio_is_checked_against_its_arms():
    # GeparQuinto-like: (22.7/77.3)/(30.3/69.7) = 0.676; a reported 0.50 cannot come from them.
    orr = {"id": "or", "endpoint": "pCR", "kind": "effect", "measure": "OR", "arms": ["e", "c"],
           "value": 0.50, "ci": {"low": 0.30, "high": 0.83}, "provenance": {"locator": "t f"}}
    found = _audit_one([_rate("re", "e", 22.7), _rate("rc", "c", 30.3), orr])
    assert any(f.kind == "or_arithmetic" for f in found)
    ok = _audit_one([_rate("re", "e", 22.7), _rate("rc", "c", 30.3),
                     {**orr, "value": 0.68, "ci": {"low": 0.47, "high": 0.97}}])
    assert not any(f.kind == "or_arithmetic" for f in ok)


def test_a_median_ratio_outside_the_hr_ci_is_reported():
    med = [{"id": "me", "endpoint": "PFS", "kind": "median", "arm": "e", "value": 20.0,
            "unit": "months", "provenance": {"locator": "t f"}},
           {"id": "mc", "endpoint": "PFS", "kind": "median", "arm": "c", "value": 10.0,
            "unit": "months", "provenance": {"locator": "t f"}}]
    # 10/20 = 0.5 lies outside 0.70-0.95
    found = _audit_one([*med, _hr(0.82, 0.70, 0.95, 0.008)])
    assert any(f.kind == "median_ratio_vs_hr" for f in found)


def test_a_percentage_that_is_no_whole_count_of_its_arm_is_reported():
    # with n = 200 the attainable percentages are multiples of 0.5; 33.3% is not one of them
    found = _audit_one([_rate("re", "e", 33.3)])
    assert any(f.kind == "rate_vs_n" for f in found)
    assert not any(f.kind == "rate_vs_n" for f in _audit_one([_rate("re", "e", 33.5)]))


def test_a_rate_ci_is_checked_against_the_exact_interval():
    # 31/107 = 29.0%; its Clopper-Pearson 95% interval is 20.6-38.5 (NeoSphere, ref 14)
    arms = [{"id": "e", "label": "E", "regimen": ["trastuzumab"], "n": 107},
            {"id": "c", "label": "C", "regimen": ["trastuzumab"], "n": 107}]
    assert not any(f.kind == "rate_ci_vs_n"
                   for f in _audit_one([_rate("re", "e", 29.0, (20.6, 38.5))], arms))
    assert any(f.kind == "rate_ci_vs_n"
               for f in _audit_one([_rate("re", "e", 29.0, (24.0, 34.0))], arms))


def test_clinical_benefit_must_be_response_plus_stable_disease():
    out = [_rate("pr", "e", 15, endpoint="PR"), _rate("sd", "e", 19, endpoint="SD"),
           _rate("cbr", "e", 40, endpoint="CBR")]
    assert any(f.kind == "rate_components" for f in _audit_one(out))
    out[2] = _rate("cbr", "e", 34, endpoint="CBR")
    assert not any(f.kind == "rate_components" for f in _audit_one(out))


def test_an_unrecorded_disagreement_is_an_error_and_a_recorded_one_is_not():
    two = [_rate("a_table", "e", 53.5), _rate("a_text", "e", 52.5)]
    found = _audit_one(two)
    assert any(f.kind == "table_vs_text" and f.severity == "error" for f in found)
    conflict = {
        "id": "c1", "kind": "table_vs_text", "subject": "trial:synthetic", "field": "pCR",
        "note": "test", "values": [
            {"value": "53.5", "outcome": "synthetic/a_table", "provenance": {"locator": "t f"}},
            {"value": "52.5", "outcome": "synthetic/a_text", "provenance": {"locator": "t f"}},
        ],
    }
    found = _audit_one(two, conflicts=[conflict])
    assert all(f.severity != "error" for f in found if f.kind == "table_vs_text")


def test_medians_of_one_endpoint_in_two_units_are_an_error():
    med = [{"id": "me", "endpoint": "OS", "kind": "median", "arm": "e", "value": 75,
            "unit": "weeks", "provenance": {"locator": "t f"}},
           {"id": "mc", "endpoint": "OS", "kind": "median", "arm": "c", "value": 15,
            "unit": "months", "provenance": {"locator": "t f"}}]
    assert any(f.kind == "unit_mismatch" for f in _audit_one(med))


@pytest.mark.parametrize("x,d", [(0.0141, 4), (18.7, 1), (0.7, 1), (1.0, 0), (8381, 0), (1e-5, 5)])
def test_decimals_counts_the_digits_as_written(x, d):
    assert decimals(x) == d


def test_half_unit_takes_the_finest_precision():
    assert half_unit(0.7, 1.02) == pytest.approx(0.005)


def _sized(trial_n, arm_n=(200, 200), outcomes=()):
    t = _trial(list(outcomes), arms=[
        {"id": "e", "label": "E", "regimen": ["trastuzumab", "pertuzumab"], "n": arm_n[0]},
        {"id": "c", "label": "C", "regimen": ["trastuzumab"], "n": arm_n[1]},
    ])
    return run_audit(_kb_with({**t, "n": trial_n}))


def _arms_total(findings):
    return [f for f in findings if f.kind == "arms_vs_total"]


def test_arms_that_add_up_to_the_trial_raise_nothing():
    assert _arms_total(_sized(400)) == []


def test_arms_that_add_up_to_more_than_the_trial_are_an_error_and_fewer_a_warning():
    (more,) = _arms_total(_sized(380))
    assert more.severity == "error" and "add up to 400" in more.message
    (fewer,) = _arms_total(_sized(420))
    assert fewer.severity == "warning" and "420" in fewer.message


def test_an_analysis_population_larger_than_its_arms_is_an_error():
    hr = {**_hr(0.8, 0.7, 0.92, 0.002), "n": 480}  # HER2CLIMB's 480 of 612, here of 400
    (f,) = _arms_total(_sized(400, outcomes=[hr]))
    assert f.severity == "error" and "480" in f.message
    assert _arms_total(_sized(400, outcomes=[{**hr, "n": 380}])) == []


def test_a_p_value_the_source_gives_as_one_sided_is_not_flagged():
    # PATINA (SABCS 2024): HR 0.74 (0.58-0.94), one-sided P = 0.0074; the CI implies a
    # two-sided P of 2 * Phi(ln 0.74 / ((ln 0.94 - ln 0.58) / 3.92)) = 0.0147, one-sided 0.0074
    one = {**_hr(0.74, 0.58, 0.94, 0.0074), "p": {"value": 0.0074, "sided": 1}}
    assert not [f for f in _audit_one([one]) if f.kind == "p_vs_ci"]
    unsaid = _hr(0.74, 0.58, 0.94, 0.0074)
    (f,) = [f for f in _audit_one([unsaid]) if f.kind == "p_vs_ci"]
    assert "one-sided" in f.message
