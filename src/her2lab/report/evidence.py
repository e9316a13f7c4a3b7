"""Clinical evidence for a regimen from the knowledge base, graded on the ESCAT scale.

The scale is the ESMO Scale for Clinical Actionability of molecular Targets (ESCAT; Mateo J et
al., Ann Oncol 2018;29:1895-1902, doi:10.1093/annonc/mdy263). ESCAT grades an
*alteration-drug match* by the clinical evidence behind it. In a HER2-positive knowledge base
every trial selected its patients for one alteration, ERBB2 amplification/overexpression; a
profile adds others (PTEN loss, PIK3CA mutation, ...) that matter where a trial reported a
subgroup for their biomarker. her2lab applies the ESCAT definitions to the curated results with
these rules, each result graded on its own, a regimen taking the best tier of its results:

``I-A``    a randomised trial in the report's setting shows the regimen better than its
           control on a time-to-event end point (PFS, TTP, OS, DFS, iDFS, EFS, RFI): HR with a
           95% CI below 1 (or, without a CI, p < 0.05 with the better median). Match: ERBB2
           amplification, the trial's selection. ESCAT asks for a *clinically meaningful*
           improvement; the knowledge base cannot judge that (no ESMO-MCBS score), so a
           significant one counts, and the report says so.
``II-A``   a subgroup of a randomised trial defined by a biomarker of the profile shows more
           benefit: subgroup HR with its 95% CI below 1 and below the whole population's HR.
           Match: that biomarker (BOLERO-3's PTEN-low subgroup for PTEN loss). ESCAT II-A is
           "retrospective studies"; biomarker subgroups of a trial are such analyses.
``II-B``   a prospective trial shows antitumour activity without survival data: a significant
           gain in a response end point (pCR, ORR) in a randomised trial, or a response or
           clinical-benefit rate reported by a non-randomised trial.
``III-A``  a result graded I or II above, but in another setting of HER2-positive disease (or
           in other tumours): ESCAT III-A is "benefit in another tumour type"; her2lab extends
           it to another clinical setting and says so.
``X``      no graded result: an ongoing trial, a randomised comparison without a significant
           benefit, or no trial of the regimen at all.

Tier IV (preclinical) and anything from the pathway model or the virtual trials are *never*
assigned here: in-silico predictions are reported beside the tiers, labelled as such.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from her2lab.knowledge import KnowledgeBase, Outcome, Trial

__all__ = [
    "ESCAT_CITATION",
    "ESCAT_ORDER",
    "EvidenceItem",
    "MetaPooled",
    "grade",
    "outcome_items",
    "tier_rank",
]

ESCAT_CITATION = (
    "Mateo J, Chakravarty D, Dienstmann R, et al. A framework to rank genomic alterations as "
    "targets for cancer precision medicine: the ESMO Scale for Clinical Actionability of "
    "molecular Targets (ESCAT). Ann Oncol 2018;29:1895-1902. doi:10.1093/annonc/mdy263"
)

ESCAT_ORDER = ("I-A", "I-B", "I-C", "II-A", "II-B", "III-A", "III-B", "IV", "V", "X")
"""ESCAT tiers, strongest first (the report assigns I-A, II-A, II-B, III-A and X)."""

TIME_TO_EVENT = frozenset({"PFS", "TTP", "OS", "DFS", "iDFS", "EFS", "RFI"})
RESPONSE = frozenset({"pCR", "ORR", "CBR", "PR"})
METASTATIC_ANY = "metastatic_any_line"


def tier_rank(tier: str) -> int:
    return ESCAT_ORDER.index(tier)


@dataclass(frozen=True)
class EvidenceItem:
    """One curated result of a trial arm (or a comparison) with its provenance and tier."""

    trial: str
    trial_name: str
    nct: str | None
    phase: str
    randomized: bool
    setting: str
    in_setting: bool
    outcome: str
    endpoint: str
    kind: str
    measure: str | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    ci_level: float | None
    p: str | None
    unit: str | None
    arm: str
    comparator: str | None
    subgroup: str | None
    analysis: str | None
    locator: str
    refs: tuple[int, ...]
    citation: str | None
    published: dt.date
    tier: str
    tier_reason: str
    match: str
    notes: tuple[str, ...] = field(default=())

    @property
    def uid(self) -> str:
        return f"{self.trial}/{self.outcome}"

    @property
    def comparative(self) -> bool:
        return self.kind == "effect" and self.measure in ("HR", "OR")

    def result_text(self) -> str:
        """``HR 0.78 (95% CI 0.65-0.96), p = 0.0067`` and similar."""
        v = self.value
        if self.kind == "effect":
            txt = f"{self.measure} {_num(v)}"
            if self.ci_low is not None and self.ci_high is not None:
                lvl = round(100 * (self.ci_level or 0.95))
                txt += f" ({lvl}% CI {_num(self.ci_low)}-{_num(self.ci_high)})"
            if self.measure == "difference" and self.unit:
                txt += f" {self.unit}"
        elif self.kind == "median":
            txt = f"median {_num(v)} {self.unit}" if v is not None else "median not reached"
        elif self.kind == "rate":
            txt = f"{self.endpoint} {_num(v)}%"
        elif self.kind == "difference_in_median":
            txt = f"median gain {_num(v)} {self.unit or ''}".strip()
        elif self.kind == "p_only":
            txt = f"{self.endpoint} {self.arm} vs {self.comparator}" if self.comparator else (
                f"{self.endpoint} comparison")
        else:
            txt = f"{self.kind} {_num(v)}"
        if self.p:
            txt += f", {self.p}"
        return txt

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["published"] = self.published.isoformat()
        d["refs"] = list(self.refs)
        d["notes"] = list(self.notes)
        d["result"] = self.result_text()
        return d


@dataclass(frozen=True)
class MetaPooled:
    """A pooled effect over several trials' results of one regimen (from her2lab.synthesis)."""

    endpoint: str
    measure: str
    k: int
    estimate: float
    ci_low: float
    ci_high: float
    i2: float | None
    tau2: float | None
    method: str
    studies: tuple[str, ...]
    comparators: tuple[str, ...]
    note: str = ""

    def result_text(self) -> str:
        i2 = "" if self.i2 is None else f", I² {100 * self.i2:.0f}%"
        return (f"pooled {self.measure} {self.estimate:.2f} (95% CI {self.ci_low:.2f}-"
                f"{self.ci_high:.2f}), {self.k} trials, {self.method}{i2}")

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["studies"] = list(self.studies)
        d["comparators"] = list(self.comparators)
        d["result"] = self.result_text()
        return d


def _num(x: float | None) -> str:
    if x is None:
        return "n/a"
    if float(x).is_integer():
        return f"{int(x)}"
    return f"{x:g}"


def _p_text(o: Outcome) -> str | None:
    if o.p is None:
        return None
    rel = "=" if o.p.relation == "=" else o.p.relation
    return f"p {rel} {o.p.value:g}"


def _arm_label(t: Trial, arm_id: str | None) -> str:
    for a in t.arms:
        if a.id == arm_id:
            return a.label
    return arm_id or ""


def _significant_benefit(o: Outcome) -> bool | None:
    """Whether a comparison shows the first arm better; None when it cannot be told."""
    if o.kind == "effect":
        lo, hi = (o.ci.low, o.ci.high) if o.ci else (None, None)
        if o.measure == "HR":
            if hi is not None:
                return hi < 1.0
        elif o.measure == "OR":
            if lo is not None:
                return lo > 1.0
        elif o.measure == "difference" and lo is not None:
            return lo > 0.0
        if o.p is not None and o.value is not None:
            better = o.value < 1 if o.measure == "HR" else o.value > (1 if o.measure == "OR"
                                                                      else 0)
            return better and (o.p.value < 0.05 or (o.p.relation == "<" and o.p.value <= 0.05))
    return None


def _in_setting(t: Trial, setting: str) -> bool:
    s = t.setting.value
    return s == setting or (s == METASTATIC_ANY and setting.startswith("metastatic"))


def _overall_hr(t: Trial, o: Outcome) -> float | None:
    for x in t.outcomes:
        if (x.kind == "effect" and x.measure == o.measure and x.endpoint == o.endpoint
                and x.subgroup is None and list(x.arms) == list(o.arms)):
            return x.value
    return None


def grade(
    t: Trial, o: Outcome, setting: str, profile_biomarkers: tuple[str, ...],
) -> tuple[str, str, str]:
    """``(tier, reason, match)`` of one result for the report's setting and profile."""
    here = _in_setting(t, setting)
    ep = o.endpoint.value
    her2 = "ERBB2 amplification (the trial's HER2-positive selection)"
    tier, reason, match = "X", "", her2
    if o.subgroup is not None:
        bm = o.subgroup
        match = f"biomarker {bm}"
        if bm not in profile_biomarkers:
            return "X", f"subgroup {bm} is not part of this profile", match
        overall = _overall_hr(t, o)
        sig = _significant_benefit(o)
        if (o.kind == "effect" and t.randomized and sig and overall is not None
                and o.value is not None and o.value < overall):
            tier = "II-A"
            reason = (f"randomised-trial subgroup {bm}: {o.measure} {_num(o.value)} with its CI "
                      f"excluding no effect, below the whole population's {_num(overall)}")
        elif o.kind == "difference_in_median" and t.randomized:
            tier = "X"
            reason = "a median gain in a subgroup, without a CI; shown beside the subgroup HR"
        else:
            reason = f"subgroup {bm} result without a significant difference"
    elif o.kind in ("effect", "p_only") and t.randomized and len(o.arms) == 2:
        sig = _significant_benefit(o)
        if o.kind == "p_only" and o.p is not None:
            sig = o.p.value < 0.05 or (o.p.relation == "<" and o.p.value <= 0.05)
        if sig and ep in TIME_TO_EVENT:
            tier = "I-A"
            reason = (f"randomised phase {t.phase} trial: {ep} better than control with the 95% "
                      "CI excluding no effect (significance stands in for ESCAT's 'clinically "
                      "meaningful', which the knowledge base cannot judge)")
        elif sig and ep in RESPONSE:
            tier = "II-B"
            reason = f"randomised trial: a significant gain in {ep}, no survival end point"
        elif sig is False:
            reason = f"randomised comparison of {ep} without a significant benefit"
        else:
            reason = f"randomised comparison of {ep} whose significance cannot be told"
    elif o.kind == "rate" and ep in RESPONSE and not t.randomized and (o.value or 0) > 0:
        tier = "II-B"
        reason = (f"non-randomised phase {t.phase} trial: {ep} {_num(o.value)}% (antitumour "
                  "activity, no survival data)")
    else:
        reason = "descriptive result (graded through the trial's comparison, if any)"
    if tier != "X" and not here:
        reason = (f"{reason}; but in another setting ({t.setting.value}): tier III-A by "
                  "extension of ESCAT's 'benefit in another tumour type'")
        tier = "III-A"
    return tier, reason, match


def _dropped_by_conflicts(kb: KnowledgeBase) -> dict[str, str]:
    """Outcomes that are the non-preferred value of a resolved conflict -> conflict ID."""
    out = {}
    for c in kb.conflicts:
        if c.preferred is None:
            continue
        for v in c.values:
            if v.outcome and v.outcome != c.preferred:
                out[v.outcome] = c.id
    return out


def outcome_items(
    kb: KnowledgeBase, t: Trial, arm_ids: set[str], setting: str,
    profile_biomarkers: tuple[str, ...], as_of: dt.date | None,
) -> tuple[list[EvidenceItem], list[str]]:
    """Evidence items of a trial for the arms ``arm_ids``; also notes on what was left out."""
    dropped = _dropped_by_conflicts(kb)
    items: list[EvidenceItem] = []
    notes: list[str] = []
    for o in t.outcomes:
        arm = o.arm if o.arm else (o.arms[0] if o.arms else None)
        if arm not in arm_ids:
            continue
        uid = f"{t.id}/{o.id}"
        if uid in dropped:
            notes.append(f"{uid} left out: conflict {dropped[uid]} prefers another value")
            continue
        published = kb.published(t, o)
        if as_of is not None and published > as_of:
            notes.append(f"{uid} left out: published {published.isoformat()}, after the "
                         f"as-of date {as_of.isoformat()}")
            continue
        if o.endpoint.value in ("AE", "cardiac_safety", "safety", "MTD"):
            continue
        tier, reason, match = grade(t, o, setting, profile_biomarkers)
        comparator = _arm_label(t, o.arms[1]) if len(o.arms) == 2 else None
        ci = o.ci
        items.append(EvidenceItem(
            trial=t.id, trial_name=t.name, nct=t.nct, phase=t.phase, randomized=t.randomized,
            setting=t.setting.value, in_setting=_in_setting(t, setting), outcome=o.id,
            endpoint=o.endpoint.value, kind=o.kind, measure=o.measure, value=o.value,
            ci_low=ci.low if ci else None, ci_high=ci.high if ci else None,
            ci_level=ci.level if ci else None, p=_p_text(o), unit=o.unit,
            arm=_arm_label(t, arm), comparator=comparator, subgroup=o.subgroup,
            analysis=o.analysis, locator=o.provenance.locator,
            refs=tuple(o.provenance.refs or t.provenance.refs),
            citation=o.provenance.citation, published=published, tier=tier,
            tier_reason=reason, match=match,
        ))
    return items, notes


def benefit_bound(item: EvidenceItem) -> float:
    """The conservative end of a comparison's CI on the log scale, as benefit (higher better):
    ``-log(upper HR)`` or ``log(lower OR)``; ``-inf`` when there is none."""
    if item.measure == "HR" and item.ci_high:
        return -math.log(item.ci_high)
    if item.measure == "OR" and item.ci_low:
        return math.log(item.ci_low)
    return -math.inf
