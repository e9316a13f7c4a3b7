"""The joint, deterministic fit of the link's parameters to the targets.

**Parameters** (:class:`.link.LinkParams`): the log-kill per cycle of the reference regimen
(log scale), the weight of targeted against cytotoxic kill (log scale), the resistance rate
(log scale), one potency offset for both HER2 kinase
inhibitors, and one effect per setting group on the log-kill (partial pooling: normal with SD
:data:`.link.SETTING_SD`, no per-trial factors). Each has a sourced prior (:data:`.link.PRIORS`).

**Objective**: minus twice the log posterior,
``sum over trials r' C^-1 r + sum of prior penalties``, where ``r`` holds a trial's residuals
(predicted minus reported) and ``C`` their covariance: log HRs of one trial correlate by
:data:`WITHIN_TRIAL_CORRELATION` (PFS and OS of one comparison; several arms against one
control); rate targets share the sampling error of the reference arm whose rate anchors them
(delta method, ``dp/dp_ref = p(1-p) / (p_ref(1-p_ref))``). Minimised jointly with
:func:`scipy.optimize.minimize` (L-BFGS-B within the priors' plausible bounds). The population is
a quadrature (:mod:`.model`), so the objective is a deterministic, continuous function of the
parameters.

**Uncertainty**: the Laplace approximation, the inverse Hessian of half the objective at the
optimum (finite differences), gives each parameter's SE; a parameter whose value lies outside
its prior's 95% interval is flagged in :attr:`Fit.outside_prior`. The same finite differences,
kept per trial, give each trial's leave-one-out parameters in one Newton step
(:func:`leave_out`).

**Parallel evaluation**: given an executor of worker processes (:mod:`her2lab.executor`), the
finite differences of the optimiser's gradient (scipy's ``workers``) and of the Hessian run on
them; each worker loads the targets and the model once. Every evaluation is the same
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

from her2lab.virtual_trials.link import GROUPS, PRIORS, SETTING_SD, LinkParams
from her2lab.virtual_trials.model import TKI_OFFSETS, TrialModel
from her2lab.virtual_trials.targets import Target

__all__ = [
    "BOUNDS", "WITHIN_TRIAL_CORRELATION", "Curvature", "Fit", "draws", "fit", "leave_out",
    "objective", "predict_targets",
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
    """The model's value of each target (log HR or rate), one preparation per plan."""
    cache: dict[int, Any] = {}
    out = np.empty(len(targets))
    for i, t in enumerate(targets):
        k = _plan_key(t)
        if k not in cache:
            cache[k] = model.prepare_memo(t.plan, params)
        prep = cache[k]
        if t.kind == "log_hr":
            e = next(e for e in prep.effects if e.arm == t.arm and e.measure == "HR")
            out[i] = math.log(e.estimate) if e.estimate > 0 else float("nan")
        else:
            out[i] = prep.outcomes[t.arm].rate
    return out


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


def penalty(params: LinkParams) -> float:
    v = params.vector()
    total = 0.0
    for i, name in enumerate(LinkParams.GLOBAL):
        pr = PRIORS[name]
        total += ((v[i] - pr.mean) / pr.sd) ** 2
    total += float(np.sum((v[len(LinkParams.GLOBAL):] / SETTING_SD.value) ** 2))
    return total


def by_trial(targets: Sequence[Target]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, t in enumerate(targets):
        out.setdefault(t.trial, []).append(i)
    return out


def chi2_terms(targets: Sequence[Target], pred: np.ndarray) -> dict[str, float]:
    """Each trial's ``r' C^-1 r``."""
    obs = np.array([t.observed for t in targets])
    cov = _covariance(targets, pred)
    out = {}
    for trial, idx in by_trial(targets).items():
        r = (pred - obs)[idx]
        if not np.all(np.isfinite(r)):
            out[trial] = 1e6
            continue
        out[trial] = float(r @ np.linalg.solve(cov[np.ix_(idx, idx)], r))
    return out


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

    def draws(self, k: int = 40, seed: int = 20140812) -> list[LinkParams]:
        return draws(self.params, self.cov, k, seed)

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params.to_dict(), "objective": self.objective,
                "se": self.se, "intervals": {k: list(v) for k, v in self.intervals().items()},
                "prior_intervals": {k: list(v) for k, v in self.prior_intervals().items()},
                "outside_prior": self.outside_prior, "cov": self.cov.tolist(),
                "evaluations": self.evaluations, "converged": self.converged,
                "message": self.message, "chi2_by_trial": self.chi2}


def draws(params: LinkParams, cov: np.ndarray, k: int = 40, seed: int = 20140812
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
    """One evaluation in a worker: ``(state file, kind, parameters)``, kind ``objective``,
    ``terms`` (a vector) or ``predict`` (a :class:`LinkParams`)."""
    path, kind, arg = item
    state = _WORKER_STATE.get(path)
    if state is None:
        with open(path, "rb") as fh:
            state = pickle.load(fh)
        _WORKER_STATE.clear()
        _WORKER_STATE[path] = state
    targets, model = state
    if kind == "objective":
        return objective(LinkParams.from_vector(arg), targets, model)
    if kind == "terms":
        return _terms_fn(targets, model)(arg)
    return predict_targets(targets, arg, model)


class Evaluations:
    """Many evaluations at once: serially here, or on ``executor``'s worker processes (which
    load ``targets`` and ``model`` once, from a temporary file). Use as a context manager."""

    def __init__(self, targets: Sequence[Target], model: TrialModel, executor: Any = None):
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
    if kind == "objective":
        return objective(LinkParams.from_vector(arg), targets, model)
    if kind == "terms":
        return _terms_fn(targets, model)(arg)
    return predict_targets(targets, arg, model)


def _terms_fn(targets: Sequence[Target], model: TrialModel) -> Callable[[np.ndarray], dict]:
    def terms(v: np.ndarray) -> dict[str, float]:
        params = LinkParams.from_vector(v)
        out = chi2_terms(targets, predict_targets(targets, params, model))
        out["(prior)"] = penalty(params)
        return out
    return terms


@dataclass
class Curvature:
    """Gradient and Hessian of each trial's term of the objective at a point (finite
    differences, every term from the same evaluations)."""

    grad: dict[str, np.ndarray]
    hess: dict[str, np.ndarray]

    def total(self) -> tuple[np.ndarray, np.ndarray]:
        return sum(self.grad.values()), sum(self.hess.values())


def curvature(terms: Callable[[np.ndarray], dict[str, float]], x: np.ndarray,
              h: np.ndarray, *, many: Callable[[list[np.ndarray]], list[dict]] | None = None
              ) -> Curvature:
    """``many(points)``, when given, evaluates ``terms`` at all the points at once."""
    n = x.size
    eye = np.eye(n)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    points = ([x] + [x + h[i] * eye[i] for i in range(n)] + [x - h[i] * eye[i] for i in range(n)]
              + [x + h[i] * eye[i] + h[j] * eye[j] for i, j in pairs])
    values = many(points) if many is not None else [terms(p) for p in points]
    f0 = values[0]
    fp, fm = values[1:n + 1], values[n + 1:2 * n + 1]
    fpp = dict(zip(pairs, values[2 * n + 1:], strict=True))
    grad, hess = {}, {}
    for k in f0:
        g = np.array([(fp[i][k] - fm[i][k]) / (2 * h[i]) for i in range(n)])
        H = np.zeros((n, n))
        for i in range(n):
            H[i, i] = (fp[i][k] - 2 * f0[k] + fm[i][k]) / h[i] ** 2
            for j in range(i + 1, n):
                H[i, j] = H[j, i] = (fpp[i, j][k] - fp[i][k] - fp[j][k] + f0[k]) / (h[i] * h[j])
        grad[k], hess[k] = g, H
    return Curvature(grad, hess)


def _pd_inverse(H: np.ndarray) -> np.ndarray:
    w, vecs = np.linalg.eigh((H + H.T) / 2)
    w = np.maximum(w, 1e-6)  # a flat direction gets a large but finite variance
    return vecs @ np.diag(1 / w) @ vecs.T


STEP = np.array([0.05, 0.05, 0.05, 0.02, 0.05, 0.05, 0.05])
"""Finite-difference steps of the Hessian, per parameter."""


def clip_to_bounds(v: np.ndarray) -> np.ndarray:
    return np.clip(v, [b[0] for b in BOUNDS], [b[1] for b in BOUNDS])


def fit(targets: Sequence[Target], model: TrialModel, *, start: LinkParams | None = None,
        progress: Callable[[str, int, int], Any] | None = None, maxiter: int = 200,
        uncertainty: bool = True, executor: Any = None) -> Fit:
    """Minimise :func:`objective` jointly over all parameters; deterministic. ``executor``
    (:func:`her2lab.executor.executor`, ``processes``) runs the finite differences on its
    workers: the same fit."""
    start = start or LinkParams()
    model.prefetch([t.plan for t in targets])
    evals = [0]
    last: list[np.ndarray | None] = [None]  # where f was last evaluated: scipy's f0

    def f(v: np.ndarray) -> float:
        last[0] = np.array(v, dtype=float)
        evals[0] += 1
        if progress:
            progress("fit", evals[0], maxiter * 8)
        val = objective(LinkParams.from_vector(v), targets, model)
        return val if math.isfinite(val) else 1e12

    with Evaluations(targets, model, executor) as ev:
        options: dict[str, Any] = {"maxiter": maxiter, "eps": 1e-4, "ftol": 1e-8}
        if ev.parallel:
            def fd_map(_fun: Any, xs: Any) -> list[float]:
                # scipy's map of its finite-difference points: f at each, on the workers
                pts = [np.array(x, dtype=float) for x in xs]
                vals = ev.map("objective", pts, local=[_setting_only(p, last[0]) for p in pts])
                out = []
                for val in vals:
                    evals[0] += 1
                    if progress:
                        progress("fit", evals[0], maxiter * 8)
                    out.append(val if math.isfinite(val) else 1e12)
                return out

            options["workers"] = fd_map
        res = optimize.minimize(f, start.vector(), method="L-BFGS-B", bounds=BOUNDS,
                                options=options)
        x = np.asarray(res.x, dtype=float)
        curv = None
        if uncertainty:
            curv = curvature(_terms_fn(targets, model), x, STEP,
                             many=lambda pts: ev.map("terms", pts[:1], local=[True]) + ev.map(
                                 "terms", pts[1:], local=[_setting_only(p, x) for p in pts[1:]]))
    params = LinkParams.from_vector(x)
    cov = np.zeros((x.size, x.size))
    if uncertainty:
        _, H = curv.total()
        cov = 2.0 * _pd_inverse(H)  # the objective is -2 log posterior
    pred = predict_targets(targets, params, model)
    return Fit(params, float(res.fun), cov, evals[0], bool(res.success), str(res.message),
               chi2_terms(targets, pred), curv)


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
