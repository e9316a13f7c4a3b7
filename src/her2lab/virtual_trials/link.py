"""From the pathway model's response to hazards and probabilities.

Each virtual patient has a tumor profile; under a regimen the HER2 pathway model gives a
response ``r`` in [0, 1] (tumor control, :mod:`her2lab.pathway.response`). The link is:

* time-to-event endpoints (PFS, TTP, OS, DFS, iDFS, EFS, RFI): proportional hazards with a
  Weibull baseline, ``h_i(t) = exp(-beta * r_i) * h0(t)``, ``h0(t) = k t^(k-1) / lambda^k``;
* binary endpoints (pCR, ORR): ``logit P_i = alpha + gamma * r_i``.

``beta`` and ``gamma`` are the link's coefficients (calibrated, :mod:`.calibrate`); the Weibull
shape ``k`` is fixed per endpoint (:data:`WEIBULL_SHAPE`). The baseline of each trial -- the
scale ``lambda`` or the intercept ``alpha`` -- is **anchored by its control arm**: chosen so that
the control arm's population median (or landmark rate, or response rate) equals what the trial
reported. The model therefore has to predict the difference between the arms, never the level.

What is matched, explicitly: the control arm's reported median and the hazard ratio. The
experimental arm's median then follows from the model and is a prediction; with a mixture of
profiles the hazards are not exactly proportional, so the ratio of medians and the HR differ
(as they do in CLEOPATRA), and the limiting Cox estimate is computed exactly
(:func:`limiting_cox_log_hr`, after Struthers & Kalbfleisch, Biometrika 1986;73:363-369)
rather than assumed equal to either.

Profiles come from a **panel**: ``k`` patients drawn once per trial population (setting, prior
trastuzumab, required mechanisms) with a seed derived from the trial, so every arm of a trial
sees the same tumors (randomisation) and the pathway model runs on at most ``k`` distinct
profiles per regimen; the panel's Monte Carlo error is part of the model's error and shrinks
with ``k``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from her2lab.knowledge.schema import TIME_TO_EVENT
from her2lab.virtual_trials.population import Population, ProfileSample, profile_of

__all__ = [
    "BINARY",
    "TIME_TO_EVENT",
    "WEIBULL_SHAPE",
    "ArmPanel",
    "LinkParams",
    "ResponseModel",
    "anchor_intercept",
    "anchor_scale",
    "anchor_scale_from_rate",
    "binary_rates",
    "limiting_cox_log_hr",
    "panel_for",
    "survival_curve",
]

BINARY = frozenset({"pCR", "ORR"})

WEIBULL_SHAPE: dict[str, float] = {
    "PFS": 1.2,
    "TTP": 1.2,
    "OS": 1.3,
    "DFS": 1.0,
    "iDFS": 1.0,
    "EFS": 1.0,
    "RFI": 1.0,
}
"""Weibull shape per endpoint: progression in metastatic disease rises early (k slightly above
1), death later (k 1.3); recurrence after curative therapy is taken as constant-hazard (k = 1).
A documented modelling choice, not a fit; the HR prediction is insensitive to it."""


@dataclass(frozen=True)
class LinkParams:
    """The link's coefficients. ``beta``: log-hazard per unit response; ``gamma``: logit per
    unit response; ``assumption_scale``: odds multiplier of the prevalences that are
    assumptions rather than measurements (:mod:`.population`). Defaults are the priors'
    centres (see :mod:`.calibrate`)."""

    beta: float = 3.0
    gamma: float = 6.0
    assumption_scale: float = 1.0
    potency: tuple[tuple[str, float], ...] = ()
    """Calibrated drug potencies overriding the pathway model's defaults, as (drug, value)."""

    def __post_init__(self) -> None:
        if isinstance(self.potency, Mapping):
            object.__setattr__(self, "potency", tuple(sorted(self.potency.items())))

    def to_dict(self) -> dict[str, Any]:
        return {"beta": self.beta, "gamma": self.gamma,
                "assumption_scale": self.assumption_scale, "potency": dict(self.potency)}


# --------------------------------------------------------------------------- responses


@dataclass
class ResponseModel:
    """``r(profile, regimen)`` from the pathway model, memoised (and cached on disk by it)."""

    samples: int = 1000
    seed: int = 20140812
    _memo: dict[tuple, float] = field(default_factory=dict, repr=False)

    def response(
        self, mask: int, regimen: Iterable[str], potency: Iterable[tuple[str, float]] = ()
    ) -> float:
        reg = tuple(sorted(set(regimen)))
        # only the potencies of drugs in the regimen matter: other regimens share the result
        pot = tuple((d, float(v)) for d, v in sorted(potency) if d in reg)
        key = (int(mask), reg, pot)
        if key not in self._memo:
            from her2lab.pathway import simulate

            res = simulate(
                list(profile_of(int(mask))), list(reg), samples=self.samples, seed=self.seed,
                potency=dict(pot) or None,
            )
            self._memo[key] = float(res.response)
        return self._memo[key]

    def responses(
        self, masks: np.ndarray, regimen: Iterable[str],
        potency: Iterable[tuple[str, float]] = (),
    ) -> np.ndarray:
        reg, pot = tuple(regimen), tuple(potency)
        return np.array([self.response(int(m), reg, pot) for m in masks], dtype=float)


@dataclass(frozen=True)
class ArmPanel:
    """The panel's distinct profiles, their weights, and each profile's response in one arm."""

    masks: np.ndarray
    weights: np.ndarray
    response: np.ndarray

    @property
    def mean_response(self) -> float:
        return float(np.dot(self.weights, self.response))


def _seed_of(*parts: object) -> int:
    h = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(h[:8], "little")


def panel_for(population: Population, k: int, key: str, seed: int) -> ProfileSample:
    """The ``k``-patient profile panel of a trial population, reproducible from ``key``."""
    rng = np.random.default_rng([seed, _seed_of(key)])
    return population.draw(k, rng)


# --------------------------------------------------------------------------- survival


def survival_curve(
    t: np.ndarray, multipliers: np.ndarray, weights: np.ndarray, shape: float, scale: float
) -> np.ndarray:
    """Population survival ``S(t) = sum_j w_j exp(-m_j (t/scale)^k)``."""
    base = (np.asarray(t, dtype=float)[:, None] / scale) ** shape
    return np.exp(-base * multipliers[None, :]) @ weights


def anchor_scale(
    multipliers: np.ndarray, weights: np.ndarray, shape: float, median: float
) -> float:
    """Weibull scale that puts the population median at ``median``."""
    return anchor_scale_from_rate(multipliers, weights, shape, median, 0.5)


def anchor_scale_from_rate(
    multipliers: np.ndarray, weights: np.ndarray, shape: float, time: float, surviving: float
) -> float:
    """Weibull scale such that a share ``surviving`` of the population is event-free at ``time``."""
    if not 0 < surviving < 1:
        raise ValueError(f"the surviving share must lie in (0, 1); got {surviving}")

    def f(logx: float) -> float:
        return float(np.dot(weights, np.exp(-math.exp(logx) * multipliers))) - surviving

    logx = optimize.brentq(f, -40.0, 40.0, xtol=1e-12)
    # (time/scale)^k = x
    return time / math.exp(logx / shape)


def limiting_cox_log_hr(
    mult_exp: np.ndarray,
    mult_ctrl: np.ndarray,
    weights: np.ndarray,
    *,
    shape: float,
    scale: float,
    accrual: float,
    follow_up: float,
    dropout_per_year: float = 0.05,
    allocation: float = 0.5,
    grid: int = 600,
) -> float:
    """The value the Cox estimate of log HR (experimental vs control) converges to.

    Solves ``∫ [π_E f_E G - e^b π_E S_E / (e^b π_E S_E + π_C S_C) (π_E f_E + π_C f_C) G] dt = 0``
    where ``S``/``f`` are each arm's population survival and event density and ``G`` the
    probability of being still under observation (uniform accrual, administrative censoring at
    accrual + follow-up, exponential dropout).
    """
    tmax = accrual + follow_up
    t = np.linspace(0.0, tmax, grid + 1)[1:]
    dt = tmax / grid
    u = (t / scale) ** shape
    dh = shape / scale * (t / scale) ** (shape - 1)  # baseline hazard
    ee = np.exp(-u[:, None] * mult_exp[None, :])
    ec = np.exp(-u[:, None] * mult_ctrl[None, :])
    s_e, s_c = ee @ weights, ec @ weights
    f_e = (ee * mult_exp[None, :]) @ weights * dh
    f_c = (ec * mult_ctrl[None, :]) @ weights * dh
    admin = np.clip((tmax - t) / accrual, 0.0, 1.0) if accrual > 0 else (t <= tmax).astype(float)
    g = admin * np.exp(-dropout_per_year / 12.0 * t)
    pe, pc = allocation, 1.0 - allocation
    d_e = pe * f_e * g * dt
    d_all = (pe * f_e + pc * f_c) * g * dt

    def score(b: float) -> float:
        share = math.exp(b) * pe * s_e / (math.exp(b) * pe * s_e + pc * s_c)
        return float(np.sum(d_e - share * d_all))

    lo, hi = -5.0, 5.0
    if score(lo) * score(hi) > 0:
        return float("nan")
    return float(optimize.brentq(score, lo, hi, xtol=1e-10))


# --------------------------------------------------------------------------- binary


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def anchor_intercept(response: np.ndarray, weights: np.ndarray, gamma: float, rate: float) -> float:
    """Intercept ``alpha`` such that the arm's mean probability equals ``rate`` (a fraction)."""
    if not 0 < rate < 1:
        raise ValueError(f"a rate to anchor must lie in (0, 1); got {rate}")

    def f(a: float) -> float:
        return float(np.dot(weights, _expit(a + gamma * response))) - rate

    return float(optimize.brentq(f, -60.0, 60.0, xtol=1e-12))


def binary_rates(
    responses: Mapping[str, np.ndarray], weights: np.ndarray, gamma: float, alpha: float
) -> dict[str, float]:
    """Population rate of each arm for the anchored intercept."""
    return {a: float(np.dot(weights, _expit(alpha + gamma * r))) for a, r in responses.items()}
