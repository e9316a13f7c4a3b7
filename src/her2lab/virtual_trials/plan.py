"""What a virtual trial needs: arms as schedules, the endpoint, censoring, and the anchor of its
baseline; built from a knowledge-base trial or from a specification.

Every default (accrual, follow-up, dropout, the length of a flat regimen) comes from the one
table in :mod:`.defaults`; a value a specification gives, including 0, is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from her2lab.errors import DataError, SimulationError
from her2lab.knowledge import ASSUMED_ARM_SIZE, BINARY, TIME_TO_EVENT, KnowledgeBase, Trial, load
from her2lab.virtual_trials.baselines import baseline_for, months_of, timepoint_months
from her2lab.virtual_trials.defaults import defaults_for
from her2lab.virtual_trials.link import Anchor
from her2lab.virtual_trials.schedule import Schedule, schedule_of

if TYPE_CHECKING:
    from her2lab.virtual_trials.spec import TrialSpec

__all__ = ["PlanArm", "TrialPlan", "control_anchor"]


@dataclass(frozen=True)
class PlanArm:
    name: str
    schedule: Schedule
    n: int

    @property
    def regimen(self) -> tuple[str, ...]:
        return self.schedule.drugs


def _anchor_from_outcomes(t: Trial, endpoint: str, arm: str, kb: KnowledgeBase,
                          as_of: dt.date | None) -> Anchor | None:
    for r in kb.outcomes(trial=t, kind=("median", "rate"), endpoint=endpoint, arm=arm,
                         subgroup=None, as_of=as_of):
        o = r.outcome
        if o.arm != arm or o.value is None:
            continue
        if o.kind == "median":
            return Anchor("median", months_of(o), source=r.key)
        if o.kind == "rate" and o.timepoint is not None and endpoint in TIME_TO_EVENT:
            return Anchor("rate", o.value / 100.0, timepoint_months(o), source=r.key)
        if o.kind == "rate" and o.timepoint is None and endpoint in BINARY:
            return Anchor("binary", o.value / 100.0, source=r.key)
    return None


def _baseline_anchor(setting: str, endpoint: str, prior: bool | None, as_of: dt.date | None,
                     kb: KnowledgeBase | None) -> Anchor:
    b = baseline_for(setting, endpoint, as_of=as_of, kb=kb, prior_trastuzumab=prior)
    return Anchor(b.kind, b.value, b.time, source="baseline: " + ", ".join(b.sources))


def control_anchor(t: Trial, endpoint: str, control: str, *, kb: KnowledgeBase | None = None,
                   as_of: dt.date | None = None) -> Anchor:
    """The control arm's own reported level, else the setting's baseline; an OS anchor carries
    the PFS (or TTP) anchor too."""
    kb = kb or load()
    prior = t.population.prior_trastuzumab
    a = _anchor_from_outcomes(t, endpoint, control, kb, as_of) or _baseline_anchor(
        t.setting.value, endpoint, prior, as_of, kb)
    if endpoint == "OS" and not _early(t.setting.value):
        pfs = (_anchor_from_outcomes(t, "PFS", control, kb, as_of)
               or _anchor_from_outcomes(t, "TTP", control, kb, as_of)
               or _baseline_anchor(t.setting.value, "PFS", prior, as_of, kb))
        a = replace(a, pfs=pfs)
    return a


def _early(setting: str) -> bool:
    return defaults_for(setting).cycles is not None


@dataclass(frozen=True)
class TrialPlan:
    """A trial to simulate. ``anchor`` fixes the control arm's level (:class:`.link.Anchor`)."""

    name: str
    setting: str
    prior_trastuzumab: bool | None
    require: tuple[str, ...]
    exclude: tuple[str, ...]
    arms: tuple[PlanArm, ...]
    control: str
    endpoint: str
    accrual_months: float
    follow_up_months: float
    dropout_per_year: float
    anchor: Anchor
    landmark_months: float | None = None
    as_of: dt.date | None = None
    hr_positive: float | None = None
    """The hormone-receptor-positive share (``None``: the setting's default)."""

    def __post_init__(self) -> None:
        if self.hr_positive is not None and not 0.0 <= self.hr_positive <= 1.0:
            raise DataError(f"trial {self.name}: hr_positive must be a share in [0, 1]; got "
                            f"{self.hr_positive}")

    @property
    def early(self) -> bool:
        """Early disease: finite schedules, cure possible."""
        return _early(self.setting)

    def arm(self, name: str) -> PlanArm:
        return next(a for a in self.arms if a.name == name)

    @classmethod
    def from_kb(
        cls, trial: Trial | str, kb: KnowledgeBase | None = None, *, endpoint: str | None = None,
        as_of: dt.date | None = None, control: str | None = None,
    ) -> TrialPlan:
        """A plan reproducing a knowledge-base trial: its arms (with their curated schedules),
        sizes (:meth:`~her2lab.knowledge.Trial.arm_size`; where neither an arm nor its trial
        records one, :data:`~her2lab.knowledge.ASSUMED_ARM_SIZE`, the size every standard error
        assumes), endpoint and control; the anchor from the control arm's reported level."""
        kb = kb or load()
        t = kb.trial(trial) if isinstance(trial, str) else trial
        if len(t.arms) < 2:
            raise SimulationError(f"trial {t.id} has {len(t.arms)} arm(s); a trial needs two")
        ep = endpoint or (t.primary_endpoint.value if t.primary_endpoint else None)
        if ep not in TIME_TO_EVENT | BINARY:
            raise SimulationError(
                f"trial {t.id}: endpoint {ep!r} cannot be simulated; expected one of "
                f"{sorted(TIME_TO_EVENT | BINARY)}")
        control = control or next((a.id for a in t.arms if a.role == "control"), t.arms[-1].id)
        setting = t.setting.value
        d = defaults_for(setting)
        arms = []
        for a in t.arms:
            n = t.arm_size(a, ASSUMED_ARM_SIZE)
            arms.append(PlanArm(a.id, schedule_of(a.regimen, a.schedule, setting), int(n)))
        landmark = None
        for r in kb.outcomes(trial=t, kind="rate", endpoint=ep, superseded=True):
            if r.outcome.timepoint is not None:
                landmark = timepoint_months(r.outcome)
        return cls(
            name=t.name, setting=setting, prior_trastuzumab=t.population.prior_trastuzumab,
            require=(), exclude=(), arms=tuple(arms), control=control, endpoint=ep,
            accrual_months=d.accrual_months, follow_up_months=d.follow_up_months,
            dropout_per_year=d.dropout_per_year,
            anchor=control_anchor(t, ep, control, kb=kb, as_of=as_of),
            landmark_months=landmark, as_of=as_of,
            hr_positive=t.hr_positive_share,
        )

    @classmethod
    def from_spec(cls, spec: TrialSpec, *, as_of: dt.date | None = None,
                  kb: KnowledgeBase | None = None) -> TrialPlan:
        """A plan from a :class:`~her2lab.virtual_trials.spec.TrialSpec`. Values the spec
        gives are kept (an explicit 0 included); the rest come from :mod:`.defaults`. Without
        ``control_median_months``/``control_rate``/``control_landmark_rate`` the baseline comes
        from the knowledge base's control arms of the setting (:mod:`.baselines`)."""
        setting, endpoint = spec.setting.value, spec.endpoint.value
        d = defaults_for(setting)
        pop = spec.population

        def given(name: str, default: float) -> float:
            v = getattr(spec, name)
            return float(default if v is None else v)

        prior = pop.prior_trastuzumab
        landmark = spec.landmark_months
        if endpoint in BINARY:
            rate = spec.control_rate
            anchor = (Anchor("binary", float(rate)) if rate is not None
                      else _baseline_anchor(setting, endpoint, prior, as_of, kb))
        else:
            median = spec.control_median_months
            lm_rate = spec.control_landmark_rate
            if median is not None:
                anchor = Anchor("median", float(median))
            elif lm_rate is not None and landmark is not None:
                anchor = Anchor("rate", float(lm_rate), float(landmark))
            else:
                anchor = _baseline_anchor(setting, endpoint, prior, as_of, kb)
            if endpoint == "OS" and not _early(setting):
                pfs_median = spec.control_pfs_median_months
                pfs = (Anchor("median", float(pfs_median)) if pfs_median is not None
                       else _baseline_anchor(setting, "PFS", prior, as_of, kb))
                anchor = replace(anchor, pfs=pfs)
        arms = []
        for a in spec.arms:
            arms.append(PlanArm(a.name, schedule_of(a.regimen, a.schedule, setting), int(a.n)))
        return cls(
            name=spec.name, setting=setting, prior_trastuzumab=prior,
            require=tuple(pop.require), exclude=tuple(pop.exclude), arms=tuple(arms),
            control=spec.control, endpoint=endpoint,
            accrual_months=given("accrual_months", d.accrual_months),
            follow_up_months=given("follow_up_months", d.follow_up_months),
            dropout_per_year=given("dropout_per_year", d.dropout_per_year),
            anchor=anchor, landmark_months=landmark, as_of=as_of,
            hr_positive=pop.hr_positive,
        )

    def with_sizes(self, n_per_arm: int) -> TrialPlan:
        return replace(self, arms=tuple(replace(a, n=n_per_arm) for a in self.arms))

    def with_anchor(self, anchor: Anchor) -> TrialPlan:
        return replace(self, anchor=anchor)
