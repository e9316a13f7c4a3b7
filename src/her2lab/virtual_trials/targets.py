"""Calibration targets: the knowledge base's reported results as of a date.

From every randomised, reported trial, each result published on or before ``as_of``:

* each hazard ratio of a time-to-event endpoint (overall, or a biomarker subgroup whose
  biomarker maps to a mechanism), as ``log HR`` with the SE its CI implies (level honoured);
* a comparison reported only as two medians and a p-value (neratinib versus lapatinib +
  capecitabine): ``log HR = -log(median ratio)`` (exponential times) with the SE the p-value
  implies, ``|log ratio| / z(p/2)``; the model is held to the same figure, the ratio of its
  arms' medians (:func:`.fit.median_log_ratio`), not its Cox HR, from which it differs where
  the hazards are not proportional (OS: progression, then post-progression survival);
* each pCR/ORR rate of a non-reference arm (binomial SE of the arm's size); the reference arm's
  rate anchors the baseline and its own sampling error is carried as a covariance between the
  trial's rate targets (:mod:`.fit`).

Where a recorded conflict names a ``preferred`` value, only that one is used. Targets of one
trial are grouped (:attr:`Target.trial`) so the fit treats them as correlated, not independent.

:func:`table1_targets` gives the virtual Table 1's (:mod:`.stages`): each Table 1 trial's
primary-endpoint effect as reported (hazard ratio, odds ratio of pCR or difference of pCR
rates), and the arm pCR rates of :data:`TABLE1_RATE_TRIALS`, each with the figures as the
knowledge base gives them (:attr:`Target.as_reported`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from scipy import stats

from her2lab.errors import DataError
from her2lab.knowledge import (
    ASSUMED_ARM_SIZE,
    BINARY,
    TIME_TO_EVENT,
    KnowledgeBase,
    Outcome,
    Trial,
    load,
)
from her2lab.virtual_trials.baselines import months_of
from her2lab.virtual_trials.plan import TrialPlan

__all__ = ["TABLE1_RATE_TRIALS", "Target", "table1_targets",
           "targets_from_kb"]


@dataclass(frozen=True)
class Target:
    """One reported figure the model is asked to reproduce.

    ``kind``: ``log_hr`` or ``log_or`` (``observed`` and ``se`` on the log scale), ``difference``
    (of two arms' rates, in points) or ``rate`` (a proportion). ``as_reported``: ``(value,
    low, high)`` as the knowledge base reports them (a ratio, points or percent), where a row
    shows the reported figures themselves (:func:`table1_targets`); ``None``: the row's
    reported interval is the one ``se`` implies."""

    trial: str
    outcome: str
    endpoint: str
    kind: str  # "log_hr", "log_or", "difference" (points) or "rate"
    observed: float
    se: float
    arm: str
    reference: str
    plan: TrialPlan
    published: dt.date
    subgroup: str | None = None
    derived: str | None = None  # "median+p" when derived from medians and a p-value
    n: int | None = None
    reference_rate: float | None = None
    reference_se: float | None = None
    as_reported: tuple[float, float, float] | None = None


def targets_from_kb(kb: KnowledgeBase | None = None, as_of: dt.date | None = None
                    ) -> list[Target]:
    """Every calibration target published on or before ``as_of`` (default: all)."""
    kb = kb or load()
    out: list[Target] = []
    for t in kb.trials:
        if t.randomized and t.status == "reported" and len(t.arms) >= 2:
            out += _trial_targets(t, kb, as_of)
    return out


def _trial_targets(t: Trial, kb: KnowledgeBase, as_of: dt.date | None) -> list[Target]:
    """The targets of one trial: its outcomes public by ``as_of`` that no recorded conflict
    supersedes (:meth:`KnowledgeBase.outcomes`)."""
    out: list[Target] = []

    def overall(kind: str, endpoint: str) -> list[Outcome]:
        return [r.outcome for r in kb.outcomes(trial=t, as_of=as_of, kind=kind,
                                               endpoint=endpoint, subgroup=None)]

    plans: dict[tuple[str, str, tuple[str, ...]], TrialPlan] = {}

    def plan_for(ep: str, control: str, require: tuple[str, ...] = ()) -> TrialPlan:
        key = (ep, control, require)
        if key not in plans:
            p = TrialPlan.from_kb(t, kb, endpoint=ep, as_of=as_of, control=control)
            if require:
                from dataclasses import replace

                p = replace(p, require=require)
            plans[key] = p
        return plans[key]

    for o in (r.outcome for r in kb.outcomes(trial=t, as_of=as_of)):
        ep = o.endpoint.value
        if o.kind == "effect" and o.measure == "HR" and ep in TIME_TO_EVENT and o.ci:
            require: tuple[str, ...] = ()
            if o.subgroup:
                mech = kb.biomarker(o.subgroup).mechanism
                if mech is None:
                    continue  # a subgroup the model has no mechanism for (pS6-high)
                require = (mech,)
            z = stats.norm.ppf(0.5 + o.ci.level / 2)
            se = (math.log(o.ci.high) - math.log(o.ci.low)) / (2 * z)
            out.append(Target(
                trial=t.id, outcome=o.id, endpoint=ep, kind="log_hr",
                observed=math.log(o.value), se=se, arm=o.arms[0], reference=o.arms[1],
                plan=plan_for(ep, o.arms[1], require), published=kb.published(t, o),
                subgroup=o.subgroup))
        elif o.kind == "p_only" and ep in TIME_TO_EVENT and o.p and len(o.arms) == 2:
            med = {m.arm: m for m in overall("median", ep) if m.value is not None}
            e, c = o.arms
            # an HR of the endpoint reported at any date makes the medians' p-value redundant
            has_hr = bool(kb.outcomes(trial=t, kind="effect", endpoint=ep, superseded=True))
            if e in med and c in med and not has_hr and o.p.relation == "=":
                ratio = math.log(months_of(med[e]) / months_of(med[c]))
                zp = stats.norm.isf(o.p.value / 2)
                if ratio != 0 and zp > 0:
                    out.append(Target(
                        trial=t.id, outcome=o.id, endpoint=ep, kind="log_hr",
                        observed=-ratio, se=abs(ratio) / zp, arm=e, reference=c,
                        plan=plan_for(ep, c), published=kb.published(t, o),
                        derived="median+p"))
    for ep in sorted(BINARY):
        rates = [o for o in overall("rate", ep) if o.timepoint is None]
        arms_with = {o.arm for o in rates}
        if len(arms_with) < 2:
            continue
        ref = next((a.id for a in t.arms if a.role == "control" and a.id in arms_with),
                   next(a.id for a in t.arms if a.id in arms_with))
        ref_rate = next(o for o in rates if o.arm == ref)
        n_ref = t.arm_size(ref, ASSUMED_ARM_SIZE)
        pr = ref_rate.value / 100.0
        for o in rates:
            if o.arm == ref:
                continue
            n = t.arm_size(o.arm, ASSUMED_ARM_SIZE)
            p = o.value / 100.0
            out.append(Target(
                trial=t.id, outcome=o.id, endpoint=ep, kind="rate", observed=p,
                se=math.sqrt(max(p * (1 - p), 0.01) / n), arm=o.arm, reference=ref,
                plan=plan_for(ep, ref), published=kb.published(t, o), n=n,
                reference_rate=pr, reference_se=math.sqrt(max(pr * (1 - pr), 0.01) / n_ref)))
    return out


TABLE1_RATE_TRIALS = ("neosphere", "nsabp_b41")
"""The Table 1 trials whose every arm's pCR rate the virtual Table 1 shows (the control arm's
too: it anchors the others)."""

_EFFECT_KIND = {"HR": "log_hr", "OR": "log_or", "difference": "difference"}


def table1_targets(kb: KnowledgeBase | None = None, as_of: dt.date | None = None
                   ) -> list[Target]:
    """The virtual Table 1's targets, plans as of ``as_of``: the effects, then the arm rates.

    The effects: each outcome of a Table 1 trial (``in_table1``) on its primary endpoint
    that reports an effect with a CI, in the whole population, not superseded by a recorded
    conflict; its SE is the one its CI implies (level honoured). The rates: every arm's pCR
    rate of :data:`TABLE1_RATE_TRIALS`, anchored on the control arm's, with a binomial SE of
    the arm's size (:data:`~her2lab.knowledge.ASSUMED_ARM_SIZE` where none is recorded) and,
    where the knowledge base gives no CI, the normal-approximation 95% interval.

    Raises
    ------
    DataError
        An effect measure that is not a hazard ratio, odds ratio or difference, or a rate
        trial whose control arm has no pCR rate.
    """
    kb = kb or load()
    plans: dict[tuple[str, str, str | None], TrialPlan] = {}

    def plan_for(t, ep: str, control: str | None) -> TrialPlan:
        key = (t.id, ep, control)
        if key not in plans:
            plans[key] = TrialPlan.from_kb(t, kb, endpoint=ep, control=control, as_of=as_of)
        return plans[key]

    def shown(t) -> bool:
        return t.in_table1 and t.primary_endpoint is not None

    effects: list[Target] = []
    for ref in kb.outcomes(kind="effect", subgroup=None):
        t, o = ref.trial, ref.outcome
        if (not shown(t) or o.endpoint.value != t.primary_endpoint.value or not o.ci
                or o.ci.low is None or o.ci.high is None):
            continue
        kind = _EFFECT_KIND.get(o.measure)
        if kind is None:
            raise DataError(f"{ref.key}: a Table 1 effect must be a hazard ratio, an odds "
                            f"ratio or a difference ({sorted(_EFFECT_KIND)}); got "
                            f"{o.measure!r}")
        z = stats.norm.ppf(0.5 + o.ci.level / 2)
        if kind == "difference":
            observed, se = o.value, (o.ci.high - o.ci.low) / (2 * z)
        else:
            observed = math.log(o.value)
            se = (math.log(o.ci.high) - math.log(o.ci.low)) / (2 * z)
        ep = o.endpoint.value
        effects.append(Target(
            trial=t.id, outcome=o.id, endpoint=ep, kind=kind, observed=observed, se=se,
            arm=o.arms[0], reference=o.arms[1], plan=plan_for(t, ep, o.arms[1]),
            published=kb.published(t, o), as_reported=(o.value, o.ci.low, o.ci.high)))
    rates: list[Target] = []
    for t in kb.trials:
        if t.id not in TABLE1_RATE_TRIALS or not shown(t):
            continue
        plan = plan_for(t, "pCR", None)
        arm_rates = [r.outcome for r in kb.outcomes(trial=t, kind="rate", endpoint="pCR",
                                                    subgroup=None)]
        ctrl = next((o for o in arm_rates if o.arm == plan.control), None)
        if ctrl is None:
            raise DataError(f"{t.id}: the control arm {plan.control!r} has no pCR rate to "
                            "anchor the virtual Table 1's arm rates on")
        pr = ctrl.value / 100
        ref_se = math.sqrt(max(pr * (1 - pr), 0.01) / t.arm_size(plan.control,
                                                                 ASSUMED_ARM_SIZE))
        for o in arm_rates:
            n = t.arm_size(o.arm, ASSUMED_ARM_SIZE)
            p = o.value / 100
            lo, hi = ((o.ci.low, o.ci.high) if o.ci and o.ci.low is not None
                      else (100 * max(p - 1.96 * math.sqrt(p * (1 - p) / n), 0),
                            100 * min(p + 1.96 * math.sqrt(p * (1 - p) / n), 1)))
            rates.append(Target(
                trial=t.id, outcome=o.id, endpoint="pCR", kind="rate", observed=p,
                se=math.sqrt(max(p * (1 - p), 0.01) / n), arm=o.arm, reference=plan.control,
                plan=plan, published=kb.published(t, o), n=n, reference_rate=pr,
                # the control arm's own rate is the anchor: no second sampling error
                reference_se=None if o.arm == plan.control else ref_se,
                as_reported=(o.value, lo, hi)))
    return effects + rates
