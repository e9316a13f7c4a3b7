"""Every drug of the model as a graded perturbation (defined in ``data/perturbations.yaml``).

A drug has a **potency** in [0, 1] and effects on model nodes, each with a weight; an effect of
strength ``e = potency * weight`` is ``bind``, ``inhibit`` or ``induce`` (the file's header says
what each does to a node's four rates). Several effects on one node combine as independent
actions: ``e = 1 - prod(1 - e_k)``. :func:`regimen_parameters` turns a regimen into the
``$parameters`` of the model that it changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from her2lab.errors import SimulationError, UnknownIdError
from her2lab.pathway.model import NodeRates, load_model
from her2lab.pathway.perturbations import Kind, load_perturbations

__all__ = [
    "DRUGS",
    "DrugEffect",
    "DrugModel",
    "effective_strengths",
    "normalize_regimen",
    "regimen_parameters",
    "resolve_drug",
]


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
    refs: tuple[int, ...] = ()
    potency_source: str = ""


def _build() -> dict[str, DrugModel]:
    data = load_perturbations()
    return {
        did: DrugModel(did, spec.potency,
                       tuple(DrugEffect(e.node, e.kind, e.weight) for e in spec.effects),
                       spec.why, tuple(spec.refs), spec.potency_source)
        for did, spec in data.drugs.items()
    }


DRUGS: dict[str, DrugModel] = _build()
"""Drug ID -> its model, in the order of ``perturbations.yaml``."""


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


def normalize_regimen(regimen: Iterable[str] | str | None) -> tuple[str, ...]:
    """Resolve a regimen to sorted unique drug IDs.

    Parameters
    ----------
    regimen : iterable of str, str or None
        Drugs joined by ``+`` (``"trastuzumab+lapatinib"``), a list of drug IDs, names or
        aliases, or ``None``/``"none"`` for no treatment.

    Returns
    -------
    tuple of str
        The drug IDs, sorted, each once (empty for no treatment).

    Raises
    ------
    UnknownIdError
        If a drug is unknown, or has no perturbation in the model (the valid IDs are listed).
    SimulationError
        If the text is malformed (an empty name between ``+`` signs).
    """
    if regimen is None:
        return ()
    if isinstance(regimen, str):
        if not regimen.strip():
            raise SimulationError("a regimen must name drugs joined by '+' (trastuzumab+"
                                  "pertuzumab) or be 'none'; got an empty string")
        parts = regimen.split("+")
        if any(not p.strip() for p in parts):
            raise SimulationError(f"regimen {regimen!r}: an empty drug name between '+' signs; "
                                  "expected DRUG+DRUG (trastuzumab+pertuzumab) or 'none'")
        regimen = parts
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
            raise SimulationError(f"the potency of {did} must lie in [0, 1]; got {p} instead")
        for eff in drug.effects:
            e = min(1.0, p * eff.weight)
            key = (eff.node, eff.kind)
            keep[key] = 1.0 - (1.0 - keep.get(key, 0.0)) * (1.0 - e)
    return keep


def apply_effect(r: NodeRates, kind: Kind, e: float) -> NodeRates:
    """One node's rates under an effect of strength ``e`` (see the module docstring)."""
    if kind == "bind":
        return r.with_(u=e, i=1.0 - e)
    if kind == "inhibit":
        return r.with_(u=r.u * (1.0 - e), g=r.g * (1.0 - e), i=r.i + e, di=r.di + e)
    return r.with_(g=max(r.g, e), di=min(r.di, 1.0 - e))


def regimen_parameters(
    regimen: Iterable[str], potency: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The model ``$parameters`` (without ``$``) a regimen changes, with their new values."""
    model = load_model()
    rates: dict[str, NodeRates] = {}
    for (node, kind), e in effective_strengths(regimen, potency).items():
        rates[node] = apply_effect(rates.get(node, model.baseline[node]), kind, e)
    out: dict[str, float] = {}
    for node, r in rates.items():
        out.update(r.parameters(node))
    return out
