"""Virtual patients: tumor profiles drawn from prevalences by setting.

A virtual patient is a set of the knowledge base's resistance mechanisms (its tumor profile).
Profiles are drawn from the priors in ``data/prevalence.yaml``: each mechanism has a prevalence
in early disease with a 95% interval and a citation; after trastuzumab (``prior_trastuzumab``),
the mechanisms trastuzumab selects for have their odds multiplied by ``pretreated_odds_ratio``.
Mechanisms are independent except for groups the data declares mutually exclusive (PIK3CA
mutation and PTEN loss, the seed's ref 27), which are drawn as one categorical variable.

A profile is stored as a bit mask over :data:`MECHANISMS` (sorted IDs), so a population of a
million patients is one ``uint16`` array, and the few distinct profiles among them are what the
pathway model has to simulate.

Uncertainty: :meth:`PrevalenceTable.prevalences` gives the central values; with an ``rng`` it
draws each prevalence from a beta distribution matching its interval (and the odds ratio from a
log-normal), for replicates that carry prior uncertainty.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from her2lab.errors import DataError
from her2lab.knowledge.schema import Provenance
from her2lab.seeds import DEFAULT_SEED
from her2lab.yamlio import field_error

__all__ = [
    "MECHANISMS",
    "Population",
    "PrevalenceTable",
    "ProfileSample",
    "group_of_setting",
    "load_prevalence",
    "mask_of",
    "profile_of",
]

MECHANISMS: tuple[str, ...] = (
    "egfr_coexpression",
    "her3_activation",
    "igf1r_activation",
    "immune_cold",
    "met_overexpression",
    "muc4_masking",
    "p95her2",
    "pd_l1_high",
    "pik3ca_mutation",
    "pten_loss",
    "src_activation",
    "vegf_high",
)
"""The mechanism IDs of the knowledge base, in bit order."""

_BIT = {m: i for i, m in enumerate(MECHANISMS)}

UNINFORMATIVE = 0.5
"""The prevalence used for a mechanism whose prior was not yet published at ``as_of``."""

PANEL_SEED = DEFAULT_SEED
"""The fixed seed of the quasi-random profile panels (:meth:`Population.panel`)."""

Group = Literal["early", "metastatic_first_line", "metastatic_pretreated"]


def mask_of(profile: Iterable[str]) -> int:
    """Bit mask of a profile (mechanism IDs)."""
    m = 0
    for mech in profile:
        if mech not in _BIT:
            raise DataError(f"unknown mechanism {mech!r}; expected one of {', '.join(MECHANISMS)}")
        m |= 1 << _BIT[mech]
    return m


def profile_of(mask: int) -> tuple[str, ...]:
    """Mechanism IDs of a bit mask, sorted."""
    return tuple(m for m in MECHANISMS if mask >> _BIT[m] & 1)


def group_of_setting(setting: str, prior_trastuzumab: bool | None = None) -> Group:
    """Which prevalences apply: trastuzumab-pretreated disease is enriched for resistance."""
    if prior_trastuzumab or setting in ("metastatic_pretreated",):
        return "metastatic_pretreated"
    if setting in ("metastatic_first_line", "metastatic_any_line", "advanced_solid_tumors"):
        return "metastatic_first_line"
    return "early"


# --------------------------------------------------------------------------- the priors


class _Rec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Interval(_Rec):
    value: float = Field(gt=0, lt=1)
    low: float = Field(gt=0, lt=1)
    high: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if not self.low <= self.value <= self.high:
            raise field_error((), "low <= value <= high",
                              f"{self.low}, {self.value}, {self.high}")
        return self

    def beta_params(self) -> tuple[float, float]:
        """Beta(a, b) with this mean and an SD of a quarter of the 95% interval (approx.)."""
        sd = (self.high - self.low) / 3.92
        m = self.value
        k = max(m * (1 - m) / sd**2 - 1, 2.0)
        return m * k, (1 - m) * k


class MechanismPrior(_Rec):
    early: Interval
    kind: Literal["measured", "assumption"]
    provenance: Provenance
    published: dt.date
    """When the prior's source was public (a calibration as of an earlier date refuses it)."""
    degree: float = Field(default=1.0, gt=0, le=1)
    """How complete the escape is in a tumor that has the mechanism (1: complete); graded
    mechanisms reach the pathway model as degrees."""


class OddsRatio(_Rec):
    value: float = Field(gt=0)
    low: float = Field(gt=0)
    high: float = Field(gt=0)
    kind: Literal["measured", "assumption"]
    applies_to: list[str]
    provenance: Provenance
    published: dt.date


class ExclusiveGroup(_Rec):
    members: list[str] = Field(min_length=2)
    provenance: Provenance


class Dependencies(_Rec):
    mutually_exclusive: list[ExclusiveGroup] = Field(default_factory=list)


class PrevalenceTable(_Rec):
    version: int
    dependencies: Dependencies
    pretreated_odds_ratio: OddsRatio
    mechanisms: dict[str, MechanismPrior]

    @model_validator(mode="after")
    def _complete(self) -> PrevalenceTable:
        missing = set(MECHANISMS) - set(self.mechanisms)
        extra = set(self.mechanisms) - set(MECHANISMS)
        if missing or extra:
            raise ValueError(
                f"expected a prior for every mechanism; missing {sorted(missing)}, "
                f"unknown {sorted(extra)}"
            )
        for g in self.dependencies.mutually_exclusive:
            bad = set(g.members) - set(MECHANISMS)
            if bad:
                raise ValueError(f"mutually_exclusive names unknown mechanisms {sorted(bad)}")
        bad = set(self.pretreated_odds_ratio.applies_to) - set(MECHANISMS)
        if bad:
            raise ValueError(f"pretreated_odds_ratio.applies_to: unknown mechanisms {sorted(bad)}")
        return self

    def dated_after(self, as_of: dt.date) -> list[str]:
        """The priors whose source was published after ``as_of``."""
        out = [m for m, p in self.mechanisms.items() if p.published > as_of]
        if self.pretreated_odds_ratio.published > as_of:
            out.append("pretreated_odds_ratio")
        return out

    def degrees(self) -> dict[str, float]:
        return {m: p.degree for m, p in self.mechanisms.items()}

    def prevalences(
        self, group: Group, rng: np.random.Generator | None = None, *,
        assumption_scale: float = 1.0, as_of: dt.date | None = None,
    ) -> dict[str, float]:
        """Prevalence of each mechanism in ``group``; drawn from the priors when ``rng`` given.

        ``assumption_scale`` multiplies the odds of every prior marked ``kind: assumption``
        (those without a curated measurement). With ``as_of``, a prior whose source was
        published later is replaced by :data:`UNINFORMATIVE` (and a later odds ratio by 1).
        """
        orr = self.pretreated_odds_ratio
        if rng is None:
            base = {m: p.early.value for m, p in self.mechanisms.items()}
            odds_ratio = orr.value
        else:
            base = {
                m: float(rng.beta(*p.early.beta_params())) for m, p in self.mechanisms.items()
            }
            sd = (math.log(orr.high) - math.log(orr.low)) / 3.92
            odds_ratio = float(math.exp(rng.normal(math.log(orr.value), sd)))
        if as_of is not None:
            for m in self.dated_after(as_of):
                if m in base:
                    base[m] = UNINFORMATIVE
            if self.pretreated_odds_ratio.published > as_of:
                odds_ratio = 1.0
        if assumption_scale != 1.0:
            for m, prior in self.mechanisms.items():
                if prior.kind == "assumption":
                    o = base[m] / (1 - base[m]) * assumption_scale
                    base[m] = o / (1 + o)
        if group != "metastatic_pretreated":
            return base
        out = {}
        for m, p in base.items():
            if m in orr.applies_to:
                o = p / (1 - p) * odds_ratio
                p = o / (1 + o)
            out[m] = p
        return out


def load_prevalence(path: str | Path | None = None) -> PrevalenceTable:
    """Read and validate a prevalence file (the shipped one by default)."""
    if path is None:
        return _shipped()
    return _read(Path(path))


@cache
def _shipped() -> PrevalenceTable:
    ref = resources.files("her2lab.virtual_trials") / "data" / "prevalence.yaml"
    with resources.as_file(ref) as p:
        return _read(Path(p))


def _read(path: Path) -> PrevalenceTable:
    from her2lab.yamlio import read_model_file

    return read_model_file(path, PrevalenceTable)


# --------------------------------------------------------------------------- drawing profiles


@dataclass(frozen=True)
class ProfileSample:
    """A drawn population: each patient's index into ``profiles`` (distinct bit masks)."""

    masks: np.ndarray  # distinct profiles, uint16
    index: np.ndarray  # per patient, int32 into masks

    @property
    def n(self) -> int:
        return int(self.index.size)

    def counts(self) -> np.ndarray:
        return np.bincount(self.index, minlength=self.masks.size)

    def profiles(self) -> list[tuple[str, ...]]:
        return [profile_of(int(m)) for m in self.masks]

    def has(self, mechanism: str) -> np.ndarray:
        """Boolean per patient: does the tumor have ``mechanism``."""
        bit = (self.masks >> _BIT[mechanism]) & 1
        return bit[self.index].astype(bool)


@dataclass(frozen=True)
class Population:
    """Who is eligible for a trial: the setting's prevalences, then required/excluded mechanisms.

    ``require`` conditions on mechanisms being present (a biomarker-selected trial or subgroup),
    ``exclude`` on their absence. Drawing is exact conditioning, not rejection: independent
    mechanisms are fixed; an exclusive group keeps only its allowed categories, renormalised.
    """

    prevalence: Mapping[str, float]
    exclusive: tuple[tuple[str, ...], ...] = ()
    require: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()

    @classmethod
    def for_setting(
        cls,
        setting: str,
        *,
        prior_trastuzumab: bool | None = None,
        require: Iterable[str] = (),
        exclude: Iterable[str] = (),
        table: PrevalenceTable | None = None,
        rng: np.random.Generator | None = None,
        assumption_scale: float = 1.0,
        as_of: dt.date | None = None,
    ) -> Population:
        table = table or load_prevalence()
        group = group_of_setting(setting, prior_trastuzumab)
        excl = tuple(tuple(g.members) for g in table.dependencies.mutually_exclusive)
        prev = table.prevalences(group, rng, assumption_scale=assumption_scale, as_of=as_of)
        return cls(prev, excl, frozenset(require), frozenset(exclude))

    def __post_init__(self) -> None:
        for m in self.require | self.exclude:
            if m not in _BIT:
                raise DataError(
                    f"unknown mechanism {m!r} in a population filter; expected one of "
                    f"{', '.join(MECHANISMS)}"
                )
        both = self.require & self.exclude
        if both:
            raise DataError(f"mechanisms both required and excluded: {sorted(both)}")
        for group in self.exclusive:
            req = self.require & set(group)
            if len(req) > 1:
                raise DataError(
                    f"mechanisms {sorted(req)} are mutually exclusive and cannot all be required"
                )

    def mechanism_probability(self) -> dict[str, float]:
        """Marginal probability of each mechanism in the (conditioned) population."""
        out = {}
        grouped = {m for g in self.exclusive for m in g}
        for m in MECHANISMS:
            if m in grouped:
                continue
            out[m] = 1.0 if m in self.require else 0.0 if m in self.exclude else self.prevalence[m]
        for g in self.exclusive:
            probs = self._group_probs(g)
            for m, p in zip(g, probs[:-1], strict=True):
                out[m] = p
        return out

    def _group_probs(self, group: tuple[str, ...]) -> np.ndarray:
        """Category probabilities (each member, then 'none') after the filters."""
        p = np.array([self.prevalence[m] for m in group] + [0.0])
        p[-1] = max(1.0 - p[:-1].sum(), 0.0)
        allowed = np.ones(len(group) + 1, dtype=bool)
        req = self.require & set(group)
        if req:
            allowed[:] = False
            allowed[group.index(next(iter(req)))] = True
        for i, m in enumerate(group):
            if m in self.exclude:
                allowed[i] = False
        p = np.where(allowed, p, 0.0)
        if p.sum() <= 0:
            raise DataError(f"no patient can satisfy the filters on {list(group)}")
        return p / p.sum()

    def panel(self, k: int = 64) -> ProfileSample:
        """A deterministic panel of ``k`` patients: a scrambled Sobol sequence with a fixed
        seed (quasi-random, the same points for every population, arm and parameter value:
        common random numbers), each point's coordinates thresholded by the prevalences. It
        does not depend on any user seed, so a calibration on it does not move with one."""
        from scipy.stats import qmc

        grouped = [m for g in self.exclusive for m in g]
        indep = [m for m in MECHANISMS if m not in grouped]
        dims = len(indep) + len(self.exclusive)
        u = qmc.Sobol(d=dims, scramble=True, seed=PANEL_SEED).random(k)
        masks = np.zeros(k, dtype=np.uint16)
        for i, m in enumerate(indep):
            if m in self.require:
                has = np.ones(k, dtype=bool)
            elif m in self.exclude:
                has = np.zeros(k, dtype=bool)
            else:
                has = u[:, i] < self.prevalence[m]
            masks |= (has.astype(np.uint16) << _BIT[m]).astype(np.uint16)
        for j, g in enumerate(self.exclusive):
            cum = np.cumsum(self._group_probs(g))
            cat = np.searchsorted(cum, u[:, len(indep) + j] * cum[-1], side="right")
            for i, m in enumerate(g):
                masks |= ((cat == i).astype(np.uint16) << _BIT[m]).astype(np.uint16)
        uniq, index = np.unique(masks, return_inverse=True)
        return ProfileSample(uniq.astype(np.uint16), index.astype(np.int32))

    def draw(self, n: int, rng: np.random.Generator) -> ProfileSample:
        """Draw ``n`` patients' profiles."""
        if n < 1:
            raise DataError(f"a population needs n >= 1 patients; got {n}")
        masks = np.zeros(n, dtype=np.uint16)
        grouped = {m for g in self.exclusive for m in g}
        for m in MECHANISMS:
            if m in grouped:
                continue
            if m in self.require:
                has = np.ones(n, dtype=bool)
            elif m in self.exclude:
                has = np.zeros(n, dtype=bool)
            else:
                has = rng.random(n) < self.prevalence[m]
            masks |= (has.astype(np.uint16) << _BIT[m]).astype(np.uint16)
        for g in self.exclusive:
            probs = self._group_probs(g)
            cat = rng.choice(len(probs), size=n, p=probs)
            for i, m in enumerate(g):
                masks |= ((cat == i).astype(np.uint16) << _BIT[m]).astype(np.uint16)
        uniq, index = np.unique(masks, return_inverse=True)
        return ProfileSample(uniq.astype(np.uint16), index.astype(np.int32))
