"""Drugs and mechanisms as settings of the rate parameters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.errors import SimulationError, UnknownIdError
from her2lab.pathway import DRUGS, MECHANISMS, load_model, normalise_profile, normalise_regimen
from her2lab.pathway.drugs import apply_regimen, effective_strengths
from her2lab.pathway.mechanisms import apply_mechanisms
from her2lab.pathway.model import NodeRates


def _rates():
    return dict(load_model().baseline)


def _p_on(u: float, down: float) -> float:
    """Stationary P(ON) of a node flipping up at rate u and down at rate ``down``."""
    return u / (u + down)


@pytest.mark.parametrize(("alias", "expected"), [
    ("T-DM1", "trastuzumab_emtansine"), ("t-dm1", "trastuzumab_emtansine"),
    ("BKM120", "buparlisib"), ("Herceptin", "trastuzumab"), ("pembrolizumab", "anti_pd1"),
    ("Trastuzumab", "trastuzumab"),
])
def test_drug_aliases_of_the_knowledge_base_resolve_case_insensitively(alias, expected):
    assert normalise_regimen(alias) == (expected,)


def test_a_regimen_is_a_sorted_set_and_none_is_empty():
    assert normalise_regimen("pertuzumab+trastuzumab+docetaxel+trastuzumab") == (
        "docetaxel", "pertuzumab", "trastuzumab")
    assert normalise_regimen("none") == ()
    assert normalise_profile("none") == ()
    assert normalise_profile("PTEN loss,p95her2") == ("p95her2", "pten_loss")


def test_an_unknown_drug_lists_the_valid_ids():
    with pytest.raises(UnknownIdError) as info:
        normalise_regimen("trastuzumab+aspirin")
    assert "aspirin" in str(info.value)
    assert "trastuzumab_emtansine" in info.value.valid and "none" in info.value.valid


def test_an_unknown_mechanism_lists_the_valid_ids():
    with pytest.raises(UnknownIdError) as info:
        normalise_profile("kras_mutation")
    assert set(MECHANISMS) <= set(info.value.valid)


def test_an_inhibitor_leaves_its_target_on_with_probability_one_minus_its_strength():
    rates = _rates()
    apply_regimen(rates, ["everolimus"])
    r = rates["mTORC1"]
    e = DRUGS["everolimus"].potency
    # while its rule holds the node goes up at u and down at i
    assert _p_on(r.u, r.i) == pytest.approx(1 - e)


def test_an_inhibitor_also_acts_on_a_gain_of_function_node():
    rates = _rates()
    apply_mechanisms(rates, ["pik3ca_mutation"])
    apply_regimen(rates, ["buparlisib"])
    r = rates["PI3K"]
    e = DRUGS["buparlisib"].potency
    # against its rule the mutant node goes up at g and down at d + i
    assert _p_on(r.g, r.d + r.i) == pytest.approx(1 - e)


def test_an_antibody_binds_its_epitope_with_probability_equal_to_its_potency():
    rates = _rates()
    apply_regimen(rates, ["trastuzumab"])
    assert _p_on(rates["TZ"].u, rates["TZ"].i) == pytest.approx(DRUGS["trastuzumab"].potency)
    assert rates["TZ"].d > 0, "the antibody falls off when its epitope goes"


def test_drugs_on_one_node_combine_as_independent_actions():
    both = effective_strengths(["trastuzumab", "trastuzumab_emtansine"])
    a, b = DRUGS["trastuzumab"].potency, DRUGS["trastuzumab_emtansine"].potency
    assert both[("TZ", "bind")] == pytest.approx(1 - (1 - a) * (1 - b))


def test_potency_overrides_grade_the_effect_and_are_checked():
    weak = effective_strengths(["lapatinib"], {"lapatinib": 0.2})
    assert weak[("TKI", "bind")] == pytest.approx(0.2)
    with pytest.raises(SimulationError, match="potency of lapatinib must lie in"):
        effective_strengths(["lapatinib"], {"lapatinib": 1.5})
    with pytest.raises(UnknownIdError):
        effective_strengths(["lapatinib"], {"lapatinibb": 0.5})


def test_mechanism_kinds_set_the_documented_parameters():
    rates = _rates()
    apply_mechanisms(rates, ["pten_loss", "src_activation", "p95her2"])
    assert rates["PTEN"].u == 0 and rates["PTEN"].initial == 0
    assert rates["SRC"].g == 1 and rates["SRC"].d == 0 and rates["SRC"].initial == 1
    assert rates["p95HER2"].u == 1 and rates["p95HER2"].initial == 1


def test_applying_a_regimen_never_changes_the_shipped_baseline():
    before = dict(load_model().baseline)
    rates = _rates()
    apply_mechanisms(rates, list(MECHANISMS))
    apply_regimen(rates, list(DRUGS))
    assert load_model().baseline == before


@settings(max_examples=60, deadline=None)
@given(
    regimen=st.lists(st.sampled_from(sorted(DRUGS)), max_size=4, unique=True),
    profile=st.lists(st.sampled_from(sorted(MECHANISMS)), max_size=3, unique=True),
    potency=st.floats(0, 1),
)
def test_any_profile_and_regimen_give_valid_rates(regimen, profile, potency):
    rates = _rates()
    apply_mechanisms(rates, profile)
    apply_regimen(rates, regimen, {d: potency for d in regimen})
    for r in rates.values():
        assert isinstance(r, NodeRates)  # validated on construction: rates >= 0
        assert min(r.u, r.g, r.i, r.d) >= 0 and 0 <= r.initial <= 1
