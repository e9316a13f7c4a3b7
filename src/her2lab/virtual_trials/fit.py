"""The joint, deterministic fit of the link's parameters to the targets.

**Parameters** (:class:`.link.LinkParams`): the log-kill per cycle of the reference regimen
(log scale), the weight of targeted against cytotoxic kill (log scale), the resistance rate
(log scale), one potency offset for both HER2 kinase
inhibitors, and one effect per setting group on the log chemosensitivity (partial pooling:
normal with SD :data:`.link.SETTING_SD`, no per-trial factors). Each has a sourced prior
(:data:`.link.PRIORS`).

**Objective**: minus twice the log posterior,
``sum over trials r' C^-1 r + sum of prior penalties``, where ``r`` holds a trial's residuals
(predicted minus reported) and ``C`` their covariance: log HRs of one trial correlate by
:data:`WITHIN_TRIAL_CORRELATION` (PFS and OS of one comparison; several arms against one
control); rate targets share the sampling error of the reference arm whose rate anchors them
(delta method, ``dp/dp_ref = p(1-p) / (p_ref(1-p_ref))``). It is a sum of squares, ``|e|^2``
with ``e`` the whitened residuals (``L^-1 r`` per trial, ``C = L L'``, and the priors'
standardised deviations), minimised jointly with :func:`scipy.optimize.least_squares` (trust
region reflective, within the priors' plausible bounds). The population is a quadrature
(:mod:`.model`), so the objective is a deterministic, continuous function of the parameters.

**Uncertainty**: the Laplace approximation with the Gauss-Newton Hessian ``2 J' J`` of the
objective (``J`` the Jacobian of ``e``, central finite differences; positive semi-definite by
construction, so no direction gets a negative or noisy curvature) gives each parameter's SE; a
parameter whose value lies outside its prior's 95% interval is flagged in
:attr:`Fit.outside_prior`. The same Jacobian, kept per trial, gives each trial's leave-one-out
parameters in one Newton step (:func:`leave_out`).

**Parallel evaluation**: given an executor of worker processes (:mod:`her2lab.executor`), the
finite differences of the optimiser's Jacobian (scipy's ``workers``) and of the curvature run
on them; each worker loads the targets and the model once. Every evaluation is the same
deterministic computation wherever it runs, so the fit is the serial one, value for value.
"""

from __future__ import annotations

import math
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from her2lab.executor import Executor
from her2lab.virtual_trials.defaults import DEFAULT_SEED
from her2lab.virtual_trials.link import (
    GROUPS,
    PRIOR_DEPARTURES,
    PRIORS,
    SETTING_SD,
    ArmOutcome,
    LinkParams,
)
from her2lab.virtual_trials.model import TKI_OFFSETS, TrialModel
from her2lab.virtual_trials.targets import Target

__all__ = [
    "BOUNDS", "WITHIN_TRIAL_CORRELATION", "Curvature", "Evaluations", "Fit", "draws", "fit",
    "leave_out", "objective", "predict_targets",
]

WITHIN_TRIAL_CORRELATION = 0.5
"""Correlation of two log hazard ratios of one trial: two arms against one control with equal
event counts correlate by 0.5 (the shared control's variance is half of each comparison's);
PFS and OS of one comparison are taken as correlated as much (an assumption)."""

BOUNDS = [
    (math.log(0.1), math.log(30.0)),      # log_kill
    (-3.0, 3.0),                          # log_targeted
    (math.log(0.005), math.log(5.0)),     # log_resistance
    (TKI_OFFSETS[0], TKI_OFFSETS[-1]),    # tki_offset
    *[(-2.0, 2.0)] * len(GROUPS),          # setting effects
]


def _plan_key(t: Target) -> int:
    return id(t.plan)


def predict_targets(targets: Sequence[Target], params: LinkParams, model: TrialModel
                    ) -> np.ndarray:
    """The model's value of each target (log HR or OR, difference in points, or rate), one
    preparation per plan."""
    cache: dict[int, Any] = {}
    out = np.empty(len(targets))
    for i, t in enumerate(targets):
        k = _plan_key(t)
        if k not in cache:
            cache[k] = model.prepare_memo(t.plan, params)
        prep = cache[k]
        if t.kind == "log_hr" and t.derived == "median+p":
            # like with like: the reported figure is -log of the ratio of the arms' medians
            out[i] = median_log_ratio(prep.outcomes[t.arm], prep.outcomes[t.reference])
        elif t.kind in ("log_hr", "log_or"):
            measure = "HR" if t.kind == "log_hr" else "OR"
            e = next(e for e in prep.effects if e.arm == t.arm and e.measure == measure)
            out[i] = math.log(e.estimate) if e.estimate > 0 else float("nan")
        elif t.kind == "difference":  # points
            out[i] = next(e.estimate for e in prep.effects
                          if e.arm == t.arm and e.measure == "difference")
        else:
            out[i] = prep.outcomes[t.arm].rate
    return out


def median_log_ratio(arm: ArmOutcome, reference: ArmOutcome) -> float:
    """``-log(median(arm) / median(reference))`` of two arms' expected curves: the scale of a
    target derived from two medians and a p-value (:mod:`.targets`), which is not the Cox
    HR when the hazards are not proportional. NaN when a median is not reached."""
    me, mc = arm.curves.median(), reference.curves.median()
    if not me or not mc:
        return float("nan")
    return math.log(mc / me)


def _covariance(targets: Sequence[Target], pred: np.ndarray) -> np.ndarray:
    n = len(targets)
    c = np.zeros((n, n))
    for i, a in enumerate(targets):
        for j, b in enumerate(targets):
            if a.trial != b.trial:
                continue
            if i == j:
                c[i, i] = a.se ** 2
                if a.kind == "rate" and a.reference_se:
                    c[i, i] += _slope(a, pred[i]) ** 2 * a.reference_se ** 2
            elif a.kind == b.kind == "log_hr":
                c[i, j] = WITHIN_TRIAL_CORRELATION * a.se * b.se
            elif a.kind == b.kind == "rate" and a.reference == b.reference and a.reference_se:
                c[i, j] = _slope(a, pred[i]) * _slope(b, pred[j]) * a.reference_se ** 2
    return c


def _slope(t: Target, p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    r = min(max(t.reference_rate or 0.5, 1e-4), 1 - 1e-4)
    return p * (1 - p) / (r * (1 - r))


def prior_residuals(v: np.ndarray) -> np.ndarray:
    """Each parameter's standardised deviation from its prior mean."""
    g = len(LinkParams.GLOBAL)
    mean = np.array([PRIORS[n].mean for n in LinkParams.GLOBAL])
    sd = np.array([PRIORS[n].sd for n in LinkParams.GLOBAL])
    return np.concatenate([(v[:g] - mean) / sd, v[g:] / SETTING_SD.value])


def penalty(params: LinkParams) -> float:
    return float(np.sum(prior_residuals(params.vector()) ** 2))


def by_trial(targets: Sequence[Target]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, t in enumerate(targets):
        out.setdefault(t.trial, []).append(i)
    return out


NONFINITE_RESIDUAL = 1e3
"""Whitened residual of a target the model cannot predict at some parameters (a penalty)."""


def whitened(targets: Sequence[Target], pred: np.ndarray) -> dict[str, np.ndarray]:
    """Each trial's whitened residuals ``L^-1 (pred - obs)``, ``C = L L'``: their squares sum
    to the trial's ``r' C^-1 r``."""
    obs = np.array([t.observed for t in targets])
    cov = _covariance(targets, pred)
    out = {}
    for trial, idx in by_trial(targets).items():
        r = (pred - obs)[idx]
        if not np.all(np.isfinite(r)):
            out[trial] = np.full(len(idx), NONFINITE_RESIDUAL)
            continue
        out[trial] = np.linalg.solve(np.linalg.cholesky(cov[np.ix_(idx, idx)]), r)
    return out


def chi2_terms(targets: Sequence[Target], pred: np.ndarray) -> dict[str, float]:
    """Each trial's ``r' C^-1 r``: the sum of squares of its whitened residuals (so the
    objective is exactly what the least-squares fit minimises)."""
    return {trial: float(e @ e) for trial, e in whitened(targets, pred).items()}


def objective(params: LinkParams, targets: Sequence[Target], model: TrialModel) -> float:
    pred = predict_targets(targets, params, model)
    return float(sum(chi2_terms(targets, pred).values())) + penalty(params)


@dataclass
class Fit:
    """A fitted parameter set: ``params_``, its objective, covariance and SEs."""

    params: LinkParams
    objective: float
    cov: np.ndarray
    evaluations: int
    converged: bool
    message: str
    chi2: dict[str, float] = field(default_factory=dict)
    curvature: Curvature | None = field(default=None, repr=False)

    @property
    def se(self) -> dict[str, float]:
        d = np.sqrt(np.clip(np.diag(self.cov), 0, None))
        return dict(zip(LinkParams.NAMES, map(float, d), strict=True))

    def intervals(self) -> dict[str, tuple[float, float]]:
        v = self.params.vector()
        return {n: (float(v[i] - 1.96 * s), float(v[i] + 1.96 * s))
                for i, (n, s) in enumerate(self.se.items())}

    def prior_intervals(self) -> dict[str, tuple[float, float]]:
        out = {n: PRIORS[n].interval() for n in LinkParams.GLOBAL}
        for g in GROUPS:
            out[f"setting.{g}"] = (-1.96 * SETTING_SD.value, 1.96 * SETTING_SD.value)
        return out

    @property
    def outside_prior(self) -> list[str]:
        """Parameters whose fitted value lies outside its prior's 95% interval."""
        v = self.params.vector()
        pri = self.prior_intervals()
        return [n for i, n in enumerate(LinkParams.NAMES)
                if not pri[n][0] <= v[i] <= pri[n][1]]

    def draws(self, k: int = 40, seed: int = DEFAULT_SEED) -> list[LinkParams]:
        return draws(self.params, self.cov, k, seed)

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params.to_dict(), "objective": self.objective,
                "se": self.se, "intervals": {k: list(v) for k, v in self.intervals().items()},
                "prior_intervals": {k: list(v) for k, v in self.prior_intervals().items()},
                "outside_prior": self.outside_prior,
                "outside_prior_reasons": {n: PRIOR_DEPARTURES.get(n, "no stated reason")
                                          for n in self.outside_prior},
                "cov": self.cov.tolist(),
                "evaluations": self.evaluations, "converged": self.converged,
                "message": self.message, "chi2_by_trial": self.chi2}


def draws(params: LinkParams, cov: np.ndarray, k: int = 40, seed: int = DEFAULT_SEED
          ) -> list[LinkParams]:
    """``k`` parameter sets from the normal approximation, within the bounds; a fixed seed
    (the same draws for every prediction: common random numbers)."""
    rng = np.random.default_rng(seed)
    v = params.vector()
    z = rng.standard_normal((k, v.size))
    w, vecs = np.linalg.eigh((cov + cov.T) / 2)
    root = vecs @ np.diag(np.sqrt(np.maximum(w, 0.0)))
    return [LinkParams.from_vector(clip_to_bounds(v + root @ zi)) for zi in z]


_WORKER_STATE: dict[str, tuple[Sequence[Target], TrialModel]] = {}


def _evaluate(item: tuple[str, str, Any]) -> Any:
    """One evaluation in a worker: ``(state file, kind, parameters)``, kind ``residuals`` (a
    vector: each trial's whitened residuals) or ``predict`` (a :class:`LinkParams`)."""
    path, kind, arg = item
    state = _WORKER_STATE.get(path)
    if state is None:
        with open(path, "rb") as fh:
            state = pickle.load(fh)
        _WORKER_STATE.clear()
        _WORKER_STATE[path] = state
    targets, model = state
    return _evaluate_here(kind, arg, targets, model)


class Evaluations:
    """Many evaluations at once: serially here, or on ``executor``'s worker processes (which
    load ``targets`` and ``model`` once, from a temporary file). Use as a context manager."""

    def __init__(self, targets: Sequence[Target], model: TrialModel,
                 executor: Executor | None = None):
        self.targets, self.model = list(targets), model
        self.executor = executor if executor is not None and executor.workers > 1 and (
            executor.kind != "serial") else None
        self.path: str | None = None
        self._thread: Any = None

    def __enter__(self) -> Evaluations:
        if self.executor is not None:
            fd, self.path = tempfile.mkstemp(prefix="her2lab-fit-", suffix=".pkl")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((self.targets, self.model), fh, protocol=pickle.HIGHEST_PROTOCOL)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._thread.shutdown()
            self._thread = None
        if self.path is not None:
            os.unlink(self.path)
            self.path = None

    @property
    def parallel(self) -> bool:
        return self.path is not None

    def map(self, kind: str, args: Sequence[Any], local: Sequence[bool] | None = None
            ) -> list[Any]:
        """The evaluations at ``args``, in order. Those marked ``local`` run here, while the
        workers run the rest (cheap ones: the model's preparations of trials whose kinetics
        did not change are memoised here)."""
        local = list(local) if local is not None else [False] * len(args)
        if self.path is None or all(local):
            return [_evaluate_here(kind, a, self.targets, self.model) for a in args]
        remote = [i for i, here in enumerate(local) if not here]
        if self._thread is None:
            from concurrent.futures import ThreadPoolExecutor

            self._thread = ThreadPoolExecutor(max_workers=1)
        fut = self._thread.submit(self.executor.map, _evaluate,
                                  [(self.path, kind, args[i]) for i in remote],
                                  batch_seconds=0.0)
        out: list[Any] = [None] * len(args)
        for i, here in enumerate(local):
            if here:
                out[i] = _evaluate_here(kind, args[i], self.targets, self.model)
        for i, val in zip(remote, fut.result(), strict=True):
            out[i] = val
        return out


def _setting_only(x: np.ndarray, base: np.ndarray | None) -> bool:
    """``x`` differs from ``base`` in setting effects only (so most trials' kinetics, and their
    memoised preparations, are ``base``'s)."""
    n = len(LinkParams.GLOBAL)
    return base is not None and bool(np.array_equal(x[:n], base[:n]))


def _evaluate_here(kind: str, arg: Any, targets: Sequence[Target], model: TrialModel) -> Any:
    """``residuals`` (a vector: the whitened residuals by trial), ``predict`` (a
    :class:`LinkParams`: the targets' values) or ``both`` (a vector: the residuals and the
    values behind them, from one evaluation)."""
    if kind == "residuals":
        return _residual_fn(targets, model)(arg)
    if kind == "both":
        return _residuals_and_values(targets, model, arg)
    return predict_targets(targets, arg, model)


PRIOR_TERM = "(prior)"


def _residual_fn(targets: Sequence[Target], model: TrialModel
                 ) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """``v -> {trial: whitened residuals, "(prior)": prior residuals}``."""
    return lambda v: _residuals_and_values(targets, model, v)[0]


def _residuals_and_values(targets: Sequence[Target], model: TrialModel, v: np.ndarray
                          ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The whitened residuals by trial (and the priors') at ``v``, and the targets' values."""
    pred = predict_targets(targets, LinkParams.from_vector(v), model)
    out = whitened(targets, pred)
    out[PRIOR_TERM] = prior_residuals(v)
    return out, pred


@dataclass
class Curvature:
    """Gradient and Gauss-Newton Hessian of each trial's term of the objective at a point
    (``2 J_i' e_i`` and ``2 J_i' J_i``, ``J_i`` the Jacobian of the trial's whitened residuals
    ``e_i`` by central finite differences; every term from the same evaluations)."""

    grad: dict[str, np.ndarray]
    hess: dict[str, np.ndarray]
    predictions: np.ndarray | None = None
    """The Jacobian of the fit's targets' values (:func:`predict_targets`, rows in the
    targets' order) from the same evaluations: the delta method's prediction intervals
    (:func:`.rows.rows_for`)."""

    def total(self) -> tuple[np.ndarray, np.ndarray]:
        return sum(self.grad.values()), sum(self.hess.values())


def stencil(x: np.ndarray, h: np.ndarray) -> list[np.ndarray]:
    """The points of central differences at ``x`` with steps ``h``: ``x``, then ``x + h_i e_i``
    and ``x - h_i e_i`` for each parameter ``i``."""
    n = x.size
    eye = np.eye(n)
    return ([x] + [x + h[i] * eye[i] for i in range(n)]
            + [x - h[i] * eye[i] for i in range(n)])


def central_jacobian(values: Sequence[np.ndarray], h: np.ndarray) -> np.ndarray:
    """The Jacobian from vector values at :func:`stencil`'s points (central differences; one
    side where the other is not finite, 0 where neither is: a value the model cannot give,
    a median not reached)."""
    n = h.size
    v0 = np.asarray(values[0], dtype=float)
    J = np.zeros((v0.size, n))
    for i in range(n):
        vp, vm = np.asarray(values[1 + i], float), np.asarray(values[1 + n + i], float)
        both = np.isfinite(vp) & np.isfinite(vm)
        up = np.isfinite(vp) & np.isfinite(v0) & ~both
        down = np.isfinite(vm) & np.isfinite(v0) & ~both & ~up
        J[both, i] = (vp[both] - vm[both]) / (2 * h[i])
        J[up, i] = (vp[up] - v0[up]) / h[i]
        J[down, i] = (v0[down] - vm[down]) / h[i]
    return J


def curvature(residuals: Callable[[np.ndarray], dict[str, np.ndarray]], x: np.ndarray,
              h: np.ndarray, *,
              many: Callable[[list[np.ndarray]], list[dict]] | None = None,
              predictions: np.ndarray | None = None) -> Curvature:
    """``many(points)``, when given, evaluates ``residuals`` at all the points at once.
    ``predictions``: the Jacobian of the targets' values, kept with the curvature."""
    points = stencil(x, h)
    values = many(points) if many is not None else [residuals(p) for p in points]
    grad, hess = {}, {}
    for k, e in values[0].items():
        J = central_jacobian([v[k] for v in values], h)
        grad[k], hess[k] = 2.0 * J.T @ e, 2.0 * J.T @ J
    return Curvature(grad, hess, predictions)


def _pd_inverse(H: np.ndarray) -> np.ndarray:
    w, vecs = np.linalg.eigh((H + H.T) / 2)
    w = np.maximum(w, 1e-6)  # a flat direction gets a large but finite variance
    return vecs @ np.diag(1 / w) @ vecs.T


STEP = np.array([0.05, 0.05, 0.05, 0.02, 0.05, 0.05, 0.05])
"""Finite-difference steps of the Jacobian of the curvature, per parameter."""

DIFF_STEP = 1e-4
"""Relative finite-difference step of the optimiser's Jacobian (the objective is smooth at
this scale: the model's root-finding works to 1e-9)."""


TOL = 1e-5
"""Relative tolerances of the optimiser (``ftol``, ``xtol``, ``gtol`` of
:func:`scipy.optimize.least_squares`). Measured on the calibration as of 2014-08-12: the
parameters at 1e-5 lie within 0.002 SE of those at 1e-8, in 73 evaluations instead of 186 (the
objective is flat along the kill gain, where 1e-8 creeps on for a hundred evaluations)."""

COARSE_TOL = 1e-3
"""Tolerances of the pilot fit (:func:`.calibrate.calibrate`): the objective to about 0.05,
parameters to 0.1%; the final fit starts where it stops."""


def clip_to_bounds(v: np.ndarray) -> np.ndarray:
    return np.clip(v, [b[0] for b in BOUNDS], [b[1] for b in BOUNDS])


def fit(targets: Sequence[Target], model: TrialModel, *, start: LinkParams | None = None,
        progress: Callable[[str, int, int], Any] | None = None, maxiter: int = 200,
        uncertainty: bool = True, executor: Any = None, tol: float = TOL) -> Fit:
    """Minimise :func:`objective` jointly over all parameters (a least-squares problem in the
    whitened residuals); deterministic. ``executor`` (:func:`her2lab.executor.executor`,
    ``processes``) runs the finite differences on its workers: the same fit. ``tol``: the
    optimiser's relative tolerances (``ftol``, ``xtol``, ``gtol``; default :data:`TOL`)."""
    start = start or LinkParams()
    # the TKI grid's points around the start; the others when the fit reaches them
    model.prefetch([t.plan for t in targets], offsets=(start.tki_offset,))
    evals = [0]
    residuals = _residual_fn(targets, model)
    n = len(LinkParams.NAMES)

    def count() -> None:
        evals[0] += 1
        if progress:
            progress("fit", evals[0], maxiter * (n + 1))

    last: list[np.ndarray | None] = [None]  # where e was last evaluated: scipy's f0

    def e(v: np.ndarray) -> np.ndarray:
        last[0] = np.array(v, dtype=float)
        count()
        return np.concatenate(list(residuals(v).values()))

    lo, hi = np.array([b[0] for b in BOUNDS]), np.array([b[1] for b in BOUNDS])
    x0 = np.clip(start.vector(), lo + 1e-9, hi - 1e-9)
    with Evaluations(targets, model, executor) as ev:
        kw: dict[str, Any] = {}
        if ev.parallel:
            def fd_map(_fun: Any, xs: Any) -> list[np.ndarray]:
                # scipy's map of its finite-difference points: e at each, on the workers
                out = []
                pts = [np.array(x, dtype=float) for x in xs]
                local = [_setting_only(p, last[0]) for p in pts]
                for val in ev.map("residuals", pts, local=local):
                    count()
                    out.append(np.concatenate(list(val.values())))
                return out

            kw["workers"] = fd_map
        res = optimize.least_squares(e, x0, bounds=(lo, hi), method="trf",
                                     diff_step=DIFF_STEP, x_scale=1.0, ftol=tol, xtol=tol,
                                     gtol=tol, max_nfev=maxiter, **kw)
        x = np.asarray(res.x, dtype=float)
        curv = None
        if uncertainty:
            # the residuals and the targets' values at the stencil, from one evaluation each
            pts = stencil(x, STEP)
            both = ev.map("both", pts, local=[True] + [_setting_only(p, x) for p in pts[1:]])
            curv = curvature(residuals, x, STEP, many=lambda _: [b[0] for b in both],
                             predictions=central_jacobian([b[1] for b in both], STEP))
    params = LinkParams.from_vector(x)
    cov = np.zeros((x.size, x.size))
    if uncertainty:
        _, H = curv.total()
        cov = 2.0 * _pd_inverse(H)  # the objective is -2 log posterior
    pred = predict_targets(targets, params, model)
    return Fit(params, float(2.0 * res.cost), cov, evals[0], bool(res.success),
               str(res.message), chi2_terms(targets, pred), curv)


def leave_out(f: Fit, trial: str) -> tuple[LinkParams, np.ndarray]:
    """Parameters and covariance without ``trial``: one Newton step from the full fit on the
    objective without that trial's term, ``x - (H - H_i)^-1 (g - g_i)`` (an approximate
    leave-one-out refit from the same finite differences; exact for a quadratic objective)."""
    if f.curvature is None:
        raise ValueError("leave_out needs a fit with uncertainty=True")
    g, H = f.curvature.total()
    gi = f.curvature.grad.get(trial, 0.0)
    Hi = f.curvature.hess.get(trial, 0.0)
    inv = _pd_inverse(H - Hi)
    x = clip_to_bounds(f.params.vector() - inv @ (g - gi))
    return LinkParams.from_vector(x), 2.0 * inv
