"""Reported against expected out of sample: leave-one-trial-out and forward validation, and
the figures that sum up rows (:mod:`.rows`), the null model beside each.

:func:`validate` is the one entry point (``method``: forward, or one of the three
leave-one-out ways); :func:`leave_one_out` and :func:`forward` are its two halves.

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
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from her2lab.errors import SimulationError
from her2lab.knowledge import KnowledgeBase, load
from her2lab.virtual_trials.calibration import Calibration, calibrate
from her2lab.virtual_trials.defaults import RunSettings
from her2lab.virtual_trials.fit import fit, leave_out
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.rows import TargetRow, rows_for
from her2lab.virtual_trials.targets import Target, targets_from_kb

__all__ = ["METHODS", "forward", "leave_one_out", "summarize", "summary_line", "validate"]

METHODS = ("forward", "loo", "refit", "nested")
"""The ways of :func:`validate`: ``forward`` (:func:`forward`), and leave-one-trial-out by one
Newton step (``loo``), by a refit (``refit``) or by the whole calibration repeated
(``nested``) (:func:`leave_one_out`)."""


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
      saw the trial, is the starting point and the curvature, and its Jacobian of the
      held-out targets (:attr:`.fit.Curvature.predictions`) carries the prediction interval;
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
    kb = kb or load()
    model = model or TrialModel.for_settings(settings)
    targets = list(targets) if targets is not None else targets_from_kb(kb, as_of)
    full = (calibration.fit if calibration is not None and calibration.fit is not None
            and calibration.fit.curvature else fit(targets, model, progress=progress))
    table = calibration.table if calibration is not None else ()
    in_rows = (list(table) if table and len(table) == len(targets)
               else rows_for(targets, full.params, full.cov, model,
                             jacobian=full.curvature.predictions if full.curvature else None))
    trials = [t for t in dict.fromkeys(t.trial for t in targets)
              if trials is None or t in trials]
    # the one-step method works from the full fit's curvature: its held-out targets'
    # gradients are the full fit's too (Curvature.predictions), not 2 n more evaluations
    jac = (full.curvature.predictions if not (nested or refit) and full.curvature
           and full.curvature.predictions is not None
           and full.curvature.predictions.shape[0] == len(targets) else None)
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
        idx = [k for k, t in enumerate(targets) if t.trial == trial]
        held = [targets[k] for k in idx]
        rows += rows_for(held, p, cov, model, jacobian=None if jac is None else jac[idx])
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
    workers: int | None = None,
) -> dict[str, Any]:
    """Calibrate on results up to ``as_of`` and predict every result published after it (each
    later trial anchored on its own control arm; its patients drawn from the priors as of
    ``as_of``); ``workers``: the calibration's local processes (:func:`calibrate`)."""
    settings = settings or RunSettings()
    kb = kb or load()
    model = model or TrialModel.for_settings(settings)
    cal = calibrate(as_of, settings=settings, kb=kb, model=model, progress=progress,
                    workers=workers)
    later = [replace(t, plan=replace(t.plan, as_of=as_of))
             for t in targets_from_kb(kb, None) if t.published > as_of]
    rows = rows_for(later, cal.params, cal.cov, model)
    return {"as_of": as_of.isoformat(), "params": cal.params.to_dict(),
            "method": f"calibrated as of {as_of}, predicting every result published later",
            "sample": "out-of-sample", "fit_table": [r.to_dict() for r in cal.table],
            "rows": [r.to_dict() for r in rows], "summary": summarize(rows),
            "in_sample": {"sample": f"in-sample (the fit as of {as_of})",
                          "summary": summarize(cal.table)}}


def validate(
    as_of: dt.date, *, method: Literal["forward", "loo", "refit", "nested"] = "forward",
    settings: RunSettings | None = None, kb: KnowledgeBase | None = None,
    calibration: Calibration | None = None, model: TrialModel | None = None,
    progress: Callable[[str, int, int], Any] | None = None,
    trials: Sequence[str] | None = None, workers: int | None = None,
) -> dict[str, Any]:
    """Reported against expected out of sample, each figure beside the null model's.

    Parameters
    ----------
    as_of : datetime.date
        ``forward``: calibrate on the results published on or before it and predict every
        later one; leave-one-out: the date of the calibration whose trials are left out.
    method : {"forward", "loo", "refit", "nested"}
        See :data:`METHODS` and :func:`leave_one_out`.
    settings : RunSettings, optional
        Monte Carlo settings (default: the calibration's, else the defaults).
    kb : KnowledgeBase, optional
        The knowledge base (default: the shipped one).
    calibration : Calibration, optional
        Leave-one-out only: the full calibration as of ``as_of`` (default: fitted here).
    model : TrialModel, optional
        A ready trial model (tests pass fakes); by default one built for ``settings``.
    progress : callable, optional
        ``progress(stage, done, total)`` as work advances.
    trials : sequence of str, optional
        Leave-one-out only: leave out only these trials (default: each).
    workers : int, optional
        Forward only: more than 1 runs the calibration's finite differences and prediction
        intervals on that many local processes (the same result).

    Returns
    -------
    dict
        ``rows``, ``summary`` (model and null), ``in_sample`` and ``method`` (JSON-ready).
    """
    if method not in METHODS:
        raise SimulationError(f"the validation method must be one of {list(METHODS)}; got "
                              f"{method!r} instead")
    if method == "forward":
        if calibration is not None or trials is not None:
            raise SimulationError("a forward validation calibrates as of its date and "
                                  "predicts every later trial: it takes no calibration or "
                                  "trials")
        return forward(as_of, settings=settings, kb=kb, model=model, progress=progress,
                       workers=workers)
    return leave_one_out(as_of, settings=settings, kb=kb, calibration=calibration,
                         model=model, progress=progress, refit=method == "refit",
                         nested=method == "nested", trials=trials)
