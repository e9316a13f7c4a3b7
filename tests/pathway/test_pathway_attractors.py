"""Attractors (mpbn minimal trap spaces) of the model's Boolean abstraction, untreated and
treated, against what the rules say and what the published models report where they overlap
(docs/pathway.md, "Attractors")."""

from __future__ import annotations

import pytest

from her2lab.pathway.attractors import boolean_condition, condition_attractors, fates

pytest.importorskip("mpbn")


def _fates(profile, regimen, ligand=True):
    return fates(condition_attractors(profile, regimen, ligand=ligand))


@pytest.mark.parametrize("ligand", [False, True])
def test_the_untreated_tumor_has_one_proliferating_attractor_without_death(ligand):
    (f,) = _fates("none", "none", ligand)
    assert f.proliferation == 1 and f.deaths == ()
    assert f.pattern["AKT"] == 1 and f.pattern["ERK"] == 1 and f.pattern["FOXO"] == 0


def test_with_ligand_trastuzumab_alone_leaves_signaling_and_dual_blockade_does_not():
    (t,) = _fates("none", "trastuzumab")
    assert t.proliferation == 1 and "targeted" not in t.deaths and "immune" in t.deaths
    (tp,) = _fates("none", "trastuzumab+pertuzumab")
    assert tp.pattern["ERBB_kinase"] == 0 and "targeted?" in tp.deaths


def test_pi3k_inhibition_switches_foxo_on_with_her3_and_igf1r_up():
    """Zanudo et al. 2017: PI3K/AKT inhibition turns FOXO3 on and with it HER3 and IGF1R."""
    (f,) = _fates("none", "buparlisib")
    assert f.pattern["AKT"] == 0 and f.pattern["FOXO"] == 1
    assert f.pattern["IGF1R"] == 1 and f.pattern["HER3"] == 1


def test_er_keeps_hr_positive_cells_cycling_under_dual_her2_blockade():
    """Zanudo et al. 2017: ER transcription sustains proliferation when PI3K signaling is
    blocked; here under trastuzumab + pertuzumab in HR-positive cells."""
    (f,) = _fates("hr_positive", "trastuzumab+pertuzumab")
    assert f.pattern["ER"] == 1 and f.proliferation == 1
    (neg,) = _fates("none", "trastuzumab+pertuzumab")
    assert neg.proliferation == "*"


def test_pten_loss_keeps_akt_on_and_the_payload_still_kills():
    (f,) = _fates("pten_loss", "trastuzumab")
    assert f.pattern["AKT"] == 1 and f.proliferation == 1 and "targeted" not in f.deaths
    (t,) = _fates("pten_loss", "trastuzumab_emtansine")
    assert "payload" in t.deaths
    (m,) = _fates("muc4_masking", "trastuzumab_emtansine")
    assert "payload" not in m.deaths and "immune" not in m.deaths


def test_losing_her2_stops_the_cell_cycle_as_in_sahin_2009():
    """Sahin et al. 2009 represent trastuzumab as the loss of ERBB2, which blocks the G1/S
    transition; without HER2 (and without heregulin-driven HER3) no attractor cycles."""
    from her2lab.boolnet import attractors
    from her2lab.pathway import load_model

    fixed = boolean_condition("none", "none", ligand=False) | {"HER2": False}
    atts = attractors(load_model().engine, method="mpbn", fixed=fixed)
    assert {f.proliferation for f in fates(atts)} <= {0, "*"}
    assert all(a.pattern["CycD"] != 1 for a in atts)


def test_the_abstraction_fixes_profile_drug_and_death_nodes():
    fixed = boolean_condition({"pten_loss": 0.6, "p95her2": 0.3}, "trastuzumab+everolimus")
    assert fixed["M_pten_loss"] is True and fixed["M_p95her2"] is False
    assert "TZ" not in fixed and fixed["PZ"] is False and fixed["mTORC1"] is False
    assert fixed["Apoptosis"] is False and fixed["HRG"] is True
