"""The one place that calls the pathway layer: a tumor's growth and kill rates under a set of
drugs.

The link (:mod:`.link`) needs, for a tumor profile and the drugs of one phase of a schedule,
the pathway model's rates (:class:`her2lab.pathway.Rates`): ``growth`` and ``kill`` by source
(``targeted``, ``immune``, ``cytotoxic``, ``payload``), per day, as
:func:`her2lab.pathway.simulate` and :func:`~her2lab.pathway.simulate_many` return them in
``Result.rates``. The link only uses rates relative to the untreated tumor's growth (its time
scale comes from a doubling time, :data:`.link.KINETICS`).

**Micrometastatic disease** (adjuvant settings): angiogenesis does not drive tumors below about
a millimetre (Folkman J. N Engl J Med 1971;285:1182-1186), so there the drugs whose every effect
is on the VEGF axis are left out and ``vegf_high`` is not part of the profile
(:func:`micrometastatic`).

Profiles are mappings mechanism -> degree in [0, 1], passed to the pathway model as graded
profiles (its hormone-receptor status as the ``hr_positive`` attribute).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from her2lab.pathway import Rates
from her2lab.virtual_trials.defaults import DEFAULT_SEED, PATHWAY_SAMPLES

__all__ = [
    "CYTOTOXIC",
    "KILL_SOURCES",
    "RatesModel",
    "angiogenic_only",
    "micrometastatic",
]

KILL_SOURCES = ("targeted", "immune", "cytotoxic", "payload")
"""Kill sources the link reads (keys of :attr:`her2lab.pathway.Rates.kill`; a source a rates
model leaves out kills nothing); ``payload`` (an ADC's cytotoxic payload, T-DM1's DM1) counts
with the cytotoxic kill (scaled by the patient's chemosensitivity)."""

CYTOTOXIC = frozenset({
    "docetaxel", "paclitaxel", "vinorelbine", "capecitabine", "carboplatin", "fec",
    "chemotherapy", "physicians_choice",
})
"""Drugs whose kill counts as cytotoxic (the knowledge base's chemotherapy classes)."""

_VEGF_NODES = frozenset({"VEGF", "VEGFR"})
HR_ATTRIBUTE = "hr_positive"
"""The profile attribute of hormone-receptor status in :func:`her2lab.pathway.simulate`."""


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


@dataclass
class RatesModel:
    """Memoised rates ``(profile, drugs, potency) -> Rates`` from the pathway model (which also
    caches its runs on disk). ``samples`` and ``seed`` are the pathway's Monte Carlo settings.

    A subclass may override :meth:`rates` (the tests' synthetic rates): it then runs no pathway
    simulation and has nothing to prefetch."""

    samples: int = PATHWAY_SAMPLES
    seed: int = DEFAULT_SEED
    _memo: dict[tuple, Rates] = field(default_factory=dict, repr=False)
    calls: int = 0

    @staticmethod
    def _profile_arg(profile: Mapping[str, float]) -> dict[str, float]:
        """The graded profile the pathway model takes (mechanisms of degree > 0)."""
        return {m: float(v) for m, v in profile.items() if v > 0}

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

    def prefetch(self, requests: Iterable[tuple[Mapping[str, float], Iterable[str],
                                                Mapping[str, float], bool]]) -> None:
        """Memoise the rates of many ``(profile, drugs, potency, hr_positive)`` at once: those
        not memoised run through :func:`her2lab.pathway.simulate_many`, one batch per potency
        (the engine runs a batch's conditions together, on every core; each result equals
        :func:`~her2lab.pathway.simulate`'s). A subclass with its own :meth:`rates` (no
        pathway) has nothing to prefetch."""
        if type(self).rates is not RatesModel.rates:
            return
        groups: dict[tuple, dict[tuple, None]] = {}
        for profile, drugs, potency, hr in requests:
            key = self._key(profile, drugs, potency, hr)
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
                self._memo[key] = res.rates

    def rates(self, profile: Mapping[str, float], drugs: Iterable[str],
              potency: Mapping[str, float] | Iterable[tuple[str, float]] = (), *,
              hr_positive: bool = False) -> Rates:
        """Rates of a tumor with ``profile`` under ``drugs``; ``hr_positive``: a
        hormone-receptor-positive tumor (the pathway model's ER module)."""
        from her2lab.pathway import simulate

        key = self._key(profile, drugs, potency, hr_positive)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        prof, reg, pot = key
        self.calls += 1
        out = simulate(self._profile_arg(dict(prof)), list(reg), samples=self.samples,
                       seed=self.seed, potency=dict(pot) or None).rates
        self._memo[key] = out
        return out
