"""Clinical evidence for a regimen from the knowledge base, graded on the ESCAT scale.

The scale is the ESMO Scale for Clinical Actionability of molecular Targets (ESCAT; Mateo J et
al., Ann Oncol 2018;29:1895-1902, doi:10.1093/annonc/mdy263, PMID 30137196). ESCAT grades an
*alteration-drug match*, not a regimen: each result is graded for one alteration (named on
every line) and the drug the trial tested. In a HER2-positive knowledge base every trial
selected ERBB2 amplification/overexpression; a profile adds alterations (PTEN loss, p95HER2,
...) that a result speaks to only where the trial reported a subgroup for their biomarker.

``I-A``    *HER2 amplification* + a tested drug that targets ERBB2: a randomised trial in the
           report's setting shows the experimental arm better than its control on the trial's
           **primary** end point, a time-to-event one (PFS, TTP, OS, DFS, iDFS, EFS, RFI): HR
           with its CI below 1 (or, without a CI, p < 0.05 with the better median), and no
           **unresolved** recorded conflict on that result (AVEREL's PFS: the seed's 0.72 is
           the independent review; the primary, investigator-assessed analysis failed).
           ESCAT asks for a *clinically meaningful* improvement; the knowledge base has no
           ESMO-MCBS score, so a significant one counts, and the report says so.
``II-A``   a retrospective analysis of randomised trials showing that patients with the
           alteration derive more benefit (ESCAT II-A): only where the knowledge base records
           a pre-specified biomarker analysis with an interaction test. None does today.
``II-B``   prospective trials show increased responses without survival data: a significant
           gain in a response end point (pCR, ORR) in a randomised comparison; a non-randomised
           trial's objective response rate whose exact 95% CI lies above the stated threshold
           (:data:`RESPONSE_THRESHOLD`; clinical-benefit rates, which count stable disease, are
           not responses); or an *exploratory biomarker subgroup* of a randomised trial with
           its CI below 1 (BOLERO-3's PTEN-low subgroup: II-B at best, for PTEN loss).
``X``      no graded result: a randomised comparison that does not support the drug (or
           harms), a descriptive result, an ongoing trial, a secondary end point, a result
           with an unresolved conflict, or no trial of the drug for the alteration.

A result from another setting keeps its grade but is marked as such (``in_setting`` False):
the report never ranks a line on it above a line with evidence in its own setting (ESCAT's
III-A is another *tumour type*, which a HER2-positive breast knowledge base never holds).
Each result also has a *direction* (:data:`DIRECTIONS`): the comparison supports the drug,
does not support it, or harms (the experimental arm significantly worse: GeparQuinto's pCR
OR 0.68 for lapatinib against trastuzumab). Tier IV (preclinical) and anything from the
pathway model or the virtual trials are never assigned here: in-silico predictions are
reported beside the tiers, labelled as such.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from her2lab.errors import UnknownIdError
from her2lab.knowledge import TIME_TO_EVENT, KnowledgeBase, Outcome, Trial, outcome_key

__all__ = [
    "DIRECTIONS",
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
    "molecular Targets (ESCAT). Ann Oncol 2018;29:1895-1902. doi:10.1093/annonc/mdy263, "
    "PMID 30137196"
)

ESCAT_ORDER = ("I-A", "I-B", "I-C", "II-A", "II-B", "III-A", "III-B", "IV", "V", "X")
"""ESCAT tiers, strongest first (the report assigns I-A, II-A, II-B, III-A and X)."""

DIRECTIONS = ("supports", "does not support", "harms", "descriptive")
"""What a result says of the experimental arm: better (supports), no significant difference
(does not support), significantly worse (harms), or no comparison (descriptive)."""

RESPONSE_THRESHOLD = {"ORR": 0.10, "PR": 0.10}
"""The objective response rate a non-randomised trial's exact 95% CI must lie above to count
as antitumour activity: 10%, the uninteresting rate phase II trials after trastuzumab are
commonly designed to reject (a stated choice; pCR from single arms and CBR are not graded)."""

HER2_ALTERATION = "HER2 amplification"

NO_REFERENCE = "no publication cited for this result in the knowledge base"

ENDPOINT_NAMES = {
    "PFS": "progression-free survival", "TTP": "time to progression", "OS": "overall survival",
    "DFS": "disease-free survival", "iDFS": "invasive disease-free survival",
    "EFS": "event-free survival", "RFI": "recurrence-free interval",
    "pCR": "pathological complete response", "ORR": "objective response rate",
    "CBR": "clinical benefit rate", "PR": "partial response rate",
}

RESPONSE = frozenset({"pCR", "ORR", "CBR", "PR"})
METASTATIC_ANY = "metastatic_any_line"


def tier_rank(tier: str) -> int:
    return ESCAT_ORDER.index(tier)


@dataclass(frozen=True)
class EvidenceItem:
    """One curated result of a trial arm (or a comparison) with its provenance and ESCAT tier.

    Attributes
    ----------
    trial, trial_name : str
        The trial's local ID and display name.
    nct : str or None
        Its ClinicalTrials.gov number.
    phase : str
        Trial phase (``III``).
    randomized : bool
        Whether the trial was randomized.
    setting : str
        The trial's setting (a :class:`~her2lab.knowledge.Setting` value).
    in_setting : bool
        Whether that setting is the report's (a result from another setting is shown, never
        ranked on).
    outcome : str
        The outcome's local ID.
    endpoint : str
        Its endpoint (``PFS``, ``pCR``, ...).
    kind : str
        The outcome kind (``effect``, ``median``, ``rate``, ...).
    measure : str or None
        For an effect: ``HR``, ``OR`` or ``difference``.
    value : float or None
        The figure, in ``unit``.
    ci_low, ci_high : float or None
        Its confidence interval.
    ci_level : float or None
        The CI's level as published (0.95, 0.975).
    p : str or None
        The p-value as text (``p < 0.001``).
    unit : str or None
        Unit of ``value`` (months, weeks, percent, points), after resolved units conflicts.
    arm : str
        The arm's label (for an effect, the experimental arm).
    comparator : str or None
        The reference arm's label, for a comparison.
    subgroup : str or None
        The subgroup (mechanism or biomarker ID) the result is for; None: everyone.
    analysis : str or None
        ``primary``, ``interim``, ``final``, ...
    locator : str
        Where the figure is in its source (``Table 1: CLEOPATRA``).
    refs : tuple of int
        The seed's reference numbers it cites.
    citation : str or None
        The external publication, for a figure taken from outside the seed.
    published : datetime.date
        The date the result became public.
    tier : str
        Its ESCAT tier (``I-A``, ``II-B``, ``X``).
    tier_reason : str
        Why it has that tier, in words.
    match : str
        The alteration the tier is for (``HER2 amplification``, ``PTEN loss``, ...).
    direction : str
        ``supports``, ``does not support``, ``harms`` or ``descriptive`` (default).
    drugs : tuple of str
        The drugs the trial tested (names), those the alteration-drug match is for.
    primary : bool
        Whether the end point is the trial's primary end point.
    population : str
        The trial's population in words.
    year : int or None
        Year of the latest publication cited.
    references : tuple of str
        The cited publications, each with its PMID or DOI where the knowledge base has it.
    comparator_regimen : tuple of str
        Drug IDs of the reference arm.
    obtained : str
        How the number was obtained: ``reported`` (as published; the report derives none).
    notes : tuple of str
        Remarks shown with the result (a conflict resolution applied, ...).
    """

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
    """The alteration the tier is for (``HER2 amplification``, ``PTEN loss``, ...)."""
    direction: str = "descriptive"
    drugs: tuple[str, ...] = ()
    """The drugs the trial tested (names), those the alteration-drug match is for."""
    primary: bool = False
    """Whether the end point is the trial's primary end point."""
    population: str = ""
    year: int | None = None
    references: tuple[str, ...] = ()
    """The cited publications, each with its PMID or DOI where the knowledge base has it."""
    comparator_regimen: tuple[str, ...] = ()
    """The control arm's drug IDs (sorted), for head-to-head ranking."""
    obtained: str = "reported"
    """How the number was obtained: reported (as published); the report derives none."""
    notes: tuple[str, ...] = field(default=())

    @property
    def uid(self) -> str:
        return outcome_key(self.trial, self.outcome)

    @property
    def comparative(self) -> bool:
        return self.kind == "effect" and self.measure in ("HR", "OR")

    def result_text(self) -> str:
        """The result as one line of text.

        Returns
        -------
        str
            ``HR 0.78 (95% CI 0.65-0.96), p = 0.0067``, ``median 18.7 months``, ``pCR 45.8%`` and
            similar.
        """
        v = self.value
        if self.kind == "effect":
            txt = f"{self.measure} {_num(v)}"
            if self.ci_low is not None and self.ci_high is not None:
                lvl = ci_level_text(self.ci_level)
                txt += f" ({lvl} CI {_num(self.ci_low)}-{_num(self.ci_high)})"
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
        """The item as a JSON-ready dict.

        Returns
        -------
        dict
            Every field (dates as ISO text, tuples as lists) plus ``result`` (:meth:`result_text`).
        """
        d = dict(self.__dict__)
        d["published"] = self.published.isoformat()
        d["refs"] = list(self.refs)
        d["references"] = list(self.references)
        d["drugs"] = list(self.drugs)
        d["comparator_regimen"] = list(self.comparator_regimen)
        d["notes"] = list(self.notes)
        d["result"] = self.result_text()
        return d


@dataclass(frozen=True)
class MetaPooled:
    """A pooled effect over several trials' results of one regimen (from her2lab.synthesis).

    Attributes
    ----------
    endpoint : str
        The endpoint pooled (``PFS``).
    measure : str
        The effect measure (``HR``, ``OR``).
    k : int
        Number of trials pooled.
    estimate : float
        The pooled effect, on the ratio scale.
    ci_low, ci_high : float
        Its 95% confidence interval.
    i2 : float or None
        Heterogeneity I², in [0, 1].
    tau2 : float or None
        Between-trial variance τ² on the log scale.
    method : str
        How it was pooled (``random effects (REML), her2lab.synthesis``).
    studies : tuple of str
        The trials pooled (names).
    comparators : tuple of str
        Their reference arms (the pooled effect is against the controls of their time).
    note : str
        A remark shown with it (different controls, ...).
    """

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
        """The pooled effect as one line of text.

        Returns
        -------
        str
            ``pooled HR 0.70 (95% CI 0.60-0.82), 2 trials, <method>, I² 10%``.
        """
        i2 = "" if self.i2 is None else f", I² {100 * self.i2:.0f}%"
        return (f"pooled {self.measure} {self.estimate:.2f} (95% CI {self.ci_low:.2f}-"
                f"{self.ci_high:.2f}), {self.k} trials, {self.method}{i2}")

    def to_dict(self) -> dict[str, Any]:
        """The pooled effect as a JSON-ready dict.

        Returns
        -------
        dict
            Every field plus ``result`` (:meth:`result_text`).
        """
        d = dict(self.__dict__)
        d["studies"] = list(self.studies)
        d["comparators"] = list(self.comparators)
        d["result"] = self.result_text()
        return d


def ci_level_text(level: float | None) -> str:
    """``95%``, ``97.5%``: a CI's level as published (never rounded to a whole per cent)."""
    return f"{100 * (level or 0.95):.4g}%"


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
    """The arm's label (an outcome's arms are the trial's, the schema checks); "" for none."""
    return t.arm(arm_id).label if arm_id else ""


def _significant(o: Outcome) -> str | None:
    """``benefit``, ``harm`` or ``none`` for a comparison of the first arm against the second;
    None when it cannot be told."""
    if o.kind == "effect":
        lo, hi = (o.ci.low, o.ci.high) if o.ci else (None, None)
        if lo is not None and hi is not None:
            if o.measure == "HR":
                return "benefit" if hi < 1.0 else ("harm" if lo > 1.0 else "none")
            if o.measure == "OR":
                return "benefit" if lo > 1.0 else ("harm" if hi < 1.0 else "none")
            if o.measure == "difference":
                return "benefit" if lo > 0.0 else ("harm" if hi < 0.0 else "none")
        if o.p is not None and o.value is not None:
            sig = o.p.value < 0.05 or (o.p.relation == "<" and o.p.value <= 0.05)
            better = o.value < 1 if o.measure == "HR" else o.value > (
                1 if o.measure == "OR" else 0)
            return "none" if not sig else ("benefit" if better else "harm")
    return None


def _p_only_direction(t: Trial, o: Outcome, medians: dict[str, float]) -> str | None:
    """A p-only comparison's direction from the arms' medians or rates where the knowledge
    base has them (the arm with the longer median or the higher rate is the better one)."""
    if o.p is None:
        return None
    sig = o.p.value < 0.05 or (o.p.relation == "<" and o.p.value <= 0.05)
    if not sig:
        return "none"
    a, b = (medians.get(x) for x in o.arms[:2])
    if a is None or b is None:
        return None
    return "benefit" if a > b else "harm"


def _in_setting(t: Trial, setting: str) -> bool:
    s = t.setting.value
    return s == setting or (s == METASTATIC_ANY and setting.startswith("metastatic"))


def _targets_her2(kb: KnowledgeBase, drugs: list[str]) -> bool:
    return any("ERBB2" in kb.drug(d).targets for d in drugs)


def _arm_n(t: Trial, o: Outcome) -> int | None:
    """The patients a rate counts: its own ``n``, else its arm's size
    (:meth:`~her2lab.knowledge.Trial.arm_size`; a single-arm trial's arm where the outcome
    names none); None where the knowledge base records no size."""
    arm = o.arm or (t.arms[0].id if len(t.arms) == 1 else None)
    return o.n or (t.arm_size(arm) if arm else None)


def clopper_pearson(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact binomial CI of ``x`` responses in ``n`` (scipy's beta quantiles)."""
    from scipy import stats

    a = (1 - level) / 2
    lo = 0.0 if x == 0 else float(stats.beta.ppf(a, x, n - x + 1))
    hi = 1.0 if x == n else float(stats.beta.ppf(1 - a, x + 1, n - x))
    return lo, hi


def grade(
    t: Trial, o: Outcome, setting: str, profile_biomarkers: tuple[str, ...], *,
    kb: KnowledgeBase, unresolved: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
) -> tuple[str, str, str, str]:
    """``(tier, reason, alteration, direction)`` of one result for the setting and profile.

    ``unresolved``: outcome uid -> ID of an unresolved recorded conflict on it; ``names``:
    biomarker ID -> the alteration's name.
    """
    unresolved = unresolved or {}
    names = names or {}
    uid = outcome_key(t, o)
    ep = o.endpoint.value
    drugs = ", ".join(kb.drug(d).name for d in t.drugs_tested) or "the regimen"
    medians = {r.outcome.arm: r.outcome.value
               for r in kb.outcomes(trial=t, kind=("median", "rate"), endpoint=ep,
                                    subgroup=None, superseded=True)
               if r.outcome.value is not None and r.outcome.arm}
    comparison = o.kind in ("effect", "p_only") and len(o.arms) == 2
    sig = (_significant(o) if o.kind == "effect" else _p_only_direction(t, o, medians)
           ) if comparison else None
    direction = {"benefit": "supports", "harm": "harms", "none": "does not support"}.get(
        sig or "", "descriptive" if not comparison else "does not support")
    if comparison and sig is None:
        direction = "descriptive"
    if o.subgroup is not None:
        bm = o.subgroup
        alt = names.get(bm, bm)
        if bm not in profile_biomarkers:
            return "X", f"subgroup {alt}: not part of this profile", alt, direction
        if o.kind == "effect" and t.randomized and sig == "benefit":
            return ("II-B", f"exploratory {alt} subgroup of a randomised trial "
                    f"({o.measure} {_num(o.value)} with its CI below 1): ESCAT II-B at best "
                    "(II-A needs a retrospective biomarker analysis showing more benefit with "
                    "the alteration than without, which the knowledge base does not record)",
                    alt, direction)
        return "X", f"{alt} subgroup result without a significant difference", alt, direction
    her2 = _targets_her2(kb, t.drugs_tested)
    alt = HER2_ALTERATION if her2 else "no alteration (all HER2-positive patients)"
    if comparison and t.randomized:
        primary = t.primary_endpoint is not None and t.primary_endpoint == o.endpoint
        if uid in unresolved:
            return ("X", f"an unresolved recorded conflict ({unresolved[uid]}) on this result: "
                    "never graded I-A or II", alt, direction)
        if sig == "harm":
            return ("X", f"randomised comparison: {drugs} significantly worse than the control "
                    f"on {ep}", alt, direction)
        if sig != "benefit":
            return ("X", f"randomised comparison of {ep} that does not show a benefit of "
                    f"{drugs}", alt, direction)
        if not her2:
            return ("X", f"{drugs} targets no alteration of the trial's selection (it enrolled "
                    "all HER2-positive patients): a benefit of the regimen, not an "
                    "alteration-drug match", alt, direction)
        if ep in TIME_TO_EVENT and not primary and t.primary_endpoint is not None:
            return ("X", f"{ep} is a secondary end point (primary: "
                    f"{t.primary_endpoint.value}); shown, not graded", alt, direction)
        if ep in TIME_TO_EVENT:
            return ("I-A", f"randomised phase {t.phase} trial: primary end point {ep} better "
                    f"with {drugs} than the control, its CI excluding no effect (significance "
                    "stands in for ESCAT's 'clinically meaningful', which the knowledge base "
                    "cannot judge)", alt, direction)
        if ep in RESPONSE:
            return ("II-B", f"randomised comparison: a significant gain in {ep} with {drugs}, "
                    "no survival end point", alt, direction)
        return "X", f"{ep}: not an efficacy end point ESCAT grades", alt, direction
    if o.kind == "rate" and ep in RESPONSE_THRESHOLD and not t.randomized and her2:
        p0 = RESPONSE_THRESHOLD[ep]
        n = _arm_n(t, o)
        if n is None or o.value is None:
            return ("X", f"non-randomised {ep} {_num(o.value)}% without an arm size in the "
                    f"knowledge base: whether it exceeds {100 * p0:g}% cannot be told", alt,
                    "descriptive")
        x = round(o.value / 100 * n)
        lo, _ = clopper_pearson(x, n)
        if lo > p0:
            return ("II-B", f"non-randomised phase {t.phase} trial: {ep} {_num(o.value)}% "
                    f"({x}/{n}; exact 95% CI from {100 * lo:.1f}%) above the {100 * p0:g}% "
                    "threshold (antitumour activity, no survival data)", alt, "supports")
        return ("X", f"non-randomised {ep} {_num(o.value)}% ({x}/{n}): its exact 95% CI "
                f"reaches below the {100 * p0:g}% threshold", alt, "does not support")
    if o.kind == "rate" and ep == "CBR":
        return ("X", "a clinical-benefit rate counts stable disease: not a response end point",
                alt, "descriptive")
    return ("X", "descriptive result (graded through the trial's comparison, if any)", alt,
            "descriptive")


def unresolved_conflicts(kb: KnowledgeBase) -> dict[str, str]:
    """Outcome uid -> ID of a recorded conflict on it with neither a preferred value nor a
    resolution."""
    out: dict[str, str] = {}
    for c in kb.conflicts:
        if c.preferred is None and not c.resolution:
            for v in c.values:
                if v.outcome:
                    out.setdefault(v.outcome, c.id)
    return out


def resolved_units(kb: KnowledgeBase) -> dict[tuple[str, str], str]:
    """(trial ID, end point) -> the unit a resolved ``units`` conflict gives its medians
    (EGF104900: the seed's months resolved to weeks). The unit is the one the resolution
    names; the conflict's field names the end point."""
    out: dict[tuple[str, str], str] = {}
    for c in kb.conflicts:
        if c.kind != "units" or not c.resolution:
            continue
        words = set(re.findall(r"[a-z]+", c.resolution.lower()))
        unit = next((u for u in ("weeks", "months", "years") if u in words), None)
        ep = c.field.split()[0] if c.field else ""
        if unit is not None and ep:
            out[(c.subject.removeprefix("trial:"), ep)] = unit
    return out


def reference_texts(kb: KnowledgeBase, refs: tuple[int, ...]) -> tuple[str, ...]:
    """``Blackwell KL et al. J Clin Oncol 2012;30:2585-2592. PMID ...`` for each reference."""
    out = []
    for n in refs:
        try:
            r = kb.reference(n)
        except UnknownIdError:  # a reference number the knowledge base lacks
            out.append(f"seed ref {n} (not in the reference list)")
            continue
        first = r.authors[0] + (" et al." if len(r.authors) > 1 or r.et_al else "")
        vol = f";{r.volume}" if r.volume else ""
        pages = f":{r.pages}" if r.pages else ""
        ids = [f"PMID {r.pmid}" if r.pmid else "", f"doi:{r.doi}" if r.doi else ""]
        ids_txt = ", ".join(x for x in ids if x) or "no PMID or DOI in the knowledge base"
        out.append(f"{first} {r.title}. {r.journal} {r.year}{vol}{pages}. {ids_txt} "
                   f"(seed ref {n})")
    return tuple(out)


def outcome_items(
    kb: KnowledgeBase, t: Trial, arm_ids: set[str], setting: str,
    profile_biomarkers: tuple[str, ...], as_of: dt.date | None,
) -> tuple[list[EvidenceItem], list[str]]:
    """Evidence items of a trial for the arms ``arm_ids``; also notes on what was left out."""
    dropped = kb.superseded()
    unresolved = unresolved_conflicts(kb)
    units = resolved_units(kb)
    names = {b.id: b.name for b in kb.biomarkers}
    names.update({b: kb.mechanism(m).name for b, m in _biomarker_mechanism().items()
                  if b in names})
    items: list[EvidenceItem] = []
    notes: list[str] = []
    for r in kb.outcomes(trial=t, superseded=True):  # a superseded one is noted, not shown
        o, uid = r.outcome, r.key
        arm = o.arm if o.arm else (o.arms[0] if o.arms else None)
        if arm not in arm_ids:
            continue
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
        tier, reason, match, direction = grade(t, o, setting, profile_biomarkers, kb=kb,
                                               unresolved=unresolved, names=names)
        comparator = _arm_label(t, o.arms[1]) if len(o.arms) == 2 else None
        ctrl_reg = tuple(sorted(t.arm(o.arms[1]).regimen)) if len(o.arms) == 2 else ()
        ci = o.ci
        unit = o.unit
        item_notes: list[str] = []
        res_unit = units.get((t.id, o.endpoint.value))
        if o.kind == "median" and res_unit and unit != res_unit:
            item_notes.append(f"unit {res_unit}, as the knowledge base's conflict resolution "
                              f"says (the seed prints {unit})")
            unit = res_unit
        refs = tuple(o.provenance.refs or t.provenance.refs)
        years = [kb.reference(r).year for r in refs if _has_ref(kb, r)]
        items.append(EvidenceItem(
            trial=t.id, trial_name=t.name, nct=t.nct, phase=t.phase, randomized=t.randomized,
            setting=t.setting.value, in_setting=_in_setting(t, setting), outcome=o.id,
            endpoint=o.endpoint.value, kind=o.kind, measure=o.measure, value=o.value,
            ci_low=ci.low if ci else None, ci_high=ci.high if ci else None,
            ci_level=ci.level if ci else None, p=_p_text(o), unit=unit,
            arm=_arm_label(t, arm), comparator=comparator, subgroup=o.subgroup,
            analysis=o.analysis, locator=o.provenance.locator,
            refs=tuple(o.provenance.refs or t.provenance.refs),
            citation=o.provenance.citation, published=published, tier=tier,
            tier_reason=reason, match=match, direction=direction,
            drugs=tuple(kb.drug(d).name for d in t.drugs_tested),
            primary=t.primary_endpoint is not None and t.primary_endpoint == o.endpoint,
            population=t.population.description,
            year=max(years) if years else published.year,
            references=reference_texts(kb, refs) or (NO_REFERENCE,), notes=tuple(item_notes),
            comparator_regimen=ctrl_reg,
        ))
    return items, notes


def _has_ref(kb: KnowledgeBase, n: int) -> bool:
    try:
        kb.reference(n)
    except UnknownIdError:
        return False
    return True


def _biomarker_mechanism() -> dict[str, str]:
    from her2lab.report.profile import BIOMARKER_MECHANISM

    return BIOMARKER_MECHANISM


def benefit_bound(item: EvidenceItem) -> float:
    """The conservative end of a comparison's CI on the log scale, as benefit (higher better):
    ``-log(upper HR)`` or ``log(lower OR)``; ``-inf`` when there is none."""
    if item.measure == "HR" and item.ci_high:
        return -math.log(item.ci_high)
    if item.measure == "OR" and item.ci_low:
        return math.log(item.ci_low)
    return -math.inf
