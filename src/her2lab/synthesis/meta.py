"""Pairwise meta-analysis: common effect and random effects (DL, PM, REML), HKSJ option.

statsmodels' ``combine_effects`` gives the common-effect (inverse-variance) estimate, Cochran's
Q and the DerSimonian–Laird and Paule–Mandel τ². What it lacks is written here:

- REML τ² (maximising the restricted log-likelihood, bounded at 0);
- the Q-profile confidence interval of τ² (Viechtbauer 2007, Stat Med 26:37-52) and the I²
  interval derived from it;
- I² as metafor defines it, ``100 τ² / (τ² + s²)`` with the "typical" within-study variance
  ``s² = (k - 1) Σw / ((Σw)² - Σw²)`` (Higgins & Thompson 2002, Stat Med 21:1539, eq. 9);
  for DL this equals ``(Q - df) / Q``; for the common-effect model I² is ``(Q - df) / Q``;
- the prediction interval ``μ̂ ± c √(τ² + SE²)`` (Riley et al. 2011, BMJ 342:d549) with
  ``c`` the normal quantile, or ``t`` on ``k - 1`` df with HKSJ (metafor's convention);
- DL's τ² truncated at 0 (statsmodels returns the raw, possibly negative, moment estimate).

HKSJ (Hartung & Knapp 2001; Sidik & Jonkman 2002): ``SE² = Σ wᵢ (yᵢ - μ̂)² / ((k - 1) Σ wᵢ)``
with a ``t`` on ``k - 1`` df, untruncated (metafor's ``test="knha"``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from her2lab.errors import DataError
from her2lab.synthesis.effects import Effect, check_measure, from_analysis_scale

__all__ = ["METHODS", "MetaResult", "Pooled", "meta_analysis"]

METHODS = ("DL", "PM", "REML")


@dataclass(frozen=True)
class Pooled:
    """One pooled estimate (common or random effects) with its heterogeneity statistics.

    Attributes
    ----------
    model : str
        ``"common"`` for the common-effect model; for the random-effects one, its τ²
        estimator (``REML``, ``DL`` or ``PM``).
    log_estimate : float
        The pooled effect on the analysis scale (log for ratios).
    se : float
        Its standard error (HKSJ-adjusted when asked).
    ci_low_analysis, ci_high_analysis : float
        Its confidence interval on the analysis scale.
    tau2 : float
        Between-study variance τ² (0 for the common-effect model).
    tau2_low, tau2_high : float or None
        τ²'s Q-profile confidence interval.
    i2 : float or None
        I², in percent.
    i2_low, i2_high : float or None
        I²'s confidence interval, in percent.
    prediction_low_analysis, prediction_high_analysis : float or None
        The random-effects prediction interval on the analysis scale.
    p_value : float
        Two-sided p-value of the pooled effect against no effect.
    """

    model: str
    log_estimate: float  # on the analysis scale (log for ratios)
    se: float
    ci_low_analysis: float
    ci_high_analysis: float
    tau2: float
    tau2_low: float | None
    tau2_high: float | None
    i2: float | None  # percent
    i2_low: float | None
    i2_high: float | None
    prediction_low_analysis: float | None
    prediction_high_analysis: float | None
    p_value: float


@dataclass(frozen=True)
class MetaResult:
    """A pairwise meta-analysis.

    Attributes
    ----------
    measure : str
        The effect measure of every study.
    method : str
        The τ² estimator: ``DL``, ``PM`` or ``REML``.
    hksj : bool
        Whether the random-effects interval is Hartung–Knapp–Sidik–Jonkman.
    level : float
        Confidence level of every pooled interval.
    studies : tuple of Effect
        The studies pooled.
    q : float
        Cochran's Q.
    q_df : int
        Its degrees of freedom (studies - 1).
    q_p : float or None
        Q's p-value (None with one study).
    random, fixed : Pooled
        The random-effects and common-effect estimates.
    weights : tuple of float
        Relative random-effects weights (sum 1), in study order.
    weights_fixed : tuple of float
        Relative common-effect weights (sum 1).
    notes : tuple of str
        Remarks (one study only, τ² at zero, ...).
    """

    measure: str
    method: str
    hksj: bool
    level: float
    studies: tuple[Effect, ...]
    q: float
    q_df: int
    q_p: float | None
    random: Pooled
    fixed: Pooled
    weights: tuple[float, ...]
    weights_fixed: tuple[float, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def k(self) -> int:
        return len(self.studies)

    def back(self, value: float | None) -> float | None:
        """A value from the analysis scale back to the reporting scale.

        Parameters
        ----------
        value : float or None
            A value on the analysis scale (a log HR).

        Returns
        -------
        float or None
            ``exp(value)`` for ratio measures, ``value`` otherwise; None stays None.
        """
        return from_analysis_scale(value, self.measure)

    def _block(self, p: Pooled) -> dict:
        return {
            "log_estimate": p.log_estimate,
            "se": p.se,
            "estimate": self.back(p.log_estimate),
            "ci_low": self.back(p.ci_low_analysis),
            "ci_high": self.back(p.ci_high_analysis),
            "tau2": p.tau2,
            "tau2_low": p.tau2_low,
            "tau2_high": p.tau2_high,
            "q": self.q,
            "q_df": self.q_df,
            "q_p": self.q_p,
            "i2": p.i2,
            "i2_low": p.i2_low,
            "i2_high": p.i2_high,
            "prediction_low": self.back(p.prediction_low_analysis),
            "prediction_high": self.back(p.prediction_high_analysis),
            "p_value": p.p_value,
        }

    def to_dict(self) -> dict:
        """The JSON of ``her2lab synth meta``.

        Returns
        -------
        dict
            Issue 13's keys, plus the intervals of τ² and I², p-values and the per-study rows.
        """
        d = {"measure": self.measure, "method": self.method, "hksj": self.hksj,
             # HKSJ needs two studies: asked for on one, the normal interval is used
             "hksj_applied": bool(self.hksj and self.k >= 2),
             "ci_level": self.level, "k": self.k}
        d.update(self._block(self.random))
        d["fixed"] = {"measure": self.measure, "method": "common", "k": self.k,
                      **self._block(self.fixed)}
        d["studies"] = [
            {
                "study": s.label,
                "log_estimate": s.yi,
                "se": s.se,
                "estimate": s.estimate,
                "ci_low": s.ci(self.level)[0],
                "ci_high": s.ci(self.level)[1],
                "weight": w,
                "weight_fixed": wf,
                "source": s.source,
            }
            for s, w, wf in zip(self.studies, self.weights, self.weights_fixed, strict=True)
        ]
        d["notes"] = list(self.notes)
        return d


# --------------------------------------------------------------------------- estimators


def _re_mean(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float, np.ndarray]:
    w = 1.0 / (v + tau2)
    mu = float(w @ y / w.sum())
    return mu, float(1.0 / w.sum()), w


def _reml_tau2(y: np.ndarray, v: np.ndarray) -> float:
    """REML τ²: the maximiser of the restricted log-likelihood on [0, ∞)."""

    def neg_rll(tau2: float) -> float:
        w = 1.0 / (v + tau2)
        mu = w @ y / w.sum()
        return 0.5 * (np.sum(np.log(v + tau2)) + math.log(w.sum()) + w @ (y - mu) ** 2)

    upper = max(10.0 * float(np.var(y, ddof=1)) if len(y) > 1 else 1.0, 10.0 * float(v.max()))
    res = optimize.minimize_scalar(neg_rll, bounds=(0.0, upper), method="bounded",
                                   options={"xatol": 1e-12, "maxiter": 500})
    tau2 = float(res.x)
    if neg_rll(0.0) <= neg_rll(tau2):
        return 0.0
    # polish with Newton steps on the REML score (Fisher scoring as in metafor)
    for _ in range(50):
        w = 1.0 / (v + tau2)
        mu = w @ y / w.sum()
        sw = w.sum()
        r = y - mu
        # score of the restricted likelihood: -1/2 tr(P) + 1/2 r'W W r
        score = -0.5 * (np.sum(w) - np.sum(w**2) / w.sum()) + 0.5 * np.sum((w * r) ** 2)
        info = 0.5 * (np.sum(w**2) - 2 * np.sum(w**3) / sw + (np.sum(w**2) / sw) ** 2)
        step = score / info
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < 1e-14:
            tau2 = new
            break
        tau2 = new
    return tau2


def _qgen(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    mu, _, w = _re_mean(y, v, tau2)
    return float(w @ (y - mu) ** 2)


def _tau2_qprofile(y: np.ndarray, v: np.ndarray, level: float) -> tuple[float, float]:
    """Q-profile interval of τ² (Viechtbauer 2007): the τ² values at which the generalised Q
    equals the χ²(k-1) quantiles; 0 where Q(0) already lies below the quantile."""
    k = len(y)
    alpha = 1 - level
    crit_hi = stats.chi2.isf(alpha / 2, k - 1)  # lower bound of tau2
    crit_lo = stats.chi2.ppf(alpha / 2, k - 1)  # upper bound of tau2

    def solve(crit: float) -> float:
        if _qgen(y, v, 0.0) <= crit:
            return 0.0
        hi = max(1.0, 10 * float(np.var(y, ddof=1)))
        while _qgen(y, v, hi) > crit:
            hi *= 10
            if hi > 1e12:
                return math.inf
        return float(optimize.brentq(lambda t: _qgen(y, v, t) - crit, 0.0, hi, xtol=1e-12,
                                     rtol=1e-14, maxiter=500))

    return solve(crit_hi), solve(crit_lo)


def q_df_of(k: int) -> int:
    return k - 1


def _pm_root(y: np.ndarray, v: np.ndarray) -> float:
    k = len(y)
    hi = max(1.0, 10 * float(np.var(y, ddof=1)))
    while _qgen(y, v, hi) > k - 1:
        hi *= 10
    return float(optimize.brentq(lambda t: _qgen(y, v, t) - (k - 1), 0.0, hi, xtol=1e-15,
                                 rtol=4 * np.finfo(float).eps, maxiter=500))


def _typical_v(v: np.ndarray) -> float:
    w = 1.0 / v
    k = len(v)
    return float((k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum()))


def _i2_of(tau2: float, s2: float) -> float:
    return 100.0 * tau2 / (tau2 + s2)


def meta_analysis(
    studies: Sequence[Effect] | Sequence[str],
    estimates: Sequence[float] | None = None,
    ci_low: Sequence[float] | None = None,
    ci_high: Sequence[float] | None = None,
    *,
    measure: str | None = None,
    method: str = "REML",
    hksj: bool = False,
    level: float = 0.95,
    ci_level: float | Sequence[float] = 0.95,
) -> MetaResult:
    """Pool studies under a common-effect and a random-effects model.

    Two forms: ``meta_analysis(effects)`` with :class:`Effect` objects (all of one measure), or
    ``meta_analysis(labels, estimates, ci_low, ci_high, measure="HR")`` with reported estimates
    and their intervals on the reporting scale (an HR, not its log).

    Parameters
    ----------
    studies : sequence of Effect, or sequence of str
        The studies, or their labels (columnar form).
    estimates, ci_low, ci_high : sequence of float, optional
        Columnar form: each study's estimate and interval, on the reporting scale.
    measure : str, optional
        The measure: required in the columnar form; with Effect objects, checked against
        theirs.
    method : {"REML", "DL", "PM"}, optional
        τ² estimator: ``REML`` (default), ``DL`` (DerSimonian & Laird 1986) or ``PM`` (Paule &
        Mandel 1982, as in DerSimonian & Kacker 2007).
    hksj : bool, optional
        Hartung–Knapp–Sidik–Jonkman standard error and ``t`` intervals for the random-effects
        mean (default False).
    level : float, optional
        Confidence level of every pooled interval, in (0, 1) (default 0.95).
    ci_level : float or sequence of float, optional
        Columnar form: the level of the reported intervals, one for all or one per study
        (default 0.95).

    Returns
    -------
    MetaResult
        Both pooled estimates, heterogeneity and weights.

    Raises
    ------
    DataError
        If the two forms are mixed or incomplete, the columns differ in length, the method is
        unknown, the level is outside (0, 1), there is no study, the measures differ, or labels
        repeat.
    """
    from statsmodels.stats.meta_analysis import combine_effects

    from her2lab.synthesis.effects import effect_from_ci

    if estimates is not None:
        if measure is None or ci_low is None or ci_high is None:
            raise DataError("the columnar form needs labels, estimates, ci_low, ci_high and "
                            "measure")
        labels = [str(x) for x in studies]
        n = len(labels)
        if not (len(estimates) == len(ci_low) == len(ci_high) == n):
            raise DataError(f"labels, estimates, ci_low and ci_high must have one value per "
                            f"study; got {n}, {len(estimates)}, {len(ci_low)}, {len(ci_high)}")
        levels = [ci_level] * n if isinstance(ci_level, int | float) else list(ci_level)
        studies = [effect_from_ci(lab, e, lo, hi, measure=measure, level=lv)
                   for lab, e, lo, hi, lv in zip(labels, estimates, ci_low, ci_high, levels,
                                                  strict=True)]
    elif studies and not all(isinstance(s, Effect) for s in studies):
        raise DataError("meta_analysis takes Effect objects, or labels with estimates, ci_low "
                        "and ci_high")

    method = str(method).strip().upper()
    if method not in METHODS:
        raise DataError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if not 0 < level < 1:
        raise DataError(f"level must lie in (0, 1); got {level}")
    studies = tuple(studies)
    if not studies:
        raise DataError("a meta-analysis needs at least one study; got none")
    measures = {s.measure for s in studies}
    if len(measures) != 1:
        raise DataError(f"all studies must use one measure; got {sorted(measures)}")
    measure_found = check_measure(measures.pop())
    if measure is not None and check_measure(measure) != measure_found:
        raise DataError(f"measure {measure!r} was asked for, but the studies are "
                        f"{measure_found}")
    measure = measure_found
    labels = [s.label for s in studies]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise DataError(f"study labels must be unique; repeated: {', '.join(dup)}")
    k = len(studies)
    y = np.array([s.yi for s in studies], float)
    v = np.array([s.vi for s in studies], float)
    notes: list[str] = []
    alpha = 1 - level
    z = stats.norm.isf(alpha / 2)

    if k >= 2:
        # statsmodels needs k >= 2 (it divides by k - 1)
        # the common-effect mean and Q (the τ² of PM and REML are found below); statsmodels'
        # random-effects side divides by Q - (k - 1) and takes square roots of what may be
        # negative where Q <= k - 1 or Q = 0: those values are not used here, and their
        # RuntimeWarnings say nothing about the figures taken from it (checked finite below)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            sm = combine_effects(y, v, method_re="chi2")
        mu_fe, var_fe, q = float(sm.mean_effect_fe), float(sm.var_eff_w_fe), float(sm.q)
        if not all(math.isfinite(x) for x in (mu_fe, var_fe, q)):
            raise DataError("the studies give no finite common-effect estimate (check the "
                            "estimates and standard errors for zeros or extreme values)")
        if method == "DL":
            tau2 = max(0.0, float(sm.tau2))
        elif method == "PM":
            # statsmodels' PM iteration stops at a loose tolerance (up to ~4e-6 relative off
            # the root) and resets τ² to 0 when a step lands beyond it; the generalised Q(τ²)
            # is decreasing in τ², so the root of Q(τ²) = k - 1 is unique: it is always
            # polished with Brent's method (τ² = 0 where Q(0) <= k - 1, as metafor's "PM")
            tau2 = _pm_root(y, v) if q > q_df_of(k) else 0.0
        else:
            tau2 = _reml_tau2(y, v)
    else:
        mu_fe, var_fe, q = float(y[0]), float(v[0]), 0.0
        tau2 = 0.0
        notes.append("one study: no heterogeneity can be estimated; the pooled estimate is "
                     "the study's own")
    q_df = k - 1
    q_p = float(stats.chi2.sf(q, q_df)) if q_df > 0 else None

    mu, var_re, w_re = _re_mean(y, v, tau2)
    se_re = math.sqrt(var_re)
    if hksj and k >= 2:
        se_re = math.sqrt(float(w_re @ (y - mu) ** 2) / ((k - 1) * w_re.sum()))
        crit = stats.t.isf(alpha / 2, k - 1)
        p_re = float(2 * stats.t.sf(abs(mu / se_re), k - 1)) if se_re > 0 else 0.0
    else:
        if hksj:
            notes.append("HKSJ needs at least two studies; the normal interval is used")
        crit = z
        p_re = float(2 * stats.norm.sf(abs(mu / se_re)))
    se_fe = math.sqrt(var_fe)

    if k >= 2:
        s2 = _typical_v(v)
        t_lo, t_hi = _tau2_qprofile(y, v, level)
        i2 = _i2_of(tau2, s2)
        i2_lo, i2_hi = _i2_of(t_lo, s2), (_i2_of(t_hi, s2) if math.isfinite(t_hi) else 100.0)
        i2_fe = max(0.0, 100.0 * (q - q_df) / q) if q > 0 else 0.0
        pred_half = crit * math.sqrt(tau2 + se_re**2)
        pred = (mu - pred_half, mu + pred_half)
    else:
        t_lo = t_hi = i2 = i2_lo = i2_hi = i2_fe = None
        pred = (None, None)

    random = Pooled(
        model=method, log_estimate=mu, se=se_re,
        ci_low_analysis=mu - crit * se_re, ci_high_analysis=mu + crit * se_re,
        tau2=tau2, tau2_low=t_lo, tau2_high=t_hi, i2=i2, i2_low=i2_lo, i2_high=i2_hi,
        prediction_low_analysis=pred[0], prediction_high_analysis=pred[1], p_value=p_re,
    )
    fixed = Pooled(
        model="common", log_estimate=mu_fe, se=se_fe,
        ci_low_analysis=mu_fe - z * se_fe, ci_high_analysis=mu_fe + z * se_fe,
        tau2=0.0, tau2_low=None, tau2_high=None, i2=i2_fe, i2_low=None, i2_high=None,
        prediction_low_analysis=mu_fe - z * se_fe, prediction_high_analysis=mu_fe + z * se_fe,
        p_value=float(2 * stats.norm.sf(abs(mu_fe / se_fe))),
    )
    w_fe = (1 / v) / (1 / v).sum()
    return MetaResult(
        measure=measure, method=method, hksj=bool(hksj), level=level, studies=studies,
        q=q, q_df=q_df, q_p=q_p, random=random, fixed=fixed,
        weights=tuple(float(x) for x in w_re / w_re.sum()),
        weights_fixed=tuple(float(x) for x in w_fe), notes=tuple(notes),
    )
