"""From phenotype time courses to rates that add, and from rates to one scalar response.

The model's time unit is one day. A run simulates ``MAX_TIME`` days in windows of one day; the
read-out window is ``[T0, MAX_TIME]`` (the first ``T0`` days are the drugs' onset). From the
time courses:

growth (per day)
    ``G = GROWTH_MAX * P(Proliferation) * (1 - a + a * P(Angiogenesis))``, the two
    probabilities averaged over the read-out window: cells entering the cycle, their growth
    scaled between ``1 - a`` without new vessels and 1 with them (``a`` =
    :data:`ANGIOGENESIS_WEIGHT`).
kill by source (per day)
    each death node is absorbing, so ``S(t) = 1 - P(dead by t)`` is a survival curve and its
    hazard over the window is ``k = -ln(S(MAX_TIME) / S(T0)) / (MAX_TIME - T0)``:
    ``targeted`` (``Apoptosis``: survival signaling lost), ``payload`` (``Payload_death``:
    the DM1 of T-DM1), ``cytotoxic`` (``Cytotoxic_death``: chemotherapy) and ``immune``
    (``Immune_kill``: ADCC and T cells). Independent hazards add, so the total kill is
    ``K = sum(k)``: chemotherapy's kill adds to the targeted kill instead of saturating
    against it (``-ln(1 - P)`` of independent causes adds up).
response
    ``K / (K + G)`` in [0, 1]: the share of cell events that are deaths; 1/2 is a stable tumor,
    above it the tumor shrinks (net rate ``K - G`` per day). Higher is better.

Standard errors: a window mean of a probability has at most the binomial standard error of
``n`` trajectories; a hazard's estimate, that of ``-ln(1 - q)`` for a binomial ``q`` over the
``n S(T0)`` cells alive at ``T0`` (delta method); the response's bound sums the absolute
contributions (valid whatever their correlation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ANGIOGENESIS_WEIGHT",
    "GROWTH_MAX",
    "KILL_SOURCES",
    "MAX_TIME",
    "PHENOTYPES",
    "T0",
    "Rates",
    "TimeCourse",
    "rates_from_time_course",
    "response",
    "response_se",
]

MAX_TIME = 30.0
"""Days simulated."""
T0 = 5.0
"""Start of the read-out window (days): after the drugs' binding and the signaling settle."""
GROWTH_MAX = math.log(2) / 7.0
"""Growth rate (per day) of a tumor whose cells all cycle with full vessel supply: a potential
doubling time of one week (an assumption of the model, calibrated away by the trials link)."""
ANGIOGENESIS_WEIGHT = 0.35

KILL_SOURCES: dict[str, str] = {
    "targeted": "Apoptosis",
    "payload": "Payload_death",
    "cytotoxic": "Cytotoxic_death",
    "immune": "Immune_kill",
}
"""Kill source (key of :attr:`Rates.kill`) to its absorbing death node."""

PHENOTYPES: dict[str, str] = {
    "proliferation": "Proliferation",
    "apoptosis": "Apoptosis",
    "angiogenesis": "Angiogenesis",
    "immune_kill": "Immune_kill",
}
"""Read-out name (as in the JSON) to model node. ``proliferation`` and ``angiogenesis`` are
averaged over the read-out window; ``apoptosis`` is P(any intrinsic death by the end:
targeted, payload or cytotoxic) and ``immune_kill`` P(immune death by the end)."""

READ_NODES = ("Proliferation", "Angiogenesis", *KILL_SOURCES.values())


@dataclass(frozen=True)
class Rates:
    """Growth and kill rates of a tumor under a regimen, per day (see the module docstring).

    Attributes
    ----------
    growth : float
        Growth rate ``G`` per day: cells entering the cycle, scaled by angiogenesis.
    kill : dict of str to float
        Kill hazard per day by source (keys of :data:`KILL_SOURCES`: ``targeted``, ``payload``,
        ``cytotoxic``, ``immune``); independent hazards, so they add.
    se : dict of str to float
        Monte Carlo standard errors (per day) of ``growth`` and of each kill source, from the
        number of trajectories; not compared.
    """

    growth: float
    kill: dict[str, float]
    se: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    @property
    def total_kill(self) -> float:
        return float(sum(self.kill.values()))

    @property
    def net(self) -> float:
        """``total_kill - growth``: the tumor's shrinkage rate per day (negative: it grows)."""
        return self.total_kill - self.growth

    def to_dict(self) -> dict[str, Any]:
        """The rates as a JSON-ready dict.

        Returns
        -------
        dict
            ``growth``, ``kill`` (by source), ``total_kill`` and ``units`` (``"per day"``).
        """
        return {"growth": self.growth, "kill": dict(self.kill), "total_kill": self.total_kill,
                "units": "per day"}


@dataclass(frozen=True)
class TimeCourse:
    """Phenotype probabilities per time point.

    Attributes
    ----------
    times : tuple of float
        Start of each one-day window, in days.
    values : dict of str to tuple of float
        Phenotype name (``proliferation``, ``apoptosis``, ...) -> its probability per window.
    """

    times: tuple[float, ...]
    values: dict[str, tuple[float, ...]]

    def __getitem__(self, key: str) -> tuple[float, ...]:
        return self.values[key]

    def to_dict(self) -> dict[str, Any]:
        """The time course as a JSON-ready dict.

        Returns
        -------
        dict
            ``times`` and one list per phenotype, aligned with it.
        """
        return {"times": list(self.times), **{k: list(v) for k, v in self.values.items()}}


def _window(times: tuple[float, ...]) -> tuple[int, int]:
    first = next((k for k, t in enumerate(times) if t >= T0 - 1e-9), 0)
    return first, len(times) - 1


def _binom_se(p: float, n: float) -> float:
    q = min(max(p, 1.0 / n), 1.0 - 1.0 / n)
    return math.sqrt(q * (1.0 - q) / n)


def rates_from_time_course(
    traj: Mapping[str, tuple[float, ...]], times: tuple[float, ...], samples: int
) -> tuple[Rates, dict[str, float], TimeCourse]:
    """Rates, phenotypes and the phenotype time course from node trajectories (P(ON) per
    window for the nodes of :data:`READ_NODES`)."""
    k0, k1 = _window(times)
    n = float(samples)
    span = times[k1] - times[k0] if k1 > k0 else 1.0

    def mean(node: str) -> float:
        xs = traj[node][k0:k1 + 1]
        return float(sum(xs) / len(xs))

    prolif, angio = mean("Proliferation"), mean("Angiogenesis")
    a = ANGIOGENESIS_WEIGHT
    supply = 1.0 - a + a * angio
    growth = GROWTH_MAX * prolif * supply
    se = {"growth": GROWTH_MAX * (supply * _binom_se(prolif, n) + prolif * a * _binom_se(angio, n))}
    kill: dict[str, float] = {}
    for source, node in KILL_SOURCES.items():
        s0 = 1.0 - traj[node][k0]
        s1 = 1.0 - traj[node][k1]
        alive = max(n * s0, 1.0)
        q = 0.0 if s0 <= 0 else min(max(1.0 - s1 / s0, 0.0), 1.0)
        qc = min(q, 1.0 - 1.0 / alive)
        kill[source] = max(0.0, -math.log(1.0 - qc) / span)
        qs = min(max(q, 1.0 / alive), 1.0 - 1.0 / alive)
        se[source] = math.sqrt(qs / ((1.0 - qs) * alive)) / span
    rates = Rates(growth=growth, kill=kill, se=se)

    def intrinsic(k: int) -> float:
        surv = 1.0
        for src in ("targeted", "payload", "cytotoxic"):
            surv *= 1.0 - traj[KILL_SOURCES[src]][k]
        return 1.0 - surv

    course = {
        "proliferation": tuple(traj["Proliferation"]),
        "apoptosis": tuple(intrinsic(k) for k in range(len(times))),
        "angiogenesis": tuple(traj["Angiogenesis"]),
        "immune_kill": tuple(traj["Immune_kill"]),
    }
    phenotypes = {"proliferation": prolif, "apoptosis": course["apoptosis"][k1],
                  "angiogenesis": angio, "immune_kill": course["immune_kill"][k1]}
    return rates, phenotypes, TimeCourse(tuple(times), course)


def response(rates: Rates) -> float:
    """The share of cell events that are deaths, ``K / (K + G)``: higher is better.

    Parameters
    ----------
    rates : Rates
        Growth ``G`` and kill rates (total ``K``), per day.

    Returns
    -------
    float
        The response in [0, 1]: 1/2 is a stable tumor, above it the tumor shrinks.
    """
    k, g = rates.total_kill, rates.growth
    return k / (k + g) if k + g > 0 else 0.5


def response_se(rates: Rates) -> float:
    """Upper bound on the Monte Carlo standard error of :func:`response` (delta method)."""
    k, g = rates.total_kill, rates.growth
    if k + g <= 0:
        return 0.5
    se_k = sum(rates.se.get(s, 0.0) for s in rates.kill)
    se_g = rates.se.get("growth", 0.0)
    return (g * se_k + k * se_g) / (k + g) ** 2
