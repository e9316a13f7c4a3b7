"""Reported against expected: one row per target, with its prediction interval and the null
model beside it.

For each target the **expected** value is the model's deterministic prediction at the given
parameters; its 95% **prediction interval** combines the parameter uncertainty (the delta
method: ``sqrt(g' C g)`` with ``C`` the parameters' covariance and ``g`` the prediction's
gradient, by central differences at :data:`.fit.STEP` or, for a calibration's own targets, the
fit's curvature evaluations; on the row's scale) with the sampling
error of the reported estimate (its SE; for a rate also that of the reference arm that anchors
it), on the log scale for hazard and odds ratios, on the logit scale for rates (so rates stay
in [0, 100]) and as is for differences of rates (points). The **null model** predicts no
difference (a ratio of 1, a difference of 0, the reference arm's rate) with the sampling error
alone.

The calibration's table, the leave-one-out and forward validations
(:mod:`.validation`) and the virtual Table 1 (:mod:`.stages`) are all rows of
:func:`rows_for`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from her2lab.executor import Executor
from her2lab.virtual_trials.fit import (
    STEP,
    Evaluations,
    central_jacobian,
    predict_targets,
    stencil,
)
from her2lab.virtual_trials.link import LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.targets import Target

__all__ = ["TargetRow", "prediction_jacobian", "rows_for"]

Z95 = 1.959963984540054

_MEASURE = {"log_hr": "HR", "log_or": "OR", "difference": "difference", "rate": "rate"}


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
    measure: str  # "HR", "OR", "difference" (points) or "rate" (percent)
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


def prediction_jacobian(targets: Sequence[Target], params: LinkParams, model: TrialModel,
                        executor: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The targets' values at ``params`` and their Jacobian (central differences at
    :data:`.fit.STEP`: ``2 n`` evaluations, on ``executor``'s workers when given)."""
    pts = stencil(params.vector(), STEP)
    with Evaluations(targets, model, executor) as ev:
        values = [predict_targets(targets, params, model),
                  *ev.map("predict", [LinkParams.from_vector(p) for p in pts[1:]])]
    return values[0], central_jacobian(values, STEP)


def rows_for(targets: Sequence[Target], params: LinkParams, cov: np.ndarray,
             model: TrialModel, *, jacobian: np.ndarray | None = None,
             executor: Executor | None = None) -> list[TargetRow]:
    """Rows for ``targets`` at ``params`` with prediction intervals from ``cov`` by the delta
    method. ``jacobian``: the targets' Jacobian at ``params`` where it is known (a fit's
    :attr:`.fit.Curvature.predictions`); otherwise it is computed (:func:`prediction_jacobian`,
    on ``executor``'s workers when given: the same rows)."""
    if not targets:
        return []
    model.prefetch([t.plan for t in targets], offsets=(params.tki_offset,))
    if jacobian is None:
        centre, jacobian = prediction_jacobian(targets, params, model, executor)
    else:
        centre = predict_targets(targets, params, model)
        if jacobian.shape != (len(targets), cov.shape[0]):
            raise ValueError(f"jacobian has shape {jacobian.shape}; expected "
                             f"({len(targets)}, {cov.shape[0]}): one row per target")
    var = np.einsum("ij,jk,ik->i", jacobian, (cov + cov.T) / 2, jacobian)
    psd = np.sqrt(np.maximum(var, 0.0))
    return [_row(t, centre[i], float(psd[i])) for i, t in enumerate(targets)]


def _row(t: Target, e: float, psd: float) -> TargetRow:
    """``psd``: the parameters' SD of the prediction ``e`` on its own scale (log ratio, points
    or proportion)."""
    common = {"trial": t.trial, "outcome": t.outcome, "endpoint": t.endpoint,
              "measure": _MEASURE[t.kind], "subgroup": t.subgroup,
              "arms": f"{t.arm} vs {t.reference}", "derived": t.derived,
              "published": t.published.isoformat()}
    if t.kind in ("log_hr", "log_or"):
        row = _ratio_row(t, e, psd, common)
    elif t.kind == "difference":
        row = _difference_row(t, e, psd, common)
    else:
        row = _rate_row(t, e, psd, common)
    if t.as_reported is not None:  # the figures as the knowledge base reports them
        value, low, high = t.as_reported
        row.reported, row.reported_low, row.reported_high = value, low, high
        row.inside_reported_ci = bool(low <= row.expected <= high)
        row.null_inside = bool(low <= row.null_expected <= high)
    return row


def _ratio_row(t: Target, e: float, psd: float, common: dict[str, Any]) -> TargetRow:
    """A hazard or odds ratio (``e`` and ``psd`` on the log scale)."""
    sd = math.hypot(psd, t.se)
    z = (t.observed - e) / t.se
    lo, hi = t.observed - Z95 * t.se, t.observed + Z95 * t.se
    return TargetRow(
        reported=math.exp(t.observed), reported_low=math.exp(lo),
        reported_high=math.exp(hi), expected=math.exp(e),
        pred_low=math.exp(e - Z95 * sd), pred_high=math.exp(e + Z95 * sd), param_sd=psd,
        z=z, abs_error=abs(e - t.observed), inside_reported_ci=bool(lo <= e <= hi),
        reported_inside_prediction=bool(abs(t.observed - e) <= Z95 * sd),
        direction_ok=(None if t.observed == 0 else bool(np.sign(e) == np.sign(t.observed))),
        null_expected=1.0, null_z=t.observed / t.se, null_abs_error=abs(t.observed),
        null_inside=bool(abs(t.observed) <= Z95 * t.se), **common)


def _difference_row(t: Target, e: float, psd: float, common: dict[str, Any]
                    ) -> TargetRow:
    """A difference of two arms' rates, in points (bounded by +-100)."""
    sd = math.hypot(psd, t.se)
    lo, hi = t.observed - Z95 * t.se, t.observed + Z95 * t.se
    return TargetRow(
        reported=t.observed, reported_low=lo, reported_high=hi, expected=e,
        pred_low=max(e - Z95 * sd, -100.0), pred_high=min(e + Z95 * sd, 100.0), param_sd=psd,
        z=(t.observed - e) / t.se, abs_error=abs(e - t.observed),
        inside_reported_ci=bool(lo <= e <= hi),
        reported_inside_prediction=bool(abs(t.observed - e) <= Z95 * sd),
        direction_ok=(None if t.observed == 0 else bool(np.sign(e) == np.sign(t.observed))),
        null_expected=0.0, null_z=t.observed / t.se, null_abs_error=abs(t.observed),
        null_inside=bool(abs(t.observed) <= Z95 * t.se), **common)


def _rate_row(t: Target, e: float, psd_p: float, common: dict[str, Any]) -> TargetRow:
    """An arm's rate (``e``, its SD ``psd_p`` and the target's figures as proportions; the row
    in percent), anchored on the reference arm's; the parameters' SD on the logit scale."""
    pr = float(t.reference_rate)
    le = _logit(e)
    psd = psd_p / max(e * (1 - e), 1e-6)  # d logit(p) / dp = 1 / (p (1 - p))
    n = t.n or 100
    samp = math.sqrt(1 / (n * max(e * (1 - e), 1e-4)))
    anchor = (t.reference_se or 0.0) / max(pr * (1 - pr), 1e-4)
    sd = math.sqrt(psd ** 2 + samp ** 2 + anchor ** 2)
    # the reported rate's SE against the anchored expectation (its own and the anchor's)
    se_obs = math.hypot(t.se, (t.reference_se or 0.0) * e * (1 - e) / max(pr * (1 - pr), 1e-4))
    z = (t.observed - e) / se_obs
    null_se = math.hypot(t.se, t.reference_se or 0.0)
    return TargetRow(
        reported=100 * t.observed,
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
