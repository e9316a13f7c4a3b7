"""Every drug of the knowledge base as a graded perturbation of the HER2 model.

A drug has a **potency** in [0, 1] (its graded efficacy parameter; the defaults below are
starting values for calibration, not measurements) and one or more effects on model nodes, each
with a weight (1 for the primary target, less for a secondary one). An effect of strength
``e = potency * weight`` is one of:

``bind``     a drug's occupancy node (``TZ``, ``PZ``, ``DM1``, ``TKI``): while the node's rule holds
             (its epitope is there and not masked) it becomes ON at rate ``e`` and OFF at rate
             ``1 - e``, so P(bound | epitope) = e. Untreated, these nodes never turn ON.
``inhibit``  a kinase or ligand inhibitor: activation rates scaled by ``1 - e`` and an extra
             inactivation at rate ``e``, so a node whose rule holds is ON with P = 1 - e, and a
             gain-of-function node (e.g. mutant PI3K) is inhibited too.
``induce``   a cytotoxic input (chemotherapy, the DM1 payload's target): activation against
             the rule at rate ``e`` and deactivation at ``1 - e``, so P(ON) >= e.

Several effects on one node combine as independent actions: ``e = 1 - prod(1 - e_k)``.
Mechanisms of action follow the seed (section and reference in ``why``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from her2lab.errors import SimulationError, UnknownIdError
from her2lab.pathway.model import NodeRates

__all__ = ["DRUGS", "DrugEffect", "DrugModel", "apply_regimen", "normalise_regimen"]

Kind = Literal["bind", "inhibit", "induce"]


@dataclass(frozen=True)
class DrugEffect:
    node: str
    kind: Kind
    weight: float = 1.0


@dataclass(frozen=True)
class DrugModel:
    id: str
    potency: float
    effects: tuple[DrugEffect, ...]
    why: str


def _d(id: str, potency: float, why: str, *effects: tuple[str, Kind, float]) -> DrugModel:
    return DrugModel(id, potency, tuple(DrugEffect(n, k, w) for n, k, w in effects), why)


DRUGS: dict[str, DrugModel] = {d.id: d for d in [
    # HER2-directed antibodies, ADC, TKIs
    _d("trastuzumab", 0.9, "binds the HER2 extracellular domain (not p95HER2; masked by MUC4), "
       "stops ligand-independent HER2 signaling and recruits ADCC [19-22]", ("TZ", "bind", 1.0)),
    _d("pertuzumab", 0.9, "binds HER2 domain II and blocks its dimerization with HER3 and EGFR; "
       "an IgG1 that also recruits ADCC [26,55]", ("PZ", "bind", 1.0)),
    _d("trastuzumab_emtansine", 0.9, "trastuzumab's binding and ADCC plus the DM1 payload "
       "delivered where HER2 is on the surface [61]", ("TZ", "bind", 1.0), ("DM1", "bind", 0.6)),
    _d("lapatinib", 0.8, "reversible EGFR/HER2 kinase inhibitor, p95HER2 included; HER2 "
       "accumulates at the surface (Lapatinib section)", ("TKI", "bind", 1.0)),
    _d("neratinib", 0.9, "irreversible pan-HER kinase inhibitor (higher default potency for "
       "irreversible binding) [43]", ("TKI", "bind", 1.0)),
    # anti-angiogenics
    _d("bevacizumab", 0.8, "anti-VEGF-A antibody [51,52]", ("VEGF", "inhibit", 1.0)),
    _d("sunitinib", 0.7, "multitarget TKI of VEGFR/PDGFR/KIT [54]", ("VEGFR", "inhibit", 1.0)),
    _d("sorafenib", 0.7, "multitarget TKI of VEGFR and RAF [54]", ("VEGFR", "inhibit", 1.0),
       ("ERK", "inhibit", 0.5)),
    _d("vandetanib", 0.7, "multitarget TKI of VEGFR, EGFR and RET [54]",
       ("VEGFR", "inhibit", 1.0), ("ERBB_kinase", "inhibit", 0.4)),
    # PI3K / mTOR / HSP90
    _d("everolimus", 0.8, "allosteric mTORC1 inhibitor [64-67]", ("mTORC1", "inhibit", 1.0)),
    _d("temsirolimus", 0.8, "allosteric mTORC1 inhibitor [49]", ("mTORC1", "inhibit", 1.0)),
    _d("buparlisib", 0.7, "ATP-competitive pan-class-I PI3K inhibitor (BKM120) [68]",
       ("PI3K", "inhibit", 1.0)),
    _d("tanespimycin", 0.6, "HSP90 inhibitor (17-AAG): its clients HER2, p95HER2, EGFR, IGF1R, "
       "MET and AKT are degraded [69-71]", ("HSP90", "inhibit", 1.0)),
    _d("retaspimycin", 0.4, "HSP90 inhibitor (IPI-504); lower default potency as the seed "
       "suggests under-dosing [72]", ("HSP90", "inhibit", 1.0)),
    # immune
    _d("anti_pd1", 0.8, "anti-PD-1 antibody [79-82]", ("PD1", "inhibit", 1.0)),
    _d("anti_pd_l1", 0.8, "anti-PD-L1 antibody [80,81]", ("PDL1", "inhibit", 1.0)),
    _d("anti_cd73", 0.8, "anti-CD73 antibody: less adenosine [83]", ("CD73", "inhibit", 1.0)),
    # cytotoxic backbones: cell-kill inputs
    _d("docetaxel", 0.5, "taxane: microtubule poison", ("MT_stress", "induce", 1.0)),
    _d("paclitaxel", 0.5, "taxane: microtubule poison", ("MT_stress", "induce", 1.0)),
    _d("vinorelbine", 0.4, "vinca alkaloid: microtubule poison", ("MT_stress", "induce", 1.0)),
    _d("capecitabine", 0.4, "fluoropyrimidine: thymidylate synthase",
       ("DNA_damage", "induce", 1.0)),
    _d("carboplatin", 0.4, "platinum: DNA cross-links", ("DNA_damage", "induce", 1.0)),
    _d("fec", 0.5, "5-fluorouracil, epirubicin, cyclophosphamide", ("DNA_damage", "induce", 1.0)),
    _d("chemotherapy", 0.5, "an unspecified anthracycline/taxane backbone",
       ("DNA_damage", "induce", 0.6), ("MT_stress", "induce", 0.6)),
    _d("physicians_choice", 0.4, "treatment of the physician's choice, taken as one cytotoxic "
       "agent", ("DNA_damage", "induce", 1.0)),
]}


def resolve_drug(name: str) -> str:
    """A drug ID from an ID or an alias of the knowledge base (case-insensitive)."""
    low = name.strip().lower()
    if low in DRUGS:
        return low
    valid = [*DRUGS, "none"]
    from her2lab.knowledge import load as load_kb

    try:
        did = load_kb().drug(name).id
    except UnknownIdError:
        raise UnknownIdError("drug", name, valid) from None
    if did not in DRUGS:
        raise UnknownIdError("drug with a model perturbation", name, list(DRUGS))
    return did


def normalise_regimen(regimen: Iterable[str] | str | None) -> tuple[str, ...]:
    """Resolve a regimen (``A+B``, a list, or ``none``) to sorted unique drug IDs."""
    if regimen is None:
        return ()
    if isinstance(regimen, str):
        regimen = [p for p in regimen.split("+") if p.strip()]
    ids: set[str] = set()
    for item in regimen:
        if item.strip().lower() in ("none", ""):
            continue
        ids.add(resolve_drug(item))
    return tuple(sorted(ids))


def effective_strengths(
    regimen: Iterable[str], potency: Mapping[str, float] | None = None
) -> dict[tuple[str, Kind], float]:
    """Combined strength per (node, kind) of a regimen: ``1 - prod(1 - potency * weight)``."""
    potency = dict(potency or {})
    unknown = sorted(set(potency) - set(DRUGS))
    if unknown:
        raise UnknownIdError("drug (in potency overrides)", unknown[0], list(DRUGS))
    keep: dict[tuple[str, Kind], float] = {}
    for did in regimen:
        drug = DRUGS[did]
        p = potency.get(did, drug.potency)
        if not 0.0 <= p <= 1.0:
            raise SimulationError(
                f"the potency of {did} must lie in [0, 1]; got {p} instead"
            )
        for eff in drug.effects:
            e = min(1.0, p * eff.weight)
            key = (eff.node, eff.kind)
            keep[key] = 1.0 - (1.0 - keep.get(key, 0.0)) * (1.0 - e)
    return keep


def apply_regimen(
    rates: dict[str, NodeRates],
    regimen: Iterable[str],
    potency: Mapping[str, float] | None = None,
) -> None:
    """Apply the drugs of ``regimen`` to ``rates`` (in place, after the mechanisms)."""
    for (node, kind), e in effective_strengths(regimen, potency).items():
        r = rates[node]
        if kind == "bind":
            rates[node] = r.with_(u=e, i=1.0 - e)
        elif kind == "inhibit":
            rates[node] = r.with_(u=r.u * (1.0 - e), g=r.g * (1.0 - e), i=r.i + e)
        else:
            rates[node] = r.with_(g=max(r.g, e), d=min(r.d, 1.0 - e))
