"""Attractors of the HER2 model's Boolean abstraction for a condition (with mpbn).

The stochastic model's numbers (partial P(ON), hazards) have no Boolean counterpart; its rules
do. For a (profile, regimen) the abstraction holds fixed:

- every profile node: ON if the mechanism's degree (or ``hr_positive``) is at least 1/2;
- drug-occupancy nodes (``TZ``, ``PZ``, ``TDM1``, ``TKI``) OFF unless a drug of the regimen
  binds them (then they follow their rule: the epitope there and not masked);
- a node a drug inhibits OFF, a node a drug induces ON (full effect);
- the nodes with a basal activation in the stochastic model: ``HER3`` ON (basal expression)
  and ``HRG`` ON or OFF as ``ligand`` says (heregulin comes in episodes);
- the four absorbing death nodes OFF: each attractor reports instead whether the entry into
  each death holds there (``BAD & !BCL2`` for targeted apoptosis, ``DM1`` for the payload,
  ``MT_stress | DNA_damage`` for cytotoxic death, ``ADCC | Tcell`` for immune killing).

The minimal trap spaces (mpbn, independent of the update mode) of what remains are the
attractors; :func:`fates` reads each as proliferating or not and the death entries that hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from her2lab.pathway.drugs import effective_strengths, normalize_regimen
from her2lab.pathway.mechanisms import MECHANISMS, hr_node, normalize_profile
from her2lab.pathway.model import load_model

__all__ = ["DEATH_ENTRY", "Fate", "boolean_condition", "condition_attractors", "fates"]

OCCUPANCY = ("TZ", "PZ", "TDM1", "TKI")
DEATH_NODES = ("Apoptosis", "Payload_death", "Cytotoxic_death", "Immune_kill")
DEATH_ENTRY: dict[str, tuple[tuple[str, int], ...]] = {
    "targeted": (("BAD", 1), ("BCL2", 0)),
    "payload": (("DM1", 1),),
    "cytotoxic": (("MT_stress", 1),),
    "cytotoxic_dna": (("DNA_damage", 1),),
    "immune_adcc": (("ADCC", 1),),
    "immune_t": (("Tcell", 1),),
}


def boolean_condition(profile: Any, regimen: Iterable[str] | str | None, *,
                      ligand: bool = True) -> dict[str, bool]:
    """The fixed nodes of the Boolean abstraction of a condition (see the module docstring)."""
    prof = normalize_profile(profile)
    fixed: dict[str, bool] = {m.node: prof.degree(mid) >= 0.5 for mid, m in MECHANISMS.items()}
    fixed[hr_node()] = prof.hr_positive >= 0.5
    fixed.update(dict.fromkeys(OCCUPANCY, False))
    fixed.update({"MT_stress": False, "DNA_damage": False, "HER3": True, "HRG": ligand})
    fixed.update(dict.fromkeys(DEATH_NODES, False))
    for (node, kind), e in effective_strengths(normalize_regimen(regimen)).items():
        if e <= 0:
            continue
        if kind == "bind":
            fixed.pop(node, None)
        else:
            fixed[node] = kind == "induce"
    return fixed


def condition_attractors(profile: Any, regimen: Iterable[str] | str | None, *,
                         ligand: bool = True) -> list[Any]:
    """The minimal trap spaces of the Boolean abstraction (:class:`her2lab.boolnet.Attractor`)."""
    from her2lab.boolnet import attractors

    return attractors(load_model().engine, method="mpbn",
                      fixed=boolean_condition(profile, regimen, ligand=ligand))


@dataclass(frozen=True)
class Fate:
    """What one attractor means: proliferation (1, 0 or ``"*"`` oscillating) and the death
    entries that hold in it."""

    proliferation: int | str
    deaths: tuple[str, ...]
    pattern: dict[str, int | str]


def _holds(pattern: dict[str, int | str], needs: tuple[tuple[str, int], ...]) -> bool | None:
    vals = [pattern[n] for n, _ in needs]
    if any(v == "*" for v in vals):
        return None
    return all(pattern[n] == v for n, v in needs)


def fates(atts: Iterable[Any]) -> list[Fate]:
    out = []
    for a in atts:
        deaths = []
        for name, needs in DEATH_ENTRY.items():
            h = _holds(a.pattern, needs)
            if h or h is None:
                deaths.append(name.split("_")[0] + ("" if h else "?"))
        out.append(Fate(a.pattern["Proliferation"], tuple(dict.fromkeys(deaths)), a.pattern))
    return out
