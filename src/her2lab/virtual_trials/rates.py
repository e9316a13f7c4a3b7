"""The one place that calls the pathway layer: a tumor's growth and kill rates under a set of
drugs.

The link (:mod:`.link`) needs, for a tumor profile and the drugs of one phase of a schedule,
the pathway model's **rates** (TEAM contract 2): ``growth`` and ``kill`` by source
(``targeted``, ``immune``, ``cytotoxic``), per day. When :func:`her2lab.pathway.simulate`
returns a ``rates`` attribute, it is used as is. Until then the rates are read from the
phenotype probabilities with the same reading as :mod:`her2lab.pathway.response`:

* ``growth = P(Proliferation) * (1 - a + a * P(Angiogenesis))``;
* ``immune = P(Immune_kill)``;
* ``cytotoxic``: the apoptosis the regimen's cytotoxic drugs add, ``P(Apoptosis | regimen) -
  P(Apoptosis | regimen without its cytotoxics)`` (at least 0), ``targeted`` the rest of the
  apoptosis.

Those probabilities are per model time unit; the link only uses rates relative to the untreated
tumor's growth (its time scale comes from a doubling time, :data:`.link.KINETICS`), so either
source gives rates in the same relative units.

**Micrometastatic disease** (adjuvant settings): angiogenesis does not drive tumors below about
a millimetre (Folkman J. N Engl J Med 1971;285:1182-1186), so there the drugs whose every effect
is on the VEGF axis are left out and ``vegf_high`` is not part of the profile
(:func:`micrometastatic`).

Profiles are mappings mechanism -> degree in [0, 1]; a pathway model without graded mechanisms
gets the mechanisms of degree >= 0.5.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from her2lab.virtual_trials.defaults import DEFAULT_SEED, PATHWAY_SAMPLES

__all__ = [
    "CYTOTOXIC",
    "KILL_SOURCES",
    "Rates",
    "RatesModel",
    "angiogenic_only",
    "micrometastatic",
]

KILL_SOURCES = ("targeted", "immune", "cytotoxic", "payload")
"""Kill sources the link reads; ``payload`` (an ADC's cytotoxic payload, T-DM1's DM1) counts
with the cytotoxic kill (scaled by the patient's chemosensitivity)."""

CYTOTOXIC = frozenset({
    "docetaxel", "paclitaxel", "vinorelbine", "capecitabine", "carboplatin", "fec",
    "chemotherapy", "physicians_choice",
})
"""Drugs whose kill counts as cytotoxic (the knowledge base's chemotherapy classes)."""

_VEGF_NODES = frozenset({"VEGF", "VEGFR"})
HR_ATTRIBUTE = "hr_positive"
"""The profile attribute of hormone-receptor status in :func:`her2lab.pathway.simulate`."""


@dataclass(frozen=True)
class Rates:
    """Growth and kill rates of a tumor under a phase's drugs (per day, relative units)."""

    growth: float
    kill: Mapping[str, float] = field(default_factory=dict)

    @property
    def total_kill(self) -> float:
        return float(sum(self.kill.values()))

    def get(self, source: str) -> float:
        return float(self.kill.get(source, 0.0))


def angiogenic_only(drug: str) -> bool:
    """True when every effect of ``drug`` in the pathway model is on the VEGF axis."""
    from her2lab.pathway import DRUGS

    d = DRUGS.get(drug)
    return d is not None and all(e.node in _VEGF_NODES for e in d.effects)


def micrometastatic(profile: Mapping[str, float], drugs: Iterable[str]
                    ) -> tuple[dict[str, float], tuple[str, ...]]:
    """Profile and drugs as they act on micrometastatic disease (no angiogenesis)."""
    prof = {m: v for m, v in profile.items() if m != "vegf_high"}
    return prof, tuple(d for d in drugs if not angiogenic_only(d))


def _from_result(res: Any) -> Rates | None:
    r = getattr(res, "rates", None)
    if r is None:
        return None
    return Rates(float(r.growth), {k: float(v) for k, v in dict(r.kill).items()})


@dataclass
class RatesModel:
    """Memoised rates ``(profile, drugs, potency) -> Rates`` from the pathway model (which also
    caches its runs on disk). ``samples`` and ``seed`` are the pathway's Monte Carlo settings."""

    samples: int = PATHWAY_SAMPLES
    seed: int = DEFAULT_SEED
    _memo: dict[tuple, Rates] = field(default_factory=dict, repr=False)
    _graded: bool | None = field(default=None, repr=False)
    calls: int = 0

    def _profile_arg(self, profile: Mapping[str, float]) -> Any:
        if self._graded is None:
            self._graded = self._probe_graded()
        if self._graded:
            return {m: float(v) for m, v in profile.items() if v > 0}
        return sorted(m for m, v in profile.items() if v >= 0.5)

    def _probe_graded(self) -> bool:
        from her2lab.errors import Her2labError
        from her2lab.pathway import simulate

        try:
            simulate({"pten_loss": 0.5}, [], samples=8, seed=1)
        except (Her2labError, TypeError, ValueError, AttributeError):
            return False
        return True

    def _run(self, profile: Mapping[str, float], drugs: tuple[str, ...],
             potency: tuple[tuple[str, float], ...]) -> Any:
        from her2lab.pathway import simulate

        self.calls += 1
        return simulate(self._profile_arg(profile), list(drugs), samples=self.samples,
                        seed=self.seed, potency=dict(potency) or None)

    @staticmethod
    def _key(profile: Mapping[str, float], drugs: Iterable[str],
             potency: Mapping[str, float] | Iterable[tuple[str, float]] = (),
             hr_positive: bool = False) -> tuple:
        if hr_positive:  # the pathway model reads HR status as a profile attribute
            profile = {**profile, HR_ATTRIBUTE: 1.0}
        reg = tuple(sorted(set(drugs)))
        pot_items = potency.items() if isinstance(potency, Mapping) else potency
        pot = tuple(sorted((d, round(float(v), 6)) for d, v in pot_items if d in reg))
        prof = tuple(sorted((m, round(float(v), 6)) for m, v in profile.items() if v > 0))
        return prof, reg, pot

    def prefetch(self, requests: Iterable[tuple[Any, ...]]) -> None:
        """Memoise the rates of many ``(profile, drugs, potency[, hr_positive])`` at once: those
        not memoised run through :func:`her2lab.pathway.simulate_many`, one batch per potency
        (the engine runs a batch's conditions together, on every core; each result equals
        :func:`~her2lab.pathway.simulate`'s). A subclass with its own :meth:`rates` (no
        pathway) has nothing to prefetch."""
        if type(self).rates is not RatesModel.rates:
            return
        groups: dict[tuple, dict[tuple, None]] = {}
        for profile, drugs, potency, *hr in requests:
            key = self._key(profile, drugs, potency, bool(hr and hr[0]))
            if key not in self._memo:
                groups.setdefault(key[2], {})[key] = None
        if not groups:
            return
        from her2lab.pathway import simulate_many

        for pot, keys in groups.items():
            keys = list(keys)
            runs = simulate_many([(self._profile_arg(dict(prof)), list(reg))
                                  for prof, reg, _ in keys], samples=self.samples,
                                 seed=self.seed, potency=dict(pot) or None)
            self.calls += len(keys)
            for key, res in zip(keys, runs, strict=True):
                out = _from_result(res)
                if out is not None:  # else rates() reads the phenotypes when asked
                    self._memo[key] = out

    def rates(self, profile: Mapping[str, float], drugs: Iterable[str],
              potency: Mapping[str, float] | Iterable[tuple[str, float]] = (), *,
              hr_positive: bool = False) -> Rates:
        """Rates of a tumor with ``profile`` under ``drugs``; ``hr_positive``: a
        hormone-receptor-positive tumor (the pathway model's ER module)."""
        key = self._key(profile, drugs, potency, hr_positive)
        prof, reg, pot = key
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        res = self._run(dict(prof), reg, pot)
        out = _from_result(res)
        if out is None:
            out = self._from_phenotypes(dict(prof), reg, pot, res)
        self._memo[key] = out
        return out

    def _from_phenotypes(self, profile, reg, pot, res) -> Rates:
        from her2lab.pathway.response import ANGIOGENESIS_WEIGHT as a

        ph = res.phenotypes
        growth = ph["proliferation"] * (1.0 - a + a * ph["angiogenesis"])
        apoptosis = ph["apoptosis"]
        cyto = [d for d in reg if d in CYTOTOXIC]
        if cyto:
            rest = tuple(d for d in reg if d not in CYTOTOXIC)
            base = self._run(profile, rest, tuple(p for p in pot if p[0] in rest))
            targeted = min(base.phenotypes["apoptosis"], apoptosis)
        else:
            targeted = apoptosis
        return Rates(float(growth), {"targeted": float(targeted),
                                     "immune": float(ph["immune_kill"]),
                                     "cytotoxic": float(max(apoptosis - targeted, 0.0))})
