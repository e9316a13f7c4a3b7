"""ESCAT grading per alteration-drug match (Mateo et al., Ann Oncol 2018;29:1895-1902,
PMID 30137196), evidence from the setting asked, directions, and the knowledge base's own
conflict resolutions.

The tiers are checked against the scale's definitions re-derived here from the knowledge
base's raw fields (:func:`_definition`), not against the report's own reasons:

- I-A: a randomised trial in the setting, its primary time-to-event end point, the HR's CI
  below 1, a drug that targets the alteration (ERBB2 for HER2 amplification), and no
  unresolved recorded conflict on the result;
- II-B: prospective trials showing increased responses without survival data, or (for a
  profile's alteration) an exploratory biomarker subgroup of a randomised trial with its CI
  below 1 ("II-B at best"); a single arm's objective response rate counts only where its
  exact 95% CI lies above the stated 10% threshold.
"""

from __future__ import annotations

import datetime as dt

import pytest

from her2lab.knowledge import load
from her2lab.report import strategy_report
from her2lab.report.evidence import RESPONSE_THRESHOLD, clopper_pearson


def _unresolved(kb) -> set[str]:
    return {v.outcome for c in kb.conflicts if c.preferred is None and not c.resolution
            for v in c.values if v.outcome}


def _definition(kb, e) -> str:
    """The ESCAT tier of one evidence item from the knowledge base's raw fields."""
    t = kb.trial(e.trial)
    o = next(x for x in t.outcomes if x.id == e.outcome)
    her2 = any("ERBB2" in kb.drug(d).targets for d in t.drugs_tested)
    if e.uid in _unresolved(kb):
        return "X"
    if o.subgroup is not None:
        return ("II-B" if t.randomized and o.measure == "HR" and o.ci and o.ci.high < 1
                else "X")
    if not her2:
        return "X"
    if t.randomized and len(o.arms) == 2:
        if (o.endpoint.is_time_to_event and o.endpoint == t.primary_endpoint
                and o.measure == "HR" and o.ci and o.ci.high < 1):
            return "I-A"
        if o.endpoint.value in ("pCR", "ORR") and o.kind == "p_only" and o.p.value < 0.05:
            return "II-B"  # the arms' rates (checked by the caller) say which arm is better
        if (o.endpoint.value in ("pCR", "ORR") and o.kind == "effect" and o.ci
                and o.ci.low is not None
                and o.ci.low > (0.0 if o.measure == "difference" else 1.0)):
            return "II-B"  # a significant gain: the interval excludes no difference
        return "X"
    if not t.randomized and o.kind == "rate" and o.endpoint.value in RESPONSE_THRESHOLD:
        n = next((a.n for a in t.arms if a.id == o.arm), None)
        if n is None:
            return "X"
        lo, _ = clopper_pearson(round(o.value / 100 * n), n)
        return "II-B" if lo > RESPONSE_THRESHOLD[o.endpoint.value] else "X"
    return "X"


# the first three lines of each shipped example: (regimen, tier, alteration), by the scale's
# definitions applied to the knowledge base by hand (trial in brackets)
SEED_DATE = dt.date(2014, 8, 12)

FIRST_THREE = {
    "trastuzumab_sensitive": [
        (("trastuzumab", "pertuzumab", "docetaxel"), "I-A", "HER2 amplification"),  # CLEOPATRA
        (("lapatinib", "paclitaxel"), "I-A", "HER2 amplification"),  # EGF104535, OS primary
        (("neratinib",), "II-B", "HER2 amplification"),  # Burstein: ORR 24% of 66
    ],
    "pten_loss_pretreated": [
        (("trastuzumab_emtansine",), "I-A", "HER2 amplification"),  # EMILIA, TH3RESA
        (("trastuzumab", "lapatinib"), "I-A", "HER2 amplification"),  # EGF104900
        (("trastuzumab", "everolimus", "vinorelbine"), "II-B", "PTEN loss"),  # BOLERO-3 subgroup
    ],
    "p95her2_pretreated": [
        (("trastuzumab_emtansine",), "I-A", "HER2 amplification"),
        (("trastuzumab", "lapatinib"), "I-A", "HER2 amplification"),
        (("neratinib",), "II-B", "HER2 amplification"),
    ],
    "hr_positive_neoadjuvant": [
        (("trastuzumab", "pertuzumab", "docetaxel"), "II-B", "HER2 amplification"),  # NeoSphere
        # NeoALTTO's pCR difference carries an unresolved conflict: not graded
        (("trastuzumab", "lapatinib", "paclitaxel"), "X", "HER2 amplification"),
        # NeoSphere's pertuzumab + docetaxel arm: a descriptive rate, no comparison of it
        (("pertuzumab", "docetaxel"), "X", "HER2 amplification"),
    ],
}


@pytest.fixture(scope="module")
def examples():
    # the stages are loaded first, in their registry's order, before the report stage's
    # module is imported (importing it alone would register it first)
    from her2lab.reproduce import load_stages

    load_stages()
    from her2lab.report.stages import EXAMPLES

    assert set(EXAMPLES) == set(FIRST_THREE), "every shipped example has its pinned lines"
    # as of the seed's date: the lines the issue names (BOLERO-3's PTEN-low subgroup, T-DM1 for
    # p95HER2) stay first-three there whatever later trials the knowledge base gains
    return {name: strategy_report(p, s, as_of=SEED_DATE, in_silico=False)
            for name, (p, s) in EXAMPLES.items()}


def test_today_the_pretreated_metastatic_report_ranks_on_todays_evidence():
    """As of today, T-DXd (DESTINY-Breast03 against T-DM1, PFS HR 0.28) leads the
    HER2-amplified pretreated metastatic ranking: the setting's end point (PFS) ranks, not the
    first pooled end point in alphabetical order."""
    rep = strategy_report("trastuzumab_pretreated", "metastatic_pretreated", in_silico=False)
    first = rep.ranked[0]
    assert (first.regimen, first.tier, first.alteration) == (
        ("trastuzumab_deruxtecan",), "I-A", "HER2 amplification")


@pytest.mark.parametrize("name", sorted(FIRST_THREE))
def test_the_first_three_lines_of_each_example_have_the_tier_of_the_scales_definition(
        examples, name):
    kb = load()
    rep = examples[name]
    got = [(r.regimen, r.tier, r.alteration) for r in rep.ranked[:3]]
    assert got == FIRST_THREE[name]
    for r in rep.ranked[:3]:
        assert r.tier_text() == f"{r.tier} for {r.alteration}"
        if r.tier == "X":
            continue
        # the line's tier is that of an in-setting item for the alteration it names, and the
        # item's tier is the scale's definition of its raw fields
        items = [e for e in r.evidence if e.tier == r.tier and e.match == r.alteration]
        assert items and all(e.in_setting for e in items), r.label
        assert all(_definition(kb, e) == e.tier for e in items), r.label
        for e in items:
            if e.kind == "p_only":  # which arm is better: the higher pCR rate
                t = kb.trial(e.trial)
                rates = {o.arm: o.value for o in t.outcomes if o.kind == "rate"
                         and o.endpoint.value == e.endpoint and o.subgroup is None}
                a, b = next(o.arms for o in t.outcomes if o.id == e.outcome)
                assert rates[a] > rates[b]


def test_pten_loss_with_everolimus_is_not_i_a_and_tdm1_says_nothing_of_p95her2(examples):
    pten = examples["pten_loss_pretreated"]
    bolero = next(r for r in pten.ranked if "bolero3" in r.trials)
    m = {x["alteration"]: x for x in bolero.matches}
    assert m["PTEN loss"]["tier"] == "II-B" and "exploratory" in m["PTEN loss"]["basis"]
    assert bolero.tier != "I-A"
    p95 = examples["p95her2_pretreated"]
    (tdm1,) = [r for r in p95.ranked if r.regimen == ("trastuzumab_emtansine",)]
    m = {x["alteration"]: x for x in tdm1.matches}
    assert m["HER2 amplification"]["tier"] == "I-A"
    assert m["p95HER2 (truncated HER2)"]["tier"] == "X"
    assert "nothing of p95HER2" in m["p95HER2 (truncated HER2)"]["basis"]


@pytest.mark.parametrize("profile", ["pten_loss,trastuzumab_pretreated", "p95her2",
                                     "trastuzumab_pretreated"])
def test_no_metastatic_line_ranks_on_evidence_from_another_setting(profile):
    rep = strategy_report(profile, "metastatic_pretreated", in_silico=False)
    in_setting_lines = [r.rank for r in rep.ranked
                        if r.group in ("graded in this setting",
                                       "supported in this setting, not graded")]
    for r in rep.ranked:
        if r.tier != "X":
            assert any(e.in_setting and e.tier == r.tier for e in r.evidence), r.label
        assert all(not e.in_setting for e in r.other_evidence)
        assert all(e.in_setting for e in r.evidence)
        if r.group == "graded only in another setting":
            assert r.tier == "X" and all(r.rank > k for k in in_setting_lines), r.label
    # NeoALTTO (neoadjuvant) is shown as another setting's evidence, never as this one's
    for r in rep.ranked:
        assert "neoaltto" not in {e.trial for e in r.evidence}


def test_averel_is_not_i_a_its_pfs_has_an_unresolved_conflict(examples):
    rep = examples["trastuzumab_sensitive"]
    (bev,) = [r for r in rep.ranked if "averel" in r.trials]
    hr = next(e for e in bev.evidence if e.outcome == "pfs_hr")
    assert hr.tier == "X" and "unresolved recorded conflict" in hr.tier_reason
    assert bev.tier != "I-A"


def test_pertuzumab_alone_is_not_graded_on_an_orr_of_one_in_29_or_on_cbr():
    rep = strategy_report("trastuzumab_pretreated", "metastatic_pretreated", in_silico=False)
    (per,) = [r for r in rep.ranked if r.regimen == ("pertuzumab",)]
    assert per.tier == "X"
    cbr = next(e for e in per.evidence if e.endpoint == "CBR")
    assert cbr.tier == "X" and "stable disease" in cbr.tier_reason


def test_the_exact_binomial_interval_matches_its_definition():
    # Clopper-Pearson: P(X >= x | lo) = 0.025 and P(X <= x | hi) = 0.025
    from scipy import stats

    lo, hi = clopper_pearson(16, 66)
    assert stats.binom.sf(15, 66, lo) == pytest.approx(0.025, abs=1e-9)
    assert stats.binom.cdf(16, 66, hi) == pytest.approx(0.025, abs=1e-9)


def test_harm_is_shown_as_harm_and_ranked_last():
    rep = strategy_report("hr_positive", "neoadjuvant", in_silico=False)
    (lap,) = [r for r in rep.ranked if "geparquinto" in r.trials]
    orr = next(e for e in lap.evidence if e.outcome == "pcr_or")
    o = next(x for x in load().trial("geparquinto").outcomes if x.id == "pcr_or")
    assert o.ci.high < 1  # the curated OR of lapatinib against trastuzumab excludes 1
    assert orr.direction == "harms" and lap.group == "harms in this setting"
    assert lap.rank == max(r.rank for r in rep.ranked
                           if r.group == "harms in this setting")
    assert all(r.rank < lap.rank for r in rep.ranked if r.group != "harms in this setting")


def test_tdm1_ranks_above_lapatinib_capecitabine_which_emilia_compared_head_to_head():
    rep = strategy_report("trastuzumab_pretreated", "metastatic_pretreated", in_silico=False)
    ranks = {r.regimen: r for r in rep.ranked}
    tdm1, lapcap = ranks[("trastuzumab_emtansine",)], ranks[("lapatinib", "capecitabine")]
    emilia = next(e for e in tdm1.evidence if e.trial == "emilia" and e.outcome == "pfs_hr")
    assert emilia.direction == "supports"
    assert emilia.comparator_regimen == tuple(sorted(lapcap.regimen))
    assert tdm1.rank < lapcap.rank


def test_the_head_to_head_pass_moves_a_winner_above_the_regimen_it_beat():
    import dataclasses

    from her2lab.report.strategy import _head_to_head

    rep = strategy_report("trastuzumab_pretreated", "metastatic_pretreated", in_silico=False)
    ranks = {r.regimen: r for r in rep.ranked}
    tdm1, lapcap = ranks[("trastuzumab_emtansine",)], ranks[("lapatinib", "capecitabine")]
    # put both in one group, the loser first: the pass must swap them
    lapcap = dataclasses.replace(lapcap, group=tdm1.group)
    out = _head_to_head([lapcap, tdm1])
    assert [r.regimen for r in out] == [tdm1.regimen, lapcap.regimen]


def test_the_egf104900_medians_are_in_weeks_as_the_conflict_resolution_says():
    rep = strategy_report("trastuzumab_pretreated", "metastatic_pretreated", in_silico=False)
    items = [e for r in rep.ranked for e in r.clinical_items
             if e.trial == "egf104900" and e.kind == "median" and e.endpoint == "PFS"]
    assert items and all(e.unit == "weeks" for e in items)
    assert all("weeks" in e.result_text() for e in items)


def test_altto_s_ci_is_printed_at_its_level_of_97_5_percent():
    rep = strategy_report("none", "adjuvant", in_silico=False)
    altto = next(e for r in rep.ranked for e in r.evidence
                 if e.trial == "altto" and e.outcome == "dfs_hr")
    assert altto.ci_level == 0.975
    assert "97.5% CI" in altto.result_text() and "98%" not in altto.result_text()


def test_the_adjuvant_report_says_it_has_no_trastuzumab_trial():
    rep = strategy_report("none", "adjuvant", in_silico=False)
    kb = load()
    adj = [t for t in kb.trials if t.setting.value == "adjuvant" and t.status == "reported"]
    assert not any("trastuzumab" in t.drugs_tested for t in adj)  # the premise, from the KB
    assert any("no trial that tested trastuzumab itself in the adjuvant" in n
               for n in rep.cannot_know)
    assert "no trial that tested trastuzumab itself" in rep.to_html()


def test_the_evidence_date_defaults_to_today_and_is_on_page_one():
    rep = strategy_report("none", "metastatic_first_line", in_silico=False)
    assert rep.as_of == dt.date.today()
    html = rep.to_html()
    first = html[:html.index("Summary: the first lines")]
    assert f"Evidence as of {dt.date.today().isoformat()}" in first


def test_every_cited_line_names_its_trial_year_and_references():
    rep = strategy_report("pten_loss", "metastatic_pretreated", in_silico=False)
    for r in rep.ranked:
        for e in r.clinical_items:
            assert e.year and e.population and e.endpoint
            assert e.references or e.citation, e.uid
    from her2lab.report.evidence import NO_REFERENCE

    assert rep.references
    assert all("seed ref" in x or x == NO_REFERENCE for x in rep.references)
    bolero = next(e for r in rep.ranked for e in r.evidence if e.uid == "bolero3/pfs_hr")
    # the knowledge base records that the seed cites no publication for BOLERO-3
    assert "bolero3_no_reference" in {c.id for c in load().conflicts}
    assert bolero.references == (NO_REFERENCE,)
