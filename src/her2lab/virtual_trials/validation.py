"""Reported against expected: prediction intervals, leave-one-trial-out, forward validation,
and the null model beside each figure.

For each target the **expected** value is the model's deterministic prediction at the fitted
parameters; its 95% **prediction interval** combines the parameter uncertainty (the spread of
the prediction over fixed draws from the parameters' normal approximation) with the sampling
error of the reported estimate (its SE; for a rate also that of the reference arm that anchors
it), on the log scale for hazard ratios and the logit scale for rates (so rates stay in
[0, 100]).

Metrics (:func:`summarize`): median ``|Δ log HR|``, median ``|Δ pCR points|``, mean ``z²`` with
``z`` = (reported - expected) / the reported estimate's SE (a model that predicts every true
effect exactly scores about 1), coverage of the reported estimate by the 95% prediction interval,
direction accuracy. The **null model** predicts no difference (HR = 1, the reference arm's rate)
with the sampling error alone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from her2lab.knowledge import KnowledgeBase, load
from her2lab.virtual_trials.defaults import DEFAULT_SEED, RunSettings
from her2lab.virtual_trials.fit import Evaluations, draws, fit, leave_out, predict_targets
from her2lab.virtual_trials.link import LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.targets import Target, targets_from_kb

if TYPE_CHECKING:
    from her2lab.virtual_trials.calibration import Calibration

__all__ = ["TargetRow", "forward", "leave_one_out", "rows_for", "summarize"]

Z95 = 1.959963984540054
DRAWS = 40


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@dataclass
class TargetRow:
    """One target, reported against expected (and against the null model)."""

    trial: str
    outcome: str
    endpoint: str
    measure: str  # "HR" or "rate" (percent)
    subgroup: str | None
    arms: str
    derived: str | None
    reported: float
    reported_low: float
    reported_high: float
    expected: float
    pred_low: float
    pred_high: float
    param_sd: float
    z: float
    abs_error: float
    inside_reported_ci: bool
    reported_inside_prediction: bool
    direction_ok: bool | None  # None: the reported effect has no direction (HR 1, no change)
    null_expected: float
    null_z: float
    null_abs_error: float
    null_inside: bool
    published: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rows_for(targets: Sequence[Target], params: LinkParams, cov: np.ndarray,
             model: TrialModel, *, seed: int = DEFAULT_SEED, k: int = DRAWS,
             executor: Any = None) -> list[TargetRow]:
    """Rows for ``targets`` at ``params`` with prediction intervals from ``cov`` (the draws'
    predictions on ``executor``'s workers when given: the same rows)."""
    if not targets:
        return []
    model.prefetch([t.plan for t in targets], offsets=(params.tki_offset,))
    centre = predict_targets(targets, params, model)
    with Evaluations(targets, model, executor) as ev:
        sims = np.array(ev.map("predict", draws(params, cov, k, seed)))
    rows = []
    for i, t in enumerate(targets):
        rows.append(_row(t, centre[i], sims[:, i]))
    return rows


def _row(t: Target, e: float, sims: np.ndarray) -> TargetRow:
    common = {"trial": t.trial, "outcome": t.outcome, "endpoint": t.endpoint,
              "subgroup": t.subgroup, "arms": f"{t.arm} vs {t.reference}",
              "derived": t.derived, "published": t.published.isoformat()}
    if t.kind == "log_hr":
        psd = float(np.std(sims[np.isfinite(sims)], ddof=1)) if sims.size > 1 else 0.0
        sd = math.hypot(psd, t.se)
        z = (t.observed - e) / t.se
        lo, hi = t.observed - Z95 * t.se, t.observed + Z95 * t.se
        return TargetRow(
            measure="HR", reported=math.exp(t.observed), reported_low=math.exp(lo),
            reported_high=math.exp(hi), expected=math.exp(e),
            pred_low=math.exp(e - Z95 * sd), pred_high=math.exp(e + Z95 * sd), param_sd=psd,
            z=z, abs_error=abs(e - t.observed), inside_reported_ci=bool(lo <= e <= hi),
            reported_inside_prediction=bool(abs(t.observed - e) <= Z95 * sd),
            direction_ok=(None if t.observed == 0 else bool(np.sign(e) == np.sign(t.observed))),
            null_expected=1.0, null_z=t.observed / t.se, null_abs_error=abs(t.observed),
            null_inside=bool(abs(t.observed) <= Z95 * t.se), **common)
    pr = float(t.reference_rate)
    le = _logit(e)
    lsims = np.array([_logit(s) for s in sims if math.isfinite(s)])
    psd = float(np.std(lsims, ddof=1)) if lsims.size > 1 else 0.0
    assert t.n is not None  # a rate target carries its arm's size (Trial.arm_size)
    n = t.n
    samp = math.sqrt(1 / (n * max(e * (1 - e), 1e-4)))
    anchor = (t.reference_se or 0.0) / max(pr * (1 - pr), 1e-4)
    sd = math.sqrt(psd ** 2 + samp ** 2 + anchor ** 2)
    # the reported rate's SE against the anchored expectation (its own and the anchor's)
    se_obs = math.hypot(t.se, (t.reference_se or 0.0) * e * (1 - e) / max(pr * (1 - pr), 1e-4))
    z = (t.observed - e) / se_obs
    null_se = math.hypot(t.se, t.reference_se or 0.0)
    return TargetRow(
        measure="rate", reported=100 * t.observed,
        reported_low=100 * max(t.observed - Z95 * t.se, 0.0),
        reported_high=100 * min(t.observed + Z95 * t.se, 1.0), expected=100 * e,
        pred_low=100 * _expit(le - Z95 * sd), pred_high=100 * _expit(le + Z95 * sd),
        param_sd=psd, z=z, abs_error=100 * abs(e - t.observed),
        inside_reported_ci=bool(abs(e - t.observed) <= Z95 * t.se),
        reported_inside_prediction=bool(abs(_logit(t.observed) - le) <= Z95 * sd),
        direction_ok=(None if t.observed == pr
                      else bool(np.sign(e - pr) == np.sign(t.observed - pr))),
        null_expected=100 * pr, null_z=(t.observed - pr) / null_se,
        null_abs_error=100 * abs(t.observed - pr),
        null_inside=bool(abs(t.observed - pr) <= Z95 * null_se), **common)


def summarize(rows: Sequence[TargetRow]) -> dict[str, Any]:
    """The validation figures, the model's and the null model's side by side."""
    hr = [r for r in rows if r.measure == "HR"]
    rate = [r for r in rows if r.measure == "rate"]

    def med(xs):
        return float(np.median(xs)) if xs else None

    def mean(xs):
        return float(np.mean(xs)) if xs else None

    return {
        "n_hr": len(hr), "n_rate": len(rate),
        "median_abs_error_log_hr": med([r.abs_error for r in hr]),
        "median_abs_error_rate_points": med([r.abs_error for r in rate]),
        "mean_z2": mean([r.z ** 2 for r in rows]),
        "coverage": mean([r.reported_inside_prediction for r in rows]),
        # over the targets whose reported effect has a direction (BETH's HR of 1.00 has none)
        "direction_accuracy": mean([r.direction_ok for r in rows if r.direction_ok is not None]),
        "inside_reported_ci": mean([r.inside_reported_ci for r in rows]),
        "null": {
            "median_abs_error_log_hr": med([r.null_abs_error for r in hr]),
            "median_abs_error_rate_points": med([r.null_abs_error for r in rate]),
            "mean_z2": mean([r.null_z ** 2 for r in rows]),
            "coverage": mean([r.null_inside for r in rows]),
            "direction_accuracy": None,
        },
    }


def summary_line(s: dict[str, Any]) -> str:
    """One line of :func:`summarize`'s figures, each beside the null model's (in brackets)."""

    def f(x: Any) -> str:
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"

    n = s["null"]
    return (f"z2 {f(s['mean_z2'])} (null {f(n['mean_z2'])}); |dlog HR| "
            f"{f(s['median_abs_error_log_hr'])} ({f(n['median_abs_error_log_hr'])}); "
            f"|d pCR| {f(s['median_abs_error_rate_points'])} "
            f"({f(n['median_abs_error_rate_points'])}); coverage {f(s['coverage'])} "
            f"({f(n['coverage'])}); direction {f(s['direction_accuracy'])}")


def leave_one_out(
    as_of: dt.date, *, settings: RunSettings | None = None, kb: KnowledgeBase | None = None,
    calibration: Calibration | None = None, model: TrialModel | None = None,
    progress: Callable[[str, int, int], Any] | None = None, refit: bool = False,
    trials: Sequence[str] | None = None, nested: bool = False,
    targets: Sequence[Target] | None = None,
) -> dict[str, Any]:
    """Leave each trial out and predict its targets from the parameters fitted without it;
    rows and summary (model and null), beside the in-sample figures of the full fit.

    Three ways, each out of sample for the trial left out only as far as it says:

    * default: one Newton step from the full fit (:func:`.fit.leave_out`): the full fit, which
      saw the trial, is the starting point and the curvature;
    * ``refit``: a full refit without the trial, started from the full fit (its own Laplace
      covariance): the optimum without the trial, reached from a point that saw it;
    * ``nested``: the whole calibration repeated without the trial, as :func:`.calibrate`
      runs it: every parameter fitted from the priors (the same start as the full
      calibration), its own Laplace covariance and prediction intervals; nothing computed
      from the trial's results enters its prediction. The link's fixed constants
      (:data:`.link.KINETICS`) and the priors were chosen with every trial in view and are
      not re-chosen: the nested figure is the honest one for the fitted parameters only.

    ``trials``: leave out only these (default: each). ``targets``: the calibration's
    targets (default: the knowledge base's as of ``as_of``)."""
    settings = settings or (calibration.settings if calibration is not None else RunSettings())
    seed = settings.seed
    kb = kb or load()
    model = model or TrialModel.for_settings(settings)
    targets = list(targets) if targets is not None else targets_from_kb(kb, as_of)
    full = (calibration.fit if calibration is not None and calibration.fit is not None
            and calibration.fit.curvature else fit(targets, model, progress=progress))
    table = calibration.table if calibration is not None else ()
    in_rows = (list(table) if table and len(table) == len(targets)
               else rows_for(targets, full.params, full.cov, model, seed=seed))
    trials = [t for t in dict.fromkeys(t.trial for t in targets)
              if trials is None or t in trials]
    rows: list[TargetRow] = []
    params_by_trial = {}
    for i, trial in enumerate(trials):
        rest = [t for t in targets if t.trial != trial]
        if nested:
            f = fit(rest, model)  # from the priors, as calibrate() starts
            p, cov = f.params, f.cov
        elif refit:
            f = fit(rest, model, start=full.params)
            p, cov = f.params, f.cov
        else:
            p, cov = leave_out(full, trial)
        held = [t for t in targets if t.trial == trial]
        rows += rows_for(held, p, cov, model, seed=seed)
        params_by_trial[trial] = p.to_dict()
        if progress:
            progress("leave-one-out", i + 1, len(trials))
    method = ("nested: the whole calibration repeated without the trial, from the priors"
              if nested else "a refit without the trial, from the full fit" if refit
              else "one Newton step from the full fit per trial")
    held_out = {r.trial for r in rows}
    in_sample = [r for r in in_rows if r.trial in held_out]
    return {"as_of": as_of.isoformat(), "method": method, "sample": "out-of-sample",
            "rows": [r.to_dict() for r in rows], "summary": summarize(rows),
            "in_sample": {"sample": "in-sample (the full fit, which saw every trial)",
                          "summary": summarize(in_sample)},
            "params": params_by_trial}


def forward(
    as_of: dt.date, *, settings: RunSettings | None = None, kb: KnowledgeBase | None = None,
    model: TrialModel | None = None, progress: Callable[[str, int, int], Any] | None = None,
) -> dict[str, Any]:
    """Calibrate on results up to ``as_of`` and predict every result published after it (each
    later trial anchored on its own control arm; its patients drawn from the priors as of
    ``as_of``)."""
    from her2lab.virtual_trials.calibrate import calibrate

    settings = settings or RunSettings()
    seed = settings.seed
    kb = kb or load()
    model = model or TrialModel.for_settings(settings)
    cal = calibrate(as_of, settings=settings, kb=kb, model=model, progress=progress)
    later = [replace(t, plan=replace(t.plan, as_of=as_of))
             for t in targets_from_kb(kb, None) if t.published > as_of]
    rows = rows_for(later, cal.params, cal.cov, model, seed=seed)
    return {"as_of": as_of.isoformat(), "params": cal.params.to_dict(),
            "method": f"calibrated as of {as_of}, predicting every result published later",
            "sample": "out-of-sample", "fit_table": [r.to_dict() for r in cal.table],
            "rows": [r.to_dict() for r in rows], "summary": summarize(rows),
            "in_sample": {"sample": f"in-sample (the fit as of {as_of})",
                          "summary": summarize(cal.table)}}
