"""The strategy report's content: regimens, ESCAT-graded evidence, ranking, in-silico apart.

The curated numbers checked here are read from the knowledge base (BOLERO-3, EMILIA and
TH3RESA as the seed's Table 1 and text give them), never typed in.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from her2lab.errors import UnknownIdError
from her2lab.knowledge import load
from her2lab.report import ESCAT_ORDER, strategy_report


def _entry(rep, drug):
    return [r for r in rep.ranked if drug in r.regimen]


def _kb_outcome(trial, outcome):
    t = load().trial(trial)
    return next(o for o in t.outcomes if o.id == outcome)


def test_pten_loss_pretreated_lists_everolimus_and_tdm1_with_their_trials(pten_report):
    eve = _entry(pten_report, "everolimus")
    tdm1 = _entry(pten_report, "trastuzumab_emtansine")
    assert eve and tdm1
    bolero = next(r for r in eve if "bolero3" in r.trials)
    cited = {(e.trial, e.outcome) for e in bolero.evidence}
    assert {("bolero3", "pfs_hr"), ("bolero3", "pfs_hr_pten_low")} <= cited
    (t,) = [r for r in tdm1 if r.regimen == ("trastuzumab_emtansine",)]
    assert {"emilia", "th3resa"} <= {e.trial for e in t.evidence}


def test_the_pten_low_subgroup_is_cited_as_curated_and_graded_ii_b_for_pten_loss(pten_report):
    # ESCAT II-B at best: BOLERO-3's PTEN-low benefit is an exploratory biomarker subgroup of a
    # randomised trial, not a pre-specified analysis showing more benefit (II-A)
    bolero = next(r for r in pten_report.ranked if "bolero3" in r.trials)
    sub = next(e for e in bolero.evidence if e.outcome == "pfs_hr_pten_low")
    kb = _kb_outcome("bolero3", "pfs_hr_pten_low")
    assert (sub.value, sub.ci_low, sub.ci_high) == (kb.value, kb.ci.low, kb.ci.high)
    assert sub.subgroup == "pten_low" and sub.tier == "II-B" and sub.match == "PTEN loss"
    assert "Table 1" in next(e for e in bolero.evidence if e.outcome == "pfs_hr").locator
    assert (bolero.tier, bolero.alteration) == ("II-B", "PTEN loss")
    assert bolero.profile_matches == ("pten_low",)


def test_her2_amplification_and_tdm1_rank_above_the_exploratory_pten_match(pten_report):
    # ranking rule 2: T-DM1's I-A (HER2 amplification) comes before BOLERO-3's II-B (PTEN loss)
    ranks = {r.regimen: r.rank for r in pten_report.ranked}
    bolero = next(r for r in pten_report.ranked if "bolero3" in r.trials)
    assert ranks[("trastuzumab_emtansine",)] < bolero.rank


def test_without_the_profile_biomarker_the_subgroup_is_not_graded():
    rep = strategy_report("trastuzumab_pretreated", "metastatic_pretreated", in_silico=False)
    bolero = next(r for r in rep.ranked if "bolero3" in r.trials)
    sub = next(e for e in bolero.evidence if e.outcome == "pfs_hr_pten_low")
    assert sub.tier == "X" and bolero.profile_matches == ()


def test_every_regimen_has_a_predicted_effect_with_an_ordered_interval(pten_report):
    for r in pten_report.ranked:
        p = r.prediction
        assert p is not None, r.label
        assert p.measure == "HR" and p.low <= p.estimate <= p.high
        assert r.rationale is not None and 0 <= r.rationale.response_with <= 1


def test_the_everolimus_rationale_names_pten_loss_and_compares_with_and_without(pten_report):
    bolero = next(r for r in pten_report.ranked if "bolero3" in r.trials)
    ra = bolero.rationale
    assert ("pten_loss" in dict(ra.counteracts)) and ra.added == ("everolimus",)
    assert set(ra.without) == {"trastuzumab", "vinorelbine"}
    assert ra.nodes, "the nodes carrying the effect are listed"
    assert bolero.prediction.control_regimen == ("trastuzumab", "vinorelbine")


def test_tiers_and_ranks_do_not_depend_on_the_in_silico_results(pten_report):
    plain = strategy_report("pten_loss,trastuzumab_pretreated", "metastatic_pretreated",
                            in_silico=False)
    assert [(r.regimen, r.tier) for r in plain.ranked] == [
        (r.regimen, r.tier) for r in pten_report.ranked]
    assert all(r.prediction is None and r.rationale is None for r in plain.ranked)


def test_evidence_tiers_are_escat_tiers_and_hold_only_clinical_results(pten_report):
    for r in pten_report.ranked:
        assert r.tier in ESCAT_ORDER
        for e in r.clinical_items:
            assert e.tier in ESCAT_ORDER
            assert load().trial(e.trial), "every graded item is a knowledge-base trial"
    d = pten_report.to_dict()
    for r in d["ranked"]:
        assert set(r["in_silico"]) == {"rationale", "prediction"}
        assert "tier" not in (r["in_silico"]["prediction"] or {})


def test_several_trials_of_one_comparison_are_pooled_between_their_estimates(pten_report):
    (t,) = [r for r in pten_report.ranked if r.regimen == ("trastuzumab_emtansine",)]
    (p,) = t.pooled
    hrs = [e.value for e in t.evidence if e.outcome == "pfs_hr"]
    assert p.k == 2 and min(hrs) <= p.estimate <= max(hrs)
    assert p.ci_low < p.estimate < p.ci_high
    assert len(p.comparators) == 2 and "different controls" in p.note


def test_resolved_conflicts_use_the_preferred_value_and_say_so(pten_report):
    geyer = next(r for r in pten_report.ranked if "geyer_egf100151" in r.trials)
    outs = {e.outcome for e in geyer.evidence}
    assert "ttp_hr_text" in outs and "ttp_hr_table" not in outs
    assert any("geyer_ttp_ci" in n for n in pten_report.left_out)
    assert "geyer_ttp_ci" in {c["id"] for c in pten_report.conflicts}


def test_audit_findings_on_cited_results_are_shown(pten_report):
    subjects = {f["subject"] for f in pten_report.findings}
    assert "outcome:bolero3/pfs_hr" in subjects


def test_as_of_leaves_out_results_published_later():
    date = dt.date(2013, 1, 1)
    rep = strategy_report("pten_loss", "metastatic_pretreated", as_of=date, in_silico=False)
    items = [e for r in rep.ranked for e in r.clinical_items]
    assert items and all(e.published <= date for e in items)
    assert "th3resa" not in {e.trial for e in items}
    assert any("th3resa" in n and "after the as-of date" in n for n in rep.left_out)


def test_ranks_are_ordered_by_tier_first(pten_report):
    tiers = [ESCAT_ORDER.index(r.tier) for r in pten_report.ranked]
    assert tiers == sorted(tiers)
    assert [r.rank for r in pten_report.ranked] == list(range(1, len(tiers) + 1))
    for r in pten_report.ranked:
        for j in r.not_separated_from:
            o = pten_report.ranked[j - 1]
            assert o.tier == r.tier and r.rank in o.not_separated_from


def test_drugs_against_the_profile_without_any_trial_are_listed_as_untested(pten_report):
    assert "temsirolimus" in {u["drug"] for u in pten_report.untested}


def test_an_unknown_setting_is_a_clear_error():
    with pytest.raises(UnknownIdError, match="metastatic_pretreated"):
        strategy_report("pten_loss", "metastatic", in_silico=False)


def test_the_json_has_the_disclaimer_and_no_nan(pten_report):
    import json

    text = json.dumps(pten_report.to_dict(), allow_nan=False)
    assert "Research output, not medical advice" in text
    assert not any(math.isnan(r.prediction.estimate) for r in pten_report.ranked)


def test_the_report_stage_runs_after_the_virtual_trials_stage():
    from her2lab.reproduce import load_stages

    names = [s.name for s in load_stages()]
    assert names.index("virtual_trials") < names.index("report")


def test_a_negative_randomized_trial_in_the_setting_is_not_outranked_by_benefit_elsewhere():
    # ALTTO (adjuvant): trastuzumab + lapatinib without a significant DFS benefit; the
    # metastatic EGF104900 benefit is shown as another setting's and graded nothing here
    rep = strategy_report("none", "adjuvant", in_silico=False)
    (tl,) = [r for r in rep.ranked if r.regimen == ("trastuzumab", "lapatinib")]
    altto = next(e for e in tl.evidence if e.trial == "altto" and e.outcome == "dfs_hr")
    kb = _kb_outcome("altto", "dfs_hr")
    assert kb.ci.high >= 1  # the curated CI includes no effect
    assert altto.tier == "X" and altto.direction == "does not support" and tl.tier == "X"
    assert all(not e.in_setting for e in tl.other_evidence)
    assert tl.group == "not supported in this setting" and "does not carry over" in tl.tier_reason
    assert rep.ranked[0].regimen != ("trastuzumab", "lapatinib")


def test_the_pooled_effect_is_synthesis_reml_of_the_curated_hrs(pten_report):
    from her2lab.synthesis import effect_from_ci, meta_analysis

    (t,) = [r for r in pten_report.ranked if r.regimen == ("trastuzumab_emtansine",)]
    studies = []
    for trial in ("emilia", "th3resa"):
        o = _kb_outcome(trial, "pfs_hr")
        studies.append(effect_from_ci(trial, o.value, o.ci.low, o.ci.high, measure="HR"))
    ref = meta_analysis(studies, method="REML").to_dict()
    (p,) = t.pooled
    assert (p.estimate, p.ci_low, p.ci_high) == pytest.approx(
        (ref["estimate"], ref["ci_low"], ref["ci_high"]), rel=1e-12)


def test_the_knowledge_base_pooled_questions_of_cited_trials_are_shown(pten_report):
    ids = {a["id"] for a in pten_report.kb_pooled}
    assert "metastatic_pfs_network" in ids
    net = next(a for a in pten_report.kb_pooled if a["id"] == "metastatic_pfs_network")
    assert {"EMILIA", "TH3RESA", "BOLERO-3"} <= set(net["studies"])
    assert any("P-scores" in line for line in net["lines"])


def test_the_report_stage_writes_the_example_reports(tmp_path, monkeypatch):
    from her2lab.report import stages
    from her2lab.reproduce import Context

    # one small example: two regimens, no virtual trial in that setting
    monkeypatch.setattr(stages, "EXAMPLES", {"pten": ("pd_l1_high", "advanced_solid_tumors")})
    res = stages.report_stage(Context(out_dir=tmp_path, quick=True))
    names = sorted(p.name for p in res.files)
    assert names == ["pten.html", "pten.json", "pten.pdf"]
    assert all(p.stat().st_size > 0 for p in res.files)
    assert dict(res.summary)["virtual trials calibrated by"] == "none (the link's priors)"
