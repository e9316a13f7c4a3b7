"""Inputs of the pairwise meta-analysis: both call forms, CSV layouts and their errors, and
invariants (study order, one study, a CI at another level)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.errors import DataError, ValidationError
from her2lab.synthesis import effect_from_ci, meta_analysis, read_effects_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "synthesis"

ISSUE_KEYS = {"measure", "method", "k", "log_estimate", "se", "estimate", "ci_low", "ci_high",
              "tau2", "q", "q_df", "i2", "prediction_low", "prediction_high", "fixed"}


def test_the_json_has_the_issues_keys_and_fixed_has_the_same():
    studies = read_effects_csv(DATA / "clasp.csv", measure="OR")
    d = meta_analysis(studies, method="PM").to_dict()
    assert set(d) >= ISSUE_KEYS
    assert ISSUE_KEYS - {"fixed"} <= set(d["fixed"])
    json.dumps(d)  # plain JSON


def test_the_columnar_form_equals_the_effect_form():
    labels, est, lo, hi = ["a", "b", "c"], [0.7, 0.8, 0.6], [0.55, 0.62, 0.41], [0.89, 1.03, 0.88]
    a = meta_analysis(labels, est, lo, hi, measure="HR", method="DL").to_dict()
    b = meta_analysis([effect_from_ci(*x, measure="HR") for x in zip(labels, est, lo, hi,
                                                                     strict=True)],
                      method="DL").to_dict()
    assert a == b


def test_a_ci_at_another_level_gives_the_same_standard_error():
    z95, z90 = 1.959963984540054, 1.6448536269514722
    se = 0.2
    e95 = effect_from_ci("x", 1.0, math.exp(-z95 * se), math.exp(z95 * se), measure="HR")
    e90 = effect_from_ci("x", 1.0, math.exp(-z90 * se), math.exp(z90 * se), measure="HR",
                         level=0.90)
    assert abs(e95.se - se) < 1e-12 and abs(e90.se - se) < 1e-12


def test_one_study_pools_to_itself_with_no_heterogeneity():
    e = effect_from_ci("only", 0.7, 0.5, 0.98, measure="HR")
    d = meta_analysis([e]).to_dict()
    assert abs(d["log_estimate"] - e.yi) < 1e-12 and d["tau2"] == 0 and d["i2"] is None


@settings(max_examples=25)
@given(st.permutations(list(range(13))), st.sampled_from(["DL", "PM", "REML"]))
def test_the_pooled_estimate_does_not_depend_on_study_order(order, method):
    studies = read_effects_csv(DATA / "bcg.csv", measure="RR")
    a = meta_analysis(studies, method=method)
    b = meta_analysis([studies[i] for i in order], method=method)
    assert abs(a.random.log_estimate - b.random.log_estimate) < 1e-9
    assert abs(a.random.tau2 - b.random.tau2) < 1e-9


def test_a_mean_difference_csv_is_read(tmp_path):
    p = tmp_path / "md.csv"
    p.write_text("study,mean_t,sd_t,n_t,mean_c,sd_c,n_c\nA,-1.2,2.21,218,-0.4,2.21,218\n"
                 "B,-1.6,2.5,129,-0.9,3.4,74\n")
    studies = read_effects_csv(p, measure="MD")
    assert abs(studies[0].yi + 0.8) < 1e-12 and abs(studies[0].se - 0.2116796) < 5e-8


def test_bad_cells_are_reported_with_file_line_and_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("study,events_t,n_t,events_c,n_c\nA,5,100,x,100\nB,3.5,100,4,100\n"
                 "C,120,100,4,100\n")
    with pytest.raises(ValidationError) as exc:
        read_effects_csv(p, measure="OR")
    text = str(exc.value)
    assert f"{p}:2: field 'events_c': expected a whole number; found 'x'" in text
    assert f"{p}:3: field 'events_t'" in text
    assert f"{p}:4:" in text and "between 0 and its arm size" in text


def test_columns_that_do_not_fit_the_measure_are_refused(tmp_path):
    p = tmp_path / "hr.csv"
    p.write_text("study,events_t,n_t,events_c,n_c\nA,5,100,4,100\n")
    with pytest.raises(ValidationError, match="estimate,ci_low,ci_high"):
        read_effects_csv(p, measure="HR")


def test_an_unknown_method_is_refused():
    e = effect_from_ci("a", 0.7, 0.5, 0.98, measure="HR")
    with pytest.raises(DataError, match="expected one of DL, PM, REML"):
        meta_analysis([e, e.__class__("b", e.yi, e.se, "HR")], method="SJ")
