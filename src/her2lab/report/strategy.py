"""The strategy report: regimens ranked for a tumor profile and a setting, evidence first.

>>> from her2lab.report import strategy_report
>>> rep = strategy_report("pten_loss,trastuzumab_pretreated",  # doctest: +SKIP
...                       "metastatic_pretreated")
>>> [r.label for r in rep.ranked][:2]  # doctest: +SKIP
>>> rep.write_pdf("report.pdf")  # doctest: +SKIP

Candidates are the regimens of the knowledge base's trial arms (experimental or single arms) in
the report's setting, and regimens elsewhere that contain a drug the knowledge base says
counteracts one of the profile's mechanisms. Each gets its clinical evidence (graded on ESCAT,
:mod:`her2lab.report.evidence`), pooled effects where several trials report one comparison,
its mechanistic rationale from the pathway model and its predicted effect from a virtual
trial of patients with exactly this profile; the last two are in silico and never enter a
tier. The ranking rule is :data:`RANKING_RULE`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from her2lab.errors import DataError, UnknownIdError
from her2lab.knowledge import KnowledgeBase, Setting, Trial, outcome_key
from her2lab.report.evidence import (
    ESCAT_CITATION,
    EvidenceItem,
    MetaPooled,
    benefit_bound,
    outcome_items,
    tier_rank,
)
from her2lab.report.profile import Profile, parse_profile
from her2lab.virtual_trials.calibration import Calibration
from her2lab.virtual_trials.defaults import RunSettings

if TYPE_CHECKING:
    from her2lab.pathway import Result

__all__ = [
    "DISCLAIMER",
    "RANKING_RULE",
    "Prediction",
    "RankedRegimen",
    "Rationale",
    "StrategyReport",
    "strategy_report",
]

DISCLAIMER = "Research output, not medical advice"

RANKING_RULE = (
    "Lines with graded evidence in this setting first; then lines whose randomised evidence "
    "in this setting supports the regimen without grading an alteration-drug match; then "
    "lines graded only in another setting (shown as such: they never rank above a line with "
    "evidence in this setting); then lines without a result; then lines whose randomised "
    "evidence in this setting does not support the regimen; lines it harms last.",
    "Within a group: the best ESCAT tier of the line's alteration-drug matches (I-A first).",
    "Then head-to-head evidence: a regimen that beat another in a randomised trial of this "
    "setting ranks above it (EMILIA: trastuzumab emtansine above lapatinib + capecitabine).",
    "Then the conservative end of the regimen's best comparative effect in this setting "
    "(the upper CI limit of its HR, pooled over trials where several report it; for odds "
    "ratios the lower limit), the more certain benefit first; regimens whose intervals overlap "
    "are marked as not separated by the evidence.",
    "In-silico results (pathway model, virtual trials) are shown beside each regimen and never "
    "change its tier or its rank.",
)

GROUPS = ("graded in this setting", "supported in this setting, not graded",
          "graded only in another setting", "no graded result",
          "not supported in this setting", "harms in this setting")
"""The ranking groups, in order (:data:`RANKING_RULE` 1)."""

SETTING_ENDPOINT = {
    "neoadjuvant": "pCR",
    "adjuvant": "DFS",
    "post_neoadjuvant": "DFS",
    "extended_adjuvant": "DFS",
    "metastatic_first_line": "PFS",
    "metastatic_pretreated": "PFS",
}
"""The virtual trial's end point per setting (the primary end point most trials there use)."""

WEEKS_PER_MONTH = 52.0 / 12.0


# --------------------------------------------------------------------------- typed entries


@dataclass(frozen=True)
class Rationale:
    """In silico: what the pathway model says of the regimen on this profile.

    Responses are :func:`her2lab.pathway.response` values in [0, 1] (higher is better).

    Attributes
    ----------
    counteracts : tuple of (str, str)
        ``(mechanism ID, name)`` of the profile's mechanisms the regimen's drugs counteract
        (knowledge base).
    added : tuple of str
        The drugs the trial tested (those the comparison adds).
    without : tuple of str
        The regimen without them (the comparison's backbone).
    response_with, response_with_se : float
        The response to the regimen on this profile and its Monte Carlo error bound.
    response_without, response_without_se : float
        The response to ``without`` and its error bound.
    response_untreated : float
        The response with no drug.
    response_sensitive : float
        The regimen's response on a tumor with no mechanism.
    nodes : tuple of (str, float, float)
        ``(node, P(ON) without, P(ON) with)`` for the nodes the added drugs change most (at most
        six, by more than 0.02).
    rates_with, rates_without : dict or None
        Growth and kill rates (per day) with and without the added drugs.
    samples : int
        Trajectories per pathway run.
    seed : int
        Seed of the pathway runs.
    """

    counteracts: tuple[tuple[str, str], ...]
    """(mechanism ID, name) of the profile's mechanisms the regimen counteracts (knowledge
    base's ``counteracted_by``)."""
    added: tuple[str, ...]
    """The drugs whose effect is shown: the trial's tested drugs within the regimen."""
    without: tuple[str, ...]
    response_with: float
    response_with_se: float
    response_without: float
    response_without_se: float
    response_untreated: float
    response_sensitive: float
    """The same regimen on a trastuzumab-sensitive tumor (the empty profile)."""
    nodes: tuple[tuple[str, float, float], ...]
    """(node, P(ON) without, P(ON) with): the nodes whose activity the added drugs change most."""
    rates_with: dict[str, Any] | None
    rates_without: dict[str, Any] | None
    samples: int
    seed: int

    @property
    def gain(self) -> float:
        return self.response_with - self.response_without

    def to_dict(self) -> dict[str, Any]:
        """The rationale as a JSON-ready dict.

        Returns
        -------
        dict
            Every field plus ``gain`` (the response gain of the added drugs) and ``kind``
            (``"in silico (pathway model)"``).
        """
        d = dataclasses.asdict(self)
        d["gain"] = self.gain
        d["kind"] = "in silico (pathway model)"
        return d


@dataclass(frozen=True)
class Prediction:
    """In silico: a virtual trial of the regimen against its control in this profile.

    Attributes
    ----------
    endpoint : str
        The endpoint simulated (``PFS``, ``pCR``).
    measure : str
        The effect measure (``HR``, ``OR``).
    estimate : float
        The expected effect over virtual trials.
    low, high : float
        The prediction interval's bounds (see ``interval``).
    control : str
        The control arm's label.
    control_regimen : tuple of str
        Drug IDs of the control arm.
    n_per_arm : int
        Virtual patients per arm.
    replicates : int
        Number of virtual trials.
    power : float or None
        Share of replicates with a significant effect.
    calibration : str
        Which calibration was used (its source, or ``uncalibrated``).
    note : str
        What the trial was anchored on.
    interval : str
        What ``low``-``high`` is (default ``"95% of virtual trials"``).
    spec : dict
        The virtual trial's specification, as ``her2lab trials predict`` takes it.
    settings : dict
        The Monte Carlo settings (samples, panel size, replicates, seed).
    calibration_as_of : str or None
        The calibration's evidence date (ISO), if any.
    """

    endpoint: str
    measure: str
    estimate: float
    low: float
    high: float
    control: str
    control_regimen: tuple[str, ...]
    n_per_arm: int
    replicates: int
    power: float | None
    calibration: str
    note: str
    interval: str = "95% of virtual trials"
    """What the interval is: the spread of simulated trials, or the model's prediction
    interval (parameter uncertainty and sampling)."""
    spec: dict[str, Any] = field(default_factory=dict)
    """The virtual trial's specification (``her2lab trials predict`` runs the same)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The run settings it was predicted with (the calibration's unless told otherwise)."""
    calibration_as_of: str | None = None

    def result_text(self) -> str:
        """The prediction as one line of text.

        Returns
        -------
        str
            ``HR 0.72 (95% prediction interval 0.60-0.86)``: measure, estimate and interval.
        """
        return (f"{self.measure} {self.estimate:.2f} ({self.interval} {self.low:.2f}-"
                f"{self.high:.2f})")

    def to_dict(self) -> dict[str, Any]:
        """The prediction as a JSON-ready dict.

        Returns
        -------
        dict
            Every field plus ``result`` (:meth:`result_text`) and ``kind``
            (``"in silico (virtual trials)"``).
        """
        d = dataclasses.asdict(self)
        d["kind"] = "in silico (virtual trials)"
        d["result"] = self.result_text()
        return d


@dataclass(frozen=True)
class RankedRegimen:
    """One regimen of the report with its evidence, tier, rationale and prediction.

    Attributes
    ----------
    rank : int
        Its rank, from 1 (see :data:`RANKING_RULE`).
    regimen : tuple of str
        Drug IDs.
    label : str
        Display label of the regimen.
    tier : str
        The best ESCAT tier of its alteration-drug matches.
    tier_reason : str
        Why, in words.
    evidence : tuple of EvidenceItem
        Its results in the report's setting.
    other_evidence : tuple of EvidenceItem
        Its results in other settings (shown, not ranked on).
    pooled : tuple of MetaPooled
        Pooled effects over several trials of the regimen in the setting.
    profile_matches : tuple of str
        Subgroups of the profile with a graded result.
    statements : tuple of str
        The knowledge base's biomarker statements about its drugs and the profile.
    trials : tuple of str
        IDs of the trials with an arm of the regimen.
    rationale : Rationale or None
        The pathway model's rationale (None without the model).
    prediction : Prediction or None
        The virtual trial's predicted effect (None without the model or a virtual trial).
    not_separated_from : tuple of int
        Ranks of regimens in the same group and tier whose intervals overlap with this one's.
    notes : tuple of str
        Remarks shown with the line.
    alteration : str
        The alteration its tier is for.
    matches : tuple of dict
        One alteration-drug match per alteration, with its tier and reason.
    group : str
        The ranking group (graded in this setting, ..., harms in this setting).
    sort_key : tuple
        The key the regimens were sorted by (not compared).
    """

    rank: int
    regimen: tuple[str, ...]
    label: str
    tier: str
    tier_reason: str
    evidence: tuple[EvidenceItem, ...]
    other_evidence: tuple[EvidenceItem, ...]
    pooled: tuple[MetaPooled, ...]
    profile_matches: tuple[str, ...]
    statements: tuple[str, ...]
    trials: tuple[str, ...]
    rationale: Rationale | None
    prediction: Prediction | None
    not_separated_from: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    alteration: str = ""
    """The alteration the line's tier is for (named on every line)."""
    matches: tuple[dict[str, Any], ...] = ()
    """One alteration-drug match per alteration (HER2 amplification where a drug targets it,
    and each of the profile's): alteration, drugs, tier, basis, direction, evidence."""
    group: str = ""
    """The ranking group (:data:`GROUPS`)."""
    sort_key: tuple = field(default=(), repr=False, compare=False)

    def tier_text(self) -> str:
        """The tier with the alteration it is for.

        Returns
        -------
        str
            ``I-A for HER2 amplification``.
        """
        return f"{self.tier} for {self.alteration}" if self.alteration else self.tier

    @property
    def clinical_items(self) -> tuple[EvidenceItem, ...]:
        return self.evidence + self.other_evidence

    def key_evidence(self) -> str:
        """The line's key evidence in one line.

        Returns
        -------
        str
            The pooled effect where there is one, else the best result of the tier, with trial and
            year.
        """
        if self.pooled:
            p = self.pooled[0]
            return f"{', '.join(p.studies)}: {p.result_text()}"
        graded = [e for e in self.clinical_items if e.tier == self.tier]
        if not graded:
            return self.tier_reason
        e = min(graded, key=lambda x: (x.subgroup is not None, -benefit_bound(x)))
        sub = f" ({e.match} subgroup)" if e.subgroup else ""
        where = "" if e.in_setting else f" [another setting: {e.setting}]"
        res = e.result_text()
        ep = "" if res.startswith(e.endpoint) else f"{e.endpoint} "
        return f"{e.trial_name} {e.year}{sub}: {ep}{res}{where}"

    def to_dict(self) -> dict[str, Any]:
        """The line as a JSON-ready dict.

        Returns
        -------
        dict
            Every field, nested records as dicts.
        """
        return {
            "rank": self.rank, "regimen": list(self.regimen), "label": self.label,
            "tier": self.tier, "tier_reason": self.tier_reason,
            "evidence": [e.to_dict() for e in self.evidence],
            "other_evidence": [e.to_dict() for e in self.other_evidence],
            "pooled": [p.to_dict() for p in self.pooled],
            "profile_matches": list(self.profile_matches),
            "statements": list(self.statements), "trials": list(self.trials),
            "in_silico": {
                "rationale": self.rationale.to_dict() if self.rationale else None,
                "prediction": self.prediction.to_dict() if self.prediction else None,
            },
            "not_separated_from": list(self.not_separated_from), "notes": list(self.notes),
            "alteration": self.alteration, "tier_text": self.tier_text(),
            "matches": [dict(m) for m in self.matches], "group": self.group,
        }


@dataclass(frozen=True)
class StrategyReport:
    """A ranked, evidence-graded strategy report for one profile and setting.

    Not medical advice: a research output (``disclaimer``).

    Attributes
    ----------
    profile : Profile
        The tumor profile.
    setting : str
        The clinical setting.
    as_of : datetime.date or None
        The evidence date: results published later are left out.
    calibration : str
        Which calibration the predictions used.
    ranked : tuple of RankedRegimen
        The regimens, in rank order.
    untested : tuple of dict
        Drugs that counteract a mechanism of the profile but have no trial arm (tier X).
    conflicts : tuple of dict
        Recorded conflicts on the trials or results cited.
    findings : tuple of dict
        Audit findings on the results cited.
    left_out : tuple of str
        Results left out (published after ``as_of``, superseded by a conflict resolution).
    settings : dict
        The run settings (Monte Carlo settings, ``n_per_arm``, ``in_silico``, the calibration's
        date).
    created : str
        The report's date (ISO): ``as_of`` or the seed's date.
    profile_notes : tuple of str
        Remarks on the profile in this setting.
    kb_pooled : tuple of dict
        The knowledge base's pooled questions that use a cited trial.
    cannot_know : tuple of str
        What the report cannot know (trials not in the knowledge base, unresolved conflicts,
        the model's limits, ...).
    references : tuple of str
        Every publication cited.
    newer_than_calibration : tuple of str
        Results cited that are newer than the calibration.
    disclaimer : str
        The not-medical-advice statement (:data:`DISCLAIMER`).
    ranking_rule : tuple of str
        The ranking rule, printed with the report (:data:`RANKING_RULE`).
    escat_citation : str
        The ESCAT publication the tiers follow.
    """

    profile: Profile
    setting: str
    as_of: dt.date | None
    calibration: str
    ranked: tuple[RankedRegimen, ...]
    untested: tuple[dict[str, Any], ...]
    conflicts: tuple[dict[str, Any], ...]
    findings: tuple[dict[str, Any], ...]
    left_out: tuple[str, ...]
    settings: dict[str, Any]
    created: str
    profile_notes: tuple[str, ...] = ()
    kb_pooled: tuple[dict[str, Any], ...] = ()
    """The knowledge base's pooled questions (her2lab.synthesis) that use a cited trial."""

    cannot_know: tuple[str, ...] = ()
    """What the report cannot know, in one place (trials not in the knowledge base, settings
    without evidence, the model's stated limits)."""
    references: tuple[str, ...] = ()
    """The publications the cited results come from, with PMIDs or DOIs where known."""
    newer_than_calibration: tuple[str, ...] = ()
    """Cited results published after the calibration's as-of date (the model has not seen
    them)."""

    disclaimer: str = DISCLAIMER
    ranking_rule: tuple[str, ...] = RANKING_RULE
    escat_citation: str = ESCAT_CITATION

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (the shape of ``her2lab report --format json``).

        Returns
        -------
        dict
            Every field, nested records as dicts, with the disclaimer.
        """
        return {
            "disclaimer": self.disclaimer, "profile": self.profile.to_dict(),
            "setting": self.setting, "as_of": self.as_of.isoformat() if self.as_of else None,
            "calibration": self.calibration, "ranking_rule": list(self.ranking_rule),
            "evidence_scale": self.escat_citation,
            "ranked": [r.to_dict() for r in self.ranked], "untested": list(self.untested),
            "conflicts": list(self.conflicts), "findings": list(self.findings),
            "left_out": list(self.left_out), "settings": self.settings,
            "profile_notes": list(self.profile_notes),
            "kb_pooled": list(self.kb_pooled),
            "cannot_know": list(self.cannot_know), "references": list(self.references),
            "newer_than_calibration": list(self.newer_than_calibration),
        }

    def to_html(self) -> str:
        """The report as a self-contained HTML document.

        Returns
        -------
        str
            The HTML text.
        """
        from her2lab.report.render import render_html

        return render_html(self)

    def write_html(self, path: str | Path) -> Path:
        """Write the report as HTML, atomically.

        Parameters
        ----------
        path : str or Path
            The file to write.

        Returns
        -------
        Path
            The path written.

        Raises
        ------
        OutputError
            If the file cannot be written.
        """
        from her2lab.report.render import write_atomic

        return write_atomic(Path(path), self.to_html().encode("utf-8"))

    def write_pdf(self, path: str | Path) -> Path:
        """Write the report as PDF (rendered with WeasyPrint), atomically.

        Parameters
        ----------
        path : str or Path
            The file to write.

        Returns
        -------
        Path
            The path written.

        Raises
        ------
        Her2labError
            If WeasyPrint is not installed.
        OutputError
            If the file cannot be written.
        """
        from her2lab.report.render import write_pdf

        return write_pdf(self, Path(path))

    def write_json(self, path: str | Path) -> Path:
        """Write the report as JSON (:meth:`to_dict`), atomically.

        Parameters
        ----------
        path : str or Path
            The file to write.

        Returns
        -------
        Path
            The path written.

        Raises
        ------
        OutputError
            If the file cannot be written.
        """
        from her2lab.report.render import write_atomic

        return write_atomic(Path(path), json.dumps(self.to_dict(), indent=1).encode("utf-8"))


# --------------------------------------------------------------------------- candidates


def _setting(setting: str) -> str:
    key = str(setting).strip().lower().replace("-", "_").replace(" ", "_")
    values = [s.value for s in Setting]
    if key not in values:
        raise UnknownIdError("setting", str(setting), values)
    return key


def _regimen_label(kb: KnowledgeBase, regimen: Iterable[str]) -> str:
    names = [kb.drug(d).name for d in regimen]
    return " + ".join(names)


def _order(kb: KnowledgeBase, regimen: Iterable[str]) -> tuple[str, ...]:
    """Drugs in the knowledge base's order (targeted agents before chemotherapy)."""
    pos = {d.id: i for i, d in enumerate(kb.drugs)}
    return tuple(sorted(set(regimen), key=lambda d: pos.get(d, 999)))


def _counteracting(kb: KnowledgeBase, profile: Profile) -> dict[str, set[str]]:
    """drug -> the profile's mechanisms it counteracts (knowledge base)."""
    out: dict[str, set[str]] = {}
    for m in profile.mechanism_ids:
        for d in kb.mechanism(m).counteracted_by:
            out.setdefault(d, set()).add(m)
    return out


def _candidates(
    kb: KnowledgeBase, setting: str, profile: Profile, counter: dict[str, set[str]]
) -> dict[tuple[str, ...], list[tuple[Trial, str]]]:
    """regimen -> [(trial, arm id)] for the arms that make it a candidate."""
    from her2lab.report.evidence import _in_setting

    out: dict[tuple[str, ...], list[tuple[Trial, str]]] = {}
    for t in kb.trials:
        here = _in_setting(t, setting)
        for a in t.arms:
            if a.role == "control" or not a.regimen:
                continue
            reg = _order(kb, a.regimen)
            if here or set(reg) & set(counter):
                out.setdefault(reg, []).append((t, a.id))
    # regimens with arms elsewhere: keep all their arms so their evidence is complete
    for t in kb.trials:
        for a in t.arms:
            reg = _order(kb, a.regimen)
            if a.role != "control" and reg in out and (t, a.id) not in out[reg]:
                out[reg].append((t, a.id))
    return out


# --------------------------------------------------------------------------- pooling


def _kb_pooled(trials: set[str], as_of: dt.date | None) -> list[dict[str, Any]]:
    from her2lab.report._pool import kb_analyses

    return kb_analyses(trials, as_of)


def _pool(items: list[EvidenceItem]) -> MetaPooled | None:
    """Random-effects pooled effect of several trials' comparisons (her2lab.synthesis)."""
    if len({i.trial for i in items}) < 2:
        return None
    from her2lab.report._pool import pool_effects

    return pool_effects(items)


# --------------------------------------------------------------------------- in silico


class _Simulations:
    """Pathway results for (profile, regimen) pairs: fetched together (``simulate_many``, one
    batch on the compiled model), then looked up."""

    def __init__(self, samples: int, seed: int) -> None:
        self.samples, self.seed = samples, seed
        self._done: dict[tuple[str, tuple[str, ...]], Result] = {}

    @staticmethod
    def _key(profile: Profile, regimen: Iterable[str]) -> tuple[str, tuple[str, ...]]:
        return profile.label(), tuple(sorted(set(regimen)))

    def prefetch(self, pairs: Iterable[tuple[Profile, Iterable[str]]]) -> None:
        import her2lab.pathway as pw

        todo: dict[tuple[str, tuple[str, ...]], Profile] = {}
        for prof, reg in pairs:
            k = self._key(prof, reg)
            if k not in self._done:
                todo[k] = prof
        if not todo:
            return
        items = list(todo.items())
        res = pw.simulate_many([(_pathway_profile(p), list(k[1])) for k, p in items],
                               samples=self.samples, seed=self.seed)
        self._done.update({k: r for (k, _), r in zip(items, res, strict=True)})

    def get(self, profile: Profile, regimen: Iterable[str]) -> Result:
        self.prefetch([(profile, regimen)])
        return self._done[self._key(profile, regimen)]


def _pathway_profile(profile: Profile) -> dict[str, float]:
    """The profile in the form the pathway model takes: mechanism -> degree, and its
    ``hr_positive`` attribute (:data:`her2lab.pathway.ATTRIBUTES`)."""
    from her2lab.pathway import ATTRIBUTES, MECHANISMS

    prof: dict[str, float] = profile.pathway_profile()
    if profile.hr_positive:
        prof["hr_positive"] = profile.hr_positive
    return {m: d for m, d in prof.items() if m in MECHANISMS or m in ATTRIBUTES}


def _rates(res: Result) -> dict[str, Any]:
    """Growth and kill rates per day of a pathway result."""
    return res.rates.to_dict()


def _rationale_pairs(profile: Profile, regimen: tuple[str, ...], added: tuple[str, ...]):
    without = tuple(d for d in regimen if d not in added)
    return [(profile, regimen), (profile, without), (profile, ()), (Profile(), regimen)]


def _rationale(
    kb: KnowledgeBase, profile: Profile, regimen: tuple[str, ...], added: tuple[str, ...],
    counter: dict[str, set[str]], sims: _Simulations,
) -> Rationale:
    without = tuple(d for d in regimen if d not in added)
    r_with, r_without, r_none, r_sens = (sims.get(p, reg) for p, reg in
                                         _rationale_pairs(profile, regimen, added))
    ignore = {"Proliferation", "Apoptosis", "Survival_loss", "Immune_kill"}
    deltas = sorted(
        ((n, r_without.nodes[n], r_with.nodes[n]) for n in r_with.nodes
         if n not in ignore and abs(r_with.nodes[n] - r_without.nodes[n]) > 0.02),
        key=lambda x: -abs(x[2] - x[1]),
    )[:6]
    mechs = sorted({m for d in regimen for m in counter.get(d, ())})
    return Rationale(
        counteracts=tuple((m, kb.mechanism(m).name) for m in mechs), added=added,
        without=without, response_with=r_with.response, response_with_se=r_with.response_se,
        response_without=r_without.response, response_without_se=r_without.response_se,
        response_untreated=r_none.response, response_sensitive=r_sens.response,
        nodes=tuple(deltas), rates_with=_rates(r_with), rates_without=_rates(r_without),
        samples=sims.samples, seed=sims.seed,
    )


def _control_median(kb: KnowledgeBase, t: Trial | None, control_arm: str | None,
                    endpoint: str) -> float | None:
    if t is None or control_arm is None:
        return None
    for r in kb.outcomes(trial=t, kind="median", arm=control_arm, endpoint=endpoint,
                         subgroup=None, superseded=True):
        o = r.outcome
        if o.value is not None:
            return o.value / WEEKS_PER_MONTH if o.unit == "weeks" else o.value
    return None


def _control_rate(kb: KnowledgeBase, t: Trial | None, control_arm: str | None,
                  endpoint: str) -> float | None:
    if t is None or control_arm is None:
        return None
    for r in kb.outcomes(trial=t, kind="rate", arm=control_arm, endpoint=endpoint,
                         subgroup=None, superseded=True):
        o = r.outcome
        if o.value is not None and 0 < o.value < 100:
            return o.value / 100.0
    return None


def _prediction(
    kb: KnowledgeBase, profile: Profile, setting: str, regimen: tuple[str, ...],
    source: Trial | None, control_arm: str | None, control: tuple[str, ...],
    cal: Calibration, settings: RunSettings, *, n_per_arm: int,
) -> Prediction | None:
    """A virtual trial of ``regimen`` against ``control`` in patients with this profile."""
    from her2lab.virtual_trials import TrialSpec, predict
    from her2lab.virtual_trials.population import MECHANISMS as TRIAL_MECHANISMS

    endpoint = SETTING_ENDPOINT.get(setting)
    if endpoint is None:
        return None
    present = sorted(m for m, d in profile.mechanisms.items() if d >= 0.5)
    absent = sorted(m for m in TRIAL_MECHANISMS if m not in present)
    spec: dict[str, Any] = {
        "name": f"virtual {'+'.join(regimen)} vs {'+'.join(control) or 'none'}",
        "setting": setting,
        "population": {"prior_trastuzumab": profile.trastuzumab_pretreated,
                       "require": present, "exclude": absent,
                       # HR status as the mechanisms: present at a degree of 1/2 or more
                       "hr_positive": 1.0 if profile.hr_positive >= 0.5 else 0.0},
        "arms": [{"name": "experimental", "regimen": list(regimen), "n": n_per_arm},
                 {"name": "control", "regimen": list(control), "n": n_per_arm}],
        "control": "control", "endpoint": endpoint,
    }
    if endpoint == "pCR":
        rate = _control_rate(kb, source, control_arm, endpoint)
        if rate is not None:
            spec["control_rate"] = rate
    else:
        med = _control_median(kb, source, control_arm, endpoint)
        if med is None and source is not None and endpoint == "PFS":
            med = _control_median(kb, source, control_arm, "TTP")
        if med is not None:
            spec["control_median_months"] = med
    trial_spec = TrialSpec.model_validate(spec)
    degrees = [m for m, d in profile.mechanisms.items() if d < 1]
    note = ("patients with exactly this profile's mechanisms; "
            f"control anchored on {'the trial' if source else 'the setting default'}")
    if degrees:
        note += ("; the virtual trials take mechanisms as present or absent: degree >= 0.5 "
                 f"counted present ({', '.join(sorted(degrees))})")
    control_label = (_regimen_label(kb, control) if control else
                     "untreated virtual patients (no trial comparator)")
    note += ("; hormone-receptor status enrolled as "
             + ("positive" if profile.hr_positive >= 0.5 else "negative"))
    res = predict(trial_spec, cal, kb=kb, settings=settings)
    eff = res.effect
    rep = eff.replicates
    note += ("; interval: the model's 95% prediction interval (parameter uncertainty and "
             f"sampling at {n_per_arm} per arm)")
    return Prediction(
        endpoint=endpoint, measure=eff.measure, estimate=float(eff.expected),
        low=float(eff.pred_low), high=float(eff.pred_high), control=control_label,
        control_regimen=control, n_per_arm=n_per_arm, replicates=settings.replicates,
        power=float(res.replicates.power) if rep is not None else None,
        calibration=cal.source, note=note, interval="95% prediction interval",
        spec=trial_spec.model_dump(mode="json", exclude_none=True),
        settings=settings.to_dict(),
        calibration_as_of=None if cal.as_of is None else cal.as_of.isoformat(),
    )


def _calibration(calibration: Calibration | None) -> tuple[Calibration, str]:
    """The virtual trials' calibration and how the report names it."""
    if calibration is None:
        return Calibration.priors(), "uncalibrated: the link's priors (no --calibration)"
    return calibration, calibration.source


# --------------------------------------------------------------------------- the report


def _profile_notes(kb: KnowledgeBase, prof: Profile, setting: str) -> list[str]:
    """Where each item of the profile enters the report (and where it does not)."""
    subgroups = {r.outcome.subgroup for r in kb.outcomes(superseded=True) if r.outcome.subgroup}
    notes = []
    for m, d in sorted(prof.mechanisms.items()):
        bms = [b for b in prof.biomarkers if b in subgroups and
               (kb.biomarker(b).mechanism == m)]
        clin = (f"clinical evidence through the trial subgroups of {', '.join(bms)}" if bms
                else "no trial subgroup for it in the knowledge base")
        vt = "present" if d >= 0.5 else "absent (degree below 0.5)"
        notes.append(f"{m}: pathway model at degree {d:g}; virtual trials: {vt}; {clin}")
    for b in prof.biomarkers:
        if kb.biomarker(b).mechanism is None or b not in {
                x for x, mm in _BIOMARKER_MECHANISM().items() if mm in prof.mechanisms}:
            where = ("clinical evidence through its trial subgroups" if b in subgroups
                     else "no trial subgroup for it in the knowledge base")
            notes.append(f"{b}: biomarker without a pathway-model setting; {where}")
    if prof.hr_positive:
        model = "pathway model at degree " + f"{prof.hr_positive:g}"
        notes.append(f"hr_positive: {model}; no hormone-receptor subgroup in the knowledge "
                     "base, so the clinical evidence is that of all HER2-positive patients")
    if prof.trastuzumab_pretreated is not None:
        pre = prof.trastuzumab_pretreated
        notes.append("trastuzumab_pretreated: the virtual trials enrol patients "
                     + ("after" if pre else "without") + " prior trastuzumab")
        if pre and setting in ("neoadjuvant", "adjuvant", "metastatic_first_line"):
            notes.append(f"note: a trastuzumab-pretreated profile in the {setting} setting; "
                         "the setting's trials enrolled mostly trastuzumab-naive patients")
    return notes


def _cannot_know(kb: KnowledgeBase, prof: Profile, setting: str,
                 ranked: list[RankedRegimen], cal: Calibration, in_silico: bool,
                 newer: tuple[str, ...]) -> list[str]:
    """What the report cannot know: one list, shown in one section."""
    from her2lab.report.evidence import _in_setting

    out = [f"Trials not in the knowledge base: the report knows only the {len(kb.trials)} "
           "curated trials (from the seed review and the publications it cites, plus any "
           "added since); a trial missing there is missing here."]
    here = [t for t in kb.trials if _in_setting(t, setting) and t.status == "reported"]
    if not here:
        out.append(f"No reported trial in the {setting} setting: nothing here is graded in it.")
    if not any("trastuzumab" in t.drugs_tested for t in here):
        out.append(f"The knowledge base holds no trial that tested trastuzumab itself in the "
                   f"{setting} setting (trastuzumab appears only as a backbone or control): "
                   "the evidence for trastuzumab here is not in this report.")
    cited = {t for r in ranked for t in r.trials}
    unresolved = sorted({f"{kb.trial(c.subject.removeprefix('trial:')).name}: {c.field}"
                         for c in kb.conflicts if c.preferred is None and not c.resolution
                         and c.subject.removeprefix("trial:") in cited})
    if unresolved:
        out.append("Unresolved recorded conflicts on cited trials (their results are not "
                   "graded): " + "; ".join(unresolved) + ".")
    if any(not any(m["tier"] != "X" for m in r.matches[1:]) for r in ranked[:3]) and (
            prof.mechanisms or prof.biomarkers):
        out.append("For the profile's own alterations most lines have no trial evidence: the "
                   "trials selected HER2-positive tumours and reported few biomarker subgroups.")
    out.append("ESCAT's 'clinically meaningful' benefit (ESMO-MCBS) is not judged: a "
               "significant benefit on the primary end point counts.")
    out.append("Subgroup analyses are taken as exploratory (ESCAT II-B at best): the knowledge "
               "base does not record which were pre-specified with an interaction test.")
    no_id = sorted({x for r in ranked for e in r.clinical_items for x in e.references
                    if "no PMID or DOI" in x})
    if no_id:
        out.append(f"{len(no_id)} cited publication(s) have no PMID or DOI in the knowledge "
                   "base (listed under References).")
    if in_silico:
        cal_txt = ("uncalibrated priors" if cal.as_of is None
                   else f"calibrated on results published by {cal.as_of.isoformat()}")
        out.append("In-silico results come from a model (pathway model and virtual trials, "
                   f"{cal_txt}); they are hypotheses, not evidence, and never set a tier or a "
                   "rank. The virtual trials take mechanisms as present or absent (a degree of "
                   "1/2 or more counts present) and hormone-receptor status as positive or "
                   "negative (docs/virtual_trials.md states the model's limits).")
        if newer:
            out.append(f"{len(newer)} cited result(s) are newer than the calibration: the "
                       "model has not seen them (" + "; ".join(newer[:6])
                       + ("; ..." if len(newer) > 6 else "") + ").")
    return out


def _BIOMARKER_MECHANISM() -> dict[str, str]:
    from her2lab.report.profile import BIOMARKER_MECHANISM

    return BIOMARKER_MECHANISM



def _statements(kb: KnowledgeBase, profile: Profile, regimen: tuple[str, ...]) -> list[str]:
    out = []
    words = {"more_benefit": "more benefit from", "less_benefit": "less benefit from",
             "no_interaction": "no interaction with", "prognostic_poor": "poor prognosis with",
             "predictive_response": "response to"}
    for b in profile.biomarkers:
        bm = kb.biomarker(b)
        for s in bm.statements:
            if s.drug in regimen:
                src = s.provenance.locator + (f", refs {', '.join(map(str, s.provenance.refs))}"
                                              if s.provenance.refs else "")
                graded = (f"; trial results: {', '.join(s.outcomes)}" if s.outcomes
                          else "; no trial result in the knowledge base (not graded)")
                out.append(f"{bm.name}: {words.get(s.direction, s.direction)} "
                           f"{kb.drug(s.drug).name} (seed, {src}){graded}")
    return out


def _choose_source(items: list[EvidenceItem], trials: list[Trial], setting: str,
                   kb: KnowledgeBase) -> Trial | None:
    """The trial the virtual trial copies: the best in-setting randomised comparison, else
    a trial with results, else a randomised trial of the regimen (in the setting first)."""
    from her2lab.report.evidence import _in_setting

    comp = [e for e in items if e.comparative and e.subgroup is None and e.in_setting]
    if comp:
        return kb.trial(max(comp, key=benefit_bound).trial)
    if items:
        return kb.trial(items[0].trial)
    if not trials:
        return None
    return min(trials, key=lambda t: (not _in_setting(t, setting), not t.randomized))


def _control_of(t: Trial | None, arm_ids: set[str], regimen: tuple[str, ...],
                kb: KnowledgeBase) -> tuple[str | None, tuple[str, ...]]:
    if t is None:
        return None, ()
    if t.randomized:
        ctrl = next((a for a in t.arms if a.role == "control"), None)
        if ctrl is not None and ctrl.id not in arm_ids:
            return ctrl.id, _order(kb, ctrl.regimen)
    return None, tuple(d for d in regimen if d not in set(t.drugs_tested))


def _overlap(a: RankedRegimen, b: RankedRegimen) -> bool:
    def interval(r: RankedRegimen) -> tuple[float, float] | None:
        if r.pooled:
            p = r.pooled[0]
            return math.log(p.ci_low), math.log(p.ci_high)
        comp = [e for e in r.evidence if e.comparative and e.subgroup is None and e.ci_low]
        if not comp:
            return None
        e = max(comp, key=benefit_bound)
        return math.log(e.ci_low), math.log(e.ci_high)

    ia, ib = interval(a), interval(b)
    if ia is None or ib is None:
        return False
    return ia[0] <= ib[1] and ib[0] <= ia[1]


def _profile_alterations(kb: KnowledgeBase, prof: Profile) -> list[tuple[str, set[str]]]:
    """(alteration name, the drugs the knowledge base says act against it) per profile item."""
    from her2lab.report.profile import BIOMARKER_MECHANISM

    out = [(kb.mechanism(m).name, set(kb.mechanism(m).counteracted_by))
           for m in prof.mechanism_ids]
    for b in prof.biomarkers:
        if BIOMARKER_MECHANISM.get(b) not in prof.mechanisms:
            out.append((kb.biomarker(b).name, set()))
    return out


def _matches(kb: KnowledgeBase, prof: Profile, regimen: tuple[str, ...],
             here: list[EvidenceItem]) -> list[dict[str, Any]]:
    """The line's alteration-drug matches: HER2 amplification where a drug of the regimen
    targets ERBB2, then each of the profile's alterations, each with its best in-setting
    grade or X and why."""
    from her2lab.report.evidence import HER2_ALTERATION

    alts: list[tuple[str, set[str]]] = []
    if any("ERBB2" in kb.drug(d).targets for d in regimen):
        alts.append((HER2_ALTERATION, {d for d in regimen if "ERBB2" in kb.drug(d).targets}))
    alts += _profile_alterations(kb, prof)
    out = []
    for alt, acting in alts:
        its = [e for e in here if e.match == alt]
        graded = [e for e in its if e.tier != "X"]
        drugs = [kb.drug(d).name for d in regimen if d in acting]
        if graded:
            e = min(graded, key=lambda x: (tier_rank(x.tier), -benefit_bound(x)))
            basis = f"{e.trial_name} {e.year}: {e.endpoint} {e.result_text()} ({e.tier_reason})"
            out.append({"alteration": alt, "drugs": list(e.drugs), "tier": e.tier,
                        "basis": basis, "direction": e.direction, "evidence": e.uid})
            continue
        if its:
            e = its[0]
            basis = f"{e.trial_name} {e.year}: {e.tier_reason}"
        elif drugs:
            basis = (f"no trial result of {', '.join(drugs)} for {alt} in the knowledge base "
                     "(the seed's rationale that it acts against it is not clinical evidence)")
        else:
            basis = (f"no trial of this regimen selected or reported {alt}: its results say "
                     f"nothing of {alt}")
        out.append({"alteration": alt, "drugs": drugs, "tier": "X", "basis": basis,
                    "direction": its[0].direction if its else "descriptive",
                    "evidence": its[0].uid if its else None})
    return out


def _head_to_head(entries: list[RankedRegimen]) -> list[RankedRegimen]:
    """Move a regimen above one it beat in a randomised comparison in this setting, within
    the same ranking group (:data:`RANKING_RULE` 3). Each pass moves one winner; cycles
    cannot arise from significant results of one direction, and passes are bounded."""
    out = list(entries)
    for _ in range(len(out) ** 2 + 1):
        pos = {tuple(sorted(r.regimen)): i for i, r in enumerate(out)}
        moved = False
        for i, r in enumerate(out):
            for e in r.evidence:
                if not (e.randomized and e.subgroup is None and e.direction == "supports"
                        and e.comparator_regimen):
                    continue
                j = pos.get(e.comparator_regimen)
                if j is not None and j < i and out[j].group == r.group:
                    out.insert(j, out.pop(i))
                    moved = True
                    break
            if moved:
                break
        if not moved:
            break
    return out


def strategy_report(
    profile: str | Path | Profile | dict[str, Any] | None,
    setting: str,
    *,
    as_of: dt.date | str | None = None,
    calibration: Calibration | None = None,
    settings: RunSettings | None = None,
    n_per_arm: int = 200,
    kb: KnowledgeBase | None = None,
    in_silico: bool = True,
    progress: Callable[[str, int, int], Any] | None = None,
) -> StrategyReport:
    """Rank regimens for a profile in a setting (see :data:`RANKING_RULE`).

    Clinical evidence is graded on ESCAT; the pathway model's rationale and the virtual trials'
    prediction are shown beside it, labelled in silico, and never enter a tier or the rank. Not
    medical advice.

    Parameters
    ----------
    profile : str, Path, Profile, dict or None
        The tumor profile, in any form :func:`parse_profile` accepts.
    setting : str
        The clinical setting (``metastatic_pretreated``; a :class:`~her2lab.knowledge.Setting`
        value, ``-`` and spaces accepted for ``_``).
    as_of : datetime.date or str, optional
        Keep only results published on or before this date (``YYYY-MM-DD``); default: all.
    calibration : Calibration, optional
        The virtual trials' calibration (None: the link's priors, reported as uncalibrated).
    settings : RunSettings, optional
        Monte Carlo settings of the pathway runs and the virtual trials (default: the
        calibration's, so the report predicts as ``her2lab trials predict`` does).
    n_per_arm : int, optional
        Virtual patients per arm of each predicted trial (default 200).
    kb : KnowledgeBase, optional
        The knowledge base (default: the shipped one).
    in_silico : bool, optional
        False leaves the model out: evidence only (default True).
    progress : callable, optional
        ``progress(stage, done, total)``, called as each regimen is finished (for a progress
        bar).

    Returns
    -------
    StrategyReport
        The report.

    Raises
    ------
    UnknownIdError
        If the setting is unknown.
    ValidationError
        If the profile is invalid.
    DataError
        If ``as_of`` is not a date.
    """
    from her2lab.knowledge import load
    from her2lab.knowledge.audit import run_audit

    prof = parse_profile(profile)
    setting = _setting(setting)
    if isinstance(as_of, str):
        try:
            as_of = dt.date.fromisoformat(as_of)
        except ValueError:
            raise DataError(f"--as-of: expected a date YYYY-MM-DD; got {as_of!r}") from None
    # evidence as of the date asked, by default today: every result the knowledge base
    # holds that was published by then (the date is printed on page 1)
    as_of = as_of or dt.date.today()
    full = kb or load()
    kb = full.as_of(as_of)  # the evidence as it stood on the date asked
    cal, calib = _calibration(calibration)
    run = settings if settings is not None else cal.settings
    counter = _counteracting(kb, prof)
    cands = _candidates(kb, setting, prof, counter)
    left_out: list[str] = [
        f"{t.id} ({t.name}): results published after the as-of date {as_of} left out"
        for t in full.trials
        if t.setting.value == setting
        and len(full.outcomes(trial=t, as_of=as_of, superseded=True)) < len(t.outcomes)]
    entries: list[RankedRegimen] = []
    for reg, arms in cands.items():
        items: list[EvidenceItem] = []
        arm_ids_by_trial: dict[str, set[str]] = {}
        for t, a in arms:
            arm_ids_by_trial.setdefault(t.id, set()).add(a)
        for tid, aids in arm_ids_by_trial.items():
            its, notes = outcome_items(kb, kb.trial(tid), aids, setting, prof.biomarkers,
                                       as_of)
            items += its
            left_out += notes
        here = [e for e in items if e.in_setting]
        other = [e for e in items if not e.in_setting]
        graded_here = [e for e in here if e.tier != "X"]
        graded_other = [e for e in other if e.tier != "X"]
        overall_here = [e for e in here if e.randomized and e.subgroup is None
                        and e.comparator is not None]
        harms = [e for e in overall_here if e.direction == "harms"]
        supports = [e for e in overall_here if e.direction == "supports"]
        matches = _matches(kb, prof, reg, here)
        negative = [e for e in overall_here if e.direction == "does not support"]
        if harms:
            group, e = 5, harms[0]
            tier, alteration = "X", e.match
            reason = (f"{e.trial_name} {e.year}: {e.endpoint} {e.result_text()} — harms: "
                      f"{e.tier_reason}")
        elif graded_here:
            group = 0
            e = min(graded_here, key=lambda x: (tier_rank(x.tier), -benefit_bound(x)))
            tier, alteration = e.tier, e.match
            reason = f"{e.trial_name} {e.year} ({e.endpoint}): {e.tier_reason}"
        elif supports:
            group, e = 1, max(supports, key=benefit_bound)
            tier, alteration = "X", next((m["alteration"] for m in matches), e.match)
            reason = (f"{e.trial_name} {e.year}: {e.endpoint} {e.result_text()} supports the "
                      f"regimen, but is not graded: {e.tier_reason}")
        elif negative:
            group, e = 4, negative[0]
            tier, alteration = "X", e.match
            reason = (f"{e.trial_name} {e.year}: {e.endpoint} {e.result_text()} does not support "
                      f"the regimen in this setting"
                      + (f"; the benefit shown in another setting ({graded_other[0].trial_name}"
                         f", {graded_other[0].setting}) does not carry over"
                         if graded_other else ""))
        elif graded_other:
            group = 2
            e = min(graded_other, key=lambda x: (tier_rank(x.tier), -benefit_bound(x)))
            tier, alteration = "X", e.match
            reason = (f"no graded result in this setting; in another setting ({e.setting}), "
                      f"{e.trial_name} {e.year} gives ESCAT {e.tier} for {e.match} "
                      f"({e.tier_reason}): shown as such, not ranked on")
        else:
            group, tier = 3, "X"
            alteration = next((m["alteration"] for m in matches), "")
            trials = [kb.trial(t) for t in arm_ids_by_trial]
            if any(t.status == "ongoing" for t in trials) and not items:
                reason = "ongoing trial(s), no results in the knowledge base"
            elif not items:
                reason = ("no result in the knowledge base" + (f" as of {as_of}" if as_of
                                                              else ""))
            else:
                reason = "; ".join(sorted({e.tier_reason for e in items if e.tier_reason}))
        subgroup_matches = tuple(sorted({e.subgroup for e in here
                                         if e.tier != "X" and e.subgroup}))
        pooled: list[MetaPooled] = []
        overall = [e for e in here if e.comparative and e.subgroup is None]
        for key in sorted({(e.endpoint, e.measure) for e in overall}):
            grp = [e for e in overall if (e.endpoint, e.measure) == key]
            p = _pool(grp)
            if p is not None:
                pooled.append(p)
        bound = -math.inf
        if pooled:
            # the setting's own end point first (PFS in metastatic disease), not the first in
            # alphabetical order (OS before PFS)
            main = SETTING_ENDPOINT.get(setting)
            p = next((q for q in pooled if q.endpoint == main), pooled[0])
            bound = -math.log(p.ci_high) if p.measure == "HR" else math.log(p.ci_low)
        elif overall:
            bound = max(benefit_bound(e) for e in overall)
        key = (group, tier_rank(tier), -len(subgroup_matches),
               -bound if math.isfinite(bound) else math.inf, _regimen_label(kb, reg).lower())
        entries.append(RankedRegimen(
            rank=0, regimen=reg, label=_regimen_label(kb, reg), tier=tier, tier_reason=reason,
            evidence=tuple(here), other_evidence=tuple(other), pooled=tuple(pooled),
            profile_matches=subgroup_matches, statements=tuple(_statements(kb, prof, reg)),
            trials=tuple(arm_ids_by_trial), rationale=None, prediction=None, sort_key=key,
            alteration=alteration, matches=tuple(matches), group=GROUPS[group],
        ))
    entries.sort(key=lambda r: r.sort_key)
    entries = _head_to_head(entries)
    plans: dict[tuple[str, ...], tuple[Trial | None, str | None, tuple[str, ...],
                                      tuple[str, ...]]] = {}
    sims = _Simulations(run.samples, run.seed)
    if in_silico:
        for r in entries:
            src = _choose_source(list(r.evidence) or list(r.other_evidence),
                                 [t for t, _ in cands[r.regimen]], setting, kb)
            aids = {a for t, a in cands[r.regimen] if src is not None and t.id == src.id}
            ctrl_arm, control = _control_of(src, aids, r.regimen, kb)
            added = tuple(d for d in r.regimen if d not in control) or r.regimen
            plans[r.regimen] = (src, ctrl_arm, control, added)
        sims.prefetch(pair for r in entries
                      for pair in _rationale_pairs(prof, r.regimen, plans[r.regimen][3]))
    ranked: list[RankedRegimen] = []
    if progress:
        progress("regimens ranked and simulated", 0, len(entries))
    for i, r in enumerate(entries, start=1):
        ties = tuple(
            j for j, o in enumerate(entries, start=1)
            if j != i and o.sort_key[:2] == r.sort_key[:2] and _overlap(r, o)
        )
        rationale = prediction = None
        notes: list[str] = []
        if in_silico:
            src, ctrl_arm, control, added = plans[r.regimen]
            rationale = _rationale(kb, prof, r.regimen, added, counter, sims)
            prediction = _prediction(
                kb, prof, setting, r.regimen, src, ctrl_arm, control, cal, run,
                n_per_arm=n_per_arm)
            if prediction is None:
                notes.append(f"no virtual trial for the setting {setting}")
        ranked.append(dataclasses.replace(r, rank=i, not_separated_from=ties,
                                          rationale=rationale, prediction=prediction,
                                          notes=tuple(notes)))
        if progress:
            progress("regimens ranked and simulated", i, len(entries))
    cited_trials = {t for r in ranked for t in r.trials}
    cited = {e.uid for r in ranked for e in r.clinical_items}
    conflicts = tuple(
        {"id": c.id, "kind": c.kind, "subject": c.subject, "field": c.field,
         "values": [f"{v.value} [{v.provenance.locator}]" for v in c.values],
         "preferred": c.preferred, "resolution": c.resolution or "unresolved: both kept",
         "note": c.note}
        for c in kb.conflicts
        if c.subject.removeprefix("trial:") in cited_trials
        or any(v.outcome in cited for v in c.values)
    )
    findings = tuple(
        f.to_dict() for f in run_audit(kb)
        if f.trial in cited_trials and not f.kind.startswith("recorded_conflict")
        and (f.outcome is None or outcome_key(f.trial, f.outcome) in cited)
    )
    untested = tuple(
        {"drug": d, "name": kb.drug(d).name,
         "counteracts": sorted(ms),
         "note": "counteracts the profile's mechanism(s) per the knowledge base; no trial arm "
                 "of it in the knowledge base (tier X)"}
        for d, ms in sorted(counter.items())
        if not any(d in reg for reg in cands)
    )
    cal_date = cal.as_of
    newer = tuple(sorted({
        f"{e.trial_name} {e.endpoint} (published {e.published.isoformat()})"
        for r in ranked for e in r.clinical_items
        if cal_date is not None and e.published > cal_date}))
    refs = sorted({x for r in ranked for e in r.clinical_items for x in e.references})
    return StrategyReport(
        profile=prof, setting=setting, as_of=as_of, calibration=calib, ranked=tuple(ranked),
        cannot_know=tuple(_cannot_know(kb, prof, setting, ranked, cal, in_silico, newer)),
        references=tuple(refs), newer_than_calibration=newer,
        untested=untested, conflicts=conflicts, findings=findings,
        left_out=tuple(sorted(set(left_out))),
        settings={**run.to_dict(), "n_per_arm": n_per_arm, "in_silico": in_silico,
                  "calibration_as_of": None if cal.as_of is None else cal.as_of.isoformat()},
        created=(as_of or kb.cited_on).isoformat(),
        profile_notes=tuple(_profile_notes(kb, prof, setting)),
        kb_pooled=tuple(_kb_pooled(
            {e.trial for r in ranked for e in r.evidence}, as_of)),
    )
