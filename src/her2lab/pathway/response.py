"""From phenotype probabilities to one scalar response (tumor control, higher is better).

The four phenotype read-outs of the model are P(ON) at the end of the run of the nodes
``Proliferation``, ``Apoptosis``, ``Angiogenesis`` and ``Immune_kill``. The response is::

    growth   = P(Proliferation) * (1 - a + a * P(Angiogenesis))
    kill     = 1 - (1 - P(Apoptosis)) * (1 - P(Immune_kill))
    response = (1 + kill - growth) / 2

read as a net growth rate ``growth - kill`` in [-1, 1] (cells entering the cycle, their
growth scaled between ``1 - a`` without new vessels and 1 with them, ``a`` = 0.5 by default;
minus cells killed by intrinsic apoptosis or by immune cells, taken as independent) mapped onto
[0, 1] and reversed: 0 is the fastest growth the model allows, 1/2 a stable tumor, 1 the
fastest regression. The untreated baseline tumor scores about 0.14. The scale is linear in
each read-out so that effects of drugs add up rather than saturate.

The phenotype probabilities are Monte Carlo estimates from ``n`` trajectories, so the response
is uncertain too; :func:`response_se` gives an upper bound on its standard error by the delta
method, summing the absolute contributions of the four read-outs (which holds whatever their
correlation is).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["ANGIOGENESIS_WEIGHT", "PHENOTYPES", "response", "response_se"]

PHENOTYPES: dict[str, str] = {
    "proliferation": "Proliferation",
    "apoptosis": "Apoptosis",
    "angiogenesis": "Angiogenesis",
    "immune_kill": "Immune_kill",
}
"""Read-out name (as in the JSON output) to model node."""

ANGIOGENESIS_WEIGHT = 0.5


def _parts(ph: Mapping[str, float], a: float) -> tuple[float, float, float, float]:
    return ph["proliferation"], ph["apoptosis"], ph["angiogenesis"], ph["immune_kill"]


def response(phenotypes: Mapping[str, float], *, a: float = ANGIOGENESIS_WEIGHT) -> float:
    """The scalar response for phenotype probabilities keyed as in :data:`PHENOTYPES`."""
    p, ap, an, im = _parts(phenotypes, a)
    growth = p * (1.0 - a + a * an)
    kill = 1.0 - (1.0 - ap) * (1.0 - im)
    return (1.0 + kill - growth) / 2.0


def response_se(
    phenotypes: Mapping[str, float], n: int, *, a: float = ANGIOGENESIS_WEIGHT
) -> float:
    """Upper bound on the Monte Carlo standard error of :func:`response` from ``n`` samples.

    Each phenotype estimate has standard error ``sqrt(p (1 - p) / n)``; the response's error is
    at most the sum of those times the absolute partial derivatives. A floor of
    A probability estimated as 0 or 1 is taken as ``1/n`` from the edge, so the bound stays
    positive where a rare event was simply not sampled.
    """
    p, ap, an, im = _parts(phenotypes, a)
    supply = 1.0 - a + a * an
    grads = {
        "proliferation": supply / 2,
        "apoptosis": (1 - im) / 2,
        "angiogenesis": p * a / 2,
        "immune_kill": (1 - ap) / 2,
    }
    total = 0.0
    for k, g in grads.items():
        q = min(max(phenotypes[k], 1.0 / n), 1.0 - 1.0 / n)
        total += abs(g) * math.sqrt(q * (1.0 - q) / n)
    return total
