"""The knowledge base's questions, pooled: derivations, conflicts, as_of, the network's parts.

Numbers here are the knowledge base's own records (seed Table 1 and text, with the locators in
knowledge/data) and arithmetic on them; the indirect comparison is checked against Bucher's
formula (log HRs add along a path of independent trials, so do their variances)."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest

from her2lab.errors import UnknownIdError
from her2lab.synthesis import kb_questions, pool_kb


@pytest.fixture(scope="module")
def dual():
    return pool_kb("dual_vs_single_neoadjuvant_pcr")


@pytest.fixture(scope="module")
def network():
    return pool_kb("metastatic_pfs_network")


def test_the_seeds_three_questions_and_todays_four_are_there():
    assert [q.id for q in kb_questions()] == [
        "dual_vs_single_neoadjuvant_pcr", "lapatinib_vs_trastuzumab_neoadjuvant_pcr",
        "metastatic_pfs_network", "tdxd_vs_tdm1_pretreated_pfs",
        "tucatinib_added_to_trastuzumab_capecitabine_pfs",
        "irreversible_tki_vs_lapatinib_capecitabine_pfs", "pretreated_metastatic_pfs_network"]


def test_counts_are_derived_from_rates_and_arm_sizes(dual):
    by = {s.trial: s for s in dual.studies}
    # NeoSphere 45.8% and 29.0% of 107; NeoALTTO 51.3% of 152 and 29.5% of 149
    assert by["neosphere"].counts == (49, 107, 31, 107)
    assert by["neoaltto"].counts == (78, 152, 44, 149)
    for s in (by["neosphere"], by["neoaltto"]):
        et, nt, ec, nc = s.counts
        assert "round(rate × n)" in s.derivation and not s.assumptions
        # the counts give back the reported rates to their one-decimal rounding
        rates = [float(x) for x in re.findall(r"([0-9.]+)% of", s.derivation)]
        assert abs(100 * et / nt - rates[0]) <= 0.05 and abs(100 * ec / nc - rates[1]) <= 0.05


def test_b41_uses_the_preferred_text_value_and_says_so(dual):
    b41 = next(s for s in dual.studies if s.trial == "nsabp_b41")
    assert "nsabp_b41/pcr_tras_text" in b41.outcomes
    assert "nsabp_b41/pcr_tras_table" not in b41.outcomes
    used = {c.conflict: c for c in dual.conflicts}
    assert used["b41_pcr_trastuzumab"].how == "the conflict's preferred value"
    # B-41 arm sizes are not in the knowledge base: the equal split is stated
    assert any("176 assumed" in a for a in b41.assumptions)


def test_as_of_keeps_only_results_published_by_then(dual):
    early = pool_kb("dual_vs_single_neoadjuvant_pcr", as_of="2012-12-31")
    assert {s.trial for s in early.studies} == {"neosphere", "neoaltto"}
    assert any("NSABP B-41" in e and "after as_of" in e for e in early.excluded)
    assert early.result.k == 2 and dual.result.k == 3


def test_a_reported_odds_ratio_is_used_as_reported():
    lap = pool_kb("lapatinib_vs_trastuzumab_neoadjuvant_pcr")
    gq = next(s for s in lap.studies if s.trial == "geparquinto")
    assert abs(gq.effect.estimate - 0.68) < 1e-12 and gq.counts is None


def test_the_metastatic_network_falls_into_its_unconnected_parts(network):
    parts = [set(n.treatments) for n in network.networks]
    assert len(parts) == 4
    assert {"Trastuzumab emtansine", "Capecitabine + Lapatinib", "Capecitabine", "Neratinib",
            "Treatment of physician's choice"} in parts
    assert any("unconnected parts" in n for n in network.notes)


def test_the_indirect_comparison_is_bucher(network):
    net = next(n for n in network.networks if "Capecitabine" in n.treatments)
    by = {s.trial: s.effect for s in network.studies}
    emilia, geyer = by["emilia"], by["geyer_egf100151"]
    te, se, _, _ = net.random.estimate("Trastuzumab emtansine", "Capecitabine")
    assert abs(te - (emilia.yi + geyer.yi)) < 1e-10
    assert abs(se - math.hypot(emilia.se, geyer.se)) < 1e-10


def test_derived_and_stand_in_figures_are_flagged(network):
    by = {s.trial: s for s in network.studies}
    assert by["neratinib_vs_lapatinib_capecitabine"].derivation.startswith("HR derived")
    assert "TTP stands in for PFS" in by["geyer_egf100151"].derivation
    assert "geyer_egf100151/ttp_hr_text" in by["geyer_egf100151"].outcomes  # preferred value


def test_an_unknown_question_lists_the_known_ones():
    with pytest.raises(UnknownIdError, match="metastatic_pfs_network"):
        pool_kb("metastatic_os")


def test_the_json_says_it_is_research_use_only(dual):
    d = dual.to_dict()
    assert "not medical advice" in d["disclaimer"]
    assert {c["conflict"] for c in d["conflicts"]} >= {"b41_pcr_trastuzumab"}


# --------------------------------------------------------------------------- after the seed

TODAY = ["tdxd_vs_tdm1_pretreated_pfs", "tucatinib_added_to_trastuzumab_capecitabine_pfs",
         "irreversible_tki_vs_lapatinib_capecitabine_pfs"]


@pytest.mark.parametrize("qid", TODAY)
def test_as_of_the_seed_todays_questions_have_no_study_and_say_when_each_came(qid):
    pa = pool_kb(qid, as_of="2014-08-12")
    assert pa.studies == () and pa.notes == ("no study qualifies",)
    assert pa.excluded and all("after as_of 2014-08-12" in e for e in pa.excluded)


def _log_se(hr, lo, hi):
    return math.log(hr), (math.log(hi) - math.log(lo)) / (2 * 1.959963984540054)


def test_neratinib_or_pyrotinib_pooled_is_the_inverse_variance_mean_of_nala_and_phoebe():
    pa = pool_kb("irreversible_tki_vs_lapatinib_capecitabine_pfs")
    assert [s.trial for s in pa.studies] == ["nala", "phoebe"]
    # NALA HR 0.76 (0.63-0.93), PHOEBE 0.39 (0.27-0.56), as reported (knowledge/data/trials)
    (y1, s1), (y2, s2) = _log_se(0.76, 0.63, 0.93), _log_se(0.39, 0.27, 0.56)
    w1, w2 = 1 / s1**2, 1 / s2**2
    assert abs(pa.result.fixed.log_estimate - (w1 * y1 + w2 * y2) / (w1 + w2)) < 1e-10
    assert abs(pa.result.fixed.se - (w1 + w2) ** -0.5) < 1e-10
    # the two trials disagree beyond chance (Cochran's Q on one degree of freedom)
    assert abs(pa.result.q - (y1 - y2) ** 2 / (s1**2 + s2**2)) < 1e-9 and pa.result.q_p < 0.01


def test_one_trial_questions_give_back_the_trials_own_hazard_ratio():
    for qid, hr in (("tdxd_vs_tdm1_pretreated_pfs", 0.28),
                    ("tucatinib_added_to_trastuzumab_capecitabine_pfs", 0.54)):
        pa = pool_kb(qid)
        assert pa.result.k == 1 and abs(math.exp(pa.result.random.log_estimate) - hr) < 1e-12


def test_the_pretreated_network_reaches_t_dxd_against_lapatinib_capecitabine_through_t_dm1():
    pa = pool_kb("pretreated_metastatic_pfs_network")
    assert any("KATE2" in e and "no confidence interval" in e for e in pa.excluded)
    net = next(n for n in pa.networks if "Trastuzumab deruxtecan" in n.treatments)
    by = {s.trial: s.effect for s in pa.studies}
    # no loop joins T-DXd and lapatinib + capecitabine: the estimate is Bucher's along
    # DESTINY-Breast03 (T-DXd vs T-DM1) and EMILIA (T-DM1 vs lapatinib + capecitabine)
    te, se, _, _ = net.random.estimate("Trastuzumab deruxtecan", "Capecitabine + Lapatinib")
    db03, emilia = by["destiny_breast03"], by["emilia"]
    assert abs(te - (db03.yi + emilia.yi)) < 1e-10
    assert abs(se - math.hypot(db03.se, emilia.se)) < 1e-10
    assert {"Capecitabine + Trastuzumab + Tucatinib", "Capecitabine + Pyrotinib",
            "Capecitabine + Neratinib"} <= set(net.treatments)


def test_the_seeds_network_as_of_the_seed_is_unchanged_by_the_later_trials():
    early, late = pool_kb("metastatic_pfs_network", as_of="2014-08-12"), pool_kb(
        "metastatic_pfs_network")
    assert [s.trial for s in early.studies] == [s.trial for s in late.studies]
    assert [s.effect for s in early.studies] == [s.effect for s in late.studies]



def test_a_question_is_listed_from_the_first_report_of_its_earliest_later_trial():
    from her2lab.knowledge import load

    kb = load()
    assert [q.id for q in kb_questions("2014-08-12")] == [
        "dual_vs_single_neoadjuvant_pcr", "lapatinib_vs_trastuzumab_neoadjuvant_pcr",
        "metastatic_pfs_network"]
    for q in kb_questions():
        later = [kb.trial(c.trial) for c in q.comparisons
                 if kb.trial(c.trial).provenance.source == "external"]
        if not later:
            assert q.since is None, q.id
            continue
        first = min(kb.published(t, o) for t in later for o in t.outcomes)
        assert q.since == first, q.id
        assert q.id not in {x.id for x in kb_questions(first - dt.timedelta(days=1))}
        assert q.id in {x.id for x in kb_questions(first)}
