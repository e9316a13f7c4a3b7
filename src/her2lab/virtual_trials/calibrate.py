"""Calibration of the link to the real trials as of a date, and its validation.

**Targets.** From every randomized trial of the knowledge base with results published on or
before ``as_of`` (:meth:`KnowledgeBase.published`):

* each hazard ratio (PFS, TTP, OS, DFS; biomarker subgroups whose biomarker maps to a
  mechanism, e.g. BOLERO-3's PTEN-low), as ``log HR`` with the SE its CI implies (CI level
  honoured);
* each response rate (pCR, ORR) of a non-reference arm, with the binomial SE of the arm's n.

Where a recorded conflict names a ``preferred`` value, the others are left out; where it names
none, both stay (nothing is silently picked). Each target's baseline is anchored by its
control arm (:mod:`.link`), so only the differences between arms inform the fit.

**Parameters.** Four: the link's ``beta`` (time-to-event) and ``gamma`` (binary); the
``assumption_scale`` of the prevalence priors that are assumptions rather than measurements
(in the model each such mechanism is a complete escape, so how common they are decides how
much of a population a HER2-directed drug can reach); and lapatinib's potency, the drug in the
most comparisons (:data:`POTENCY_GRID`). The other potencies stay at the pathway model's
defaults; the data (about twenty-five effects) support little more. Each parameter has a prior
(:data:`PRIORS`; for the scale, log-normal with the SD the prevalence intervals imply; for a
potency, normal around the default), so a fit with few targets stays finite.

**Objective.** ``sum z^2`` over targets plus the prior penalties, ``z`` = (predicted - reported) /
reported SE; minimised with :func:`scipy.optimize.minimize_scalar` (bounded Brent, one
parameter per endpoint family since they separate), deterministic.
The scale and the potency are profiled on grids (each value changes the patients or the
drug, hence the pathway runs), the scale first at default potencies, then the potency at the
best scale; ``beta`` and ``gamma`` are fitted at each point. Uncertainty: profile likelihood
for the scale and the potency, a bootstrap over trials (resampling whole trials, refitting)
for ``beta`` and ``gamma``.

**Validation.** Leave-one-trial-out: refit without each trial, predict its targets; reported
against predicted with the predicted interval (parameter and sampling uncertainty combined).
Forward: calibrate as of a date, predict what was published after it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, stats

from her2lab.errors import DataError
from her2lab.knowledge import KnowledgeBase, Outcome, Trial, load
from her2lab.virtual_trials.link import (
    BINARY,
    TIME_TO_EVENT,
    WEIBULL_SHAPE,
    LinkParams,
    ResponseModel,
    anchor_intercept,
    anchor_scale,
    anchor_scale_from_rate,
    binary_rates,
    limiting_cox_log_hr,
    panel_for,
)
from her2lab.virtual_trials.population import Population, group_of_setting, load_prevalence

__all__ = [
    "PRIORS",
    "Calibration",
    "Target",
    "calibrate",
    "fit",
    "fit_at_scale",
    "forward",
    "leave_one_out",
    "predict",
    "summarise",
    "targets_from_kb",
]

PRIORS: dict[str, tuple[float, float, str]] = {
    "beta": (3.0, 3.0, "a response gain of 0.1 (a tenth of the scale) lowers the hazard by about "
             "26%; SD as large as the centre: weakly informative"),
    "gamma": (6.0, 6.0, "a response gain of 0.1 raises the odds of response by about 1.8; SD as "
              "large as the centre: weakly informative"),
}
BOUNDS = {"beta": (0.0, 30.0), "gamma": (0.0, 60.0)}
POTENCY_GRID: dict[str, tuple[float, ...]] = {"lapatinib": (0.4, 0.55, 0.7, 0.8, 0.9)}
"""Drug potencies calibrated, each on a grid (each value re-runs the pathway model for the
regimens holding the drug). Lapatinib only: it is in more comparisons than any other drug
(eight trials, as experimental arm and as control), so the data can speak to it; the rest keep
the pathway model's defaults."""
POTENCY_PRIOR_SD = 0.2
"""Normal prior around the pathway model's default potency: its values are starting points."""
SCALE_GRID = (1.0, 0.6, 0.35, 0.2, 0.12, 0.07, 0.04, 0.02)
"""Values of ``assumption_scale`` profiled by the fit: from the priors as stated down to odds a
fiftieth of theirs. Its prior is log-normal around 1 with the SD the prevalence intervals
imply (:func:`assumption_scale_prior_sd`)."""

DEFAULT_MEDIANS: dict[tuple[str, str], float] = {
    ("metastatic_first_line", "PFS"): 12.0,
    ("metastatic_first_line", "OS"): 36.0,
    ("metastatic_pretreated", "PFS"): 6.0,
    ("metastatic_pretreated", "TTP"): 6.0,
    ("metastatic_pretreated", "OS"): 20.0,
    ("early", "DFS"): 180.0,
}
"""Control medians in months where a trial reports none (its HR does not depend on the level,
only on the censoring pattern around it): CLEOPATRA's and EMILIA's control arms for metastatic
disease, about 85% disease-free at 4 years (ALTTO, BETH) for early disease."""

FOLLOW_UP: dict[str, tuple[float, float]] = {
    "metastatic_first_line": (24.0, 12.0),
    "metastatic_pretreated": (24.0, 6.0),
    "early": (36.0, 48.0),
}
"""(accrual, follow-up after the last patient) in months by setting group, when not given."""

WEEKS_PER_MONTH = 365.25 / 12 / 7


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
    regimens: dict[str, tuple[str, ...]]
    setting: str
    prior_trastuzumab: bool | None
    require: tuple[str, ...]
    # ("median", months, 0) | ("rate", months, share surviving) | ("rate_binary", share, 0)
    anchor: tuple[str, float, float]
    published: dt.date
    n: int | None = None

    @property
    def population_key(self) -> str:
        return f"{self.trial}|{','.join(self.require)}"


@dataclass
class Calibration:
    """The result of :func:`calibrate`: parameters, their uncertainty, the fit table."""

    as_of: dt.date
    seed: int
    params: LinkParams
    intervals: dict[str, tuple[float, float]]
    targets: list[Target]
    table: list[dict[str, Any]]
    settings: dict[str, Any]
    objective: float
    bootstrap: list[dict[str, float]] = field(default_factory=list, repr=False)
    profile: list[dict[str, float]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "seed": self.seed,
            "params": self.params.to_dict(),
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "priors": {k: {"mean": m, "sd": s, "why": w} for k, (m, s, w) in PRIORS.items()},
            "objective": self.objective,
            "settings": self.settings,
            "fit": self.table,
            "profile": self.profile,
            "bootstrap": self.bootstrap,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], kb: KnowledgeBase | None = None) -> Calibration:
        as_of = dt.date.fromisoformat(d["as_of"])
        kb = kb or load()
        return cls(
            as_of=as_of, seed=int(d["seed"]), params=LinkParams(**d["params"]),
            intervals={k: tuple(v) for k, v in d["intervals"].items()},
            targets=targets_from_kb(kb, as_of), table=d.get("fit", []),
            settings=d.get("settings", {}), objective=float(d.get("objective", float("nan"))),
            bootstrap=d.get("bootstrap", []), profile=d.get("profile", []),
        )


# --------------------------------------------------------------------------- targets


def _excluded_by_conflicts(kb: KnowledgeBase) -> set[str]:
    out = set()
    for c in kb.conflicts:
        if c.preferred:
            out |= {v.outcome for v in c.values if v.outcome and v.outcome != c.preferred}
    return out


def _months(o: Outcome) -> float:
    return o.value / WEEKS_PER_MONTH if o.unit == "weeks" else o.value


def control_anchor(t: Trial, endpoint: str, ref_arm: str) -> tuple[str, float, float]:
    for o in t.outcomes:
        if (o.kind == "median" and o.arm == ref_arm and o.endpoint.value == endpoint
                and o.value is not None and o.subgroup is None):
            return ("median", _months(o), 0.0)
    for o in t.outcomes:
        if (o.kind == "rate" and o.arm == ref_arm and o.endpoint.value == endpoint
                and o.timepoint is not None and o.value is not None):
            tp = o.timepoint.value * {"years": 12.0, "months": 1.0, "weeks": 1 / WEEKS_PER_MONTH}[
                o.timepoint.unit]
            return ("rate", tp, o.value / 100.0)
    group = group_of_setting(t.setting.value)
    median = DEFAULT_MEDIANS.get((group, endpoint)) or DEFAULT_MEDIANS.get((group, "PFS"), 12.0)
    return ("median", median, 0.0)


def _arm_n(t: Trial, arm: str) -> int | None:
    a = next(a for a in t.arms if a.id == arm)
    if a.n:
        return a.n
    if t.n:
        return max(t.n // max(len(t.arms), 1), 1)
    return None


def targets_from_kb(kb: KnowledgeBase, as_of: dt.date | None = None) -> list[Target]:
    """Every calibration target published on or before ``as_of`` (default: all)."""
    excluded = _excluded_by_conflicts(kb)
    out: list[Target] = []
    for t in kb.trials:
        if not t.randomized or t.status != "reported" or len(t.arms) < 2:
            continue
        regimens = {a.id: tuple(a.regimen) for a in t.arms}
        common = {
            "trial": t.id, "regimens": regimens, "setting": t.setting.value,
            "prior_trastuzumab": t.population.prior_trastuzumab,
        }
        for o in t.outcomes:
            if f"{t.id}/{o.id}" in excluded:
                continue
            published = kb.published(t, o)
            if as_of is not None and published > as_of:
                continue
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
                    outcome=o.id, endpoint=ep, kind="log_hr", observed=math.log(o.value), se=se,
                    arm=o.arms[0], reference=o.arms[1], require=require,
                    anchor=control_anchor(t, ep, o.arms[1]), published=published, **common,
                ))
        # response rates: every arm against the trial's reference arm
        for ep in BINARY:
            rates = [o for o in t.outcomes if o.kind == "rate" and o.endpoint.value == ep
                     and o.subgroup is None and f"{t.id}/{o.id}" not in excluded
                     and (as_of is None or kb.published(t, o) <= as_of)]
            arms_with = {o.arm for o in rates}
            if len(arms_with) < 2:
                continue
            ref = next((a.id for a in t.arms if a.role == "control" and a.id in arms_with),
                       next(a.id for a in t.arms if a.id in arms_with))
            ref_rate = next(o for o in rates if o.arm == ref)
            for o in rates:
                if o.arm == ref:
                    continue
                n = _arm_n(t, o.arm) or 100
                p = o.value / 100.0
                se = math.sqrt(max(p * (1 - p), 0.01) / n)
                out.append(Target(
                    outcome=o.id, endpoint=ep, kind="rate", observed=p, se=se, arm=o.arm,
                    reference=ref, require=(), anchor=("rate_binary", ref_rate.value / 100.0, 0.0),
                    published=kb.published(t, o), n=n, **common,
                ))
    return out


# --------------------------------------------------------------------------- prediction


@dataclass
class Predictor:
    """Predicts targets from the link parameters, with responses computed once and reused.

    Panels are drawn per (trial population, ``assumption_scale``) with common random numbers,
    so neighbouring scales share most profiles and their cached responses.
    """

    responses: ResponseModel
    panel_size: int = 64
    seed: int = 20140812
    _panels: dict[tuple[str, float], Any] = field(default_factory=dict, repr=False)

    def arm_panels(
        self, target: Target, assumption_scale: float = 1.0,
        potency: tuple[tuple[str, float], ...] = (),
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = (target.population_key, float(assumption_scale))
        if key not in self._panels:
            pop = Population.for_setting(
                target.setting, prior_trastuzumab=target.prior_trastuzumab,
                require=target.require, assumption_scale=assumption_scale,
            )
            self._panels[key] = panel_for(pop, self.panel_size, key[0], self.seed)
        sample = self._panels[key]
        w = sample.counts() / sample.n
        r_arm = self.responses.responses(sample.masks, target.regimens[target.arm], potency)
        r_ref = self.responses.responses(sample.masks, target.regimens[target.reference],
                                         potency)
        return w, r_arm, r_ref

    def predict(self, target: Target, params: LinkParams) -> float:
        w, r_arm, r_ref = self.arm_panels(target, params.assumption_scale, params.potency)
        if target.kind == "log_hr":
            shape = WEIBULL_SHAPE.get(target.endpoint, 1.0)
            m_arm, m_ref = np.exp(-params.beta * r_arm), np.exp(-params.beta * r_ref)
            kind, a, b = target.anchor
            if kind == "median":
                scale = anchor_scale(m_ref, w, shape, a)
            else:
                scale = anchor_scale_from_rate(m_ref, w, shape, a, b)
            accrual, follow = FOLLOW_UP[group_of_setting(target.setting)]
            return limiting_cox_log_hr(m_arm, m_ref, w, shape=shape, scale=scale,
                                       accrual=accrual, follow_up=follow)
        ref_rate = target.anchor[1]
        alpha = anchor_intercept(r_ref, w, params.gamma, ref_rate)
        return binary_rates({"arm": r_arm}, w, params.gamma, alpha)["arm"]


def assumption_scale_prior_sd() -> float:
    """SD of log(assumption_scale): the mean half-width, in log-odds, of the 95% intervals that
    the prevalence file states for its assumption-based priors, divided by 1.96."""
    table = load_prevalence()
    widths = []
    for prior in table.mechanisms.values():
        if prior.kind != "assumption":
            continue
        e = prior.early
        lo = math.log(e.low / (1 - e.low))
        hi = math.log(e.high / (1 - e.high))
        widths.append((hi - lo) / 2)
    return float(np.mean(widths) / 1.96)


def default_potency(drug: str) -> float:
    from her2lab.pathway.drugs import DRUGS

    return DRUGS[drug].potency


def _penalty(params: LinkParams, scale_sd: float) -> float:
    total = 0.0
    for name in ("beta", "gamma"):
        m, s, _ = PRIORS[name]
        total += ((getattr(params, name) - m) / s) ** 2
    for drug, v in params.potency:
        total += ((v - default_potency(drug)) / POTENCY_PRIOR_SD) ** 2
    return total + (math.log(params.assumption_scale) / scale_sd) ** 2


def _objective(params: LinkParams, targets: Sequence[Target], pred: Predictor,
               scale_sd: float) -> float:
    """``sum z^2`` over targets plus the priors' penalties."""
    total = _penalty(params, scale_sd)
    for t in targets:
        p = pred.predict(t, params)
        if math.isnan(p):
            return 1e12
        total += ((p - t.observed) / t.se) ** 2
    return total


def fit_at_scale(
    targets: Sequence[Target], pred: Predictor, assumption_scale: float = 1.0,
    potency: tuple[tuple[str, float], ...] = (),
) -> LinkParams:
    """``(beta, gamma)`` at a fixed ``assumption_scale``.

    ``beta`` enters only the hazard-ratio targets and ``gamma`` only the rate targets, so the
    objective separates into two one-dimensional problems, each solved by bounded Brent search.
    """
    best = {}
    for name, kind in (("beta", "log_hr"), ("gamma", "rate")):
        sub = [t for t in targets if t.kind == kind]
        m, sd, _ = PRIORS[name]
        if not sub:
            best[name] = m
            continue

        def f(v: float, sub=sub, name=name, m=m, sd=sd) -> float:
            params = LinkParams(**{name: v, "assumption_scale": assumption_scale,
                                   "potency": potency})
            total = ((v - m) / sd) ** 2
            for t in sub:
                p = pred.predict(t, params)
                if math.isnan(p):
                    return 1e12
                total += ((p - t.observed) / t.se) ** 2
            return total

        res = optimize.minimize_scalar(f, bounds=BOUNDS[name], method="bounded",
                                       options={"xatol": 1e-4})
        best[name] = float(res.x)
    return LinkParams(beta=best["beta"], gamma=best["gamma"], assumption_scale=assumption_scale,
                      potency=potency)


def fit(
    targets: Sequence[Target], pred: Predictor, scales: Sequence[float] = SCALE_GRID
) -> tuple[LinkParams, float]:
    """Minimise the objective: ``assumption_scale`` profiled on its grid at the default
    potencies, then each calibrated drug's potency profiled on its grid at that scale, with
    ``(beta, gamma)`` fitted at every point; deterministic for given targets."""
    scale_profile, potency_profile = _profiles(targets, pred, scales)
    return min(scale_profile + potency_profile, key=lambda x: x[1])


def _profiles(targets, pred, scales):
    """The two profiles: over the scale (default potencies), then over potencies at the
    best scale. Each entry is ``(params, objective)``."""
    sd = assumption_scale_prior_sd()
    scale_profile = []
    for s in scales:
        params = fit_at_scale(targets, pred, s)
        scale_profile.append((params, _objective(params, targets, pred, sd)))
    best = min(scale_profile, key=lambda x: x[1])[0]
    potency_profile = []
    for drug, grid in POTENCY_GRID.items():
        if not any(drug in r for t in targets for r in t.regimens.values()):
            continue
        for v in grid:
            params = fit_at_scale(targets, pred, best.assumption_scale, ((drug, v),))
            potency_profile.append((params, _objective(params, targets, pred, sd)))
    return scale_profile, potency_profile


def _by_trial(targets: Sequence[Target]) -> dict[str, list[Target]]:
    out: dict[str, list[Target]] = {}
    for t in targets:
        out.setdefault(t.trial, []).append(t)
    return out


def predict(
    target: Target, params: LinkParams, pred: Predictor, boot: Sequence[LinkParams] = ()
) -> dict[str, Any]:
    """Point prediction and 95% predicted interval (parameter + sampling uncertainty)."""
    p = pred.predict(target, params)
    draws = [pred.predict(target, b) for b in boot]
    param_sd = float(np.std(draws, ddof=1)) if len(draws) > 1 else 0.0
    if target.kind == "log_hr":
        sampling_sd = target.se
    else:
        n = target.n or 100
        sampling_sd = math.sqrt(max(p * (1 - p), 1e-4) / n)
    sd = math.hypot(param_sd, sampling_sd)
    lo, hi = p - 1.96 * sd, p + 1.96 * sd
    return {"predicted": p, "pred_low": lo, "pred_high": hi, "param_sd": param_sd}


def _row(t: Target, pr: dict[str, Any]) -> dict[str, Any]:
    if t.kind == "log_hr":
        rep = math.exp(t.observed)
        z = stats.norm.ppf(0.975)
        return {
            "trial": t.trial, "outcome": t.outcome, "endpoint": t.endpoint, "measure": "HR",
            "subgroup": ",".join(t.require) or None, "arms": f"{t.arm} vs {t.reference}",
            "reported": rep, "reported_low": math.exp(t.observed - z * t.se),
            "reported_high": math.exp(t.observed + z * t.se),
            "predicted": math.exp(pr["predicted"]), "pred_low": math.exp(pr["pred_low"]),
            "pred_high": math.exp(pr["pred_high"]),
            "inside_reported_ci": bool(math.exp(t.observed - z * t.se) <= math.exp(
                pr["predicted"]) <= math.exp(t.observed + z * t.se)),
            "reported_inside_prediction": bool(pr["pred_low"] <= t.observed <= pr["pred_high"]),
            "abs_error": abs(pr["predicted"] - t.observed),
            "direction_ok": bool(np.sign(pr["predicted"]) == np.sign(t.observed)),
            "published": t.published.isoformat(),
        }
    return {
        "trial": t.trial, "outcome": t.outcome, "endpoint": t.endpoint, "measure": "rate",
        "subgroup": None, "arms": f"{t.arm} vs {t.reference}",
        "reported": 100 * t.observed, "reported_low": 100 * (t.observed - 1.96 * t.se),
        "reported_high": 100 * (t.observed + 1.96 * t.se),
        "predicted": 100 * pr["predicted"], "pred_low": 100 * pr["pred_low"],
        "pred_high": 100 * pr["pred_high"],
        "inside_reported_ci": bool(abs(pr["predicted"] - t.observed) <= 1.96 * t.se),
        "reported_inside_prediction": bool(pr["pred_low"] <= t.observed <= pr["pred_high"]),
        "abs_error": 100 * abs(pr["predicted"] - t.observed),
        "direction_ok": bool(
            np.sign(pr["predicted"] - t.anchor[1]) == np.sign(t.observed - t.anchor[1])
        ),
        "published": t.published.isoformat(),
    }


def calibrate(
    as_of: dt.date,
    *,
    seed: int = 20140812,
    kb: KnowledgeBase | None = None,
    panel_size: int = 64,
    samples: int = 1000,
    bootstrap_reps: int = 100,
    progress: Callable[[str, int, int], Any] | None = None,
) -> Calibration:
    """Fit the link to every target published on or before ``as_of``.

    ``progress(stage, done, total)`` is called as work advances (for a progress bar).
    """
    kb = kb or load()
    targets = targets_from_kb(kb, as_of)
    if not targets:
        raise DataError(f"no trial result in the knowledge base is dated on or before {as_of}")
    pred = Predictor(ResponseModel(samples=samples, seed=seed), panel_size=panel_size, seed=seed)
    _warm(pred, targets, progress)
    scale_profile, potency_profile = _profiles(targets, pred, SCALE_GRID)
    profile = scale_profile + potency_profile
    params, obj = min(profile, key=lambda x: x[1])
    rng = np.random.default_rng(seed)
    boots = _boot(targets, pred, bootstrap_reps, rng, progress, params)
    intervals = {
        name: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
        for name, v in (("beta", [b.beta for b in boots]), ("gamma", [b.gamma for b in boots]))
    } if boots else {}
    # profile likelihood intervals: grid values within chi2(1, 0.95) = 3.84 of the best
    best_scale = min(o for _, o in scale_profile)
    kept = [p.assumption_scale for p, o in scale_profile if o <= best_scale + 3.84]
    intervals["assumption_scale"] = (min(kept), max(kept))
    for drug in POTENCY_GRID:
        pts = [(dict(p.potency)[drug], o) for p, o in potency_profile if drug in dict(p.potency)]
        if pts:
            best = min(o for _, o in pts)
            kept = [v for v, o in pts if o <= best + 3.84]
            intervals[f"potency.{drug}"] = (min(kept), max(kept))
    table = [_row(t, predict(t, params, pred, boots)) for t in targets]
    return Calibration(
        as_of=as_of, seed=seed, params=params, intervals=intervals, targets=targets, table=table,
        settings={"panel_size": panel_size, "samples": samples,
                  "bootstrap_reps": bootstrap_reps, "targets": len(targets),
                  "trials": len(_by_trial(targets))},
        objective=obj, bootstrap=[b.to_dict() for b in boots],
        profile=[{"objective": o, **p.to_dict()} for p, o in profile],
    )


def _warm(pred: Predictor, targets: Sequence[Target], progress) -> None:
    """Simulate every (profile, regimen) the fit will need, with a progress report."""
    total = len(targets) * len(SCALE_GRID)
    done = 0
    for s in SCALE_GRID:
        for t in targets:
            pred.arm_panels(t, s)
            done += 1
            if progress:
                progress("responses", done, total)


def _boot(targets, pred, reps, rng, progress, at: LinkParams) -> list[LinkParams]:
    """Refit ``(beta, gamma)`` on trials resampled with replacement, at the fitted scale and
    potencies."""
    out = []
    groups = list(_by_trial(targets).values())
    for i in range(reps):
        pick = rng.integers(0, len(groups), size=len(groups))
        out.append(fit_at_scale([t for j in pick for t in groups[j]], pred,
                                at.assumption_scale, at.potency))
        if progress:
            progress("bootstrap", i + 1, reps)
    return out


def leave_one_out(
    as_of: dt.date,
    *,
    seed: int = 20140812,
    kb: KnowledgeBase | None = None,
    panel_size: int = 64,
    samples: int = 1000,
    bootstrap_reps: int = 20,
    progress: Callable[[str, int, int], Any] | None = None,
) -> dict[str, Any]:
    """Refit without each trial and predict it; rows and summary metrics."""
    kb = kb or load()
    targets = targets_from_kb(kb, as_of)
    pred = Predictor(ResponseModel(samples=samples, seed=seed), panel_size=panel_size, seed=seed)
    _warm(pred, targets, progress)
    groups = _by_trial(targets)
    rows = []
    rng = np.random.default_rng(seed)
    for i, (trial, held) in enumerate(groups.items()):
        rest = [t for t in targets if t.trial != trial]
        params, _ = fit(rest, pred)
        boots = _boot(rest, pred, bootstrap_reps, rng, None, params)
        for t in held:
            row = _row(t, predict(t, params, pred, boots))
            row["params"] = params.to_dict()
            rows.append(row)
        if progress:
            progress("leave-one-out", i + 1, len(groups))
    return {"as_of": as_of.isoformat(), "rows": rows, "summary": summarise(rows)}


def forward(
    as_of: dt.date,
    *,
    seed: int = 20140812,
    kb: KnowledgeBase | None = None,
    panel_size: int = 64,
    samples: int = 1000,
    bootstrap_reps: int = 50,
    progress: Callable[[str, int, int], Any] | None = None,
) -> dict[str, Any]:
    """Calibrate on results up to ``as_of``; predict every result published after it."""
    kb = kb or load()
    cal = calibrate(as_of, seed=seed, kb=kb, panel_size=panel_size, samples=samples,
                    bootstrap_reps=bootstrap_reps, progress=progress)
    later = [t for t in targets_from_kb(kb, None) if t.published > as_of]
    pred = Predictor(ResponseModel(samples=samples, seed=seed), panel_size=panel_size, seed=seed)
    boots = [LinkParams(**b) for b in cal.bootstrap]
    rows = [_row(t, predict(t, cal.params, pred, boots)) for t in later]
    return {"as_of": as_of.isoformat(), "params": cal.params.to_dict(), "rows": rows,
            "summary": summarise(rows)}


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Median absolute error in log HR and pCR points, direction accuracy, coverage."""
    hr = [r for r in rows if r["measure"] == "HR"]
    rate = [r for r in rows if r["measure"] == "rate"]

    def med(xs):
        return float(np.median(xs)) if xs else None

    def share(xs):
        return float(np.mean(xs)) if xs else None

    return {
        "n_hr": len(hr),
        "n_rate": len(rate),
        "median_abs_error_log_hr": med([r["abs_error"] for r in hr]),
        "median_abs_error_rate_points": med([r["abs_error"] for r in rate]),
        "direction_accuracy": share([r["direction_ok"] for r in rows]),
        "coverage": share([r["reported_inside_prediction"] for r in rows]),
        "inside_reported_ci": share([r["inside_reported_ci"] for r in rows]),
    }
