"""A virtual trial: patients drawn, treated by the pathway model, followed, analysed.

:class:`TrialPlan` is what a simulation needs, built from a knowledge-base trial
(:meth:`TrialPlan.from_kb`) or a YAML specification (:meth:`TrialPlan.from_spec`).
:func:`run_trial` simulates ``replicates`` copies of it and analyses each with lifelines (or the
exact NumPy path for very large trials), returning the first replicate's analysis, the
distribution of every statistic over replicates, and Kaplan-Meier curves for plots.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from her2lab.errors import SimulationError
from her2lab.knowledge import KnowledgeBase, Trial, load
from her2lab.virtual_trials.analyze import (
    Distribution,
    analyze_binary,
    analyze_survival,
    summarize_replicates,
)
from her2lab.virtual_trials.calibrate import (
    DEFAULT_MEDIANS,
    FOLLOW_UP,
    control_anchor,
)
from her2lab.virtual_trials.link import (
    BINARY,
    TIME_TO_EVENT,
    WEIBULL_SHAPE,
    LinkParams,
    ResponseModel,
    anchor_intercept,
    anchor_scale,
    anchor_scale_from_rate,
    panel_for,
)
from her2lab.virtual_trials.population import Population, group_of_setting
from her2lab.virtual_trials.simulate import simulate_binary, simulate_survival

__all__ = ["DEFAULT_RATES", "TrialPlan", "run_trial"]

DEFAULT_RATES = {"pCR": 0.30, "ORR": 0.30}
"""Control-arm response rates used when a plan gives none: pCR of trastuzumab plus
chemotherapy in NeoSphere (29.0%) and NeoALTTO (29.5%), Table 1."""


@dataclass(frozen=True)
class PlanArm:
    name: str
    regimen: tuple[str, ...]
    n: int


@dataclass(frozen=True)
class TrialPlan:
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
    dropout_per_year: float = 0.05
    landmark_months: float | None = None
    anchor: tuple[str, float, float] | None = None

    @classmethod
    def from_kb(
        cls, trial: Trial | str, kb: KnowledgeBase | None = None, *, endpoint: str | None = None,
        default_n: int = 200,
    ) -> TrialPlan:
        """A plan reproducing a knowledge-base trial: its arms, sizes, endpoint and control."""
        kb = kb or load()
        t = kb.trial(trial) if isinstance(trial, str) else trial
        if len(t.arms) < 2:
            raise SimulationError(f"trial {t.id} has {len(t.arms)} arm(s); a trial needs two")
        ep = endpoint or (t.primary_endpoint.value if t.primary_endpoint else None)
        if ep not in TIME_TO_EVENT | BINARY:
            raise SimulationError(
                f"trial {t.id}: endpoint {ep!r} cannot be simulated; expected one of "
                f"{sorted(TIME_TO_EVENT | BINARY)}"
            )
        control = next((a.id for a in t.arms if a.role == "control"), t.arms[-1].id)
        arms = []
        for a in t.arms:
            n = a.n or (t.n // len(t.arms) if t.n else default_n)
            arms.append(PlanArm(a.id, tuple(a.regimen), int(n)))
        anchor = None
        if ep in TIME_TO_EVENT:
            anchor = control_anchor(t, ep, control)
        else:
            for o in t.outcomes:
                if o.kind == "rate" and o.arm == control and o.endpoint.value == ep:
                    anchor = ("rate_binary", o.value / 100.0, 0.0)
                    break
        landmark = None
        for o in t.outcomes:
            if o.kind == "rate" and o.timepoint is not None and o.endpoint.value == ep:
                landmark = o.timepoint.value * (12.0 if o.timepoint.unit == "years" else 1.0)
        accrual, follow = FOLLOW_UP[group_of_setting(t.setting.value)]
        return cls(
            name=t.name, setting=t.setting.value,
            prior_trastuzumab=t.population.prior_trastuzumab, require=(), exclude=(),
            arms=tuple(arms), control=control, endpoint=ep, accrual_months=accrual,
            follow_up_months=follow, landmark_months=landmark, anchor=anchor,
        )

    @classmethod
    def from_spec(cls, spec: Any) -> TrialPlan:
        """A plan from a :class:`~her2lab.virtual_trials.spec.TrialSpec`."""
        group = group_of_setting(spec.setting.value if hasattr(spec.setting, "value")
                               else str(spec.setting))
        accrual, follow = FOLLOW_UP[group]
        endpoint = spec.endpoint.value if hasattr(spec.endpoint, "value") else str(spec.endpoint)
        anchor = None
        if endpoint in TIME_TO_EVENT:
            median = getattr(spec, "control_median_months", None) or DEFAULT_MEDIANS.get(
                (group, endpoint)) or DEFAULT_MEDIANS.get((group, "PFS"), 12.0)
            anchor = ("median", float(median), 0.0)
        else:
            rate = getattr(spec, "control_rate", None) or DEFAULT_RATES.get(endpoint, 0.3)
            anchor = ("rate_binary", float(rate), 0.0)
        pop = spec.population
        return cls(
            name=spec.name, setting=str(getattr(spec.setting, "value", spec.setting)),
            prior_trastuzumab=pop.prior_trastuzumab, require=tuple(pop.require),
            exclude=tuple(pop.exclude),
            arms=tuple(PlanArm(a.name, tuple(a.regimen), int(a.n)) for a in spec.arms),
            control=spec.control, endpoint=endpoint,
            accrual_months=float(getattr(spec, "accrual_months", None) or accrual),
            follow_up_months=float(spec.follow_up_months or follow),
            dropout_per_year=float(getattr(spec, "dropout_per_year", None) or 0.05),
            landmark_months=spec.landmark_months, anchor=anchor,
        )

    def with_sizes(self, n_per_arm: int) -> TrialPlan:
        arms = tuple(PlanArm(a.name, a.regimen, n_per_arm) for a in self.arms)
        return TrialPlan(**{**self.__dict__, "arms": arms})


@dataclass
class _Prepared:
    """What every replicate shares: the panel, each arm's per-profile risk, the baseline."""

    weights: np.ndarray
    risk: dict[str, np.ndarray]  # hazard multiplier (TTE) or probability (binary) per profile
    shape: float
    scale: float


def prepare(
    plan: TrialPlan, params: LinkParams, responses: ResponseModel, *, panel_size: int = 64,
    seed: int = 20140812,
) -> _Prepared:
    pop = Population.for_setting(
        plan.setting, prior_trastuzumab=plan.prior_trastuzumab, require=plan.require,
        exclude=plan.exclude, assumption_scale=params.assumption_scale,
    )
    sample = panel_for(pop, panel_size, f"{plan.name}|{','.join(plan.require)}", seed)
    w = sample.counts() / sample.n
    r = {a.name: responses.responses(sample.masks, a.regimen, params.potency)
         for a in plan.arms}
    kind, a, b = plan.anchor or ("median", 12.0, 0.0)
    if plan.endpoint in TIME_TO_EVENT:
        shape = WEIBULL_SHAPE.get(plan.endpoint, 1.0)
        mult = {k: np.exp(-params.beta * v) for k, v in r.items()}
        if kind == "median":
            scale = anchor_scale(mult[plan.control], w, shape, a)
        else:
            scale = anchor_scale_from_rate(mult[plan.control], w, shape, a, b)
        return _Prepared(w, mult, shape, scale)
    alpha = anchor_intercept(r[plan.control], w, params.gamma, a)
    prob = {k: 1.0 / (1.0 + np.exp(-(alpha + params.gamma * v))) for k, v in r.items()}
    return _Prepared(w, prob, 1.0, 1.0)


def simulate_once(plan: TrialPlan, prep: _Prepared, rng: np.random.Generator):
    """One replicate: ``(outcome arrays, arm labels)``; survival gives (time, event)."""
    risks = []
    for a in plan.arms:
        idx = rng.choice(prep.weights.size, size=a.n, p=prep.weights)
        risks.append(prep.risk[a.name][idx])
    risk = np.concatenate(risks)
    # fixed-width strings: grouping them is far faster than grouping Python objects
    arm = np.repeat(np.array([a.name for a in plan.arms]), [a.n for a in plan.arms])
    if plan.endpoint in TIME_TO_EVENT:
        time, event = simulate_survival(
            rng, risk, shape=prep.shape, scale=prep.scale, accrual_months=plan.accrual_months,
            follow_up_months=plan.follow_up_months, dropout_per_year=plan.dropout_per_year,
        )
        return (time, event), arm
    return (simulate_binary(rng, risk),), arm


def analyse(plan: TrialPlan, data, arm, *, alpha: float = 0.05):
    if plan.endpoint in TIME_TO_EVENT:
        time, event = data
        return analyze_survival(time, event, arm, control=plan.control,
                                landmark_months=plan.landmark_months, alpha=alpha,
                                engine="numpy")
    return analyze_binary(data[0], arm, control=plan.control, alpha=alpha, measure="OR")


def run_trial(
    plan: TrialPlan,
    params: LinkParams,
    *,
    replicates: int = 20,
    seed: int = 20140812,
    samples: int = 1000,
    panel_size: int = 64,
    alpha: float = 0.05,
    progress: Callable[[int, int], Any] | None = None,
) -> dict[str, Any]:
    """Simulate and analyse ``replicates`` copies of ``plan``; JSON-ready result."""
    if replicates < 1:
        raise SimulationError(f"replicates must be at least 1; got {replicates}")
    responses = ResponseModel(samples=samples, seed=seed)
    prep = prepare(plan, params, responses, panel_size=panel_size, seed=seed)
    rng = np.random.default_rng(seed)
    analyses = []
    for i in range(replicates):
        data, arm = simulate_once(plan, prep, rng)
        analyses.append(analyse(plan, data, arm, alpha=alpha))
        if progress:
            progress(i + 1, replicates)
    first = analyses[0].to_dict()
    summary = summarize_replicates(analyses, alpha=alpha)
    # every comparison (each arm against control; OR and difference for binary endpoints)
    # over the replicates, so a reported effect can be matched by arm and measure
    by_effect: dict[tuple[str, str], list[float | None]] = {}
    for a in analyses:
        for e in a.effects:
            by_effect.setdefault((e.arm, e.measure), []).append(e.estimate)
    effects = [
        {"arm": arm, "control": plan.control, "measure": measure,
         **Distribution.of(vals).to_dict()}
        for (arm, measure), vals in by_effect.items()
    ]
    out = {
        "trial": plan.name,
        "endpoint": plan.endpoint,
        "control": plan.control,
        "params": params.to_dict(),
        "arms": first["arms"],
        "effect": first["effect"],
        "effects_over_replicates": effects,
        "replicates": summary.to_dict(),
        "settings": {"replicates": replicates, "seed": seed, "samples": samples,
                     "panel_size": panel_size, "anchor": list(plan.anchor or ())},
    }
    if plan.endpoint in TIME_TO_EVENT:
        out["curves"] = {
            name: {"time": c.times.tolist(), "survival": c.survival.tolist()}
            for name, c in analyses[0].curves.items()
        }
    return out


def design_trial(
    plan: TrialPlan,
    params: LinkParams,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    replicates: int = 400,
    seed: int = 20140812,
    samples: int = 1000,
    panel_size: int = 64,
) -> dict[str, Any]:
    """Patients per arm for ``power`` by simulating the model-driven trial, beside the
    closed-form answer for the model's expected effect (Schoenfeld for time to event, the
    two-proportion formula for binary endpoints). Needs exactly two arms."""
    from her2lab.virtual_trials.design import (
        sample_size_by_simulation,
        schoenfeld_design,
        two_proportion_sample_size,
    )
    from her2lab.virtual_trials.link import limiting_cox_log_hr

    if len(plan.arms) != 2:
        raise SimulationError(
            f"a design compares two arms; {plan.name} has {len(plan.arms)}: "
            f"{[a.name for a in plan.arms]}"
        )
    prep = prepare(plan, params, ResponseModel(samples=samples, seed=seed),
                   panel_size=panel_size, seed=seed)
    exp_arm = next(a.name for a in plan.arms if a.name != plan.control)

    def simulate(rng: np.random.Generator, n_per_arm: int):
        data, arm = simulate_once(plan.with_sizes(n_per_arm), prep, rng)
        return (*data, arm)

    sim = sample_size_by_simulation(
        simulate, power, replicates=replicates, alpha=alpha, rng=np.random.default_rng(seed),
        control=plan.control,
    )
    out: dict[str, Any] = {"trial": plan.name, "endpoint": plan.endpoint,
                           "arms": [exp_arm, plan.control], "power": power, "alpha": alpha,
                           "simulation": sim.to_dict(), "params": params.to_dict()}
    if plan.endpoint in TIME_TO_EVENT:
        log_hr = limiting_cox_log_hr(
            prep.risk[exp_arm], prep.risk[plan.control], prep.weights, shape=prep.shape,
            scale=prep.scale, accrual=plan.accrual_months, follow_up=plan.follow_up_months,
            dropout_per_year=plan.dropout_per_year)
        hr = math.exp(log_hr)
        median = plan.anchor[1] if plan.anchor and plan.anchor[0] == "median" else 12.0
        formula = schoenfeld_design(
            hr, control_median=median, shape=prep.shape, accrual_months=plan.accrual_months,
            follow_up_months=plan.follow_up_months, dropout_per_year=plan.dropout_per_year,
            alpha=alpha, power=power)
        out["expected_effect"] = {"measure": "HR", "estimate": hr}
        out["formula"] = formula.to_dict()
        out["formula"]["n_per_arm"] = max(formula.n_control, formula.n_experimental)
    else:
        rates = {k: float(np.dot(prep.weights, v)) for k, v in prep.risk.items()}
        out["expected_effect"] = {"measure": "rates", "experimental": rates[exp_arm],
                                  "control": rates[plan.control]}
        total = two_proportion_sample_size(rates[plan.control], rates[exp_arm], alpha, power)
        out["formula"] = {"method": "two proportions", "n_total": total,
                          "n_per_arm": math.ceil(total / 2)}
    return out
