"""Analyze one trial as a trial statistician would, and summarize many replicates of it.

Time to event (:func:`analyze_survival`): per arm the number of patients and events, the
Kaplan–Meier median with its CI (exponential-Greenwood bands, as lifelines computes them) and,
if asked, the rate at a landmark; for each experimental arm against the control, the Cox hazard
ratio with its Wald CI and the log-rank p. Each experimental arm is compared with the control on
the patients of those two arms only (as multi-arm trials report pairwise comparisons).

Binary endpoints (:func:`analyze_binary`): per arm the rate with its Wilson CI; for each
experimental arm against the control the odds ratio (Woolf CI, 0.5 added to every cell when
one is empty) and the difference in rates (Newcombe's hybrid-score CI), with Pearson's
chi-square p (no continuity correction), or Fisher's exact p when an expected count is below 5.
Rates and differences are proportions (0-1), not percentage points.

Engines
-------
``engine="lifelines"`` fits with lifelines (``KaplanMeierFitter``, ``CoxPHFitter``,
``logrank_test``). ``engine="numpy"`` computes the same estimators in vectorised NumPy: the
Kaplan–Meier curve and bands with lifelines' formulas, the Cox model for one binary covariate by
Newton–Raphson on Efron's partial likelihood, and the log-rank test; the tests check it against
lifelines to 1e-6. It exists because lifelines' Cox fit takes about a minute on a million
patients and ~30 ms on a few hundred (too slow for thousands of replicates); the NumPy engine
takes a fraction of a second and ~1 ms. ``engine="auto"`` (the default) uses lifelines up to
:data:`AUTO_LIFELINES_MAX_N` patients and NumPy above.

The JSON shape (:meth:`SurvivalAnalysis.to_dict`, :meth:`BinaryAnalysis.to_dict`)::

    {"endpoint_kind": "time_to_event" | "binary", "control": "control", "alpha": 0.05,
     "arms": [{"name", "n", "events", "median", "ci_low", "ci_high",
               "landmark": {"months", "rate", "ci_low", "ci_high"}}          # time to event
              | {"name", "n", "successes", "rate", "ci_low", "ci_high"}, ...],  # binary
     "effect": {"arm", "control", "measure": "HR" | "OR" | "difference",
                "estimate", "ci_low", "ci_high", "p", "test"},
     "effects": [every comparison, the primary one first]}

``effect`` is the primary comparison: the first experimental arm, with the HR (time to event)
or the measure asked for (binary). A median not reached, or a bound that is not reached, is
``null``; so is a hazard ratio when an arm of the comparison has no event or the events
separate the arms completely (every event of one arm before every event of the other: the
Cox likelihood has no maximum). The log-rank p is reported in every case.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from her2lab.errors import SimulationError

__all__ = [
    "AUTO_LIFELINES_MAX_N",
    "ArmBinary",
    "ArmSurvival",
    "BinaryAnalysis",
    "Distribution",
    "Effect",
    "KaplanMeierCurve",
    "ReplicateSummary",
    "SurvivalAnalysis",
    "analyze_binary",
    "analyze_survival",
    "binary_test",
    "cox_two_group",
    "kaplan_meier",
    "logrank_two_group",
    "summarize_replicates",
]

Engine = Literal["auto", "lifelines", "numpy"]
BinaryMeasure = Literal["OR", "difference"]

#: ``engine="auto"`` uses lifelines up to this many patients, NumPy above.
AUTO_LIFELINES_MAX_N = 20_000

#: A log hazard ratio beyond this (HR below 1e-9 or above 1e9) means the events separate the
#: arms (no finite estimate); the HR is then reported as null.
MAX_ABS_LOG_HR = 20.0


def _num(x: float | None) -> float | None:
    """A finite float, or None (JSON null) for NaN and infinities."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class Effect:
    """One comparison of an experimental arm with the control.

    Attributes
    ----------
    arm : str
        The experimental arm.
    control : str
        The control arm.
    measure : {"HR", "OR", "difference"}
        Cox hazard ratio (time to event), odds ratio, or difference in rates (a proportion,
        0-1, not percentage points).
    estimate : float
        The effect (NaN when it does not exist: no event in an arm, complete separation).
    ci_low, ci_high : float
        Its confidence interval at level ``1 - alpha`` (Wald for the HR, Woolf for the OR,
        Newcombe's hybrid score for the difference).
    p : float
        The p-value of ``test``.
    test : str
        The test (log-rank, chi-square, Fisher).
    """

    arm: str
    control: str
    measure: Literal["HR", "OR", "difference"]
    estimate: float
    ci_low: float
    ci_high: float
    p: float
    test: str

    def to_dict(self) -> dict[str, Any]:
        """The comparison as a JSON-ready dict.

        Returns
        -------
        dict
            Every field; a NaN or infinite number is ``None``.
        """
        return {
            "arm": self.arm, "control": self.control, "measure": self.measure,
            "estimate": _num(self.estimate), "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high), "p": _num(self.p), "test": self.test,
        }


@dataclass(frozen=True)
class KaplanMeierCurve:
    """A Kaplan–Meier step function: ``survival[i]`` holds on ``[times[i], times[i+1])``.

    Attributes
    ----------
    times : numpy.ndarray
        Step times, months, starting at 0 (survival 1).
    survival : numpy.ndarray
        Survival on each step.
    ci_low, ci_high : numpy.ndarray
        lifelines' exponential Greenwood bands (log(-log) transform) at level ``1 - alpha``.
    alpha : float
        One minus the bands' confidence level.
    at_risk : numpy.ndarray or None
        ``at_risk[i]``: patients still at risk at ``times[i]`` (time to event or censoring
        ``>= times[i]``), lifelines' ``event_table["at_risk"]``; None when not recorded.
    """

    times: np.ndarray
    survival: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    alpha: float
    at_risk: np.ndarray | None = None

    def at_risk_at(self, t: float | np.ndarray) -> np.ndarray:
        """Patients at risk at some times: those whose time is ``>= t``.

        Parameters
        ----------
        t : float or numpy.ndarray
            Time(s), months.

        Returns
        -------
        numpy.ndarray
            The count at the first recorded time at or after each ``t``; 0 beyond the last one.

        Raises
        ------
        SimulationError
            If the curve was built without its risk table.
        """
        if self.at_risk is None:
            raise SimulationError("this Kaplan-Meier curve was built without its risk table.")
        i = np.searchsorted(self.times, np.asarray(t, dtype=float), side="left")
        padded = np.r_[self.at_risk, 0]
        return padded[np.minimum(i, len(self.at_risk))].astype(int)

    def at(self, t: float | np.ndarray) -> np.ndarray:
        """Survival at some times (the value of the step holding at each).

        Parameters
        ----------
        t : float or numpy.ndarray
            Time(s), months.

        Returns
        -------
        numpy.ndarray
            Survival at each ``t``.
        """
        return self.survival[self._index(t)]

    def _index(self, t: float | np.ndarray) -> np.ndarray:
        return np.searchsorted(self.times, np.asarray(t, dtype=float), side="right") - 1

    def quantile_time(self, q: float = 0.5) -> tuple[float, float, float]:
        """The time at which survival first falls to a level or below, with its CI.

        Parameters
        ----------
        q : float, optional
            The survival level (default 0.5: the median).

        Returns
        -------
        tuple of (float, float, float)
            ``(time, ci_low, ci_high)``, months; ``inf`` where the curve (or a band) never gets
            there: a median not reached.
        """

        def first(curve: np.ndarray) -> float:
            i = int(np.searchsorted(-curve, -q, side="left"))
            return float(self.times[i]) if i < len(curve) and curve[i] <= q else math.inf

        return first(self.survival), first(self.ci_low), first(self.ci_high)

    def median(self) -> float:
        """The median survival time.

        Returns
        -------
        float
            Months; ``inf`` when not reached.
        """
        return self.quantile_time(0.5)[0]


@dataclass(frozen=True)
class ArmSurvival:
    name: str
    n: int
    events: int
    median: float
    ci_low: float
    ci_high: float
    landmark_months: float | None = None
    rate: float | None = None
    rate_ci_low: float | None = None
    rate_ci_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "n": self.n, "events": self.events,
            "median": _num(self.median), "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
        }
        if self.landmark_months is not None:
            out["landmark"] = {
                "months": self.landmark_months, "rate": _num(self.rate),
                "ci_low": _num(self.rate_ci_low), "ci_high": _num(self.rate_ci_high),
            }
        return out


@dataclass(frozen=True)
class ArmBinary:
    name: str
    n: int
    successes: int
    rate: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "n": self.n, "successes": self.successes,
            "rate": _num(self.rate), "ci_low": _num(self.ci_low), "ci_high": _num(self.ci_high),
        }


@dataclass(frozen=True)
class _Analysis:
    control: str
    alpha: float
    effects: tuple[Effect, ...]

    @property
    def effect(self) -> Effect:
        """The primary comparison (first experimental arm)."""
        return self.effects[0]


@dataclass(frozen=True)
class SurvivalAnalysis(_Analysis):
    """Result of :func:`analyze_survival`.

    Attributes
    ----------
    control : str
        The control arm.
    alpha : float
        CIs are at level ``1 - alpha``.
    effects : tuple of Effect
        Each experimental arm against the control (the primary one first; ``effect`` is it).
    arms : tuple of ArmSurvival
        Per arm: patients, events, Kaplan–Meier median with CI, landmark rate if asked.
    engine : str
        The engine that ran: ``lifelines`` or ``numpy``.
    curves : dict of str to KaplanMeierCurve
        Each arm's Kaplan–Meier curve (not compared).
    """

    arms: tuple[ArmSurvival, ...]
    engine: str
    curves: dict[str, KaplanMeierCurve] = field(repr=False, compare=False)

    def arm(self, name: str) -> ArmSurvival:
        """The summary of one arm.

        Parameters
        ----------
        name : str
            The arm's label.

        Returns
        -------
        ArmSurvival
            Its patients, events, median and landmark rate.
        """
        return next(a for a in self.arms if a.name == name)

    def to_dict(self) -> dict[str, Any]:
        """The analysis in the JSON shape of the module docstring.

        Returns
        -------
        dict
            ``endpoint_kind`` (``time_to_event``), ``control``, ``alpha``, ``arms``, ``effect`` and
            ``effects``.
        """
        return {
            "endpoint_kind": "time_to_event", "control": self.control, "alpha": self.alpha,
            "arms": [a.to_dict() for a in self.arms], "effect": self.effect.to_dict(),
            "effects": [e.to_dict() for e in self.effects],
        }


@dataclass(frozen=True)
class BinaryAnalysis(_Analysis):
    """Result of :func:`analyze_binary`.

    Attributes
    ----------
    control : str
        The control arm.
    alpha : float
        CIs are at level ``1 - alpha``.
    effects : tuple of Effect
        OR and difference for every experimental arm (the primary measure first).
    arms : tuple of ArmBinary
        Per arm: patients, successes, rate with its Wilson CI.
    measure : {"OR", "difference"}
        The primary measure.
    """

    arms: tuple[ArmBinary, ...]
    measure: BinaryMeasure

    def arm(self, name: str) -> ArmBinary:
        """The summary of one arm.

        Parameters
        ----------
        name : str
            The arm's label.

        Returns
        -------
        ArmBinary
            Its patients, successes and rate.
        """
        return next(a for a in self.arms if a.name == name)

    def to_dict(self) -> dict[str, Any]:
        """The analysis in the JSON shape of the module docstring.

        Returns
        -------
        dict
            ``endpoint_kind`` (``binary``), ``control``, ``alpha``, ``arms``, ``effect`` and
            ``effects``.
        """
        return {
            "endpoint_kind": "binary", "control": self.control, "alpha": self.alpha,
            "arms": [a.to_dict() for a in self.arms], "effect": self.effect.to_dict(),
            "effects": [e.to_dict() for e in self.effects],
        }


# --------------------------------------------------------------------------- inputs


def _groups(arm: Any, control: Any, n: int) -> tuple[list[str], np.ndarray, int]:
    """Arm names in order of first appearance, a code per patient, and the control's code."""
    a = np.asarray(arm)
    if a.ndim != 1 or a.size != n:
        raise SimulationError(
            f"The 'arm' parameter must be 1-D with one label per patient ({n}). "
            f"Got shape {a.shape} instead.")
    uniq, first, codes = np.unique(a, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    names = [str(u) for u in uniq[order]]
    codes = rank[codes.ravel()]
    if str(control) not in names:
        raise SimulationError(
            f"The 'control' parameter must name one of the arms {names}. Got {control!r} instead.")
    if len(names) < 2:
        raise SimulationError(f"A trial needs at least two arms. Got only {names}.")
    return names, codes, names.index(str(control))


def _check_alpha(alpha: float) -> None:
    if not (0.0 < alpha < 1.0):
        raise SimulationError(f"The 'alpha' parameter must lie in (0, 1). Got {alpha!r} instead.")


def _survival_inputs(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(bool)
    if t.ndim != 1 or t.shape != e.shape:
        raise SimulationError(
            "The 'time' and 'event' parameters must be 1-D of the same length. "
            f"Got shapes {t.shape} and {e.shape} instead.")
    if t.size and not (np.all(np.isfinite(t)) and t.min() >= 0):
        raise SimulationError("The 'time' parameter must hold finite times >= 0.")
    return t, e


# --------------------------------------------------------------------------- Kaplan–Meier


def kaplan_meier(time: Any, event: Any, *, alpha: float = 0.05) -> KaplanMeierCurve:
    """The Kaplan–Meier curve with lifelines' exponential-Greenwood bands, in NumPy.

    Equal to ``lifelines.KaplanMeierFitter(alpha=alpha).fit(time, event)`` (its
    ``survival_function_`` and ``confidence_interval_``), at every distinct time.

    Parameters
    ----------
    time : array-like
        Time to event or censoring per patient, months (finite, >= 0).
    event : array-like
        True for an observed event, False for censored.
    alpha : float, optional
        Bands at level ``1 - alpha`` (default 0.05).

    Returns
    -------
    KaplanMeierCurve
        The curve, its bands and the risk table.

    Raises
    ------
    SimulationError
        If there is no patient, the arrays differ in shape, a time is negative or not finite,
        or ``alpha`` is outside (0, 1).
    """
    _check_alpha(alpha)
    t, e = _survival_inputs(time, event)
    if t.size == 0:
        raise SimulationError("kaplan_meier needs at least one patient.")
    order = np.argsort(t)  # ties are grouped below; their order does not matter
    ts, es = t[order], e[order]
    start = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
    times = ts[start]
    n_risk = (t.size - start).astype(float)
    at_risk = n_risk.astype(np.int64)
    d = np.add.reduceat(es.astype(np.int64), start).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.cumsum(np.log(n_risk - d) - np.log(n_risk))
        var = d / (n_risk * (n_risk - d))
    var[np.isinf(var)] = 0.0
    var = np.cumsum(var)
    if times[0] > 0:
        times = np.r_[0.0, times]
        log_s = np.r_[0.0, log_s]
        var = np.r_[0.0, var]
        at_risk = np.r_[t.size, at_risk]
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.exp(-np.exp(np.log(-log_s) - z * np.sqrt(var) / log_s))
        hi = np.exp(-np.exp(np.log(-log_s) + z * np.sqrt(var) / log_s))
    lo[np.isnan(lo)] = 1.0
    hi[np.isnan(hi)] = 1.0
    return KaplanMeierCurve(times, np.exp(log_s), lo, hi, alpha, at_risk)


def _kaplan_meier_lifelines(t: np.ndarray, e: np.ndarray, alpha: float) -> KaplanMeierCurve:
    from lifelines import KaplanMeierFitter

    with np.errstate(all="ignore"):  # lifelines changes np.seterr globally; keep ours
        kmf = KaplanMeierFitter(alpha=alpha).fit(t, e)
    ci = kmf.confidence_interval_.to_numpy()
    return KaplanMeierCurve(
        kmf.survival_function_.index.to_numpy(dtype=float),
        kmf.survival_function_.to_numpy(dtype=float).ravel(),
        ci[:, 0].astype(float), ci[:, 1].astype(float), alpha,
        kmf.event_table["at_risk"].to_numpy(dtype=np.int64),
    )


# --------------------------------------------------------------------------- two-group tests


@dataclass(frozen=True)
class _RiskTable:
    """At each distinct event time: at risk (all, group 1) and events (all, group 1)."""

    n: np.ndarray
    n1: np.ndarray
    d: np.ndarray
    d1: np.ndarray


def _risk_table(t: np.ndarray, e: np.ndarray, x: np.ndarray) -> _RiskTable:
    order = np.argsort(t)  # the order within tied times does not matter
    ts, es, xs = t[order], e[order], x[order]
    start = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
    c1 = np.r_[0, np.cumsum(xs, dtype=np.int64)]
    n = (t.size - start).astype(float)
    n1 = (c1[-1] - c1[start]).astype(float)
    d = np.add.reduceat(es.astype(np.int64), start).astype(float)
    d1 = np.add.reduceat((es & xs).astype(np.int64), start).astype(float)
    keep = d > 0
    return _RiskTable(n[keep], n1[keep], d[keep], d1[keep])


def logrank_two_group(time: Any, event: Any, group: Any) -> tuple[float, float]:
    """Log-rank test of group 1 against group 0: ``(chi-square statistic, p)``, in NumPy.

    The same statistic as ``lifelines.statistics.logrank_test`` (hypergeometric variance).
    """
    t, e = _survival_inputs(time, event)
    return _logrank(_risk_table(t, e, np.asarray(group).astype(bool)))


def _logrank(rt: _RiskTable) -> tuple[float, float]:
    if rt.d.size == 0:
        return 0.0, 1.0
    expected = rt.d * rt.n1 / rt.n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = rt.d * (rt.n1 / rt.n) * (1 - rt.n1 / rt.n) * (rt.n - rt.d) / (rt.n - 1)
    v = np.where(rt.n > 1, v, 0.0)
    var = float(v.sum())
    if var <= 0:
        return 0.0, 1.0
    stat = float((rt.d1.sum() - expected.sum()) ** 2 / var)
    return stat, float(stats.chi2.sf(stat, 1))


def cox_two_group(
    time: Any, event: Any, group: Any, *, tol: float = 1e-10, max_iter: int = 60
) -> tuple[float, float]:
    """Cox model with one binary covariate (group 1 vs 0): ``(log HR, its standard error)``.

    Newton–Raphson on Efron's partial likelihood (lifelines' method; with no tied event
    times it equals Breslow's), vectorised over the event times; the SE is the inverse square
    root of the observed information at the estimate. Returns ``(nan, nan)`` when a group has
    no event or the events separate the groups (the estimate would be infinite).
    """
    t, e = _survival_inputs(time, event)
    return _cox(_risk_table(t, e, np.asarray(group).astype(bool)), tol, max_iter)


def _cox(rt: _RiskTable, tol: float = 1e-10, max_iter: int = 60) -> tuple[float, float]:
    if rt.d1.sum() == 0 or (rt.d - rt.d1).sum() == 0:
        return math.nan, math.nan
    # Efron: the j-th of d tied events sees the risk set minus j/d of the tied events.
    d = rt.d.astype(np.int64)
    rep = np.repeat(np.arange(d.size), d)
    frac = (np.arange(rep.size) - np.repeat(np.cumsum(d) - d, d)) / rt.d[rep]
    a = (rt.n - rt.n1)[rep] - frac * (rt.d - rt.d1)[rep]   # group-0 weight in the risk set
    b = rt.n1[rep] - frac * rt.d1[rep]                      # group-1 count in the risk set
    d1_total = float(rt.d1.sum())

    def score_info(beta: float) -> tuple[float, float, float]:
        w = math.exp(beta)
        denom = a + w * b
        p = w * b / denom
        loglik = d1_total * beta - float(np.log(denom).sum())
        return d1_total - float(p.sum()), float((p * (1 - p)).sum()), loglik

    beta = 0.0
    converged = False
    u, info, ll = score_info(beta)
    for _ in range(max_iter):
        if info <= 0:
            break
        step = max(-2.0, min(2.0, u / info))
        new = beta + step
        u2, info2, ll2 = score_info(new)
        while ll2 < ll - 1e-12 and abs(step) > 1e-12:  # halve until the likelihood rises
            step /= 2
            new = beta + step
            u2, info2, ll2 = score_info(new)
        beta, u, info, ll = new, u2, info2, ll2
        if abs(step) < tol:
            converged = True
            break
    if not converged or abs(beta) > MAX_ABS_LOG_HR or not info > 0:
        # the events separate the groups: the likelihood keeps rising as |beta| grows
        return math.nan, math.nan
    return beta, 1.0 / math.sqrt(info)


def _cox_lifelines(t: np.ndarray, e: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    import pandas as pd
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceWarning

    df = pd.DataFrame({"time": t, "event": e.astype(int), "x": x.astype(float)})
    with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as caught:
        # lifelines warns (ConvergenceWarning) when the covariate nearly separates the
        # durations; then its estimate is not to be trusted, and we use the exact fit, which
        # is the MLE if one exists and NaN under complete separation
        warnings.simplefilter("always", ConvergenceWarning)
        cph = CoxPHFitter().fit(df, duration_col="time", event_col="event")
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return cox_two_group(t, e, x)
    for w in caught:  # anything else is not ours to swallow
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return float(cph.params_["x"]), float(cph.standard_errors_["x"])


def _logrank_lifelines(t: np.ndarray, e: np.ndarray, x: np.ndarray) -> float:
    from lifelines.statistics import logrank_test

    with np.errstate(all="ignore"):
        res = logrank_test(t[~x], t[x], event_observed_A=e[~x], event_observed_B=e[x])
    return float(res.p_value)


# --------------------------------------------------------------------------- survival


def analyze_survival(
    time: Any,
    event: Any,
    arm: Any,
    *,
    control: Any,
    landmark_months: float | None = None,
    alpha: float = 0.05,
    engine: Engine = "auto",
) -> SurvivalAnalysis:
    """Kaplan–Meier medians, Cox HRs against the control, log-rank p, optional landmark rates.

    Parameters
    ----------
    time : array-like
        Time to event or censoring per patient, months.
    event : array-like
        True for an observed event.
    arm : array-like
        An arm label per patient.
    control : object
        The control arm's label (one of the labels).
    landmark_months : float, optional
        Also report each arm's Kaplan–Meier rate at this time, months.
    alpha : float, optional
        CIs at level ``1 - alpha`` (default 0.05).
    engine : {"auto", "lifelines", "numpy"}, optional
        ``auto`` (default): lifelines up to :data:`AUTO_LIFELINES_MAX_N` patients, NumPy above.

    Returns
    -------
    SurvivalAnalysis
        Per arm and per comparison.

    Raises
    ------
    SimulationError
        If the arrays differ in shape, a time is invalid, ``control`` is not an arm, there are
        fewer than two arms, or ``alpha`` or ``engine`` is invalid.
    """
    _check_alpha(alpha)
    t, e = _survival_inputs(time, event)
    names, codes, ctrl = _groups(arm, control, t.size)
    if engine not in ("auto", "lifelines", "numpy"):
        raise SimulationError(
            f"The 'engine' parameter must be 'auto', 'lifelines' or 'numpy'. Got {engine!r}.")
    use = ("lifelines" if t.size <= AUTO_LIFELINES_MAX_N else "numpy") if engine == "auto" \
        else engine
    z = stats.norm.ppf(1 - alpha / 2)

    arms: list[ArmSurvival] = []
    curves: dict[str, KaplanMeierCurve] = {}
    masks = [codes == k for k in range(len(names))]
    for k, name in enumerate(names):
        tk, ek = t[masks[k]], e[masks[k]]
        curve = _kaplan_meier_lifelines(tk, ek, alpha) if use == "lifelines" \
            else kaplan_meier(tk, ek, alpha=alpha)
        curves[name] = curve
        med, lo, hi = curve.quantile_time(0.5)
        extra: dict[str, Any] = {}
        if landmark_months is not None:
            i = int(curve._index(landmark_months))
            extra = {"landmark_months": float(landmark_months),
                     "rate": float(curve.survival[i]), "rate_ci_low": float(curve.ci_low[i]),
                     "rate_ci_high": float(curve.ci_high[i])}
        arms.append(ArmSurvival(name, int(tk.size), int(ek.sum()), med, lo, hi, **extra))

    effects: list[Effect] = []
    for k, name in enumerate(names):
        if k == ctrl:
            continue
        sel = masks[k] | masks[ctrl]
        ts, es, xs = t[sel], e[sel], masks[k][sel]
        no_events = not es[xs].any() or not es[~xs].any()
        if use == "lifelines":
            beta, se = (math.nan, math.nan) if no_events else _cox_lifelines(ts, es, xs)
            p = _logrank_lifelines(ts, es, xs) if es.any() else 1.0
        else:
            table = _risk_table(ts, es, xs)  # one sort serves both
            beta, se = _cox(table)
            p = _logrank(table)[1]
        if not abs(beta) <= MAX_ABS_LOG_HR:
            beta = se = math.nan
        effects.append(Effect(
            name, names[ctrl], "HR", math.exp(beta), math.exp(beta - z * se),
            math.exp(beta + z * se), p, "log-rank"))
    return SurvivalAnalysis(names[ctrl], alpha, tuple(effects), tuple(arms), use, curves)


# --------------------------------------------------------------------------- binary


def binary_test(s1: int, n1: int, s0: int, n0: int) -> tuple[float, str]:
    """p of a 2x2 table: Pearson chi-square (no continuity correction), or Fisher's exact
    test when an expected count is below 5. Returns ``(p, name of the test)``."""
    table = np.array([[s1, n1 - s1], [s0, n0 - s0]], dtype=float)
    expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
    if expected.min() < 5:
        return float(stats.fisher_exact(table.astype(np.int64))[1]), "Fisher exact"
    return float(stats.chi2_contingency(table, correction=False)[1]), "chi-square"


def _odds_ratio(s1: int, n1: int, s0: int, n0: int, alpha: float) -> tuple[float, float, float]:
    """Odds ratio with Woolf's logit CI; 0.5 is added to every cell when one is empty
    (Haldane–Anscombe; statsmodels' ``Table2x2(shift_zeros=True)`` shifts only the empty
    cells, which is not the textbook correction)."""
    a, b, c, d = float(s1), float(n1 - s1), float(s0), float(n0 - s0)
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    log_or = math.log(a * d / (b * c))
    half = stats.norm.ppf(1 - alpha / 2) * math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return math.exp(log_or), math.exp(log_or - half), math.exp(log_or + half)


def analyze_binary(
    success: Any,
    arm: Any,
    *,
    control: Any,
    alpha: float = 0.05,
    measure: BinaryMeasure = "difference",
) -> BinaryAnalysis:
    """Rates with Wilson CIs; OR and difference against the control with CIs and p.

    Parameters
    ----------
    success : array-like
        True for a responder, per patient.
    arm : array-like
        An arm label per patient.
    control : object
        The control arm's label.
    alpha : float, optional
        CIs at level ``1 - alpha`` (default 0.05).
    measure : {"difference", "OR"}, optional
        The primary ``effect`` (default ``difference``); both measures are in ``effects``.

    Returns
    -------
    BinaryAnalysis
        Per arm and per comparison.

    Raises
    ------
    SimulationError
        If the arrays differ in shape, ``control`` is not an arm, there are fewer than two
        arms, or ``alpha`` or ``measure`` is invalid.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

    _check_alpha(alpha)
    if measure not in ("OR", "difference"):
        raise SimulationError(
            f"The 'measure' parameter must be 'OR' or 'difference'. Got {measure!r} instead.")
    s = np.asarray(success).astype(bool)
    if s.ndim != 1:
        raise SimulationError(f"The 'success' parameter must be 1-D. Got shape {s.shape}.")
    names, codes, ctrl = _groups(arm, control, s.size)
    n = np.bincount(codes, minlength=len(names))
    k = np.bincount(codes, weights=s, minlength=len(names)).astype(np.int64)

    arms = []
    for j, name in enumerate(names):
        lo, hi = proportion_confint(int(k[j]), int(n[j]), alpha=alpha, method="wilson")
        arms.append(ArmBinary(name, int(n[j]), int(k[j]), k[j] / n[j], float(lo), float(hi)))

    primary: list[Effect] = []
    secondary: list[Effect] = []
    for j, name in enumerate(names):
        if j == ctrl:
            continue
        s1, n1, s0, n0 = int(k[j]), int(n[j]), int(k[ctrl]), int(n[ctrl])
        p, test = binary_test(s1, n1, s0, n0)
        odds_ratio, or_lo, or_hi = _odds_ratio(s1, n1, s0, n0, alpha)
        odds = Effect(name, names[ctrl], "OR", odds_ratio, or_lo, or_hi, p, test)
        d_lo, d_hi = confint_proportions_2indep(
            s1, n1, s0, n0, method="newcomb", compare="diff", alpha=alpha)
        diff = Effect(name, names[ctrl], "difference", s1 / n1 - s0 / n0, float(d_lo),
                      float(d_hi), p, test)
        first, second = (odds, diff) if measure == "OR" else (diff, odds)
        primary.append(first)
        secondary.append(second)
    return BinaryAnalysis(names[ctrl], alpha, (*primary, *secondary), tuple(arms), measure)


# --------------------------------------------------------------------------- replicates


@dataclass(frozen=True)
class Distribution:
    """Distribution of one statistic over replicates (NaN/null values left out, counted)."""

    mean: float
    median: float
    p2_5: float
    p97_5: float
    n: int
    missing: int

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Distribution:
        v = np.array([math.nan if x is None else float(x) for x in values], dtype=float)
        ok = v[np.isfinite(v)]
        if ok.size == 0:
            return cls(math.nan, math.nan, math.nan, math.nan, 0, int(v.size))
        q = np.percentile(ok, [50, 2.5, 97.5])
        return cls(float(ok.mean()), float(q[0]), float(q[1]), float(q[2]), int(ok.size),
                   int(v.size - ok.size))

    def to_dict(self) -> dict[str, Any]:
        return {"mean": _num(self.mean), "median": _num(self.median), "p2_5": _num(self.p2_5),
                "p97_5": _num(self.p97_5), "n": self.n, "missing": self.missing}


@dataclass(frozen=True)
class ReplicateSummary:
    """Summary of replicated analyses of one trial: each statistic's distribution and power.

    Attributes
    ----------
    replicates : int
        Number of analyses summarized.
    alpha : float
        The significance level of ``power``.
    power : float
        Share of replicates whose primary effect has ``p < alpha``.
    power_se : float
        Its Monte Carlo standard error ``sqrt(power (1 - power) / replicates)``.
    statistics : dict of str to Distribution
        Mean, median, 2.5% and 97.5% points per statistic, keyed ``arms.<name>.<stat>`` and
        ``effect.<stat>`` (primary effect).
    """

    replicates: int
    alpha: float
    power: float
    power_se: float
    statistics: dict[str, Distribution]

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict.

        Returns
        -------
        dict
            ``replicates``, ``alpha``, ``power``, ``power_se`` and ``statistics``.
        """
        return {"replicates": self.replicates, "alpha": self.alpha, "power": self.power,
                "power_se": self.power_se,
                "statistics": {k: v.to_dict() for k, v in self.statistics.items()}}


_ARM_STATS = ("n", "events", "successes", "median", "rate", "ci_low", "ci_high")
_EFFECT_STATS = ("estimate", "ci_low", "ci_high", "p")


def summarize_replicates(
    analyses: Sequence[SurvivalAnalysis | BinaryAnalysis], *, alpha: float = 0.05
) -> ReplicateSummary:
    """Distribution of every statistic over replicates, and the power.

    Parameters
    ----------
    analyses : sequence of SurvivalAnalysis or BinaryAnalysis
        One analysis per replicate of the same trial.
    alpha : float, optional
        Significance level of the power (default 0.05).

    Returns
    -------
    ReplicateSummary
        The distributions and the power.

    Raises
    ------
    SimulationError
        If there is no analysis.
    """
    _check_alpha(alpha)
    if not analyses:
        raise SimulationError("summarize_replicates needs at least one analysis.")
    values: dict[str, list[float | None]] = {}
    for a in analyses:
        d = a.to_dict()
        for arm in d["arms"]:
            for key in _ARM_STATS:
                if key in arm:
                    values.setdefault(f"arms.{arm['name']}.{key}", []).append(arm[key])
            if "landmark" in arm:
                for key in ("rate", "ci_low", "ci_high"):
                    values.setdefault(f"arms.{arm['name']}.landmark_{key}", []).append(
                        arm["landmark"][key])
        for key in _EFFECT_STATS:
            values.setdefault(f"effect.{key}", []).append(d["effect"][key])
    r = len(analyses)
    p = np.array([a.effect.p for a in analyses], dtype=float)
    power = float(np.mean(p < alpha))
    return ReplicateSummary(
        r, alpha, power, math.sqrt(power * (1 - power) / r),
        {k: Distribution.of(v) for k, v in values.items()})
