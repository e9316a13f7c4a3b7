"""Trial design: events and sample size by formula (Schoenfeld) and by simulation.

Formulas
--------
:func:`schoenfeld_events` is Schoenfeld's (1983) number of events for a log-rank test of a
proportional-hazards effect::

    D = (z_{1-alpha/sided} + z_{power})^2 / (a (1 - a) log(HR)^2)

with ``a`` the share allocated to the experimental arm (HR 0.7, two-sided alpha 0.05, power 0.8,
1:1 gives 247 events). :func:`schoenfeld_sample_size` divides by the probability that a patient's
event is observed by the analysis (:func:`her2lab.virtual_trials.stats.simulate.event_probability`
gives it for a Weibull baseline with accrual, follow-up and dropout; :func:`schoenfeld_design`
puts the two together for a homogeneous two-arm trial).
:func:`two_proportion_sample_size` is the normal-approximation analogue for binary endpoints.

Simulation
----------
:func:`power_by_simulation` and :func:`sample_size_by_simulation` take any simulator: a callable
``simulate(rng, n_per_arm)`` returning one replicate's ``(time, event, arm)`` (time to event,
tested with the log-rank test) or ``(success, arm)`` (binary, chi-square or Fisher), with two
arm labels of which ``control`` is one. The pathway-driven simulator of
:mod:`her2lab.virtual_trials.population` plugs in the same way as the homogeneous two-arm
simulators of :mod:`~her2lab.virtual_trials.stats.simulate`. ``n_per_arm`` is the size of each arm
(the simulator may split it otherwise, e.g. 2:1, and say so).

Power is the share of replicates with two-sided ``p < alpha``; its Monte Carlo standard error is
``sqrt(power (1 - power) / replicates)``. The sample-size search uses common random numbers (the
same replicate seeds at every ``n``), so the simulated power curve is close to monotone; it
brackets the target by doubling, narrows the bracket by bisection, and then fits the monotone
curve ``power(n) = Phi(a + b sqrt(n))`` (``b > 0``; the form of the normal approximation) to
every evaluated point by binomial maximum likelihood and returns the smallest ``n`` at which the
fitted curve reaches the target, with the power simulated at that ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, stats

from her2lab.errors import SimulationError
from her2lab.virtual_trials.stats.analyze import binary_test, logrank_two_group

__all__ = [
    "FormulaDesign",
    "PowerEstimate",
    "SampleSizeEstimate",
    "Simulator",
    "power_by_simulation",
    "sample_size_by_simulation",
    "schoenfeld_design",
    "schoenfeld_events",
    "schoenfeld_power",
    "schoenfeld_sample_size",
    "two_proportion_sample_size",
]

#: ``simulate(rng, n_per_arm) -> (time, event, arm) | (success, arm)``
Simulator = Callable[[np.random.Generator, int], tuple[np.ndarray, ...]]


def _z_alpha(alpha: float, sided: int) -> float:
    if not 0 < alpha < 1:
        raise SimulationError(f"The 'alpha' parameter must lie in (0, 1). Got {alpha!r}.")
    if sided not in (1, 2):
        raise SimulationError(f"The 'sided' parameter must be 1 or 2. Got {sided!r}.")
    return float(stats.norm.ppf(1 - alpha / sided))


def _check_design(hr: float, power: float, allocation: float) -> None:
    if not (hr > 0 and hr != 1 and math.isfinite(hr)):
        raise SimulationError(f"The 'hr' parameter must be > 0 and not 1. Got {hr!r} instead.")
    if not 0 < power < 1:
        raise SimulationError(f"The 'power' parameter must lie in (0, 1). Got {power!r}.")
    if not 0 < allocation < 1:
        raise SimulationError(
            f"The 'allocation' parameter must lie in (0, 1). Got {allocation!r} instead.")


def schoenfeld_events(
    hr: float, alpha: float = 0.05, power: float = 0.8, allocation: float = 0.5, sided: int = 2
) -> int:
    """Events needed to detect a hazard ratio with a log-rank test (Schoenfeld 1983), rounded up.

    Parameters
    ----------
    hr : float
        The hazard ratio to detect (> 0, not 1).
    alpha : float, optional
        Type I error, in (0, 1) (default 0.05).
    power : float, optional
        Target power, in (0, 1) (default 0.8).
    allocation : float, optional
        Share of patients in the experimental arm, in (0, 1) (default 0.5: 1:1).
    sided : {1, 2}, optional
        2 (default) splits ``alpha`` between the two tails.

    Returns
    -------
    int
        The number of events (HR 0.7, alpha 0.05 two-sided, power 0.8, 1:1: 247).

    Raises
    ------
    SimulationError
        If an argument is out of range.
    """
    _check_design(hr, power, allocation)
    z = _z_alpha(alpha, sided) + stats.norm.ppf(power)
    return math.ceil(z**2 / (allocation * (1 - allocation) * math.log(hr) ** 2) - 1e-9)


def schoenfeld_power(
    hr: float, events: float, alpha: float = 0.05, allocation: float = 0.5, sided: int = 2
) -> float:
    """Power of the log-rank test with a given number of events (Schoenfeld's approximation).

    Parameters
    ----------
    hr : float
        The true hazard ratio (> 0, not 1).
    events : float
        The number of events (> 0).
    alpha : float, optional
        Type I error, in (0, 1) (default 0.05).
    allocation : float, optional
        Share of patients in the experimental arm, in (0, 1) (default 0.5).
    sided : {1, 2}, optional
        One- or two-sided test (default 2).

    Returns
    -------
    float
        The power, in (0, 1).

    Raises
    ------
    SimulationError
        If an argument is out of range.
    """
    _check_design(hr, 0.5, allocation)
    if events <= 0:
        raise SimulationError(f"The 'events' parameter must be > 0. Got {events!r} instead.")
    drift = math.sqrt(events * allocation * (1 - allocation)) * abs(math.log(hr))
    return float(stats.norm.cdf(drift - _z_alpha(alpha, sided)))


def schoenfeld_sample_size(
    hr: float,
    event_probability: float,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: float = 0.5,
    sided: int = 2,
) -> int:
    """Total patients so that the expected events reach Schoenfeld's number, rounded up.

    Parameters
    ----------
    hr : float
        The hazard ratio to detect (> 0, not 1).
    event_probability : float
        Probability that a patient (averaged over both arms, weighted by allocation) has an
        observed event by the analysis, in (0, 1].
    alpha : float, optional
        Type I error, in (0, 1) (default 0.05).
    power : float, optional
        Target power, in (0, 1) (default 0.8).
    allocation : float, optional
        Share of patients in the experimental arm, in (0, 1) (default 0.5).
    sided : {1, 2}, optional
        One- or two-sided test (default 2).

    Returns
    -------
    int
        Total patients, both arms.

    Raises
    ------
    SimulationError
        If an argument is out of range.
    """
    if not 0 < event_probability <= 1:
        raise SimulationError(
            "The 'event_probability' parameter must lie in (0, 1]. "
            f"Got {event_probability!r} instead.")
    _check_design(hr, power, allocation)
    z = _z_alpha(alpha, sided) + stats.norm.ppf(power)
    events = z**2 / (allocation * (1 - allocation) * math.log(hr) ** 2)
    return math.ceil(events / event_probability - 1e-9)


@dataclass(frozen=True)
class FormulaDesign:
    """Schoenfeld's design for a Weibull-PH trial with accrual, follow-up and dropout.

    Attributes
    ----------
    hr : float
        The hazard ratio designed for.
    events : int
        Events needed (Schoenfeld).
    event_probability : float
        Probability of an observed event per patient, averaged over the arms.
    n_total : int
        Total patients.
    n_control, n_experimental : int
        Patients per arm (the total split by allocation, each rounded up).
    """

    hr: float
    events: int
    event_probability: float
    n_total: int
    n_control: int
    n_experimental: int

    def to_dict(self) -> dict[str, Any]:
        """The design as a JSON-ready dict.

        Returns
        -------
        dict
            ``method`` (``"Schoenfeld"``) and every field.
        """
        return {"method": "Schoenfeld", "hr": self.hr, "events": self.events,
                "event_probability": self.event_probability, "n_total": self.n_total,
                "n_control": self.n_control, "n_experimental": self.n_experimental}


def schoenfeld_design(
    hr: float,
    *,
    control_median: float,
    shape: float = 1.0,
    accrual_months: float = 0.0,
    follow_up_months: float | None = None,
    dropout_per_year: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: float = 0.5,
    sided: int = 2,
) -> FormulaDesign:
    """Events (Schoenfeld) and patients for a homogeneous two-arm Weibull-PH trial.

    The probability of an observed event is averaged over the arms (weighted by allocation),
    each computed by :func:`~her2lab.virtual_trials.stats.simulate.event_probability`; the arm
    sizes are the total split by ``allocation``, each rounded up.

    Parameters
    ----------
    hr : float
        The hazard ratio to detect (> 0, not 1).
    control_median : float
        The control arm's median, months (> 0).
    shape : float, optional
        The Weibull shape (default 1: exponential).
    accrual_months : float, optional
        Length of uniform accrual, months (default 0).
    follow_up_months : float, optional
        Minimum follow-up, months (default None: no administrative censoring).
    dropout_per_year : float, optional
        Probability of dropping out within 12 months (default 0).
    alpha : float, optional
        Type I error (default 0.05).
    power : float, optional
        Target power (default 0.8).
    allocation : float, optional
        Share of patients in the experimental arm (default 0.5).
    sided : {1, 2}, optional
        One- or two-sided test (default 2).

    Returns
    -------
    FormulaDesign
        Events, event probability and arm sizes.

    Raises
    ------
    SimulationError
        If an argument is out of range.
    """
    from her2lab.virtual_trials.stats.simulate import event_probability, weibull_scale_from_median

    _check_design(hr, power, allocation)
    scale = weibull_scale_from_median(control_median, shape)
    kw = dict(shape=shape, scale=scale, accrual_months=accrual_months,
              follow_up_months=follow_up_months, dropout_per_year=dropout_per_year)
    prob = (1 - allocation) * event_probability(1.0, **kw) + allocation * event_probability(
        hr, **kw)
    if prob <= 0:
        raise SimulationError(
            "No event can be observed with this accrual and follow-up "
            f"(accrual_months={accrual_months}, follow_up_months={follow_up_months}).")
    total = schoenfeld_sample_size(hr, prob, alpha, power, allocation, sided)
    return FormulaDesign(
        float(hr), schoenfeld_events(hr, alpha, power, allocation, sided), prob, total,
        math.ceil(total * (1 - allocation) - 1e-9), math.ceil(total * allocation - 1e-9))


def two_proportion_sample_size(
    p_control: float, p_experimental: float, alpha: float = 0.05, power: float = 0.8,
    allocation: float = 0.5, sided: int = 2,
) -> int:
    """Total patients for a chi-square test of two proportions.

    Normal approximation, no continuity correction (Fleiss, Levin & Paik 2003, eq. 4.14 without
    the correction).

    Parameters
    ----------
    p_control, p_experimental : float
        The response probabilities, in (0, 1) and different.
    alpha : float, optional
        Type I error (default 0.05).
    power : float, optional
        Target power (default 0.8).
    allocation : float, optional
        Share of patients in the experimental arm (default 0.5).
    sided : {1, 2}, optional
        One- or two-sided test (default 2).

    Returns
    -------
    int
        Total patients, both arms, rounded up.

    Raises
    ------
    SimulationError
        If an argument is out of range.
    """
    if not (0 < p_control < 1 and 0 < p_experimental < 1 and p_control != p_experimental):
        raise SimulationError(
            "The proportions must lie in (0, 1) and differ. "
            f"Got {p_control!r} and {p_experimental!r} instead.")
    _check_design(2.0, power, allocation)
    a = allocation
    pbar = a * p_experimental + (1 - a) * p_control
    za, zb = _z_alpha(alpha, sided), float(stats.norm.ppf(power))
    num = (za * math.sqrt(pbar * (1 - pbar) * (1 / a + 1 / (1 - a)))
           + zb * math.sqrt(p_experimental * (1 - p_experimental) / a
                            + p_control * (1 - p_control) / (1 - a))) ** 2
    return math.ceil(num / (p_experimental - p_control) ** 2 - 1e-9)


# --------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class PowerEstimate:
    """Simulated power at one number of patients per arm.

    Attributes
    ----------
    n_per_arm : int
        Patients per arm.
    power : float
        Share of replicates with two-sided ``p < alpha``.
    se : float
        Its Monte Carlo standard error, ``sqrt(power (1 - power) / replicates)``.
    replicates : int
        Number of simulated trials.
    alpha : float
        The significance level.
    mean_events : float or None
        Mean number of events per trial; None for binary endpoints.
    """

    n_per_arm: int
    power: float
    se: float
    replicates: int
    alpha: float
    mean_events: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The estimate as a JSON-ready dict.

        Returns
        -------
        dict
            Every field.
        """
        return {"n_per_arm": self.n_per_arm, "power": self.power, "se": self.se,
                "replicates": self.replicates, "alpha": self.alpha,
                "mean_events": self.mean_events}


@dataclass(frozen=True)
class SampleSizeEstimate:
    """Result of :func:`sample_size_by_simulation`.

    Attributes
    ----------
    n_per_arm : int
        Where the fitted curve ``Phi(a + b sqrt(n))`` reaches the target.
    target_power : float
        The power asked for.
    at_n : PowerEstimate
        The power simulated at ``n_per_arm``.
    curve : tuple of (float, float)
        The fitted ``(a, b)``.
    evaluations : tuple of PowerEstimate
        Every point simulated on the way.
    """

    n_per_arm: int
    target_power: float
    at_n: PowerEstimate
    curve: tuple[float, float]
    evaluations: tuple[PowerEstimate, ...] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The estimate as a JSON-ready dict.

        Returns
        -------
        dict
            ``n_per_arm``, ``target_power``, the power (and its standard error and mean events) at
            ``n_per_arm``, the fitted ``curve`` and every evaluation.
        """
        return {"n_per_arm": self.n_per_arm, "target_power": self.target_power,
                "power": self.at_n.power, "power_se": self.at_n.se,
                "mean_events": self.at_n.mean_events,
                "curve": {"a": self.curve[0], "b": self.curve[1]},
                "evaluations": [e.to_dict() for e in self.evaluations]}


def _one_p(result: tuple[np.ndarray, ...], control: Any) -> tuple[float, int | None]:
    """p of one replicate, and its number of events (time to event only)."""
    if len(result) not in (2, 3):
        raise SimulationError(
            "A simulator must return (time, event, arm) or (success, arm). "
            f"Got a tuple of {len(result)} arrays.")
    arm = np.asarray(result[-1])
    labels = np.unique(arm)
    if labels.size != 2 or not np.any(labels == control):
        raise SimulationError(
            f"A simulator must return two arms, one of them the control {control!r}. "
            f"Got arms {labels.tolist()}.")
    x = arm != control
    if len(result) == 3:
        time, event = np.asarray(result[0], dtype=float), np.asarray(result[1]).astype(bool)
        return logrank_two_group(time, event, x)[1], int(event.sum())
    s = np.asarray(result[0]).astype(bool)
    n1, n0 = int(x.sum()), int((~x).sum())
    return binary_test(int(s[x].sum()), n1, int(s[~x].sum()), n0)[0], None


def _power_with_seeds(
    simulate: Simulator, n_per_arm: int, seeds: np.ndarray, alpha: float, control: Any
) -> PowerEstimate:
    ps = np.empty(seeds.size)
    events: list[int] = []
    for i, seed in enumerate(seeds):
        p, d = _one_p(simulate(np.random.default_rng(int(seed)), int(n_per_arm)), control)
        ps[i] = p
        if d is not None:
            events.append(d)
    power = float(np.mean(ps < alpha))
    return PowerEstimate(
        int(n_per_arm), power, math.sqrt(power * (1 - power) / seeds.size), int(seeds.size),
        alpha, float(np.mean(events)) if events else None)


def _seeds(rng: np.random.Generator, replicates: int) -> np.ndarray:
    if replicates < 1:
        raise SimulationError(
            f"The 'replicates' parameter must be >= 1. Got {replicates!r} instead.")
    return rng.integers(0, 2**63 - 1, size=replicates, dtype=np.int64)


def power_by_simulation(
    simulate: Simulator,
    n_per_arm: int,
    replicates: int,
    alpha: float = 0.05,
    rng: np.random.Generator | None = None,
    *,
    control: Any = 0,
) -> PowerEstimate:
    """Simulated power: the share of simulated trials with two-sided ``p < alpha``.

    The log-rank test for time to event, chi-square or Fisher for binary.

    Parameters
    ----------
    simulate : callable
        ``simulate(rng, n_per_arm)`` returning one replicate's ``(time, event, arm)`` or
        ``(success, arm)``.
    n_per_arm : int
        Patients per arm (>= 1).
    replicates : int
        Number of simulated trials (>= 1).
    alpha : float, optional
        Significance level (default 0.05).
    rng : numpy.random.Generator, optional
        Source of the replicates' seeds (default: a fresh, unseeded generator).
    control : optional
        The arm label of the control arm (default 0).

    Returns
    -------
    PowerEstimate
        The power and its Monte Carlo standard error.

    Raises
    ------
    SimulationError
        If ``n_per_arm`` or ``replicates`` is below 1, or ``alpha`` outside (0, 1).
    """
    if n_per_arm < 1:
        raise SimulationError(f"The 'n_per_arm' parameter must be >= 1. Got {n_per_arm!r}.")
    rng = np.random.default_rng() if rng is None else rng
    return _power_with_seeds(simulate, n_per_arm, _seeds(rng, replicates), alpha, control)


def _fit_curve(evals: list[PowerEstimate]) -> tuple[float, float]:
    """Binomial MLE of ``power(n) = Phi(a + b sqrt(n))`` with ``b > 0``."""
    n = np.array([e.n_per_arm for e in evals], dtype=float)
    k = np.array([e.power * e.replicates for e in evals])
    r = np.array([e.replicates for e in evals], dtype=float)
    x = np.sqrt(n)

    def nll(theta: np.ndarray) -> float:
        eta = theta[0] + math.exp(theta[1]) * x
        return -float(np.sum(k * stats.norm.logcdf(eta) + (r - k) * stats.norm.logsf(eta)))

    start = np.array([-2.0, math.log(2.0 / max(float(x.mean()), 1e-9))])
    res = optimize.minimize(nll, start, method="Nelder-Mead",
                            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    return float(res.x[0]), float(math.exp(res.x[1]))


def sample_size_by_simulation(
    simulate: Simulator,
    target_power: float = 0.8,
    *,
    replicates: int = 1000,
    alpha: float = 0.05,
    rng: np.random.Generator | None = None,
    control: Any = 0,
    n_start: int = 16,
    n_max: int = 1_000_000,
    rel_tol: float = 0.02,
    progress: Callable[[str, int, int], Any] | None = None,
) -> SampleSizeEstimate:
    """Smallest number of patients per arm whose simulated power reaches a target.

    See the module docstring for the search (common random numbers, doubling, bisection, a
    fitted power curve).

    Parameters
    ----------
    simulate : callable
        ``simulate(rng, n_per_arm)`` returning one replicate's ``(time, event, arm)`` or
        ``(success, arm)``.
    target_power : float, optional
        The power to reach, in (0, 1) (default 0.8).
    replicates : int, optional
        Simulated trials per size tried (default 1000).
    alpha : float, optional
        Significance level (default 0.05).
    rng : numpy.random.Generator, optional
        Source of the replicates' seeds (default: a fresh, unseeded generator).
    control : optional
        The arm label of the control arm (default 0).
    n_start : int, optional
        First size tried (default 16).
    n_max : int, optional
        Largest size tried (default 1,000,000).
    rel_tol : float, optional
        The bisection stops when the bracket is narrower than ``rel_tol`` times its upper end
        (and than 1 patient; default 0.02).
    progress : callable, optional
        ``progress(stage, done, total)`` after each simulated trial: the stage names the size
        being tried and its place in the search, ``done`` of ``total`` counts its replicates.

    Returns
    -------
    SampleSizeEstimate
        The size, the power simulated there and every evaluation.

    Raises
    ------
    SimulationError
        If ``n_max`` is not enough, or an argument is out of range.
    """
    if not 0 < target_power < 1:
        raise SimulationError(
            f"The 'target_power' parameter must lie in (0, 1). Got {target_power!r}.")
    if not 1 <= n_start <= n_max:
        raise SimulationError(
            f"Need 1 <= n_start <= n_max. Got n_start={n_start!r}, n_max={n_max!r}.")
    rng = np.random.default_rng() if rng is None else rng
    seeds = _seeds(rng, replicates)
    evals: dict[int, PowerEstimate] = {}

    def power_at(n: int) -> float:
        if n not in evals:
            sim = simulate
            if progress is not None:
                stage = f"simulated power at {n} patients per arm (size {len(evals) + 1})"
                done = [0]

                def sim(rng: np.random.Generator, m: int) -> tuple[np.ndarray, ...]:
                    out = simulate(rng, m)
                    done[0] += 1
                    progress(stage, done[0], int(seeds.size))
                    return out

            evals[n] = _power_with_seeds(sim, n, seeds, alpha, control)
        return evals[n].power

    lo, hi = 0, n_start
    while power_at(hi) < target_power:
        if hi >= n_max:
            raise SimulationError(
                f"The target power {target_power} is not reached with n_max={n_max} patients "
                f"per arm (simulated power {evals[hi].power:.3f}). Check that the arms differ, "
                "or raise n_max.")
        lo, hi = hi, min(2 * hi, n_max)
    while hi - lo > max(1, rel_tol * hi):
        mid = (lo + hi) // 2
        if power_at(mid) >= target_power:
            hi = mid
        else:
            lo = mid
    points = list(evals.values())
    a, b = _fit_curve(points)
    n_fit = ((stats.norm.ppf(target_power) - a) / b) ** 2
    # the smoothed answer stays inside the simulated bracket
    n_star = int(min(max(math.ceil(n_fit), lo + 1), hi))
    power_at(n_star)
    return SampleSizeEstimate(
        n_star, target_power, evals[n_star], (a, b),
        tuple(sorted(evals.values(), key=lambda e: e.n_per_arm)))
