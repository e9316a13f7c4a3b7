"""A virtual trial: patient types anchored on the control arm, expected effects with prediction
intervals, and replicated simulated trials analysed with lifelines' estimators (or their exact
NumPy twins).

Public entry points (exported by :mod:`her2lab.virtual_trials`; what the command line, the
REST API, the report and the main job call):

* :func:`simulate` -- a knowledge-base trial (or a :class:`TrialPlan`);
* :func:`predict` -- a new trial from its specification (a YAML path or a ``TrialSpec``);
* :func:`design` -- patients per arm for a power, by simulation beside the closed form (for a
  specification or a plan).

Each returns a typed result (:class:`TrialResult`, :class:`DesignResult`) with ``to_dict()``
for JSON. Every effect carries ``expected``: the model's deterministic effect for that design
(limiting Cox HR; OR and difference for binary endpoints) with a 95% prediction interval that
combines the parameters' uncertainty (fixed draws from the calibration's covariance), the
baseline's uncertainty when it came from the setting's control arms (:mod:`.baselines`), and the
trial's sampling error (from its size and expected events). Replicate summaries stay beside it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from her2lab.errors import SimulationError
from her2lab.knowledge import BINARY, TIME_TO_EVENT, KnowledgeBase, load
from her2lab.virtual_trials.baselines import baseline_for
from her2lab.virtual_trials.calibration import Calibration, RunSettings
from her2lab.virtual_trials.fit import draws
from her2lab.virtual_trials.link import KINETICS, Anchor, Prepared
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.plan import PlanArm, TrialPlan
from her2lab.virtual_trials.stats.analyze import (
    Distribution,
    ReplicateSummary,
    analyze_binary,
    analyze_survival,
    summarize_replicates,
)
from her2lab.virtual_trials.stats.simulate import censor_times, dropout_rate, simulate_binary

if TYPE_CHECKING:
    from her2lab.virtual_trials.spec import TrialSpec

__all__ = [
    "ArmResult",
    "DesignResult",
    "EffectResult",
    "TrialPlan",
    "TrialResult",
    "design",
    "plan_of_spec",
    "predict",
    "run_trial",
    "simulate",
]

Z95 = 1.959963984540054


# --------------------------------------------------------------------------- typed results


@dataclass
class EffectResult:
    """One comparison: the model's expected effect with its 95% prediction interval.

    Attributes
    ----------
    arm : str
        The experimental arm.
    control : str
        The control arm.
    measure : str
        ``HR``, ``OR`` or ``difference`` (percentage points).
    expected : float
        The model's deterministic effect for this design (limiting Cox HR; OR or difference
        for binary endpoints).
    pred_low, pred_high : float
        Its 95% prediction interval: the parameters' uncertainty, the baseline's and the
        trial's sampling error combined.
    param_sd : float
        The part from the parameters' uncertainty: the standard deviation over parameter draws
        (of the log effect for HR and OR).
    replicates : Distribution or None
        The distribution of the simulated replicates' estimates.
    """

    arm: str
    control: str
    measure: str  # "HR", "OR", "difference" (points)
    expected: float
    pred_low: float
    pred_high: float
    param_sd: float
    replicates: Distribution | None = None

    def to_dict(self) -> dict[str, Any]:
        """The comparison as a JSON-ready dict.

        Returns
        -------
        dict
            Every field, ``replicates`` as its distribution's dict (or None).
        """
        d = {k: v for k, v in asdict(self).items() if k != "replicates"}
        d["replicates"] = None if self.replicates is None else self.replicates.to_dict()
        return d


@dataclass
class ArmResult:
    """One arm of a simulated trial.

    Attributes
    ----------
    name : str
        The arm's name.
    n : int
        Patients in the arm.
    schedule : list of dict
        Its schedule, phase by phase.
    expected : float or None
        The expected median (months), rate (percent) or landmark event-free share (percent).
    pred_low, pred_high : float or None
        Its 95% prediction interval.
    unit : str
        ``"percent"``, ``"months (median)"`` or ``"percent event-free at L months"``.
    first_replicate : dict
        The first replicate's analysis of the arm.
    """

    name: str
    n: int
    schedule: list[dict[str, Any]]
    expected: float | None
    pred_low: float | None
    pred_high: float | None
    unit: str  # "percent", "months (median)" or "percent event-free at L months"
    first_replicate: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The arm as a JSON-ready dict.

        Returns
        -------
        dict
            Every field.
        """
        return asdict(self)


@dataclass
class TrialResult:
    """A simulated trial (see the module docstring).

    Attributes
    ----------
    trial : str
        The trial's name.
    endpoint : str
        The endpoint simulated.
    control : str
        The control arm.
    params : dict
        The link's parameters used.
    parameter_source : str
        Where they came from (a calibration, or the priors).
    anchor : Anchor
        What fixed the baseline (a control median, landmark rate or response rate).
    arms : list of ArmResult
        Per arm.
    effects : list of EffectResult
        Every comparison with the control (the primary one first).
    replicates : ReplicateSummary
        The simulated replicates' summary and power.
    first_effect : dict
        The first replicate's primary effect.
    curves : dict
        For time to event, the first replicate's Kaplan–Meier curve per arm (``time``,
        ``survival``, ``at_risk``); empty for binary endpoints.
    settings : dict
        The Monte Carlo settings (replicates, seed, samples, panel size).
    """

    trial: str
    endpoint: str
    control: str
    params: dict[str, Any]
    parameter_source: str
    anchor: Anchor
    arms: list[ArmResult]
    effects: list[EffectResult]
    replicates: ReplicateSummary
    first_effect: dict[str, Any]
    curves: dict[str, dict[str, list[float]]]
    settings: dict[str, Any]

    @property
    def effect(self) -> EffectResult:
        """The primary comparison (first experimental arm; HR or OR)."""
        return self.effects[0]

    def effect_for(self, arm: str, measure: str) -> EffectResult:
        """The comparison of one arm, on one measure.

        Parameters
        ----------
        arm : str
            The experimental arm.
        measure : str
            ``HR``, ``OR`` or ``difference``.

        Returns
        -------
        EffectResult
            The comparison.
        """
        return next(e for e in self.effects if e.arm == arm and e.measure == measure)

    def to_dict(self, *, curves: bool = True) -> dict[str, Any]:
        """The result as a JSON-ready dict, with the not-medical-advice disclaimer.

        Parameters
        ----------
        curves : bool, optional
            Include the Kaplan–Meier curves (default True).

        Returns
        -------
        dict
            The trial, endpoint, parameters, anchor, arms, effects, replicates and settings.
        """
        out = {
            "trial": self.trial, "endpoint": self.endpoint, "control": self.control,
            "params": self.params, "parameter_source": self.parameter_source,
            "anchor": self.anchor.to_dict(), "arms": [a.to_dict() for a in self.arms],
            "effects": [e.to_dict() for e in self.effects], "effect": self.first_effect,
            "replicates": self.replicates.to_dict(), "settings": self.settings,
            "disclaimer": "Research use only: simulated results, not medical advice.",
        }
        if curves:
            out["curves"] = self.curves
        return out


# --------------------------------------------------------------------------- expectation


def _events(o, plan: TrialPlan) -> float:
    """Expected share of an arm's patients with an observed event (``int f G dt``)."""
    c = o.curves
    tmax = plan.accrual_months + plan.follow_up_months
    dt_ = np.diff(np.concatenate([[0.0], c.t]))
    admin = (np.clip((tmax - c.t) / plan.accrual_months, 0, 1) if plan.accrual_months > 0
             else (c.t <= tmax).astype(float))
    g = admin * np.exp(-dropout_rate(plan.dropout_per_year) * c.t)
    return float(np.sum(c.f * g * dt_))


def _sampling_sd(prep: Prepared, plan: TrialPlan, arm: str, measure: str) -> float:
    ctrl = plan.control
    ne, nc = plan.arm(arm).n, plan.arm(ctrl).n
    oe, oc = prep.outcomes[arm], prep.outcomes[ctrl]
    if measure == "HR":
        de, dc = ne * _events(oe, plan), nc * _events(oc, plan)
        return math.sqrt(1 / max(de, 0.5) + 1 / max(dc, 0.5))
    pe, pc = oe.rate, oc.rate
    if measure == "OR":
        return math.sqrt(1 / max(ne * pe * (1 - pe), 0.25) + 1 / max(nc * pc * (1 - pc), 0.25))
    return 100 * math.sqrt(pe * (1 - pe) / ne + pc * (1 - pc) / nc)


def _anchor_draw(plan: TrialPlan, z: float, kb: KnowledgeBase | None) -> Anchor:
    """The anchor at ``z`` SDs of the baseline's uncertainty (a baseline anchor only)."""
    a = plan.anchor
    if not a.source.startswith("baseline"):
        return a
    b = baseline_for(plan.setting, plan.endpoint, as_of=plan.as_of, kb=kb,
                     prior_trastuzumab=plan.prior_trastuzumab)
    out = replace(a, value=b.draw(z))
    if a.pfs is not None and a.pfs.source.startswith("baseline"):
        bp = baseline_for(plan.setting, "PFS", as_of=plan.as_of, kb=kb,
                          prior_trastuzumab=plan.prior_trastuzumab)
        out = replace(out, pfs=replace(a.pfs, value=bp.draw(z)))
    return out


def expectation(plan: TrialPlan, cal: Calibration, model: TrialModel, *, seed: int,
                k: int = 40, kb: KnowledgeBase | None = None
                ) -> tuple[Prepared, list[EffectResult], dict[str, tuple[float, float]]]:
    """Expected effects with prediction intervals, and each arm's prediction interval.

    Parameters
    ----------
    plan : TrialPlan
        The trial.
    cal : Calibration
        Parameters and covariance (the prediction interval's parameter part: ``k`` fixed
        draws from the covariance, seeded by ``seed``).
    model : TrialModel
        The patient types and the pathway model's rates.
    seed : int
        The draws' seed (common random numbers across predictions).
    """
    prep = model.prepare(plan, cal.params)
    pdraws = draws(cal.params, cal.cov, k, seed)
    zs = np.random.default_rng([seed, 1]).standard_normal(k)
    sims = [model.prepare(plan, p, _anchor_draw(plan, float(z), kb))
            for p, z in zip(pdraws, zs, strict=True)]
    effects = []
    for e in prep.effects:
        vals = [next(x.estimate for x in s.effects if x.arm == e.arm and x.measure == e.measure)
                for s in sims]
        samp = _sampling_sd(prep, plan, e.arm, e.measure)
        if e.measure in ("HR", "OR"):
            lv = np.log([v for v in vals if v > 0 and math.isfinite(v)])
            psd = float(np.std(lv, ddof=1)) if lv.size > 1 else 0.0
            sd = math.hypot(psd, samp)
            c = math.log(e.estimate)
            lo, hi = math.exp(c - Z95 * sd), math.exp(c + Z95 * sd)
        else:
            psd = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
            sd = math.hypot(psd, samp)
            lo, hi = max(e.estimate - Z95 * sd, -100.0), min(e.estimate + Z95 * sd, 100.0)
        effects.append(EffectResult(e.arm, e.control, e.measure, e.estimate, lo, hi, psd))
    arm_pi: dict[str, tuple[float, float]] = {}
    for a in plan.arms:
        o = prep.outcomes[a.name]
        if o.rate is not None:
            lg = [math.log(max(s.outcomes[a.name].rate, 1e-9) / max(1 - s.outcomes[a.name].rate,
                                                                    1e-9)) for s in sims]
            p = min(max(o.rate, 1e-9), 1 - 1e-9)
            sd = math.hypot(float(np.std(lg, ddof=1)), math.sqrt(1 / max(a.n * p * (1 - p), 0.25)))
            c = math.log(p / (1 - p))
            arm_pi[a.name] = (100 / (1 + math.exp(-(c - Z95 * sd))),
                              100 / (1 + math.exp(-(c + Z95 * sd))))
        elif _landmark(plan) is not None:
            lt = _landmark(plan)
            v = [100 * s.outcomes[a.name].curves.at(lt) for s in sims]
            arm_pi[a.name] = (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
        else:
            meds = [s.outcomes[a.name].curves.median() for s in sims]
            lm = np.log([m for m in meds if m])
            if lm.size > 1:
                arm_pi[a.name] = (float(np.exp(np.percentile(lm, 2.5))),
                                  float(np.exp(np.percentile(lm, 97.5))))
    return prep, effects, arm_pi


def _landmark(plan: TrialPlan) -> float | None:
    """Early disease reports event-free shares at a landmark rather than medians."""
    if not plan.early or plan.endpoint in BINARY:
        return None
    return plan.landmark_months or plan.anchor.time or 36.0


# --------------------------------------------------------------------------- simulation


def _draw_arm(prep: Prepared, plan: TrialPlan, arm: PlanArm, rng: np.random.Generator):
    o = prep.outcomes[arm.name]
    idx = rng.choice(o.weights.size, size=arm.n, p=o.weights / o.weights.sum())
    if plan.endpoint in BINARY:
        return simulate_binary(rng, o.prob[idx])
    t = o.median[idx] * np.exp(KINETICS["kinetic_sd"].value * rng.standard_normal(arm.n))
    if o.cure is not None:
        t = np.where(rng.random(arm.n) < o.cure[idx], np.inf, t)
    if o.pps_median is not None:
        t = t + o.pps_median[idx] * np.exp(KINETICS["pps_sd"].value * rng.standard_normal(arm.n))
    return t


def simulate_once(plan: TrialPlan, prep: Prepared, rng: np.random.Generator):
    """One replicate: ``(outcome arrays, arm labels)``; survival gives ``(time, event)``."""
    parts = [_draw_arm(prep, plan, a, rng) for a in plan.arms]
    arm = np.repeat(np.array([a.name for a in plan.arms]), [a.n for a in plan.arms])
    if plan.endpoint in TIME_TO_EVENT:
        time, event = censor_times(rng, np.concatenate(parts),
                                   accrual_months=plan.accrual_months,
                                   follow_up_months=plan.follow_up_months,
                                   dropout_per_year=plan.dropout_per_year)
        return (time, event), arm
    return (np.concatenate(parts),), arm


def analyze(plan: TrialPlan, data, arm, *, alpha: float = 0.05):
    if plan.endpoint in TIME_TO_EVENT:
        time, event = data
        return analyze_survival(time, event, arm, control=plan.control,
                                landmark_months=plan.landmark_months, alpha=alpha,
                                engine="numpy")
    return analyze_binary(data[0], arm, control=plan.control, alpha=alpha, measure="OR")


def _resolve(calibration: Calibration | None, settings: RunSettings | None,
             model: TrialModel | None) -> tuple[Calibration, RunSettings, TrialModel]:
    """The calibration (the priors when ``None``), the run settings (the calibration's unless
    given) and the trial model built for them (unless given): the one place every entry point
    takes its defaults from."""
    cal = calibration if calibration is not None else Calibration.priors()
    run = settings if settings is not None else cal.settings
    return cal, run, model or TrialModel.for_settings(run)


def run_trial(
    plan: TrialPlan,
    calibration: Calibration | None = None,
    *,
    settings: RunSettings | None = None,
    alpha: float = 0.05,
    model: TrialModel | None = None,
    kb: KnowledgeBase | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> TrialResult:
    """Expected effects with intervals, then ``settings.replicates`` simulated copies of
    ``plan``.

    Parameters
    ----------
    plan : TrialPlan
        The trial (from the knowledge base or a specification).
    calibration : Calibration, optional
        The link's parameters and covariance; ``None``: the priors.
    settings : RunSettings, optional
        Monte Carlo settings; by default the calibration's own.
    alpha : float
        Two-sided level of the replicates' tests.
    model : TrialModel, optional
        A ready trial model (tests pass fakes); by default one built for ``settings``.
    kb : KnowledgeBase, optional
        For baselines drawn from the setting's control arms.
    progress : callable, optional
        ``progress(done, total)`` after each replicate.

    Returns
    -------
    TrialResult
    """
    cal, run, model = _resolve(calibration, settings, model)
    replicates, seed = run.replicates, run.seed
    if replicates < 1:
        raise SimulationError(f"replicates must be at least 1; got {replicates}")
    prep, effects, arm_pi = expectation(plan, cal, model, seed=seed, kb=kb)
    rng = np.random.default_rng(seed)
    analyses = []
    for i in range(replicates):
        data, arm = simulate_once(plan, prep, rng)
        analyses.append(analyze(plan, data, arm, alpha=alpha))
        if progress:
            progress(i + 1, replicates)
    summary = summarize_replicates(analyses, alpha=alpha)
    by_effect: dict[tuple[str, str], list[float | None]] = {}
    for a in analyses:
        for e in a.effects:
            by_effect.setdefault((e.arm, e.measure), []).append(e.estimate)
    for e in effects:
        vals = by_effect.get((e.arm, e.measure))
        if vals is not None:
            scale = 100.0 if e.measure == "difference" else 1.0
            e.replicates = Distribution.of([None if v is None else v * scale for v in vals])
    first = analyses[0].to_dict()
    arms = []
    for a in plan.arms:
        o = prep.outcomes[a.name]
        fa = next((x for x in first["arms"] if x["name"] == a.name), {})
        if o.rate is not None:
            lo, hi = arm_pi.get(a.name, (None, None))
            arms.append(ArmResult(a.name, a.n, a.schedule.to_dict(), 100 * o.rate, lo, hi,
                                  "percent", fa))
        elif _landmark(plan) is not None:
            lo, hi = arm_pi.get(a.name, (None, None))
            lt = _landmark(plan)
            arms.append(ArmResult(a.name, a.n, a.schedule.to_dict(), 100 * o.curves.at(lt),
                                  lo, hi, f"percent event-free at {lt:g} months", fa))
        else:
            lo, hi = arm_pi.get(a.name, (None, None))
            arms.append(ArmResult(a.name, a.n, a.schedule.to_dict(), o.curves.median(), lo, hi,
                                  "months (median)", fa))
    curves = {}
    if plan.endpoint in TIME_TO_EVENT:
        curves = {name: {"time": c.times.tolist(), "survival": c.survival.tolist(),
                         "at_risk": c.at_risk.tolist()}
                  for name, c in analyses[0].curves.items()}
    return TrialResult(
        trial=plan.name, endpoint=plan.endpoint, control=plan.control,
        params=cal.params.to_dict(), parameter_source=cal.source, anchor=prep.anchor, arms=arms,
        effects=effects, replicates=summary, first_effect=first["effect"], curves=curves,
        settings={"replicates": replicates, "seed": seed, "samples": model.rates.samples,
                  "panel_size": model.panel_size, "setting": plan.setting,
                  "calibration_as_of": None if cal.as_of is None else cal.as_of.isoformat(),
                  "accrual_months": plan.accrual_months,
                  "follow_up_months": plan.follow_up_months,
                  "dropout_per_year": plan.dropout_per_year,
                  "as_of": None if plan.as_of is None else plan.as_of.isoformat()},
    )


def _as_of(calibration: Calibration | None, as_of: dt.date | None) -> dt.date | None:
    """The date of the baselines: the one given, else the calibration's (the one place the
    plan's ``as_of`` defaults from the calibration)."""
    if as_of is not None or calibration is None:
        return as_of
    return calibration.as_of


def simulate(
    trial: str | TrialPlan, calibration: Calibration | None = None, *,
    endpoint: str | None = None, as_of: dt.date | None = None,
    settings: RunSettings | None = None, model: TrialModel | None = None,
    kb: KnowledgeBase | None = None, alpha: float = 0.05,
    progress: Callable[[int, int], Any] | None = None,
) -> TrialResult:
    """Simulate a knowledge-base trial (ID or alias) or a ready :class:`TrialPlan`.

    Parameters
    ----------
    trial : str or TrialPlan
        A trial of the knowledge base (ID, NCT number or alias), or a plan.
    calibration : Calibration, optional
        ``None``: the priors.
    endpoint : str, optional
        The endpoint to simulate (default: the trial's primary endpoint).
    as_of : datetime.date, optional
        The date of the evidence for baselines and priors (default: the calibration's).
    settings, model, kb, alpha, progress
        As for :func:`run_trial`.

    Returns
    -------
    TrialResult
        Expected effects with 95% prediction intervals, per-arm medians or rates, and the
        summary of ``settings.replicates`` simulated copies of the trial.

    Raises
    ------
    UnknownIdError
        If the trial is not in the knowledge base.
    SimulationError
        If the trial cannot be simulated (fewer than two arms, or an endpoint that is
        neither time to event nor binary).
    """
    if isinstance(trial, TrialPlan):
        plan = trial
    else:
        kb = kb or load()
        plan = TrialPlan.from_kb(trial, kb, endpoint=endpoint,
                                 as_of=_as_of(calibration, as_of))
    return run_trial(plan, calibration, settings=settings, model=model, kb=kb, alpha=alpha,
                     progress=progress)


def plan_of_spec(spec: str | Path | TrialSpec, calibration: Calibration | None = None, *,
                 as_of: dt.date | None = None, kb: KnowledgeBase | None = None) -> TrialPlan:
    """The plan of a specification (a YAML path or a ``TrialSpec``), its baselines as of
    ``as_of`` (default: the calibration's date)."""
    if isinstance(spec, str | Path):
        from her2lab.virtual_trials.spec import load_spec

        spec = load_spec(spec, kb)
    return TrialPlan.from_spec(spec, as_of=_as_of(calibration, as_of), kb=kb)


def predict(spec: str | Path | TrialSpec, calibration: Calibration | None = None, *,
            as_of: dt.date | None = None, settings: RunSettings | None = None,
            model: TrialModel | None = None, kb: KnowledgeBase | None = None,
            alpha: float = 0.05, progress: Callable[[int, int], Any] | None = None
            ) -> TrialResult:
    """Predict a new trial from its specification.

    Parameters
    ----------
    spec : str, Path or TrialSpec
        A YAML path or a validated specification.
    calibration : Calibration, optional
        ``None``: the priors.
    as_of : datetime.date, optional
        Without a control-arm level in the spec, the baseline comes from the knowledge base's
        control arms of the setting published on or before this date (default: the
        calibration's date).
    settings, model, kb, alpha, progress
        As for :func:`run_trial`.

    Returns
    -------
    TrialResult
        Expected effects with 95% prediction intervals, per-arm medians or rates, and the
        summary of the simulated replicates.

    Raises
    ------
    ValidationError
        If the specification file is invalid (file, line and field named).
    SimulationError
        If the trial cannot be simulated as specified.
    """
    return run_trial(plan_of_spec(spec, calibration, as_of=as_of, kb=kb), calibration,
                     settings=settings, model=model, kb=kb, alpha=alpha, progress=progress)


# --------------------------------------------------------------------------- design


@dataclass
class DesignResult:
    """Patients per arm for a power: by simulation and by the closed-form formula.

    Attributes
    ----------
    trial : str
        The trial's name.
    endpoint : str
        The endpoint.
    arms : list of str
        ``[experimental, control]``.
    power : float
        The target power.
    alpha : float
        The two-sided level.
    expected : EffectResult
        The model's expected effect, the one the formula is for.
    simulation : dict
        :meth:`SampleSizeEstimate.to_dict` of the simulated search.
    formula : dict
        The closed-form answer (Schoenfeld, or two proportions).
    params : dict
        The link's parameters used.
    """

    trial: str
    endpoint: str
    arms: list[str]
    power: float
    alpha: float
    expected: EffectResult
    simulation: dict[str, Any]
    formula: dict[str, Any]
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The design as a JSON-ready dict, with the not-medical-advice disclaimer.

        Returns
        -------
        dict
            Every field plus ``expected_effect`` (measure and estimate).
        """
        return {"trial": self.trial, "endpoint": self.endpoint, "arms": self.arms,
                "power": self.power, "alpha": self.alpha, "expected": self.expected.to_dict(),
                "expected_effect": {"measure": self.expected.measure,
                                    "estimate": self.expected.expected},
                "simulation": self.simulation, "formula": self.formula, "params": self.params,
                "disclaimer": "Research use only: simulated results, not medical advice."}


def _design_plan(
    plan: TrialPlan, calibration: Calibration | None = None, *, power: float = 0.8,
    alpha: float = 0.05, replicates: int = 400, settings: RunSettings | None = None,
    model: TrialModel | None = None, kb: KnowledgeBase | None = None,
    n_max: int = 1_000_000, progress: Callable[[str, int, int], Any] | None = None,
) -> DesignResult:
    """:func:`design` for a plan."""
    from her2lab.virtual_trials.stats.design import (
        sample_size_by_simulation,
        schoenfeld_design,
        two_proportion_sample_size,
    )

    if len(plan.arms) != 2:
        raise SimulationError(
            f"a design compares two arms; {plan.name} has {len(plan.arms)}: "
            f"{[a.name for a in plan.arms]}")
    cal, run, model = _resolve(calibration, settings, model)
    seed = run.seed
    prep, effects, _ = expectation(plan, cal, model, seed=seed, kb=kb)
    exp_arm = next(a.name for a in plan.arms if a.name != plan.control)

    def one_trial(rng: np.random.Generator, n_per_arm: int):
        data, arm = simulate_once(plan.with_sizes(n_per_arm), prep, rng)
        return (*data, arm)

    sim = sample_size_by_simulation(
        one_trial, power, replicates=replicates, alpha=alpha, rng=np.random.default_rng(seed),
        control=plan.control, n_max=n_max, progress=progress)
    if plan.endpoint in TIME_TO_EVENT:
        e = next(x for x in effects if x.measure == "HR")
        ctrl = prep.outcomes[plan.control].curves.median() or plan.anchor.value
        formula = schoenfeld_design(
            e.expected, control_median=ctrl, shape=1.0, accrual_months=plan.accrual_months,
            follow_up_months=plan.follow_up_months, dropout_per_year=plan.dropout_per_year,
            alpha=alpha, power=power).to_dict()
        formula["n_per_arm"] = max(formula["n_control"], formula["n_experimental"])
        formula["note"] = "exponential times at the control arm's expected median"
    else:
        e = next(x for x in effects if x.measure == "OR")
        pe, pc = prep.outcomes[exp_arm].rate, prep.outcomes[plan.control].rate
        total = two_proportion_sample_size(pc, pe, alpha, power)
        formula = {"method": "two proportions", "n_total": total,
                   "n_per_arm": math.ceil(total / 2), "rates": [pe, pc]}
    return DesignResult(plan.name, plan.endpoint, [exp_arm, plan.control], power, alpha, e,
                        sim.to_dict(), formula, cal.params.to_dict())


def design(
    spec: str | Path | TrialSpec | TrialPlan, calibration: Calibration | None = None, *,
    as_of: dt.date | None = None, power: float = 0.8, alpha: float = 0.05,
    replicates: int = 400, settings: RunSettings | None = None,
    model: TrialModel | None = None, kb: KnowledgeBase | None = None,
    n_max: int = 1_000_000, progress: Callable[[str, int, int], Any] | None = None,
) -> DesignResult:
    """Patients per arm for ``power`` by simulating the model-driven two-arm trial, beside the
    closed-form answer for the model's expected effect (Schoenfeld for time to event, the
    two-proportion formula for binary endpoints). Needs exactly two arms.

    Parameters
    ----------
    spec : str, Path, TrialSpec or TrialPlan
        A two-arm trial: a YAML path, a validated specification, or a ready plan.
    calibration : Calibration, optional
        ``None``: the priors.
    as_of : datetime.date, optional
        As for :func:`predict` (a specification only).
    power, alpha : float
        The target power and two-sided level.
    replicates : int
        Simulated trials per candidate size.
    settings : RunSettings, optional
        Pathway trajectories, panel and seed (default: the calibration's).
    model, kb
        As for :func:`run_trial`.
    n_max : int
        The largest size searched (:func:`~.stats.design.sample_size_by_simulation`).
    progress : callable, optional
        ``progress(stage, done, total)`` as the search advances.

    Returns
    -------
    DesignResult
        Patients per arm by simulation and by formula, with the expected effect.

    Raises
    ------
    SimulationError
        If the plan does not have exactly two arms, or ``n_max`` patients per arm do not
        reach ``power``.
    """
    plan = (spec if isinstance(spec, TrialPlan)
            else plan_of_spec(spec, calibration, as_of=as_of, kb=kb))
    return _design_plan(plan, calibration, power=power, alpha=alpha, replicates=replicates,
                        settings=settings, model=model, kb=kb, n_max=n_max, progress=progress)


def effects_table(results: Sequence[TrialResult]) -> list[dict[str, Any]]:
    """Flat rows of every effect of ``results`` (for CSV)."""
    return [{"trial": r.trial, "endpoint": r.endpoint, **e.to_dict()} for r in results
            for e in r.effects]
