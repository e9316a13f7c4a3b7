"""Trial specifications: the examples load; every kind of mistake names file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from her2lab.errors import ValidationError
from her2lab.virtual_trials.spec import (
    ACCRUAL_MONTHS,
    ArmSpec,
    SpecEndpoint,
    SpecSetting,
    TrialSpec,
    example_specs,
    load_spec,
    resolve_spec,
)

GOOD = """\
name: EXAMPLE
setting: metastatic_pretreated
population:
  prior_trastuzumab: true
  require: [pd_l1_high]
  exclude: []
arms:
  - name: experimental
    regimen: [T-DM1, anti_pd_l1]
    n: 133
  - name: control
    regimen: [trastuzumab_emtansine]
    n: 69
control: control
endpoint: PFS
follow_up_months: 24
landmark_months: 36
"""


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list:
    with pytest.raises(ValidationError) as info:
        load_spec(path)
    return info.value.problems


def only(path: Path):
    found = problems(path)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("name", sorted(example_specs()))
def test_every_shipped_example_loads(name):
    spec = load_spec(example_specs()[name])
    assert spec.control in [a.name for a in spec.arms]
    from her2lab.virtual_trials.plan import TrialPlan

    assert TrialPlan.from_spec(spec).accrual_months >= 0  # given, or the setting's default


def test_the_everolimus_example_is_enriched_for_pten_loss():
    spec = load_spec(example_specs()["everolimus_pten_loss"])
    assert spec.population.require == ["pten_loss"]
    assert spec.arms[0].regimen == ["everolimus", "trastuzumab", "vinorelbine"]
    assert spec.control_arm.regimen == ["trastuzumab", "vinorelbine"]
    assert spec.endpoint is SpecEndpoint.PFS and not spec.is_binary


def test_aliases_become_knowledge_base_ids_and_defaults_are_filled(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.arms[0].regimen == ["trastuzumab_emtansine", "anti_pd_l1"]
    assert spec.setting is SpecSetting.metastatic_pretreated
    # left out: the spec keeps None, the plan takes the one table of defaults
    from her2lab.virtual_trials.plan import TrialPlan

    assert spec.accrual_months is None and spec.dropout_per_year is None
    plan = TrialPlan.from_spec(spec)
    assert plan.accrual_months == ACCRUAL_MONTHS[SpecSetting.metastatic_pretreated]
    assert plan.dropout_per_year == 0.05
    assert [a.name for a in spec.experimental_arms] == ["experimental"]


def test_an_empty_regimen_is_placebo_or_observation(tmp_path):
    spec = load_spec(write(tmp_path, GOOD.replace("[trastuzumab_emtansine]", "[]")))
    assert spec.control_arm.regimen == []


def test_broken_yaml_names_the_line(tmp_path):
    p = only(write(tmp_path, GOOD.replace("  - name: control", "  - name: [control")))
    assert (p.file, p.field) == (str(tmp_path / "spec.yaml"), "(syntax)")
    assert p.line is not None and p.line >= 11


def test_an_unknown_drug_names_file_line_and_field(tmp_path):
    p = only(write(tmp_path, GOOD.replace("[T-DM1, anti_pd_l1]", "[T-DM1, unobtainium]")))
    assert (p.field, p.line) == ("arms[0].regimen[1]", 9)
    assert p.found == "'unobtainium'" and "trastuzumab_emtansine" in p.expected


@pytest.mark.parametrize("n", ["0", "-5"])
def test_an_arm_without_patients_names_the_line_of_n(tmp_path, n):
    p = only(write(tmp_path, GOOD.replace("n: 69", f"n: {n}")))
    assert (p.field, p.line) == ("arms[1].n", 13)
    assert "greater than 0" in p.expected and p.found == n


def test_a_control_that_names_no_arm_names_the_line_of_control(tmp_path):
    p = only(write(tmp_path, GOOD.replace("control: control", "control: placebo")))
    assert (p.field, p.line) == ("control", 14)
    assert "experimental, control" in p.expected and p.found == "'placebo'"


def test_an_unknown_endpoint_lists_the_valid_ones(tmp_path):
    p = only(write(tmp_path, GOOD.replace("endpoint: PFS", "endpoint: QoL")))
    assert (p.field, p.line) == ("endpoint", 15)
    assert "'PFS'" in p.expected and "'ORR'" in p.expected and p.found == "'QoL'"


@pytest.mark.parametrize(
    ("old", "new", "field", "line"),
    [
        ("setting: metastatic_pretreated", "setting: palliative", "setting", 2),
        ("landmark_months: 36", "landmark_months: 36\nsponsor: ACME", "sponsor", 18),
        ("require: [pd_l1_high]", "require: [pd_l1_high, kryptonite]",
         "population.require[1]", 5),
        ("exclude: []", "exclude: [pd_l1_high]", "population", 3),
        ("  - name: control", "  - name: experimental", "arms", 7),
        ("follow_up_months: 24", "follow_up_months: -1", "follow_up_months", 16),
        ("regimen: [trastuzumab_emtansine]", "regimen: [T-DM1, trastuzumab_emtansine]",
         "arms[1].regimen[1]", 12),
        ("landmark_months: 36", "landmark_months: 36\ncontrol_rate: 0.3", "control_rate", 18),
        ("endpoint: PFS", "endpoint: PFS\nendpoint: OS", "endpoint", 16),
    ],
)
def test_other_mistakes_name_their_field_and_line(tmp_path, old, new, field, line):
    assert old in GOOD
    p = only(write(tmp_path, GOOD.replace(old, new)))
    assert (p.field, p.line) == (field, line)


def test_missing_fields_are_each_reported(tmp_path):
    found = problems(write(tmp_path, "name: X\nsetting: adjuvant\n"))
    assert {p.field for p in found} == {"arms", "control", "endpoint"}
    assert all(p.expected.startswith("a value") for p in found)


def test_every_unknown_name_is_reported_at_once(tmp_path):
    text = GOOD.replace("[T-DM1, anti_pd_l1]", "[foo, bar]").replace(
        "[pd_l1_high]", "[baz]")
    fields = [p.field for p in problems(write(tmp_path, text))]
    assert fields == ["arms[0].regimen[0]", "arms[0].regimen[1]", "population.require[0]"]


@pytest.mark.parametrize("text", ["", "- a\n- b\n"])
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path, text):
    p = only(write(tmp_path, text))
    assert p.field == "(document)" and "mapping" in p.expected


def test_the_message_reads_file_line_field_expected_found(tmp_path):
    path = write(tmp_path, GOOD.replace("n: 69", "n: 0"))
    with pytest.raises(ValidationError, match=r"spec\.yaml:13: field 'arms\[1\]\.n': expected"):
        load_spec(path)


@settings(derandomize=True, max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(-1000, 1000))
def test_arm_sizes_are_accepted_exactly_when_positive(tmp_path, n):
    path = write(tmp_path, GOOD.replace("n: 133", f"n: {n}"), name="sized.yaml")
    if n > 0:
        assert load_spec(path).arms[0].n == n
    else:
        assert only(path).field == "arms[0].n"


def test_a_spec_built_in_python_is_validated_and_resolved():
    spec = TrialSpec(
        name="X", setting="neoadjuvant", endpoint="pCR", control="b",
        arms=[ArmSpec(name="a", regimen=["Herceptin", "Perjeta"], n=10),
              ArmSpec(name="b", regimen=["Herceptin"], n=10)])
    assert spec.is_binary and spec.accrual_months is None
    assert resolve_spec(spec).arms[0].regimen == ["trastuzumab", "pertuzumab"]
    with pytest.raises(ValidationError, match=r"arms\[1\]\.regimen\[0\]"):
        resolve_spec(spec.model_copy(update={"arms": [
            spec.arms[0], ArmSpec(name="b", regimen=["nope"], n=1)]}))
