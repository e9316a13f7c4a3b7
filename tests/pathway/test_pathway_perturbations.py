"""Drugs and mechanisms as data (perturbations.yaml): profiles, regimens, parameter settings."""

from __future__ import annotations

from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.errors import SimulationError, UnknownIdError, ValidationError
from her2lab.pathway import (
    DRUGS,
    MECHANISMS,
    Profile,
    load_model,
    normalize_profile,
    normalize_regimen,
)
from her2lab.pathway.drugs import effective_strengths, regimen_parameters
from her2lab.pathway.perturbations import read_perturbations

SHIPPED = resources.files("her2lab.pathway") / "data" / "perturbations.yaml"


def _p_on(up: float, down: float) -> float:
    """Stationary P(ON) of a node flipping up at rate ``up`` and down at rate ``down``."""
    return up / (up + down)


@pytest.mark.parametrize(("alias", "expected"), [
    ("T-DM1", "trastuzumab_emtansine"), ("t-dm1", "trastuzumab_emtansine"),
    ("BKM120", "buparlisib"), ("Herceptin", "trastuzumab"), ("pembrolizumab", "anti_pd1"),
    ("Trastuzumab", "trastuzumab"),
])
def test_drug_aliases_of_the_knowledge_base_resolve_case_insensitively(alias, expected):
    assert normalize_regimen(alias) == (expected,)


def test_a_regimen_is_a_sorted_set_and_none_is_empty():
    assert normalize_regimen("pertuzumab+trastuzumab+docetaxel+trastuzumab") == (
        "docetaxel", "pertuzumab", "trastuzumab")
    assert normalize_regimen("none") == ()


def test_a_profile_can_be_named_listed_or_graded():
    assert normalize_profile("none") == Profile()
    named = normalize_profile("PTEN loss,p95her2")
    assert named.mechanisms == ("p95her2", "pten_loss")
    assert named.degree("pten_loss") == MECHANISMS["pten_loss"].degree == 1.0
    graded = normalize_profile({"pten_loss": 0.6, "hr_positive": True})
    assert graded == normalize_profile("pten_loss=0.6,hr_positive")
    assert graded == normalize_profile(["pten_loss=0.6", "hr_positive"])
    assert graded.degree("pten_loss") == 0.6 and graded.hr_positive == 1.0
    assert graded.label() == "pten_loss=0.6,hr_positive"
    assert normalize_profile({"pten_loss": 0}) == Profile(), "degree 0 is no mechanism"
    assert normalize_profile("p95her2", hr_positive=0.3).hr_positive == 0.3


def test_a_profile_sets_the_initial_state_of_its_profile_nodes_only():
    init = normalize_profile({"pten_loss": 0.6, "hr_positive": 0.5}).initial()
    assert set(init) == set(load_model().profile_nodes)
    assert init["M_pten_loss"] == 0.6 and init["HR_pos"] == 0.5 and init["M_p95her2"] == 0


@pytest.mark.parametrize("bad", [{"pten_loss": 1.5}, {"pten_loss": -0.1}, "pten_loss=high",
                                 {"pten_loss": float("nan")}])
def test_a_degree_outside_zero_one_is_refused(bad):
    with pytest.raises(SimulationError, match="degree of pten_loss"):
        normalize_profile(bad)


def test_an_unknown_drug_lists_the_valid_ids():
    with pytest.raises(UnknownIdError) as info:
        normalize_regimen("trastuzumab+aspirin")
    assert "aspirin" in str(info.value)
    assert "trastuzumab_emtansine" in info.value.valid and "none" in info.value.valid


def test_an_unknown_mechanism_lists_the_valid_ids():
    with pytest.raises(UnknownIdError) as info:
        normalize_profile("kras_mutation")
    assert set(MECHANISMS) <= set(info.value.valid) and "hr_positive" in info.value.valid


def test_an_inhibitor_leaves_its_target_on_with_probability_one_minus_its_strength():
    p = regimen_parameters(["everolimus"])
    e = DRUGS["everolimus"].potency
    # while its rule holds the node goes up at u and down at i
    assert _p_on(p["u_mTORC1"], p["i_mTORC1"]) == pytest.approx(1 - e)


def test_an_antibody_binds_its_epitope_with_probability_equal_to_its_potency():
    p = regimen_parameters(["trastuzumab"])
    assert _p_on(p["u_TZ"], p["i_TZ"]) == pytest.approx(DRUGS["trastuzumab"].potency)
    assert p["di_TZ"] > 0, "the antibody falls off when its epitope goes"


def test_a_cytotoxic_drug_induces_its_stress_node_against_the_rule():
    p = regimen_parameters(["docetaxel"])
    e = DRUGS["docetaxel"].potency
    assert _p_on(p["g_MT_stress"], p["di_MT_stress"]) == pytest.approx(e)


def test_drugs_on_one_node_combine_as_independent_actions():
    both = effective_strengths(["docetaxel", "paclitaxel"])
    a, b = DRUGS["docetaxel"].potency, DRUGS["paclitaxel"].potency
    assert both[("MT_stress", "induce")] == pytest.approx(1 - (1 - a) * (1 - b))


def test_potency_overrides_grade_the_effect_and_are_checked():
    weak = effective_strengths(["lapatinib"], {"lapatinib": 0.2})
    assert weak[("TKI", "bind")] == pytest.approx(0.2)
    with pytest.raises(SimulationError, match="potency of lapatinib must lie in"):
        effective_strengths(["lapatinib"], {"lapatinib": 1.5})
    with pytest.raises(UnknownIdError):
        effective_strengths(["lapatinib"], {"lapatinibb": 0.5})


def test_a_regimen_changes_only_the_parameters_of_the_nodes_its_drugs_act_on():
    p = regimen_parameters(["trastuzumab", "everolimus"])
    assert {k.split("_", 1)[1] for k in p} == {"TZ", "mTORC1"}
    assert regimen_parameters([]) == {}


@settings(max_examples=60, deadline=None)
@given(
    regimen=st.lists(st.sampled_from(sorted(DRUGS)), max_size=4, unique=True),
    potency=st.floats(0, 1),
)
def test_any_regimen_gives_valid_rates(regimen, potency):
    p = regimen_parameters(regimen, {d: potency for d in regimen})
    assert set(p) <= set(load_model().engine.parameters)
    assert all(v >= 0 for v in p.values())


def test_the_shipped_file_is_valid_and_lists_the_drugs_and_mechanisms_once():
    data = read_perturbations(SHIPPED)
    assert list(data.drugs) == list(DRUGS) and list(data.mechanisms) == list(MECHANISMS)


@pytest.mark.parametrize(("edit", "field", "line_of"), [
    (("potency: 0.9\n    potency_source: starting value for calibration (high",
      "potency: 1.9\n    potency_source: starting value for calibration (high"),
     "drugs.trastuzumab.potency", "potency: 1.9"),
    (("effects: [{node: TZ, kind: bind}]", "effects: [{node: TZZ, kind: bind}]"),
     "drugs.trastuzumab.effects[0].node", "node: TZZ"),
    (("node: M_pten_loss\n    degree: 1.0", "node: M_pten_loss\n    degree: 1.0\n    dose: 3"),
     "mechanisms.pten_loss.dose", "dose: 3"),
])
def test_a_bad_perturbations_file_names_file_line_and_field(tmp_path, edit, field, line_of):
    text = SHIPPED.read_text("utf-8")
    assert edit[0] in text
    bad = text.replace(edit[0], edit[1], 1)
    path = tmp_path / "perturbations.yaml"
    path.write_text(bad, "utf-8")
    with pytest.raises(ValidationError) as info:
        read_perturbations(path)
    (problem,) = [p for p in info.value.problems if p.field == field]
    expected_line = next(i for i, ln in enumerate(bad.splitlines(), 1) if line_of in ln)
    assert problem.file == str(path) and problem.line == expected_line


def test_a_mechanism_must_use_its_own_profile_node(tmp_path):
    bad = SHIPPED.read_text("utf-8").replace("node: M_pten_loss", "node: M_p95her2", 1)
    path = tmp_path / "p.yaml"
    path.write_text(bad, "utf-8")
    with pytest.raises(ValidationError, match="M_pten_loss"):
        read_perturbations(path)
