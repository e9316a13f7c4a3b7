"""Tumor profiles: the compact syntax, YAML files, and clear errors for bad ones."""

from __future__ import annotations

import pytest

from her2lab.errors import ValidationError
from her2lab.report import parse_profile


def test_the_compact_syntax_gives_mechanisms_degrees_and_attributes():
    p = parse_profile("pten_loss,p95her2:0.5,hr_positive,trastuzumab_pretreated")
    assert p.mechanisms == {"pten_loss": 1.0, "p95her2": 0.5}
    assert p.hr_positive == 1.0
    assert p.trastuzumab_pretreated is True
    assert p.label() == "p95her2:0.5,pten_loss,hr_positive,trastuzumab_pretreated"


def test_a_mechanism_sets_its_biomarker_and_a_biomarker_its_mechanism():
    assert "pten_low" in parse_profile("pten_loss").biomarkers
    assert parse_profile("pten_low").mechanisms == {"pten_loss": 1.0}
    # a biomarker without a modelled mechanism stays a biomarker
    p = parse_profile("ps6_high")
    assert p.biomarkers == ("ps6_high",) and not p.mechanisms


def test_none_and_degree_zero_are_the_empty_profile():
    assert parse_profile("none").mechanisms == {}
    assert parse_profile("pten_loss:0").mechanisms == {}
    assert parse_profile("none").label() == "none"


def test_the_label_reads_back_to_the_same_profile():
    p = parse_profile("p95her2=0.25, pik3ca_mutation ,hr_positive:0.5")
    q = parse_profile(p.label())
    assert (q.mechanisms, q.hr_positive, q.biomarkers) == (p.mechanisms, p.hr_positive,
                                                           p.biomarkers)


def test_a_yaml_mapping_and_a_yaml_list_give_the_same_profile(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text("pten_loss: true\np95her2: 0.5\nhr_positive: yes\n")
    b = tmp_path / "b.yml"
    b.write_text("- pten_loss\n- {p95her2: 0.5}\n- hr_positive\n")
    pa, pb = parse_profile(a), parse_profile(str(b))
    assert pa.mechanisms == pb.mechanisms == {"pten_loss": 1.0, "p95her2": 0.5}
    assert pa.hr_positive == pb.hr_positive == 1.0


def test_an_unknown_name_is_reported_with_the_valid_ones():
    with pytest.raises(ValidationError) as exc:
        parse_profile("pten_loss,ptenn_loss")
    msg = str(exc.value)
    assert "'ptenn_loss'" in msg and "pten_loss" in msg and "hr_positive" in msg
    assert exc.value.problems[0].field == "ptenn_loss"


@pytest.mark.parametrize("spec, expected", [
    ("p95her2:1.5", "a degree in [0, 1]"),
    ("p95her2:-0.1", "a degree in [0, 1]"),
    ("p95her2:lots", "a degree in [0, 1] or yes/no"),
    ("p95her2:nan", "a degree in [0, 1] or yes/no"),
    ("trastuzumab_pretreated:0.5", "yes or no"),
    ("ps6_high:0.3", "yes or no"),
    ("pten_loss,PTEN_loss:0.5", "each item once"),
])
def test_bad_degrees_and_repeats_are_clear_errors(spec, expected):
    with pytest.raises(ValidationError) as exc:
        parse_profile(spec)
    assert expected in str(exc.value)


def test_every_problem_of_a_yaml_file_is_reported_with_its_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("pten_loss: true\np95her2: 2\nwhatever: 1\n")
    with pytest.raises(ValidationError) as exc:
        parse_profile(f)
    lines = sorted((p.field, p.line) for p in exc.value.problems)
    assert lines == [("p95her2", 2), ("whatever", 3)]
    assert str(f) in str(exc.value)


def test_a_yaml_file_that_is_not_a_mapping_or_list_and_a_missing_file_are_errors(tmp_path):
    f = tmp_path / "scalar.yaml"
    f.write_text("just text\n")
    with pytest.raises(ValidationError, match="a mapping name: degree or a list"):
        parse_profile(f)
    with pytest.raises(ValidationError, match="no such file"):
        parse_profile(tmp_path / "missing.yaml")


@pytest.mark.parametrize(("spec", "expected"), [
    ("her2_status:no", "a HER2-positive tumor"),
    ("", "at least one mechanism"),
    (" , ", "at least one mechanism"),
    ("pten_low:no,pten_loss", "no contradiction"),
    ("pten_loss:0,pten_low", "no contradiction"),
])
def test_contradictory_empty_and_out_of_scope_profiles_are_refused(spec, expected):
    with pytest.raises(ValidationError) as exc:
        parse_profile(spec)
    assert expected in str(exc.value)


def test_her2_positive_given_explicitly_is_the_scope_itself():
    a, b = parse_profile("her2_status,pten_loss"), parse_profile("pten_loss")
    assert a.to_dict() == b.to_dict()
