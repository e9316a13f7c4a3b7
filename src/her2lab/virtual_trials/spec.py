"""Trial specifications: a YAML file describing a (virtual) randomised trial, validated.

::

    name: EXAMPLE
    setting: metastatic_pretreated   # neoadjuvant | adjuvant | post_neoadjuvant |
                                     # extended_adjuvant | metastatic_first_line |
                                     # metastatic_pretreated
    population: {prior_trastuzumab: true, require: [pd_l1_high], exclude: [],
                 hr_positive: 0.5}   # optional: the hormone-receptor-positive share, 0 to 1
    arms:
      - {name: experimental, regimen: [trastuzumab_emtansine, anti_pd_l1], n: 133}
      - {name: control, regimen: [trastuzumab_emtansine], n: 69}
    control: control
    endpoint: PFS                    # PFS | TTP | OS | DFS | iDFS | EFS | RFI | pCR | ORR
    follow_up_months: 24             # optional: minimum follow-up after the last patient
    landmark_months: 36              # optional: rates at a time point
    accrual_months: 24               # optional
    dropout_per_year: 0.05           # optional
    control_median_months: 6.0       # optional: the control arm's expected median (time to event)
    control_landmark_rate: 0.87      # optional: event-free share at landmark_months (control)
    control_pfs_median_months: 6.0   # optional: with endpoint OS, the control's PFS median
    control_rate: 0.25               # optional: the control arm's expected rate (pCR, ORR)

Optional values left out come from the one table of defaults by setting
(:data:`her2lab.virtual_trials.defaults.SETTING_DEFAULTS`); a value given, 0 included, is kept.
Without a control level the baseline comes from the knowledge base's control arms of the
setting (:mod:`her2lab.virtual_trials.baselines`).

An arm may give a schedule instead of the setting's default length for its regimen::

      - name: experimental
        regimen: [fec, docetaxel, trastuzumab, pertuzumab]
        schedule:
          - {drugs: [fec], cycles: 3, cycle_days: 21}
          - {drugs: [docetaxel, trastuzumab, pertuzumab], cycles: 3, cycle_days: 21}
        n: 100

``regimen: []`` is placebo or observation. Regimens name drugs by the knowledge base's IDs or
aliases (``T-DM1``, ``Herceptin``); ``population.require``/``exclude`` name its resistance
mechanisms (``pten_loss``, ``pd_l1_high``). :func:`load_spec` returns the spec with every name
replaced by its canonical ID, or raises :class:`~her2lab.errors.ValidationError` listing every
problem with its file, line and field. Example specs are in :data:`EXAMPLES_DIR`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from her2lab.errors import Problem, UnknownIdError, ValidationError
from her2lab.knowledge import BINARY, Endpoint, KnowledgeBase
from her2lab.virtual_trials.defaults import SETTING_DEFAULTS
from her2lab.yamlio import field_error

__all__ = [
    "ACCRUAL_MONTHS",
    "EXAMPLES_DIR",
    "ArmSpec",
    "PhaseSpec",
    "PopulationSpec",
    "SpecEndpoint",
    "SpecSetting",
    "TrialSpec",
    "example_specs",
    "load_spec",
    "resolve_spec",
]

EXAMPLES_DIR = Path(__file__).parent / "examples"


class SpecSetting(StrEnum):
    neoadjuvant = "neoadjuvant"
    adjuvant = "adjuvant"
    post_neoadjuvant = "post_neoadjuvant"
    extended_adjuvant = "extended_adjuvant"
    metastatic_first_line = "metastatic_first_line"
    metastatic_pretreated = "metastatic_pretreated"


#: The endpoints a specification may name: those of knowledge's one vocabulary
#: (:class:`~her2lab.knowledge.Endpoint`) the virtual trials model, time to event and binary,
#: in its order.
SpecEndpoint = StrEnum("SpecEndpoint", [(e.name, e.value) for e in Endpoint  # type: ignore[misc]
                                        if e.is_time_to_event or e.is_binary])

#: Accrual period used when a spec gives none: read from the one table of defaults
#: (:data:`her2lab.virtual_trials.defaults.SETTING_DEFAULTS`).
ACCRUAL_MONTHS: dict[SpecSetting, float] = {
    s: SETTING_DEFAULTS[s.value].accrual_months for s in SpecSetting}


#: Largest arm a specification may ask for: far above any trial, far below what exhausts memory.
MAX_ARM_SIZE = 100_000


class _Spec(BaseModel):
    # a number must be finite: ``.inf`` or ``.nan`` in a specification is refused, naming it
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class PopulationSpec(_Spec):
    """Who a specified trial enrolls.

    Parameters
    ----------
    prior_trastuzumab : bool or None
        Whether patients have had trastuzumab (None, the default: either).
    require : list of str
        Resistance mechanisms every patient carries (knowledge-base IDs or aliases:
        ``pten_loss``, ``pd_l1_high``).
    exclude : list of str
        Mechanisms no patient carries.
    hr_positive : float or None
        Share of hormone-receptor-positive tumors, in [0, 1]: 0 enrols only HR-negative tumors,
        1 only HR-positive ones; None (absent): the setting's default,
        ``link.KINETICS["hr_positive"]``.
    """

    prior_trastuzumab: bool | None = None
    require: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    hr_positive: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _disjoint(self) -> PopulationSpec:
        both = sorted(set(self.require) & set(self.exclude))
        if both:
            raise field_error((), "a mechanism either required or excluded, not both",
                              ", ".join(both) + " in both")
        return self


class PhaseSpec(_Spec):
    """One phase of an arm's schedule."""

    drugs: list[str]
    cycles: int | None = Field(default=None, ge=1)
    cycle_days: float = Field(default=21.0, gt=0, le=365)


class ArmSpec(_Spec):
    """One arm of a specified trial.

    Parameters
    ----------
    name : str
        The arm's name, unique in the trial.
    regimen : list of str
        Its drugs, as knowledge-base IDs or aliases (``T-DM1``); empty for placebo or
        observation.
    n : int
        Patients in the arm (> 0, at most ``MAX_ARM_SIZE``).
    schedule : list of PhaseSpec or None
        How the drugs are given, phases in order (drugs, cycles, cycle length in days); only
        the last may have ``cycles: null`` (until progression). None: one phase of the
        setting's default length.
    """

    name: str = Field(min_length=1)
    regimen: list[str]
    n: int = Field(gt=0, le=MAX_ARM_SIZE)
    schedule: list[PhaseSpec] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _schedule_ok(self) -> ArmSpec:
        if self.schedule:
            for ph in self.schedule[:-1]:
                if ph.cycles is None:
                    raise field_error("schedule", "cycles: null only in the last phase",
                                      "an earlier phase until progression")
            if not {d for ph in self.schedule for d in ph.drugs} >= set(self.regimen):
                raise field_error("schedule", "every drug of the regimen in some phase",
                                  "a regimen drug missing from the schedule")
        return self


class TrialSpec(_Spec):
    """A trial specification (see the module docstring for the YAML).

    Optional values left out come from
    :data:`her2lab.virtual_trials.defaults.SETTING_DEFAULTS`; a value given, 0 included, is kept.

    Parameters
    ----------
    name : str
        The trial's name.
    setting : SpecSetting
        The clinical setting (``metastatic_pretreated``, ``neoadjuvant``, ...).
    population : PopulationSpec
        Who is enrolled (default: anyone of the setting).
    arms : list of ArmSpec
        The arms (at least two).
    control : str
        The name of the control arm.
    endpoint : SpecEndpoint
        ``PFS``, ``TTP``, ``OS``, ``DFS``, ``iDFS``, ``EFS``, ``RFI`` (time to event), ``pCR`` or
        ``ORR`` (binary).
    follow_up_months : float or None
        Minimum follow-up after the last patient enrolled, months (> 0).
    landmark_months : float or None
        Report rates at this time, months (> 0).
    accrual_months : float or None
        Length of uniform accrual, months (>= 0).
    dropout_per_year : float or None
        Probability of dropping out within 12 months, in [0, 1).
    control_median_months : float or None
        The control arm's expected median, months (time to event).
    control_landmark_rate : float or None
        The control's event-free share at ``landmark_months``, in (0, 1).
    control_pfs_median_months : float or None
        With endpoint OS, the control's PFS median, months.
    control_rate : float or None
        The control arm's expected rate (pCR, ORR), in (0, 1).
    """

    name: str = Field(min_length=1)
    setting: SpecSetting
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    arms: list[ArmSpec] = Field(min_length=2)
    control: str
    endpoint: SpecEndpoint
    follow_up_months: float | None = Field(default=None, gt=0)
    landmark_months: float | None = Field(default=None, gt=0)
    accrual_months: float | None = Field(default=None, ge=0)
    dropout_per_year: float | None = Field(default=None, ge=0, lt=1)
    control_median_months: float | None = Field(default=None, gt=0)
    control_landmark_rate: float | None = Field(default=None, gt=0, lt=1)
    control_pfs_median_months: float | None = Field(default=None, gt=0)
    control_rate: float | None = Field(default=None, gt=0, lt=1)

    @field_validator("arms")
    @classmethod
    def _unique_arm_names(cls, arms: list[ArmSpec]) -> list[ArmSpec]:
        seen: set[str] = set()
        for arm in arms:
            if arm.name in seen:
                raise field_error((), "each arm name once", f"{arm.name!r} twice")
            seen.add(arm.name)
        return arms

    @field_validator("control")
    @classmethod
    def _control_is_an_arm(cls, control: str, info: ValidationInfo) -> str:
        arms = info.data.get("arms")
        if arms is not None and control not in [a.name for a in arms]:
            names = ", ".join(a.name for a in arms)
            raise field_error((), f"the name of one of the arms ({names})", repr(control))
        return control

    @model_validator(mode="after")
    def _defaults_and_endpoint(self) -> TrialSpec:
        if self.control_landmark_rate is not None and self.landmark_months is None:
            raise field_error("control_landmark_rate", "a landmark rate with landmark_months",
                              "no landmark_months")
        if self.is_binary and self.control_median_months is not None:
            raise field_error("control_median_months", "a control median only for a "
                              "time-to-event endpoint", f"one with {self.endpoint.value}")
        if not self.is_binary and self.control_rate is not None:
            raise field_error("control_rate", "a control rate only for a binary endpoint "
                              "(pCR, ORR)", f"one with {self.endpoint.value}")
        return self

    @property
    def is_binary(self) -> bool:
        return self.endpoint.value in BINARY

    @property
    def control_arm(self) -> ArmSpec:
        return next(a for a in self.arms if a.name == self.control)

    @property
    def experimental_arms(self) -> list[ArmSpec]:
        return [a for a in self.arms if a.name != self.control]


# --------------------------------------------------------------------------- resolution


def _resolve(
    spec: TrialSpec, kb: KnowledgeBase, file: str, line: Any
) -> tuple[TrialSpec, list[Problem]]:
    """Canonical IDs for every drug and mechanism; a Problem for each unknown or repeated."""
    problems: list[Problem] = []

    def one(kind: str, name: str, path: tuple) -> str | None:
        getter = kb.drug if kind == "drug" else kb.mechanism
        try:
            return getter(name).id
        except UnknownIdError as exc:
            what = "a drug ID or alias" if kind == "drug" else "a resistance mechanism ID"
            if kind == "mechanism" and name == "hr_positive":
                what += " (hormone-receptor status is a share: population: {hr_positive: 1})"
            problems.append(Problem(
                file, _field(path), f"{what} of the knowledge base ({', '.join(exc.valid)})",
                repr(name), line(path)))
            return None

    def many(kind: str, names: list[str], path: tuple) -> list[str]:
        out: list[str] = []
        for i, name in enumerate(names):
            found = one(kind, name, (*path, i))
            if found is not None and found in out:
                problems.append(Problem(
                    file, _field((*path, i)), f"each {kind} once",
                    f"{name!r}, which is {found!r} again", line((*path, i))))
            elif found is not None:
                out.append(found)
        return out

    arms = []
    for i, arm in enumerate(spec.arms):
        upd: dict[str, Any] = {"regimen": many("drug", arm.regimen, ("arms", i, "regimen"))}
        if arm.schedule:
            upd["schedule"] = [ph.model_copy(update={"drugs": many(
                "drug", ph.drugs, ("arms", i, "schedule", j, "drugs"))})
                for j, ph in enumerate(arm.schedule)]
        arms.append(arm.model_copy(update=upd))
    pop = spec.population.model_copy(update={
        "require": many("mechanism", spec.population.require, ("population", "require")),
        "exclude": many("mechanism", spec.population.exclude, ("population", "exclude")),
    })
    both = sorted(set(pop.require) & set(pop.exclude))
    if both:
        problems.append(Problem(
            file, "population.exclude", "a mechanism either required or excluded, not both",
            ", ".join(both), line(("population", "exclude"))))
    return spec.model_copy(update={"arms": arms, "population": pop}), problems


def _field(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(document)"


def resolve_spec(spec: TrialSpec, kb: KnowledgeBase | None = None) -> TrialSpec:
    """A specification with drug and mechanism names replaced by the knowledge base's IDs.

    Parameters
    ----------
    spec : TrialSpec
        The specification, as validated.
    kb : KnowledgeBase, optional
        The knowledge base to resolve against (default: the shipped one).

    Returns
    -------
    TrialSpec
        A copy with canonical IDs.

    Raises
    ------
    ValidationError
        Naming each unknown or repeated name and its field.
    """
    if kb is None:
        from her2lab.knowledge import load

        kb = load()
    resolved, problems = _resolve(spec, kb, f"<spec {spec.name}>", lambda path: None)
    if problems:
        raise ValidationError(problems, f"trial specification {spec.name!r} is invalid")
    return resolved


def load_spec(path: str | Path, kb: KnowledgeBase | None = None) -> TrialSpec:
    """Read, validate and resolve a trial specification YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file (see the module docstring).
    kb : KnowledgeBase, optional
        The knowledge base to resolve names against (default: the shipped one).

    Returns
    -------
    TrialSpec
        The specification with every name replaced by its canonical ID.

    Raises
    ------
    ValidationError
        Every problem (YAML syntax, schema, unknown drug or mechanism) at once; each names the
        file, the line, the field (``arms[1].regimen[0]``), what was expected and what was
        found.
    """
    from her2lab.yamlio import problems_from_pydantic, read_yaml_document

    path = Path(path)
    file = str(path)
    problems: list[Problem] = []
    doc = read_yaml_document(path, file, problems)
    if doc is None or problems:
        raise ValidationError(problems, f"trial specification {file} is invalid")
    if not isinstance(doc.data, dict):
        found = "an empty file" if doc.data is None else type(doc.data).__name__
        raise ValidationError(
            [Problem(file, "(document)", "a mapping with name, setting, arms, ...", found,
                     doc.line())], f"trial specification {file} is invalid")
    try:
        spec = TrialSpec.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise ValidationError(problems_from_pydantic(exc, TrialSpec, doc),
                              f"trial specification {file} is invalid") from None
    if kb is None:
        from her2lab.knowledge import load

        kb = load()
    resolved, problems = _resolve(spec, kb, file, doc.line)
    if problems:
        raise ValidationError(problems, f"trial specification {file} is invalid")
    return resolved


def example_specs() -> dict[str, Path]:
    """The shipped example specifications, by file stem."""
    return {p.stem: p for p in sorted(EXAMPLES_DIR.glob("*.yaml"))}
