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
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from scipy import stats

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

__all__ = ["Target", "targets_from_kb"]


@dataclass(frozen=True)
class Target:
    """One reported figure the model is asked to reproduce."""

    trial: str
    outcome: str
    endpoint: str
    kind: str  # "log_hr" or "rate"
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
