"""The trial model: patient types of a trial population, their rates under each arm's
schedule (from :mod:`.rates`), and the outcome models and expected effects of :mod:`.link`.

Patient types are the deterministic profile panel of the population (:meth:`Population.panel`)
crossed with hormone-receptor status and the Gauss-Hermite nodes of chemosensitivity, each
with its weight: an exact quadrature of the patient mixture, no random draw. Rates of the
kinase inhibitors depend on the calibrated potency offset; they are computed on a grid of
offsets (:data:`TKI_OFFSETS`) and interpolated linearly, so the objective of the calibration is
continuous in it.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from her2lab.virtual_trials.defaults import PANEL_SIZE, RunSettings, defaults_for
from her2lab.virtual_trials.link import (
    KINETICS,
    TKI,
    ArmKinetics,
    LinkParams,
    Prepared,
    arm_curves,
    chemo_nodes,
    expected_effects,
)
from her2lab.virtual_trials.plan import TrialPlan
from her2lab.virtual_trials.population import (
    Population,
    group_of_setting,
    load_prevalence,
    profile_of,
)
from her2lab.virtual_trials.rates import KILL_SOURCES, RatesModel, micrometastatic
from her2lab.virtual_trials.schedule import Schedule

__all__ = ["REFERENCE_REGIMEN", "TKI_OFFSETS", "TrialModel"]

TKI_OFFSETS = (-0.6, -0.45, -0.3, -0.15, 0.0, 0.15)
"""Offsets of the TKI potency at which the pathway model runs; the calibration's bounds.
Rates between them are interpolated linearly. Three points with the quadratic through them
(-0.6, -0.225, +0.15: half the TKI runs) were tried and not kept: the fitted TKI offset then
moved by 0.38 of its SE across seeds (the default seed, 1, 2), against a fifth allowed; the
quadratic carries each point's Monte Carlo error to the offsets between them, with weights up
to 1.1."""

REFERENCE_REGIMEN = ("docetaxel", "trastuzumab")
"""The regimen whose log-kill per cycle the kill gain is expressed as (:data:`.link.PRIORS`)."""

CYCLE_MONTHS = 21 / (365.25 / 12)

PRIOR_EXPOSED = ("trastuzumab",)
"""Drugs a trastuzumab-pretreated population has received before: their added kill has been
decaying by acquired resistance since then (``KINETICS["prior_exposure_months"]``)."""


def _without_prior(drugs: tuple[str, ...]) -> tuple[str, ...] | None:
    """The phase's drugs without those received before (``None``: none of them was)."""
    if not any(d in PRIOR_EXPOSED for d in drugs):
        return None
    return tuple(d for d in drugs if d not in PRIOR_EXPOSED)


def hr_share(hr_positive: float | None) -> float:
    """The HR-positive share of a population: the plan's, else ``KINETICS["hr_positive"]``."""
    return float(KINETICS["hr_positive"].value if hr_positive is None else hr_positive)


def _kill(r, untreated, w, c, half=None):
    """The kill of rates ``r`` (growth, targeted, immune, cytotoxic, payload; first axis) in
    the pathway's units: the targeted and immune kill beyond the untreated tumor's own (part of
    its untreated growth: a drug's kill is what it adds), weighted by ``w``, plus the cytotoxic
    and payload kill scaled by the chemosensitivity ``c``. ``half``: per type, the targeted
    kill at which ER signalling offsets half of it (:func:`er_share`; ``inf``: HR-negative)."""
    kt = np.maximum(r[1] + r[2] - untreated, 0.0)
    if half is not None:
        kt = kt * er_share(kt, half)
    return w * kt + c * (r[3] + r[4])


def er_share(kt, half):
    """The share of a targeted kill ``kt`` left to an HR-positive tumor, ``1 / (1 + kt /
    half)``: ER signalling takes over survival and proliferation the more completely HER2
    signalling is blocked, so a second anti-HER2 drug adds less there than the first
    (``KINETICS["hr_escape_half"]``); 1 where ``half`` is infinite (HR-negative)."""
    return 1.0 / (1.0 + kt / half)


def bracket(offset: float) -> tuple[int, float]:
    """The interval ``i`` of :data:`TKI_OFFSETS` holding ``offset`` (clipped to the grid) and
    its weight ``f`` on point ``i + 1`` (linear interpolation). Scalar arithmetic (np.clip and
    np.searchsorted on scalars cost microseconds): the same values as
    ``np.clip(searchsorted(...) - 1, 0, n - 2)``, searchsorted's left side."""
    x = min(max(float(offset), TKI_OFFSETS[0]), TKI_OFFSETS[-1])
    i = min(max(bisect.bisect_left(TKI_OFFSETS, x) - 1, 0), len(TKI_OFFSETS) - 2)
    return i, (x - TKI_OFFSETS[i]) / (TKI_OFFSETS[i + 1] - TKI_OFFSETS[i])


def early_schedule(plan: TrialPlan, schedule: Schedule) -> Schedule:
    """``schedule`` as an early-setting plan gives it: a regimen "until progression" is cut
    to the setting's default course (cycles of :func:`.defaults.defaults_for`)."""
    if plan.early and schedule.until_progression:
        d = defaults_for(plan.setting)
        return schedule.finite(d.cycles * d.cycle_days / (365.25 / 12))
    return schedule


class RateGrid:
    """A drug set's rates per type row on the TKI offset grid, filled offset by offset when
    first read (:meth:`TrialModel._fill`); :meth:`at` interpolates linearly between the two
    offsets around the one asked (a drug set without a TKI has one offset)."""

    def __init__(self, model: TrialModel, requests: list, n_offsets: int, rows: int):
        self.model, self.requests, self.n_offsets = model, requests, n_offsets
        self.values = np.zeros((n_offsets, rows, 1 + len(KILL_SOURCES)))
        self.done = np.zeros(n_offsets, dtype=bool)

    def _row(self, i: int) -> np.ndarray:
        if not self.done[i]:
            self.model._fill(i)
        return self.values[i]

    def at(self, offset: float, repeat: int = 1) -> np.ndarray:
        """The rates at ``offset`` (clipped to the grid), each row repeated ``repeat`` times
        (over the chemosensitivity nodes: interpolating before or after repeating gives the
        same values)."""
        if self.n_offsets == 1:  # no TKI: the rates do not depend on the offset
            r = self._row(0)
        else:
            i, f = bracket(offset)
            r = (1 - f) * self._row(i) + f * self._row(i + 1)
        return r if repeat == 1 else np.repeat(r, repeat, axis=0)


@dataclass
class TrialModel:
    """Rates, panels and kinetics of virtual trials; reusable across parameter values."""

    rates: RatesModel = field(default_factory=RatesModel)
    panel_size: int = PANEL_SIZE
    chemo_points: int = 3
    _panels: dict = field(default_factory=dict, repr=False)
    _raw: dict = field(default_factory=dict, repr=False)
    # parameter-independent pieces, memoised (numerics only: the values are those computed
    # on every call before)
    _types: dict = field(default_factory=dict, repr=False)
    _ref: dict = field(default_factory=dict, repr=False)
    _arm: dict = field(default_factory=dict, repr=False)
    _prepared: OrderedDict = field(default_factory=OrderedDict, repr=False)

    @classmethod
    def for_settings(cls, settings: RunSettings) -> TrialModel:
        """The trial model of ``settings`` (its trajectories, seed and panel)."""
        return cls(RatesModel(samples=settings.samples, seed=settings.seed),
                   panel_size=settings.panel_size)

    # ------------------------------------------------------------------ patient types

    def panel(self, setting: str, prior: bool | None, require: Sequence[str],
              exclude: Sequence[str], as_of: dt.date | None):
        key = (group_of_setting(setting, prior), tuple(sorted(require)), tuple(sorted(exclude)),
               as_of)
        if key not in self._panels:
            pop = Population.for_setting(setting, prior_trastuzumab=prior, require=require,
                                         exclude=exclude, as_of=as_of)
            sample = pop.panel(self.panel_size)
            deg = load_prevalence().degrees()
            profiles = [{m: deg[m] for m in profile_of(int(mk))} for mk in sample.masks]
            self._panels[key] = (profiles, sample.counts() / sample.n)
        return self._panels[key]

    def type_weights(self, profile_w: np.ndarray, hr_positive: float | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Weights of the types (profile x HR x chemo node) and each type's log
        chemosensitivity; ``hr_positive`` the HR-positive share (``None``: the default,
        ``KINETICS["hr_positive"]``)."""
        p_hr = hr_share(hr_positive)
        key = (self.chemo_points, p_hr, profile_w.shape, profile_w.dtype.str,
               profile_w.tobytes())
        hit = self._types.get(key)
        if hit is None:
            hit = self._types[key] = self._type_weights(profile_w, p_hr)
        return hit[0].copy(), hit[1].copy()

    def hr_status(self, n_profiles: int) -> np.ndarray:
        """1 for each HR-positive type, 0 for each HR-negative one (the types' order)."""
        return np.tile(np.repeat([0.0, 1.0], self.chemo_points), n_profiles)

    def _type_weights(self, profile_w: np.ndarray, p_hr: float
                      ) -> tuple[np.ndarray, np.ndarray]:
        x, wq = chemo_nodes(self.chemo_points)
        shift = KINETICS["hr_chemo_shift"].value
        sd = KINETICS["chemo_sd"].value
        w, logc = [], []
        for hr, whr in ((0, 1 - p_hr), (1, p_hr)):
            for xi, wi in zip(x, wq, strict=True):
                w.append(whr * wi)
                logc.append(sd * xi + shift * hr)
        w, logc = np.array(w), np.array(logc)
        return (np.outer(profile_w, w).ravel(),
                np.tile(logc, profile_w.size))

    # ------------------------------------------------------------------ rates

    def _raw_requests(self, profiles, drugs: tuple[str, ...], micro: bool):
        """The rates :meth:`_raw_rates` asks for: ``(offset index, row, profile, drugs,
        potency, hr_positive)``, row ``2 j + h`` for profile ``j`` and HR status ``h``, and
        the offsets."""
        from her2lab.pathway import DRUGS

        has_tki = any(d in TKI for d in drugs)
        offsets = TKI_OFFSETS if has_tki else (0.0,)
        out = []
        for i, off in enumerate(offsets):
            pot = LinkParams(tki_offset=off).potency({d: DRUGS[d].potency for d in TKI})
            for j, prof in enumerate(profiles):
                p, dr = micrometastatic(prof, drugs) if micro else (prof, drugs)
                out += [(i, 2 * j + h, p, dr, pot, bool(h)) for h in (0, 1)]
        return out, offsets

    def _raw_rates(self, profiles, drugs: tuple[str, ...], micro: bool) -> RateGrid:
        """Rates (growth, targeted, immune, cytotoxic, payload) per profile and hormone-receptor
        status (row ``2 j + h``: profile ``j``, HR-positive if ``h``) on the TKI offset grid
        (:class:`RateGrid`; one offset for a drug set without a TKI). An offset's rates are
        computed when first needed, for every grid of the model at once (one pathway batch):
        a fit that never leaves an interval of :data:`TKI_OFFSETS` runs no other offset."""
        key = (id(profiles), drugs, micro)
        hit = self._raw.get(key)
        if hit is None:
            requests, offsets = self._raw_requests(profiles, drugs, micro)
            hit = self._raw[key] = RateGrid(self, requests, len(offsets), 2 * len(profiles))
        return hit

    def _fill(self, index: int) -> None:
        """Compute offset ``index`` of every grid that lacks it, in one batch."""
        grids = [g for g in self._raw.values() if index < g.n_offsets and not g.done[index]]
        self.rates.prefetch([r[2:] for g in grids for r in g.requests if r[0] == index])
        for g in grids:
            for i, row, p, dr, pot, hr in g.requests:
                if i == index:
                    r = self.rates.rates(p, dr, pot, hr_positive=hr)
                    g.values[i, row] = [r.growth, *(r.kill.get(s, 0.0) for s in KILL_SOURCES)]
            g.done[index] = True

    def _grids_of(self, plans: Sequence[TrialPlan]) -> list[RateGrid]:
        """The rate grids of the reference tumor and of every arm, phase and untreated tumor
        of ``plans`` (registered with the model, so an offset is filled for all at once)."""
        specs = [(self._ref_profiles, (), False), (self._ref_profiles, REFERENCE_REGIMEN, False)]
        for plan in {id(p): p for p in plans}.values():
            micro = plan.early and plan.endpoint != "pCR"
            profiles, _ = self.panel(plan.setting, plan.prior_trastuzumab, plan.require,
                                     plan.exclude, plan.as_of)
            specs.append((profiles, (), micro))
            for arm in plan.arms:
                for ph in early_schedule(plan, arm.schedule).phases:
                    drugs = tuple(sorted(ph.drugs))
                    specs.append((profiles, drugs, micro))
                    rest = _without_prior(drugs)
                    if plan.prior_trastuzumab and rest is not None:
                        specs.append((profiles, rest, micro))
        return [self._raw_rates(*spec) for spec in specs]

    def prefetch(self, plans: Sequence[TrialPlan], offsets: Sequence[float] | None = None
                 ) -> None:
        """Ask the rates model for every rate the arms of ``plans`` need, in one batch
        (:meth:`.rates.RatesModel.prefetch`: the pathway runs them together); the values are
        those asked for one at a time. ``offsets``: of the TKI grid, only the points around
        these (the rest are computed if and when a prediction reads them)."""
        keep = None
        if offsets is not None:
            keep = set()
            for x in offsets:
                i, _ = bracket(x)
                keep |= {i, i + 1}
        grids = self._grids_of(plans)
        self.rates.prefetch([r[2:] for g in grids for r in g.requests
                             if keep is None or g.n_offsets == 1 or r[0] in keep])

    def coarse(self, divisor: int, panel_size: int | None = None) -> TrialModel:
        """This model with ``divisor`` times fewer pathway trajectories (at least 1), the same
        seed and quadrature: a pilot, whose rates carry ``sqrt(divisor)`` times the Monte Carlo
        error. ``panel_size``: fewer tumor profiles per population (default: the same
        panels); the link's work grows with the profiles."""
        rates = dataclasses.replace(self.rates, samples=max(self.rates.samples // divisor, 1),
                                    _memo={}, calls=0)
        if panel_size is None or panel_size == self.panel_size:
            return TrialModel(rates, panel_size=self.panel_size,
                              chemo_points=self.chemo_points, _panels=self._panels,
                              _types=self._types)
        return TrialModel(rates, panel_size=panel_size, chemo_points=self.chemo_points)

    def _reference(self) -> tuple[float, np.ndarray, np.ndarray]:
        """``a``, the reference regimen's rates and the untreated ones (independent of the
        parameters; the reference tumor: no mechanism, HR-negative, row 0)."""
        if "ref" not in self._ref:
            ref = self._raw_rates(self._ref_profiles, (), False).at(0.0)[0]
            a = math.log(2) / KINETICS["doubling_months"].value / ref[0]
            r = self._raw_rates(self._ref_profiles, REFERENCE_REGIMEN, False).at(0.0)[0]
            self._ref["ref"] = (a, r, ref)
        return self._ref["ref"]

    def _reference_targeted(self) -> float:
        """The targeted and immune kill trastuzumab + docetaxel adds on the reference tumor
        (pathway units): the scale of ``KINETICS["hr_escape_half"]``."""
        _, r, base = self._reference()
        return max(float(r[1] + r[2] - base[1] - base[2]), 1e-9)

    def scales(self, params: LinkParams) -> tuple[float, float]:
        """``a`` (per-month units of growth) and the kill gain ``G``."""
        a, r, base = self._reference()
        lk = params.kill_per_cycle()
        kd = (lk + a * r[0] * CYCLE_MONTHS) / CYCLE_MONTHS  # kill per month giving lk net
        w = params.targeted_weight
        return a, kd / (a * float(_kill(r, base[1] + base[2], w, 1.0)))

    _ref_profiles: list = field(default_factory=lambda: [{}], repr=False)

    def __getstate__(self) -> dict:
        # a copy (a worker's) drops ``_raw``: it is keyed by the identity of panel lists
        state = self.__dict__.copy()
        state["_raw"] = {}
        state["_prepared"] = OrderedDict()
        return state

    def kinetics(self, plan: TrialPlan, schedule: Schedule, params: LinkParams, *,
                 micro: bool) -> ArmKinetics:
        fixed = self._arm_fixed(plan, schedule, micro)
        weights, c, group, phases, months, un, base_ti, hr = fixed
        a, gain = self.scales(params)
        c = c * params.chemosensitivity(group)  # the setting group's chemosensitivity
        growth, kill = [], []
        # ER signalling in HR-positive tumors sustains survival and proliferation under
        # anti-HER2 therapy: it offsets a share of the targeted kill and of the growth a drug
        # stops, the larger the deeper the HER2 blockade (er_share)
        half = np.where(hr > 0, KINETICS["hr_escape_half"].value * self._reference_targeted(),
                        np.inf)
        w = params.targeted_weight
        # the added kill of drugs received before has decayed since their first exposure
        decayed = math.exp(-params.resistance * KINETICS["prior_exposure_months"].value)
        for raw, rest, n_rep in phases:
            r = raw.at(params.tki_offset, n_rep)
            # a drug never adds growth: what its kill has lost to acquired resistance is
            # lost, the tumor grows at most at its untreated rate
            g = np.minimum(a * r[:, 0], un)
            keep = er_share(np.maximum(r[:, 1] + r[:, 2] - base_ti, 0.0), half)
            growth.append(un - keep * (un - g))
            k = _kill(r.T, base_ti, w, c, half)
            if rest is not None:
                k_new = _kill(rest.at(params.tki_offset, n_rep).T, base_ti, w, c, half)
                k = k_new + decayed * np.maximum(k - k_new, 0.0)
            kill.append(a * gain * k)
        return ArmKinetics(weights.copy(), np.array(growth), np.array(kill), months, un.copy(),
                           params.resistance)

    def _arm_fixed(self, plan: TrialPlan, schedule: Schedule, micro: bool) -> tuple:
        """What :meth:`kinetics` needs that does not depend on the parameters: the types'
        weights and chemosensitivities, the group, each phase's raw rates per type (repeated
        over the chemosensitivity nodes; interpolating after repeating gives the same values),
        the phases' months and the untreated growth. Memoised per plan and schedule."""
        key = (plan.setting, plan.prior_trastuzumab, tuple(plan.require), tuple(plan.exclude),
               plan.as_of, plan.early, micro, hr_share(plan.hr_positive),
               tuple((tuple(sorted(ph.drugs)), ph.months) for ph in schedule.phases))
        hit = self._arm.get(key)
        if hit is not None:
            return hit
        profiles, pw = self.panel(plan.setting, plan.prior_trastuzumab, plan.require,
                                  plan.exclude, plan.as_of)
        weights, logc = self.type_weights(pw, plan.hr_positive)
        n_rep = weights.size // (2 * len(profiles))  # rates are per (profile, HR status)
        group = group_of_setting(plan.setting, plan.prior_trastuzumab)
        a = self._reference()[0]
        schedule = early_schedule(plan, schedule)
        c = np.exp(logc)
        phases, months = [], []
        for ph in schedule.phases:
            drugs = tuple(sorted(ph.drugs))
            raw = self._raw_rates(profiles, drugs, micro)
            rest = _without_prior(drugs) if plan.prior_trastuzumab else None
            if rest is not None:
                rest = self._raw_rates(profiles, rest, micro)
            phases.append((raw, rest, n_rep))
            months.append(ph.months)
        untreated = self._raw_rates(profiles, (), micro).at(0.0, n_rep)
        un = untreated[:, 0] * a
        base_ti = untreated[:, 1] + untreated[:, 2]
        out = (weights, c, group, tuple(phases), tuple(months), un, base_ti,
               self.hr_status(len(profiles)))
        self._arm[key] = out
        return out

    # ------------------------------------------------------------------ outcomes

    def prepare(self, plan: TrialPlan, params: LinkParams, anchor=None) -> Prepared:
        """Outcome models of every arm and the expected effects against the control."""
        return self._prepare(plan, self._kinetics_of(plan, params), anchor or plan.anchor)

    def _kinetics_of(self, plan: TrialPlan, params: LinkParams) -> dict[str, ArmKinetics]:
        micro = plan.early and plan.endpoint != "pCR"
        return {a.name: self.kinetics(plan, a.schedule, params, micro=micro) for a in plan.arms}

    def prepare_memo(self, plan: TrialPlan, params: LinkParams) -> Prepared:
        """:meth:`prepare` at the plan's anchor, memoised on the arms' kinetics, bit for bit
        (the preparation depends on the parameters only through them): a change of parameters
        that leaves a trial's kinetics as they were, another setting group's effect, reuses the
        trial's preparation. The result is shared: read it, do not change it."""
        kin = self._kinetics_of(plan, params)
        key = (id(plan), tuple((n, k.weights.tobytes(), k.growth.tobytes(), k.kill.tobytes(),
                                k.months, k.untreated.tobytes(), k.resistance)
                               for n, k in kin.items()))
        hit = self._prepared.get(key)
        if hit is not None and hit[0] is plan:
            self._prepared.move_to_end(key)
            return hit[1]
        prep = self._prepare(plan, kin, plan.anchor)
        self._prepared[key] = (plan, prep)
        if len(self._prepared) > 256:
            self._prepared.popitem(last=False)
        return prep

    def _prepare(self, plan: TrialPlan, kin: dict[str, ArmKinetics], anchor) -> Prepared:
        horizon = max(plan.accrual_months + plan.follow_up_months, 1.0) * 1.5
        if plan.landmark_months:
            horizon = max(horizon, plan.landmark_months * 1.2)
        if anchor.time:
            horizon = max(horizon, anchor.time * 1.2)
        if anchor.kind == "median":
            horizon = max(horizon, anchor.value * 3)
        outcomes = arm_curves(kin, plan.control, plan.endpoint, anchor, horizon=horizon,
                              early=plan.early)
        alloc = {a.name: a.n for a in plan.arms}
        effects = expected_effects(outcomes, plan.control, plan.endpoint,
                                   accrual=plan.accrual_months, follow_up=plan.follow_up_months,
                                   dropout_per_year=plan.dropout_per_year, allocation=alloc)
        return Prepared(outcomes, effects, anchor)
