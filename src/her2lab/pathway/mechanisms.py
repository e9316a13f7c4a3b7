"""Resistance mechanisms as settings of the HER2 model; a tumor profile is a set of them.

Three kinds of setting, all on a node's rate parameters (see :mod:`her2lab.pathway.model`):

``present``  an expression node that is absent in the baseline tumor becomes expressed: its
             activation rate ``u`` is set to 1 and it starts ON (it still needs its rule, e.g.
             HSP90 for a client protein, so drugs upstream of it still act).
``loss``     a loss of function: ``u = g = 0`` and it starts OFF (a knock-out).
``gain``     a gain of function: activation against the rule ``g = 1`` and no ordinary
             deactivation ``d = 0``, starting ON. Unlike a hard knock-in, a drug that inhibits
             the node still inactivates it (``i > 0``), so buparlisib acts on mutant PI3K.

The empty profile is a HER2-amplified, trastuzumab-sensitive tumor. Mechanism IDs are those of
the knowledge base (``her2lab.knowledge``); the nodes each one touches match its record there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from her2lab.errors import UnknownIdError
from her2lab.pathway.model import NodeRates

__all__ = ["MECHANISMS", "MechanismSetting", "apply_mechanisms", "normalise_profile"]

Kind = Literal["present", "loss", "gain"]


@dataclass(frozen=True)
class MechanismSetting:
    node: str
    kind: Kind
    why: str

    def apply(self, r: NodeRates) -> NodeRates:
        if self.kind == "present":
            return r.with_(u=1.0, initial=1.0)
        if self.kind == "loss":
            return r.with_(u=0.0, g=0.0, initial=0.0)
        return r.with_(g=1.0, d=0.0, initial=1.0)


MECHANISMS: dict[str, tuple[MechanismSetting, ...]] = {
    "p95her2": (
        MechanismSetting("p95HER2", "present",
                         "truncated HER2: kinase active, no trastuzumab epitope [34]"),
    ),
    "pten_loss": (
        MechanismSetting("PTEN", "loss", "PTEN loss: PIP3 and AKT independent of HER2 [27,29]"),
    ),
    "pik3ca_mutation": (
        MechanismSetting("PI3K", "gain", "activating PIK3CA mutation [27]"),
    ),
    "her3_activation": (
        MechanismSetting("HRG", "present", "heregulin drives ligand-induced HER2/HER3 [24,26]"),
        MechanismSetting("HER3", "gain", "HER3 up-regulated [24]"),
    ),
    "egfr_coexpression": (
        MechanismSetting("EGFR", "present", "EGFR co-expressed: EGFR and EGFR/HER2 signaling [35]"),
    ),
    "igf1r_activation": (
        MechanismSetting("IGF1R", "present", "IGF1R signaling bypasses HER2 [25,26]"),
    ),
    "met_overexpression": (
        MechanismSetting("MET", "present", "c-MET over-expression [28]"),
    ),
    "src_activation": (
        MechanismSetting("SRC", "gain", "SRC up-regulated [30]"),
    ),
    "muc4_masking": (
        MechanismSetting("MUC4", "present", "MUC4 masks the trastuzumab epitope [31,32]"),
    ),
    "vegf_high": (
        MechanismSetting("VEGF", "gain", "VEGF over-expressed [33]"),
    ),
    "immune_cold": (
        MechanismSetting("TIL", "loss", "no tumor-infiltrating lymphocytes [73-76]"),
    ),
    "pd_l1_high": (
        MechanismSetting("PDL1", "gain", "PD-L1 expressed by the tumor regardless of IFN [79]"),
    ),
}


def normalise_profile(profile: Iterable[str] | str | None) -> tuple[str, ...]:
    """Resolve a profile (mechanism IDs or aliases, ``none`` for empty) to sorted unique IDs."""
    if profile is None:
        return ()
    if isinstance(profile, str):
        profile = [p for p in profile.split(",") if p.strip()]
    ids: set[str] = set()
    for item in profile:
        key = item.strip()
        if key.lower() in ("none", ""):
            continue
        ids.add(resolve_mechanism(key))
    return tuple(sorted(ids))


def resolve_mechanism(name: str) -> str:
    """A mechanism ID from an ID or an alias of the knowledge base (case-insensitive)."""
    low = name.strip().lower()
    if low in MECHANISMS:
        return low
    from her2lab.knowledge import load as load_kb

    try:
        mid = load_kb().mechanism(name).id
    except UnknownIdError:
        raise UnknownIdError("mechanism", name, [*MECHANISMS, "none"]) from None
    if mid not in MECHANISMS:
        raise UnknownIdError("mechanism with a model setting", name, list(MECHANISMS))
    return mid


def apply_mechanisms(rates: dict[str, NodeRates], profile: Iterable[str]) -> None:
    """Apply the settings of every mechanism of ``profile`` to ``rates`` (in place)."""
    for mid in profile:
        for s in MECHANISMS[mid]:
            rates[s.node] = s.apply(rates[s.node])
