"""Regimens as schedules: a sequence of phases, each with its drugs, cycles and cycle length.

"FEC x3 then docetaxel + trastuzumab + pertuzumab x3" is two phases; NeoALTTO's "six weeks of
anti-HER2 therapy alone, then with weekly paclitaxel for twelve" too; a metastatic regimen is
one phase given until progression (``cycles=None``). A flat regimen (``[a, b]``) is one phase
of its setting's default length (:mod:`.defaults`). Schedules of the knowledge base's trials
are curated in its trial files (``schedule:``, with ``schedule_provenance``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from her2lab.errors import DataError
from her2lab.virtual_trials.defaults import defaults_for

__all__ = ["DAYS_PER_MONTH", "Phase", "Schedule", "schedule_of"]

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Phase:
    """Drugs given together for ``cycles`` cycles of ``cycle_days`` days (``cycles=None``:
    until progression)."""

    drugs: tuple[str, ...]
    cycles: int | None
    cycle_days: float = 21.0

    def __post_init__(self) -> None:
        if self.cycles is not None and self.cycles < 1:
            raise DataError(f"a phase needs at least one cycle; got {self.cycles}")
        if not 0 < self.cycle_days <= 365:
            raise DataError(f"a cycle lasts 1 to 365 days; got {self.cycle_days}")

    @property
    def months(self) -> float:
        return math.inf if self.cycles is None else self.cycles * self.cycle_days / DAYS_PER_MONTH

    def to_dict(self) -> dict[str, Any]:
        return {"drugs": list(self.drugs), "cycles": self.cycles, "cycle_days": self.cycle_days}


@dataclass(frozen=True)
class Schedule:
    """A regimen over time: its phases in order."""

    phases: tuple[Phase, ...]

    def __post_init__(self) -> None:
        if not self.phases:
            raise DataError("a schedule needs at least one phase")
        for ph in self.phases[:-1]:
            if ph.cycles is None:
                raise DataError("only the last phase of a schedule may run until progression")

    @property
    def drugs(self) -> tuple[str, ...]:
        return tuple(sorted({d for ph in self.phases for d in ph.drugs}))

    @property
    def months(self) -> float:
        return float(sum(ph.months for ph in self.phases))

    @property
    def until_progression(self) -> bool:
        return self.phases[-1].cycles is None

    def finite(self, default_months: float) -> Schedule:
        """The schedule with an open last phase closed after ``default_months`` in total (early
        disease: treatment stops; used when a metastatic-style regimen meets an adjuvant
        setting)."""
        if not self.until_progression:
            return self
        done = sum(ph.months for ph in self.phases[:-1])
        last = self.phases[-1]
        cycles = max(1, round((default_months - done) * DAYS_PER_MONTH / last.cycle_days))
        return Schedule((*self.phases[:-1], Phase(last.drugs, cycles, last.cycle_days)))

    def to_dict(self) -> list[dict[str, Any]]:
        return [ph.to_dict() for ph in self.phases]

    @classmethod
    def flat(cls, drugs: Iterable[str], setting: str) -> Schedule:
        d = defaults_for(setting)
        return cls((Phase(tuple(drugs), d.cycles, d.cycle_days),))

    @classmethod
    def from_phases(cls, phases: Sequence[Mapping[str, Any] | Any]) -> Schedule:
        out = []
        for ph in phases:
            if isinstance(ph, Mapping):
                out.append(Phase(tuple(ph["drugs"]), ph.get("cycles"),
                                 float(ph.get("cycle_days", 21.0))))
            else:
                out.append(Phase(tuple(ph.drugs), ph.cycles, float(ph.cycle_days)))
        return cls(tuple(out))


def schedule_of(regimen: Iterable[str], phases: Sequence[Any] | None, setting: str) -> Schedule:
    """An arm's schedule: its curated phases, else the flat regimen at the setting's default."""
    if phases:
        return Schedule.from_phases(phases)
    return Schedule.flat(regimen, setting)
