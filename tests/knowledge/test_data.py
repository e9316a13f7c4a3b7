"""The shipped knowledge base holds every trial, arm and figure of the seed.

Expected values below are transcribed from the seed (Lavaud & André, BMC Medicine 2014, 12:132),
Table 1 and the text, with the row or section named beside each; the test that walks the seed's
own Table 1 text needs ``../shared`` and skips with a reason without it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from her2lab.errors import UnknownIdError
from her2lab.knowledge import load

REPO = Path(__file__).resolve().parents[2]
SEED = REPO.parent / "shared" / "seed" / "000_6b394a301f8253fa.txt"


@pytest.fixture(scope="module")
def kb():
    return load()


# (trial id, NCT, phase, primary endpoint, arm regimens as drug-ID sets, figures) per Table 1 row.
# Figures: (arm regimen or None for an effect, endpoint, kind, value).
TABLE1 = [
    ("cleopatra", "NCT00567190", "III", "PFS",
     [{"trastuzumab", "docetaxel", "pertuzumab"}, {"trastuzumab", "docetaxel"}],
     [({"trastuzumab", "docetaxel", "pertuzumab"}, "PFS", "median", 18.7),
      ({"trastuzumab", "docetaxel"}, "PFS", "median", 12.4), (None, "PFS", "HR", 0.69)]),
    ("neosphere", "NCT00545688", "II", "pCR",
     [{"trastuzumab", "docetaxel"}, {"trastuzumab", "pertuzumab", "docetaxel"},
      {"pertuzumab", "docetaxel"}, {"trastuzumab", "pertuzumab"}],
     [({"trastuzumab", "docetaxel"}, "pCR", "rate", 29.0),
      ({"trastuzumab", "pertuzumab", "docetaxel"}, "pCR", "rate", 45.8),
      ({"pertuzumab", "docetaxel"}, "pCR", "rate", 24.0),
      ({"trastuzumab", "pertuzumab"}, "pCR", "rate", 16.8)]),
    ("emilia", "NCT00829166", "III", "PFS",
     [{"trastuzumab_emtansine"}, {"lapatinib", "capecitabine"}],
     [({"trastuzumab_emtansine"}, "PFS", "median", 9.6),
      ({"lapatinib", "capecitabine"}, "PFS", "median", 6.4), (None, "PFS", "HR", 0.65)]),
    ("th3resa", "NCT01419197", "III", "PFS",
     [{"trastuzumab_emtansine"}, {"physicians_choice"}],
     [({"trastuzumab_emtansine"}, "PFS", "median", 6.2),
      ({"physicians_choice"}, "PFS", "median", 3.3), (None, "PFS", "HR", 0.528)]),
    ("egf104900", "NCT00320385", "III", "PFS",
     [{"lapatinib", "trastuzumab"}, {"lapatinib"}],
     [({"lapatinib", "trastuzumab"}, "PFS", "median", 11.1),
      ({"lapatinib"}, "PFS", "median", 8.1), (None, "PFS", "HR", 0.74)]),
    ("nsabp_b41", "NCT00486668", "III", "pCR",
     [{"paclitaxel", "trastuzumab"}, {"paclitaxel", "lapatinib"},
      {"paclitaxel", "lapatinib", "trastuzumab"}],
     [({"paclitaxel", "trastuzumab"}, "pCR", "rate", 53.5),
      ({"paclitaxel", "lapatinib"}, "pCR", "rate", 52.5),
      ({"paclitaxel", "lapatinib", "trastuzumab"}, "pCR", "rate", 62.0)]),
    ("neoaltto", "NCT00553358", "III", "pCR",
     [{"paclitaxel", "trastuzumab"}, {"paclitaxel", "lapatinib"},
      {"paclitaxel", "lapatinib", "trastuzumab"}],
     [({"paclitaxel", "trastuzumab"}, "pCR", "rate", 29.5),
      ({"paclitaxel", "lapatinib"}, "pCR", "rate", 24.7),
      ({"paclitaxel", "lapatinib", "trastuzumab"}, "pCR", "rate", 51.3),
      (None, "pCR", "difference", 21.1)]),
    ("altto", "NCT00490139", "III", "DFS",
     [{"trastuzumab"}, {"trastuzumab", "lapatinib"}],
     [({"trastuzumab"}, "DFS", "rate", 86.0), ({"trastuzumab", "lapatinib"}, "DFS", "rate", 88.0)]),
    ("geyer_egf100151", "NCT00078572", "III", "TTP",
     [{"capecitabine", "lapatinib"}, {"capecitabine"}],
     [({"capecitabine", "lapatinib"}, "TTP", "median", 8.4),
      ({"capecitabine"}, "TTP", "median", 4.4), (None, "TTP", "HR", 0.57)]),
    ("geparquinto", "NCT00567554", "III", "pCR",
     [{"chemotherapy", "trastuzumab"}, {"chemotherapy", "lapatinib"}],
     [({"chemotherapy", "trastuzumab"}, "pCR", "rate", 30.3),
      ({"chemotherapy", "lapatinib"}, "pCR", "rate", 22.7), (None, "pCR", "OR", 0.68)]),
    ("averel", None, "III", "PFS",
     [{"docetaxel", "trastuzumab", "bevacizumab"}, {"docetaxel", "trastuzumab"}],
     [({"docetaxel", "trastuzumab", "bevacizumab"}, "PFS", "median", 16.8),
      ({"docetaxel", "trastuzumab"}, "PFS", "median", 13.9)]),
    ("beth", "NCT00625898", "III", "DFS",
     [{"chemotherapy", "trastuzumab", "bevacizumab"}, {"chemotherapy", "trastuzumab"}],
     [(None, "DFS", "HR", 1.00)]),
    ("bolero3", "NCT01007942", "III", "PFS",
     [{"trastuzumab", "vinorelbine", "everolimus"}, {"trastuzumab", "vinorelbine"}],
     [({"trastuzumab", "vinorelbine", "everolimus"}, "PFS", "median", 30.4),
      ({"trastuzumab", "vinorelbine"}, "PFS", "median", 25.1), (None, "PFS", "HR", 0.78)]),
]


@pytest.mark.parametrize("row", TABLE1, ids=[r[0] for r in TABLE1])
def test_every_table1_row_is_curated_with_its_arms_and_figures(kb, row):
    trial_id, nct, phase, endpoint, regimens, figures = row
    t = kb.trial(trial_id)
    assert t.in_table1
    assert t.nct == nct
    assert t.phase == phase
    assert t.primary_endpoint.value == endpoint
    arm_regimens = [set(a.regimen) for a in t.arms]
    for reg in regimens:
        assert reg in arm_regimens, f"{trial_id}: no arm with regimen {sorted(reg)}"
    by_arm = {a.id: set(a.regimen) for a in t.arms}
    for reg, ep, kind, value in figures:
        if reg is None:
            hits = [o for o in t.outcomes if o.kind == "effect" and o.measure == kind
                    and o.endpoint.value == ep and o.subgroup is None and o.value == value]
        else:
            hits = [o for o in t.outcomes if o.kind == kind and o.endpoint.value == ep
                    and o.arm and by_arm[o.arm] == reg and o.value == value]
        assert hits, f"{trial_id}: {ep} {kind} {value} for {reg} is missing"
        assert any("Table 1" in o.provenance.locator for o in hits), (
            f"{trial_id}: {ep} {kind} {value} lacks a Table 1 locator"
        )


def test_the_table1_trials_are_exactly_the_seeds_thirteen_rows(kb):
    assert {t.id for t in kb.trials if t.in_table1} == {row[0] for row in TABLE1}


# Figures the seed's text reports beyond Table 1 (section named in each tuple).
TEXT_FIGURES = [
    ("cleopatra", "OS", "HR", 0.66),                      # Monoclonal antibodies: pertuzumab
    ("cleopatra", "OS", "median", 37.6),
    ("emilia", "OS", "HR", 0.68),                         # Antibody-drug conjugates: T-DM1
    ("emilia", "OS", "median", 30.9),
    ("emilia", "OS", "median", 25.1),
    ("egf104900", "OS", "HR", 0.74),                      # Lapatinib
    ("geyer_egf100151", "OS", "HR", 0.87),
    ("geyer_egf100151", "OS", "median", 75),
    ("geyer_egf100151", "OS", "median", 64.7),
    ("lapatinib_paclitaxel_egf104535", "OS", "HR", 0.74),
    ("nsabp_b41", "pCR", "rate", 53.2),
    ("altto", "DFS", "HR", 0.84),
    ("averel", "PFS", "HR", 0.72),                        # VEGF inhibitors
    ("neratinib_phase2_burstein", "PFS", "median", 22.3),  # Neratinib
    ("neratinib_phase2_burstein", "PFS", "median", 39.6),
    ("neratinib_phase2_burstein", "ORR", "rate", 24),
    ("neratinib_phase2_burstein", "ORR", "rate", 56),
    ("neratinib_vs_lapatinib_capecitabine", "PFS", "median", 4.5),
    ("neratinib_vs_lapatinib_capecitabine", "PFS", "median", 6.8),
    ("neratinib_vs_lapatinib_capecitabine", "OS", "median", 19.7),
    ("neratinib_vs_lapatinib_capecitabine", "OS", "median", 23.6),
    ("neratinib_capecitabine_phase1_2", "PFS", "median", 40.3),
    ("neratinib_capecitabine_phase1_2", "ORR", "rate", 57),
    ("neratinib_combinations", "AE", "rate", 90),
    ("neratinib_combinations", "AE", "rate", 50),
    ("cortes_pertuzumab", "ORR", "rate", 3.4),
    ("cortes_pertuzumab", "CBR", "rate", 10.3),
    ("cortes_pertuzumab", "ORR", "rate", 17.6),
    ("cortes_pertuzumab", "CBR", "rate", 41.2),
    ("tryphaena", "pCR", "rate", 61.6),
    ("tryphaena", "pCR", "rate", 57),
    ("tryphaena", "pCR", "rate", 66.2),
    ("everolimus_trastuzumab_phase1_2", "PR", "rate", 15),  # mTOR inhibitors/PI3K inhibitors
    ("everolimus_trastuzumab_phase1_2", "SD", "rate", 19),
    ("everolimus_trastuzumab_phase1_2", "CBR", "rate", 34),
    ("everolimus_paclitaxel_phase2", "PFS", "median", 5.5),
    ("everolimus_paclitaxel_phase2", "OS", "median", 18.1),
    ("bolero3", "PFS", "HR", 0.48),
    ("bolero3", "PFS", "HR", 0.41),
    ("bolero3", "PFS", "difference_in_median", 12),
    ("bolero3", "PFS", "difference_in_median", 18),
    ("tanespimycin_trastuzumab_phase2", "ORR", "rate", 22),  # HSP90 inhibitors
    ("tanespimycin_trastuzumab_phase2", "CBR", "rate", 59),
    ("tanespimycin_trastuzumab_phase2", "PFS", "median", 6),
    ("tanespimycin_trastuzumab_phase2", "OS", "median", 17),
    ("neoadjuvant_trastuzumab_buzdar", "pCR", "rate", 66.7),  # Introduction
    ("neoadjuvant_trastuzumab_buzdar", "pCR", "rate", 25),
]


@pytest.mark.parametrize("trial_id,endpoint,kind,value", TEXT_FIGURES)
def test_every_figure_of_the_text_is_curated(kb, trial_id, endpoint, kind, value):
    t = kb.trial(trial_id)
    hits = [
        o for o in t.outcomes
        if o.endpoint.value == endpoint and o.value == value
        and (o.kind == kind or (o.kind == "effect" and o.measure == kind))
    ]
    assert hits, f"{trial_id}: {endpoint} {kind} {value} is missing"
    assert all(o.provenance.locator.startswith(("text:", "Table 1")) for o in hits)


def test_ranges_of_the_checkpoint_phase1_trials(kb):
    t = kb.trial("pd1_pdl1_phase1")
    ranges = {o.endpoint.value: (o.low, o.high) for o in t.outcomes if o.kind == "range"}
    assert ranges == {"ORR": (6, 28), "SD": (12, 41)}


def test_sample_sizes_given_by_the_text(kb):
    assert kb.trial("nsabp_b41").n == 529
    assert kb.trial("altto").n == 8381


ISSUE_DRUG_IDS = [
    "trastuzumab", "pertuzumab", "lapatinib", "neratinib", "trastuzumab_emtansine",
    "bevacizumab", "everolimus", "buparlisib", "tanespimycin", "retaspimycin", "anti_pd1",
    "anti_pd_l1", "anti_cd73", "sunitinib", "sorafenib", "vandetanib", "temsirolimus",
    "docetaxel", "paclitaxel", "capecitabine", "vinorelbine", "carboplatin", "fec",
    "physicians_choice",
]
ISSUE_MECHANISM_IDS = [
    "p95her2", "pten_loss", "pik3ca_mutation", "her3_activation", "egfr_coexpression",
    "igf1r_activation", "met_overexpression", "src_activation", "muc4_masking", "vegf_high",
    "immune_cold", "pd_l1_high",
]


def test_every_drug_and_mechanism_id_later_work_builds_on_exists(kb):
    assert set(ISSUE_DRUG_IDS) <= {d.id for d in kb.drugs}
    assert set(ISSUE_MECHANISM_IDS) == {m.id for m in kb.mechanisms}


@pytest.mark.parametrize(
    "alias,drug",
    [("T-DM1", "trastuzumab_emtansine"), ("Kadcyla", "trastuzumab_emtansine"),
     ("BKM120", "buparlisib"), ("17-AAG", "tanespimycin"), ("IPI-504", "retaspimycin"),
     ("pembrolizumab", "anti_pd1"), ("Nivolumab", "anti_pd1"), ("atezolizumab", "anti_pd_l1"),
     ("HKI-272", "neratinib"), ("drug:lapatinib", "lapatinib"), ("herceptin", "trastuzumab")],
)
def test_aliases_resolve_to_their_drug(kb, alias, drug):
    assert kb.drug(alias).id == drug


@pytest.mark.parametrize(
    "name,trial",
    [("trial:NCT00567190", "cleopatra"), ("ALLTO", "altto"), ("NCT01007942", "bolero3"),
     ("trial:cleopatra", "cleopatra"), ("Neo ALTTO", "neoaltto")],
)
def test_trials_resolve_by_nct_name_and_alias(kb, name, trial):
    assert kb.trial(name).id == trial


def test_an_unknown_drug_is_an_error_listing_the_valid_ids(kb):
    with pytest.raises(UnknownIdError) as exc:
        kb.drug("aspirin")
    assert "trastuzumab" in str(exc.value) and "aspirin" in str(exc.value)


def test_every_text_study_and_ongoing_trial_is_present(kb):
    ids = {t.id for t in kb.trials}
    studies = {
        "lapatinib_paclitaxel_egf104535", "neratinib_phase2_burstein",
        "neratinib_capecitabine_phase1_2", "neratinib_vs_lapatinib_capecitabine",
        "cortes_pertuzumab", "tryphaena", "everolimus_trastuzumab_phase1_2",
        "everolimus_paclitaxel_phase2", "tanespimycin_trastuzumab_phase2",
        "retaspimycin_trastuzumab_phase2", "pd1_pdl1_phase1", "neoadjuvant_trastuzumab_buzdar",
        "buparlisib_trastuzumab_phase1b",
    }
    ongoing = {"marianne", "aphinity", "bolero1", "neophoebe", "nct00915018"}
    assert studies <= ids
    # as the seed knew them: APHINITY reported in 2017, so it is ongoing only as of the seed
    as_seed = kb.as_of(kb.cited_on)
    assert ongoing <= {t.id for t in as_seed.trials if t.status == "ongoing"}
    assert ongoing - {"aphinity"} <= {t.id for t in kb.trials if t.status == "ongoing"}
    assert kb.trial("marianne").nct == "NCT01120184"


def test_references_are_the_seeds_83_in_order(kb):
    assert [r.number for r in kb.references] == list(range(1, 84))


def test_every_result_of_the_seed_is_dated_on_or_before_it_and_no_later_one_is(kb):
    # the seed's figures (provenance: seed) were public by its date; every figure curated from
    # a later publication (source: external) is dated after it, so none enters a calibration
    # or a pooled analysis as of the seed
    for t in kb.trials:
        for o in t.outcomes:
            seed = o.provenance.source == "seed"
            assert (kb.published(t, o) <= kb.cited_on) == seed, (t.id, o.id)


def test_seed_conflicts_are_recorded_with_both_values(kb):
    ids = {c.id for c in kb.conflicts}
    assert {"b41_pcr_trastuzumab", "b41_pcr_lapatinib", "geyer_ttp_ci", "neoaltto_difference",
            "altto_citation", "egf104900_pfs_units"} <= ids
    for c in kb.conflicts:
        assert len({v.value for v in c.values}) == len(c.values), c.id


def _table1_text() -> str:
    text = SEED.read_text()
    start = text.index("Table 1 Summary of randomized trials")
    end = text.index("CI, confidence interval; DFS")
    return text[start:end]


@pytest.mark.needs_shared
def test_every_number_in_the_seeds_table1_text_is_in_the_kb(kb):
    if not SEED.exists():
        pytest.skip(f"the seed is not at {SEED} (../shared is absent in this clone)")
    block = re.sub(r"(\d) · (\d)", r"\1.\2", _table1_text())  # the extraction's "0 · 68"
    numbers = {float(x) for x in re.findall(r"\d+\.\d+", block)}
    ncts = set(re.findall(r"NCT\d{8}", block))
    known: set[float] = set()
    for t in kb.trials:
        if not t.in_table1:
            continue
        for o in t.outcomes:
            for v in (o.value, o.low, o.high):
                if v is not None:
                    known.add(float(v))
            if o.ci is not None:
                known |= {float(v) for v in (o.ci.low, o.ci.high) if v is not None}
            if o.p is not None:
                known.add(float(o.p.value))
    assert numbers - known == set()
    assert ncts == {t.nct for t in kb.trials if t.in_table1 and t.nct}
