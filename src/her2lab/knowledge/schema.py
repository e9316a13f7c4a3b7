"""Typed records of the curated knowledge base (pydantic v2).

One ID scheme runs through every record: ``kind:local``, e.g. ``drug:trastuzumab``,
``target:ERBB2``, ``mech:p95her2``, ``biomarker:pten_loss``, ``trial:cleopatra``, ``ref:62``,
``outcome:cleopatra/pfs_hr``, ``conflict:b41_pcr_trastuzumab``.

In the YAML files a record gives only its local ID (``id: trastuzumab``) and refers to others by
local ID where the field says which kind it expects (``regimen: [trastuzumab, docetaxel]``,
``refs: [58, 59]``); :mod:`her2lab.knowledge.crossref` checks every such cross-reference.

Trials take their acronym as local ID (``trial:cleopatra``); the NCT number, the spelling of the
seed (``ALLTO``) and other names are aliases, so ``trial:NCT00567190`` resolves too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from her2lab.yamlio import field_error

SLUG = r"^[a-z0-9][a-z0-9_]*$"
Slug = Annotated[str, Field(pattern=SLUG)]
HgncSymbol = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9-]*$")]


class Record(BaseModel):
    """Base of every curated record: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --------------------------------------------------------------------------- provenance


class Provenance(Record):
    """Where a fact comes from.

    Attributes
    ----------
    source : {"seed", "external"}
        ``"seed"`` (default) for the review itself, ``"external"`` for a fact taken from another
        publication, named in ``citation``.
    locator : str
        Where in that source: for the seed a section (``text: Neratinib``) or a Table 1 row
        (``Table 1: CLEOPATRA``); for another publication its table, figure or section.
    refs : list of int
        The seed's reference numbers the fact is attributed to.
    citation : str or None
        The external publication (authors, journal, year, volume, pages), given when
        ``source`` is ``"external"``.
    note : str or None
        A curator's remark (how a figure was derived, what was left out).
    """

    source: Literal["seed", "external"] = "seed"
    locator: str = Field(min_length=3)
    refs: list[int] = Field(default_factory=list)
    citation: str | None = None
    note: str | None = None

    @field_validator("refs")
    @classmethod
    def _refs_positive(cls, v: list[int]) -> list[int]:
        for i, r in enumerate(v):
            if r < 1:
                raise field_error((i,), "a reference number of 1 or more", str(r))
        return v

    @model_validator(mode="after")
    def _external_needs_citation(self) -> Provenance:
        if self.source == "external" and not self.citation:
            raise field_error("citation", "the publication an external provenance comes from",
                              "nothing")
        return self


# --------------------------------------------------------------------------- references


class Reference(Record):
    """One entry of the seed's reference list, parsed.

    Attributes
    ----------
    number : int
        Its number in the seed's reference list (>= 1); the record's ID is ``ref:<number>``.
    authors : list of str
        The authors as listed (at least one).
    et_al : bool
        Whether the list ends in "et al." (more authors than listed).
    title : str
        The title.
    journal : str
        The journal's abbreviated name.
    year : int
        Year of publication.
    month : int or None
        Month of publication (1-12) where known.
    volume, pages : str or None
        Volume and page range.
    doi : str or None
        The DOI (``10.xxxx/...``), where verified.
    pmid : str or None
        The PubMed ID, where verified.
    """

    number: int = Field(ge=1)
    authors: list[str] = Field(min_length=1)
    et_al: bool = False
    title: str = Field(min_length=3)
    journal: str
    year: int = Field(ge=1900, le=2100)
    month: int | None = Field(default=None, ge=1, le=12)
    volume: str | None = None
    pages: str | None = None
    doi: str | None = Field(default=None, pattern=r"^10\.\d{4,9}/\S+$")
    pmid: str | None = Field(default=None, pattern=r"^\d{1,9}$")

    @property
    def id(self) -> str:
        return f"ref:{self.number}"

    def earliest_date(self) -> dt.date:
        """First day the reference can have been published.

        Returns
        -------
        datetime.date
            The first of its month, or 1 January when only the year is known.
        """
        return dt.date(self.year, self.month or 1, 1)

    def latest_date(self, cited_on: dt.date | None = None) -> dt.date:
        """Last day the reference can have been published.

        With only a year that is 31 December, but never later than the date of the document that
        cites it: a 2014 reference cited by a review of August 2014 was out by August 2014.

        Parameters
        ----------
        cited_on : datetime.date, optional
            The date of the citing document; no cap when omitted.

        Returns
        -------
        datetime.date
            The last day of its month (or year), capped at ``cited_on``.
        """
        if self.month is None:
            last = dt.date(self.year, 12, 31)
        else:
            nxt = dt.date(self.year + (self.month == 12), self.month % 12 + 1, 1)
            last = nxt - dt.timedelta(days=1)
        if cited_on is not None and cited_on < last:
            return max(cited_on, self.earliest_date())
        return last


# --------------------------------------------------------------------------- drugs, targets


class DrugClass(StrEnum):
    """The class of a drug (antibody, ADC, TKI, ...): the values are the YAML's strings."""
    monoclonal_antibody = "monoclonal_antibody"
    antibody_drug_conjugate = "antibody_drug_conjugate"
    tyrosine_kinase_inhibitor = "tyrosine_kinase_inhibitor"
    multitarget_tki = "multitarget_tki"
    mtor_inhibitor = "mtor_inhibitor"
    pi3k_inhibitor = "pi3k_inhibitor"
    hsp90_inhibitor = "hsp90_inhibitor"
    checkpoint_inhibitor = "checkpoint_inhibitor"
    cdk4_6_inhibitor = "cdk4_6_inhibitor"
    bispecific_antibody = "bispecific_antibody"
    endocrine_therapy = "endocrine_therapy"
    chemotherapy = "chemotherapy"
    chemotherapy_regimen = "chemotherapy_regimen"


class Drug(Record):
    """A drug, or a named combination (``components``), as curated in ``drugs.yaml``.

    Attributes
    ----------
    id : str
        Local ID, a lower-case slug (``trastuzumab``); the full ID is ``drug:<id>``.
    name : str
        Display name.
    drug_class : DrugClass
        Its class.
    targets : list of str
        HGNC symbols of the genes it acts on (``ERBB2``).
    binding_site : str or None
        Where it binds (``HER2 extracellular domain (subdomain IV)``), where the source says.
    mechanism : list of str
        How it acts, one statement each (at least one).
    reversibility : {"reversible", "irreversible"} or None
        For kinase inhibitors, whether binding is reversible.
    aliases : list of str
        Other names and codes (``Herceptin``, ``T-DM1``) that look-ups accept.
    components : list of str
        Drug IDs of a combination's parts (empty for a single agent).
    identifiers : dict of str to str
        Database IDs by registry (``drugbank``, ``ncit``, ``chebi``).
    provenance : Provenance
        Where the record's facts come from.
    """
    id: Slug
    name: str
    drug_class: DrugClass
    targets: list[HgncSymbol] = Field(default_factory=list)
    binding_site: str | None = None
    mechanism: list[str] = Field(min_length=1)
    reversibility: Literal["reversible", "irreversible"] | None = None
    aliases: list[str] = Field(default_factory=list)
    components: list[Slug] = Field(default_factory=list)
    identifiers: dict[str, str] = Field(default_factory=dict)
    provenance: Provenance

    @property
    def uid(self) -> str:
        return f"drug:{self.id}"


class Target(Record):
    """A gene that drugs or mechanisms act on, by HGNC symbol.

    Attributes
    ----------
    symbol : str
        The HGNC symbol (``ERBB2``); the full ID is ``target:<symbol>``.
    name : str
        The gene's approved name.
    hgnc : str
        The HGNC numeric ID (``3430``).
    aliases : list of str
        Other names (``HER2``) that look-ups accept.
    role : str
        Its role in the disease, as the seed describes it.
    provenance : Provenance
        Where the record's facts come from.
    """
    symbol: HgncSymbol
    name: str
    hgnc: str = Field(pattern=r"^\d{1,6}$")
    aliases: list[str] = Field(default_factory=list)
    role: str
    provenance: Provenance

    @property
    def uid(self) -> str:
        return f"target:{self.symbol}"


# --------------------------------------------------------------------------- mechanisms


class Mechanism(Record):
    """A route of escape from trastuzumab, with what it does to the signaling network.

    Attributes
    ----------
    id : str
        Local ID (``pten_loss``); the full ID is ``mech:<id>``.
    name : str
        Display name.
    category : {"receptor", "downstream", "microenvironment", "immune"}
        Where in the cell or its surroundings the escape happens.
    targets : list of str
        HGNC symbols of the genes involved (at least one).
    nodes : list of str
        The pathway-model nodes the mechanism sets (at least one).
    effect : str
        What it does, in words.
    counteracted_by : list of str
        Drug IDs meant to overcome it.
    provenance : Provenance
        Where the record's facts come from.
    """

    id: Slug
    name: str
    category: Literal["receptor", "downstream", "microenvironment", "immune"]
    targets: list[HgncSymbol] = Field(min_length=1)
    nodes: list[str] = Field(min_length=1)
    effect: str
    counteracted_by: list[Slug] = Field(default_factory=list)
    provenance: Provenance

    @property
    def uid(self) -> str:
        return f"mech:{self.id}"


class PredictiveStatement(Record):
    """What the source says of a biomarker's value for one drug.

    Attributes
    ----------
    drug : str
        The drug's ID.
    direction : str
        ``more_benefit``, ``less_benefit``, ``no_interaction`` (predictive), ``prognostic_poor``,
        ``prognostic_good`` (prognostic) or ``predictive_response``.
    outcomes : list of str
        The outcomes that support it, as ``trial/outcome`` keys (:func:`outcome_key`).
    provenance : Provenance
        Where the statement comes from.
    """
    drug: Slug
    direction: Literal["more_benefit", "less_benefit", "no_interaction", "prognostic_poor",
                       "prognostic_good", "predictive_response"]
    outcomes: list[str] = Field(default_factory=list)
    provenance: Provenance


class Biomarker(Record):
    """A biomarker and what the sources say of its predictive value.

    Attributes
    ----------
    id : str
        Local ID (``pten_low``); the full ID is ``biomarker:<id>``.
    name : str
        Display name.
    gene : str or None
        HGNC symbol of the gene measured, if one.
    assay : str or None
        How it is measured (IHC, sequencing, ...).
    mechanism : str or None
        ID of the resistance mechanism it reads out, if one.
    statements : list of PredictiveStatement
        Its predictive or prognostic statements, one per drug.
    provenance : Provenance
        Where the record's facts come from.
    """
    id: Slug
    name: str
    gene: HgncSymbol | None = None
    assay: str | None = None
    mechanism: Slug | None = None
    statements: list[PredictiveStatement] = Field(default_factory=list)
    provenance: Provenance

    @property
    def uid(self) -> str:
        return f"biomarker:{self.id}"


# --------------------------------------------------------------------------- trials


class Setting(StrEnum):
    """The clinical setting of a trial (neoadjuvant, adjuvant, metastatic line, ...)."""
    neoadjuvant = "neoadjuvant"
    adjuvant = "adjuvant"
    post_neoadjuvant = "post_neoadjuvant"
    extended_adjuvant = "extended_adjuvant"
    metastatic_first_line = "metastatic_first_line"
    metastatic_pretreated = "metastatic_pretreated"
    metastatic_any_line = "metastatic_any_line"
    advanced_solid_tumors = "advanced_solid_tumors"


class Endpoint(StrEnum):
    """A trial endpoint (PFS, OS, pCR, ORR, ...), with its kind (time to event or binary)."""
    PFS = "PFS"
    TTP = "TTP"
    OS = "OS"
    DFS = "DFS"
    iDFS = "iDFS"
    EFS = "EFS"
    RFI = "RFI"
    pCR = "pCR"
    ORR = "ORR"
    CBR = "CBR"
    PR = "PR"
    SD = "SD"
    AE = "AE"
    cardiac_safety = "cardiac_safety"
    safety = "safety"
    MTD = "MTD"

    @property
    def is_time_to_event(self) -> bool:
        """True for an endpoint measured as a time to an event (PFS, TTP, OS, DFS, iDFS, EFS,
        RFI): it is reported as medians and hazard ratios and simulated as survival times."""
        return self.value in TIME_TO_EVENT

    @property
    def is_binary(self) -> bool:
        """True for a response counted once per patient (pCR, ORR): reported as rates and odds
        ratios and simulated as a yes/no outcome."""
        return self.value in BINARY


#: The one endpoint vocabulary: the time-to-event endpoints and the binary responses the virtual
#: trials model (values of :class:`Endpoint`; other endpoints are recorded but not modeled).
TIME_TO_EVENT = frozenset({"PFS", "TTP", "OS", "DFS", "iDFS", "EFS", "RFI"})
BINARY = frozenset({"pCR", "ORR"})


class Phase(Record):
    """One phase of a schedule: ``drugs`` given together for ``cycles`` cycles of
    ``cycle_days`` days each (``cycles: null``: until progression, metastatic disease only).
    ``drugs: []`` is a treatment-free interval (ALTTO's washout)."""

    drugs: list[Slug]
    cycles: int | None = Field(default=None, ge=1)
    cycle_days: float = Field(default=21.0, gt=0, le=365)

    @property
    def days(self) -> float | None:
        return None if self.cycles is None else self.cycles * self.cycle_days


class Arm(Record):
    """A trial arm.

    Without a schedule the regimen is one phase of the setting's default length
    (:mod:`her2lab.virtual_trials.defaults`).

    Attributes
    ----------
    id : str
        Local ID within the trial (``thp``).
    label : str
        Display label (``Trastuzumab + docetaxel + pertuzumab``).
    regimen : list of str
        Every drug of the arm, as drug IDs.
    role : {"experimental", "control", "other"}
        The arm's role in the comparison (default ``"other"``).
    n : int or None
        Patients randomized (or treated) in the arm, >= 1, where reported.
    n_provenance : Provenance or None
        Where ``n`` comes from.
    schedule : list of Phase or None
        How the drugs were given, phase by phase (drugs, cycles, cycle length in days). It may
        name the cytotoxic backbone more precisely than the regimen (``fec`` then ``docetaxel``
        for the regimen's ``chemotherapy``), and what a ``physicians_choice`` mostly was.
    schedule_provenance : Provenance or None
        Where ``schedule`` comes from.
    """

    id: Slug
    label: str
    regimen: list[Slug]
    role: Literal["experimental", "control", "other"] = "other"
    n: int | None = Field(default=None, ge=1)
    n_provenance: Provenance | None = None
    schedule: list[Phase] | None = Field(default=None, min_length=1)
    schedule_provenance: Provenance | None = None

    @model_validator(mode="after")
    def _schedule_consistent(self) -> Arm:
        if self.schedule is None:
            return self
        if self.schedule_provenance is None:
            raise ValueError("a schedule needs its schedule_provenance")
        for ph in self.schedule[:-1]:
            if ph.cycles is None:
                raise ValueError("only the last phase of a schedule may run until progression "
                                 "(cycles: null)")
        return self


class Population(Record):
    """Who a trial enrolled.

    Attributes
    ----------
    prior_trastuzumab : bool or None
        Whether patients had received trastuzumab before (None: not stated or mixed).
    line : int or None
        Line of metastatic therapy (1 = first line), >= 1, where it applies.
    description : str
        The eligibility in words.
    require : list of str
        Mechanism or biomarker IDs every patient carries (a biomarker-enriched trial).
    """
    prior_trastuzumab: bool | None = None
    line: int | None = Field(default=None, ge=1)
    description: str
    require: list[Slug] = Field(default_factory=list)


class CI(Record):
    """A confidence interval.

    Attributes
    ----------
    low, high : float or None
        The bounds, on the scale of the estimate (a bound the source omits is None).
    level : float
        Its confidence level, in (0, 1) (default 0.95).
    """
    low: float | None = None
    high: float | None = None
    level: float = Field(default=0.95, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> CI:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise field_error((), "CI low <= CI high", f"low {self.low}, high {self.high}")
        return self


class PValue(Record):
    """A p-value as reported.

    Attributes
    ----------
    value : float
        The number, in [0, 1].
    relation : {"=", "<", ">"}
        How it was reported (``p < 0.001`` has relation ``"<"``; default ``"="``).
    sided : {1, 2} or None
        One- or two-sided where the source says (None: not stated, read as two-sided).
    """
    value: float = Field(ge=0, le=1)
    relation: Literal["=", "<", ">"] = "="
    sided: Literal[1, 2] | None = None


class Timepoint(Record):
    """A landmark time (``DFS at 3 years``).

    Attributes
    ----------
    value : float
        The time, > 0.
    unit : {"weeks", "months", "years"}
        Its unit.
    """
    value: float = Field(gt=0)
    unit: Literal["weeks", "months", "years"]


class Outcome(Record):
    """One reported figure of a trial.

    Attributes
    ----------
    id : str
        Local ID within the trial (``pfs_hr``); across the knowledge base ``trial/outcome``.
    endpoint : Endpoint
        What was measured.
    kind : str
        ``median`` (a median time for ``arm``); ``rate`` (a proportion in percent for ``arm``:
        pCR, ORR, DFS at ``timepoint``, AE); ``effect`` (a comparison of ``arms``, experimental
        first: ``measure`` HR, OR or difference in percentage points, with ``ci`` and ``p``);
        ``range`` (``low``-``high`` in percent, across studies or arms); ``difference_in_median``
        (a gain in median time); ``p_only`` (a bare p-value).
    arm : str or None
        The arm a median or rate belongs to.
    arms : list of str
        The arms an effect compares, experimental first, then reference.
    measure : {"HR", "OR", "difference"} or None
        The effect measure.
    value : float or None
        The figure, in ``unit``.
    low, high : float or None
        The bounds of a ``range``, in percent.
    qualifier : {"=", ">", "<", "~"}
        A bound the source gives (``>`` 90%); default ``"="``.
    not_reached : bool
        The median was not reached (then ``value`` is None).
    unit : {"months", "weeks", "percent", "ratio", "points"} or None
        The unit of ``value``.
    ci : CI or None
        Its confidence interval.
    p : PValue or None
        Its p-value.
    timepoint : Timepoint or None
        The landmark of a rate (``DFS at 3 years``).
    subgroup : str or None
        The mechanism or biomarker ID of the subgroup the figure is for (None: everyone).
    event : str or None
        The event counted, where the endpoint leaves it open (an adverse event's name).
    analysis : str or None
        ``primary``, ``interim``, ``final``, ``updated``, ``subgroup`` or ``secondary``.
    n : int or None
        Patients the figure is computed on, where it differs from the arm's.
    raw : str or None
        The source's wording, kept beside the normalised fields.
    published : datetime.date or None
        The date the figure became public, overriding the trial's.
    provenance : Provenance
        Where the figure comes from.
    """

    id: Slug
    endpoint: Endpoint
    kind: Literal["median", "rate", "effect", "range", "difference_in_median", "p_only"]
    arm: Slug | None = None
    arms: list[Slug] = Field(default_factory=list)
    measure: Literal["HR", "OR", "difference"] | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None
    qualifier: Literal["=", ">", "<", "~"] = "="
    not_reached: bool = False
    unit: Literal["months", "weeks", "percent", "ratio", "points"] | None = None
    ci: CI | None = None
    p: PValue | None = None
    timepoint: Timepoint | None = None
    subgroup: Slug | None = None
    event: str | None = None
    analysis: Literal["primary", "interim", "final", "updated", "subgroup", "secondary"] | None = (
        None
    )
    n: int | None = Field(default=None, ge=1)
    raw: str | None = None
    published: dt.date | None = None
    provenance: Provenance

    @model_validator(mode="after")
    def _coherent(self) -> Outcome:
        k = self.kind
        if k == "median":
            if self.arm is None:
                raise field_error("arm", "the arm a median belongs to", "nothing")
            if self.unit not in ("months", "weeks"):
                raise field_error("unit", "months or weeks (the unit of a median)",
                                  repr(self.unit))
            if self.value is None and not self.not_reached:
                raise field_error("value", "a median (or not_reached: true)", "nothing")
        if k == "rate":
            if self.unit != "percent":
                raise field_error("unit", "percent (the unit of a rate)", repr(self.unit))
            if self.value is None:
                raise field_error("value", "a rate in percent", "nothing")
        if k in ("rate", "range") and self.unit == "percent":
            for name in ("value", "low", "high"):
                v = getattr(self, name)
                if v is not None and not 0 <= v <= 100:
                    raise field_error(name, "a percentage in 0-100", str(v))
        if k == "range" and (self.low is None or self.high is None or self.low > self.high):
            raise field_error("low" if self.low is None else "high",
                              "a range with both 'low' and 'high', low <= high",
                              f"low {self.low}, high {self.high}")
        if k == "effect":
            if self.measure is None:
                raise field_error("measure", "the measure of an effect: HR, OR or difference",
                                  "nothing")
            if len(self.arms) != 2:
                raise field_error("arms", "the two arms an effect compares: "
                                  "[experimental, reference]", repr(self.arms))
            if self.value is None:
                raise field_error("value", "the estimate of the effect", "nothing")
            if self.measure in ("HR", "OR") and self.value <= 0:
                raise field_error("value", f"a {self.measure} above 0 (a ratio)", str(self.value))
            if self.ci is not None:
                lo, hi = self.ci.low, self.ci.high
                if self.measure in ("HR", "OR") and lo is not None and lo <= 0:
                    raise field_error(("ci", "low"), f"a {self.measure} CI above 0 (a ratio)",
                                      f"low {lo}")
                if (lo is not None and self.value < lo) or (hi is not None and self.value > hi):
                    raise field_error("ci", f"a CI that contains its estimate {self.value}",
                                      f"[{lo}, {hi}]")
        if k == "p_only" and self.p is None:
            raise field_error("p", "the p-value of a p_only outcome", "nothing")
        if self.value is not None and not math.isfinite(self.value):
            raise field_error("value", "a finite number", str(self.value))
        return self


#: The arm size assumed where neither an arm nor its trial records one, for a standard error
#: that needs some size (see :meth:`Trial.arm_size`).
ASSUMED_ARM_SIZE = 100


def outcome_key(trial: Trial | str, outcome: Outcome | str) -> str:
    """The key ``trial/outcome`` that names an outcome across the knowledge base.

    A conflict's ``preferred`` and ``values[].outcome``, targets' and evidence's sources use it.

    Parameters
    ----------
    trial : Trial or str
        The trial, or its local ID.
    outcome : Outcome or str
        The outcome, or its local ID.

    Returns
    -------
    str
        ``f"{trial.id}/{outcome.id}"``, e.g. ``"cleopatra/pfs_hr"``.
    """
    tid = trial if isinstance(trial, str) else trial.id
    oid = outcome if isinstance(outcome, str) else outcome.id
    return f"{tid}/{oid}"


class Trial(Record):
    """A clinical trial: its design, population, arms and reported outcomes.

    Attributes
    ----------
    id : str
        Local ID (``cleopatra``); the full ID is ``trial:<id>`` (look-ups also take the NCT).
    name : str
        Display name (``CLEOPATRA``).
    aliases : list of str
        Other names that look-ups accept.
    nct : str or None
        ClinicalTrials.gov number (``NCT00567190``).
    phase : {"I", "Ib", "I/II", "II", "III"}
        Trial phase.
    randomized : bool
        Whether the arms were randomized.
    status : {"reported", "ongoing"}
        ``ongoing`` for a trial known but without results (default ``"reported"``).
    setting : Setting
        The clinical setting, normalised.
    setting_raw : str or None
        The source's wording of the setting.
    population : Population
        Who was enrolled.
    primary_endpoint : Endpoint or None
        The primary endpoint.
    design : str
        The design in words (blinding, comparator).
    n : int or None
        Patients enrolled, >= 1.
    n_provenance : Provenance or None
        Where ``n`` comes from.
    in_table1 : bool
        Whether the trial is a row of the seed's Table 1.
    drugs_tested : list of str
        IDs of the drugs the trial was designed to test.
    arms : list of Arm
        Its arms.
    outcomes : list of Outcome
        Its reported figures.
    published : datetime.date or None
        The date its results became public (see ``published_source``).
    published_source : str or None
        Where that date comes from (journal online date, congress).
    hr_positive_share : float or None
        Share of hormone-receptor-positive patients, in [0, 1], where stated or fixed by the
        eligibility.
    hr_positive_source : str or None
        Where ``hr_positive_share`` comes from.
    provenance : Provenance
        Where the record's facts come from.
    """

    id: Slug
    name: str
    aliases: list[str] = Field(default_factory=list)
    nct: str | None = Field(default=None, pattern=r"^NCT\d{8}$")
    phase: Literal["I", "Ib", "I/II", "II", "III"]
    randomized: bool
    status: Literal["reported", "ongoing"] = "reported"
    setting: Setting
    setting_raw: str | None = None
    population: Population
    primary_endpoint: Endpoint | None = None
    design: str
    n: int | None = Field(default=None, ge=1)
    n_provenance: Provenance | None = None
    in_table1: bool = False
    drugs_tested: list[Slug] = Field(default_factory=list)
    arms: list[Arm] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)
    published: dt.date | None = None
    published_source: str | None = None
    hr_positive_share: float | None = Field(default=None, ge=0, le=1)
    hr_positive_source: str | None = None
    provenance: Provenance

    @property
    def uid(self) -> str:
        return f"trial:{self.id}"

    def arm(self, arm_id: str) -> Arm:
        """The arm with a given local ID.

        Parameters
        ----------
        arm_id : str
            The arm's local ID (``thp``).

        Returns
        -------
        Arm
            The arm.

        Raises
        ------
        UnknownIdError
            When the trial has no such arm (the message lists its arms).
        """
        from her2lab.errors import UnknownIdError

        for a in self.arms:
            if a.id == arm_id:
                return a
        raise UnknownIdError(f"arm of trial {self.id}", arm_id, [a.id for a in self.arms])

    def arm_size(self, arm: str | Arm, default: int | None = None) -> int | None:
        """The number of patients in an arm: the one fallback for an arm without ``n``.

        Parameters
        ----------
        arm : str or Arm
            The arm, or its local ID.
        default : int, optional
            What to return when neither the arm nor the trial records a size (None;
            :data:`ASSUMED_ARM_SIZE` where a standard error needs some size).

        Returns
        -------
        int or None
            The arm's own ``n``; else the trial's ``n`` shared equally among its arms (at least 1);
            else ``default``.
        """
        a = self.arm(arm) if isinstance(arm, str) else arm
        if a.n:
            return a.n
        if self.n:
            return max(self.n // max(len(self.arms), 1), 1)
        return default

    @model_validator(mode="after")
    def _dated_and_sourced(self) -> Trial:
        """``published`` (the day the trial's primary result became public: the journal's
        online date or the congress at which it was first presented, ``published_source``
        saying which) dates every outcome that has no ``published`` of its own; a trial
        without seed references must carry it, so that no result is dated by default."""
        if self.published is not None and not self.published_source:
            raise field_error("published_source", "where the publication date comes from "
                              "(journal online date, congress)", "nothing")
        if self.hr_positive_share is not None and not self.hr_positive_source:
            raise field_error("hr_positive_source", "the publication and table giving the "
                              "hormone-receptor-positive share", "nothing")
        if self.published is None and not self.provenance.refs:
            for i, o in enumerate(self.outcomes):
                if o.published is None and not o.provenance.refs:
                    raise field_error(("outcomes", i, "published"),
                                      "a publication date (on the outcome or the trial's "
                                      "'published') or seed references that date it",
                                      "nothing")
        return self

    @model_validator(mode="after")
    def _arms_and_outcomes(self) -> Trial:
        arm_ids = [a.id for a in self.arms]
        for kind, ids in (("arms", arm_ids), ("outcomes", [o.id for o in self.outcomes])):
            for i, rid in enumerate(ids):
                if rid in ids[:i]:
                    raise field_error((kind, i, "id"), f"each {kind[:-1]} id once in a trial",
                                      f"'{rid}' again")
        known = ", ".join(arm_ids) or "none defined"
        for i, o in enumerate(self.outcomes):
            if o.arm is not None and o.arm not in arm_ids:
                raise field_error(("outcomes", i, "arm"), f"an arm id of this trial ({known})",
                                  f"'{o.arm}'")
            for j, a in enumerate(o.arms):
                if a not in arm_ids:
                    raise field_error(("outcomes", i, "arms", j),
                                      f"an arm id of this trial ({known})", f"'{a}'")
        return self


# --------------------------------------------------------------------------- conflicts


class ConflictValue(Record):
    """One of the values a conflict records.

    Attributes
    ----------
    value : str
        The value as the source gives it (``"53.5%"``).
    outcome : str or None
        The outcome holding it, as a ``trial/outcome`` key, when it is one.
    provenance : Provenance
        Where the value comes from.
    """
    value: str
    outcome: str | None = None
    provenance: Provenance


class Conflict(Record):
    """Two sources (or a figure and its own arithmetic) that disagree. Both values are kept.

    Attributes
    ----------
    id : str
        Local ID; the full ID is ``conflict:<id>``.
    kind : str
        ``table_vs_text``, ``arithmetic``, ``citation``, ``units``, ``name`` or ``statistics``.
    subject : str
        The record it concerns, by full ID (``trial:nsabp_b41``).
    field : str
        What disagrees, in words (``pCR, paclitaxel + trastuzumab arm``).
    values : list of ConflictValue
        The disagreeing values (at least two).
    resolution : str or None
        Which value downstream code should use and why; None where nobody can decide.
    preferred : str or None
        The outcome (``trial/outcome``) among the values that downstream code such as
        calibration uses; without it, nothing is picked.
    note : str
        The disagreement described.
    """

    id: Slug
    kind: Literal["table_vs_text", "arithmetic", "citation", "units", "name", "statistics"]
    subject: str = Field(pattern=r"^(trial|drug|mech|biomarker|ref):[A-Za-z0-9_]+$")
    field: str
    values: list[ConflictValue] = Field(min_length=2)
    resolution: str | None = None
    preferred: str | None = None
    note: str

    @model_validator(mode="after")
    def _preferred_is_a_value(self) -> Conflict:
        if self.preferred is not None:
            outs = [v.outcome for v in self.values if v.outcome]
            if self.preferred not in outs:
                raise field_error("preferred", "the outcome of one of the values ("
                                  + (", ".join(outs) or "none given") + ")",
                                  repr(self.preferred))
            if not self.resolution:
                raise field_error("resolution", "a resolution saying why a value is preferred",
                                  "nothing")
        return self

    @property
    def uid(self) -> str:
        return f"conflict:{self.id}"


@dataclass(frozen=True)
class OutcomeRef:
    """An outcome with the trial it belongs to, as :meth:`KnowledgeBase.outcomes` returns it.

    Attributes
    ----------
    trial : Trial
        The trial.
    outcome : Outcome
        One of its outcomes.
    """

    trial: Trial
    outcome: Outcome

    @property
    def key(self) -> str:
        """``trial/outcome`` (:func:`outcome_key`)."""
        return outcome_key(self.trial, self.outcome)


class _Any:
    """The default of a filter that matches every value (``subgroup=ANY``: any subgroup or
    none); ``subgroup=None`` asks for the overall population only."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


def _values(x: object) -> set[str] | None:
    if x is None:
        return None
    if isinstance(x, str):
        return {str(x)}
    return {str(v) for v in x}  # type: ignore[attr-defined]


def _norm(name: str) -> str:
    """Case- and punctuation-insensitive key for alias lookup (``T-DM1`` == ``tdm1``)."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


class KnowledgeBase(Record):
    """The whole curated knowledge base, typed.

    Look-ups accept the full ID (``drug:trastuzumab``), the local ID, the name or any alias,
    case- and punctuation-insensitively, and raise :class:`~her2lab.errors.UnknownIdError`
    listing the valid IDs otherwise. Build one with :func:`~her2lab.knowledge.load` or
    :func:`~her2lab.knowledge.load_directory`, which validate the cross-references.

    Attributes
    ----------
    drugs : list of Drug
        Every drug and named combination.
    targets : list of Target
        Every gene drugs or mechanisms act on.
    mechanisms : list of Mechanism
        The routes of escape from trastuzumab.
    biomarkers : list of Biomarker
        The biomarkers and their predictive statements.
    trials : list of Trial
        Every trial, with its arms and outcomes.
    references : list of Reference
        The seed's reference list.
    conflicts : list of Conflict
        Every recorded disagreement between sources.
    cited_on : datetime.date
        The seed's publication date (default 2014-08-12), the date the seed's trials were known
        by and the cap on its references' dates.
    """

    drugs: list[Drug]
    targets: list[Target]
    mechanisms: list[Mechanism]
    biomarkers: list[Biomarker]
    trials: list[Trial]
    references: list[Reference]
    conflicts: list[Conflict] = Field(default_factory=list)
    cited_on: dt.date = dt.date(2014, 8, 12)
    _indexes: dict[str, dict[str, object]] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Equal when the curated content is equal (look-up caches do not count)."""
        if not isinstance(other, KnowledgeBase):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    def _index(self, kind: str) -> dict[str, object]:
        cache = self._indexes
        if kind not in cache:
            idx: dict[str, object] = {}
            if kind == "drug":
                for d in self.drugs:
                    for key in [d.id, d.uid, d.name, *d.aliases]:
                        idx[_norm(key)] = d
            elif kind == "mechanism":
                for m in self.mechanisms:
                    for key in [m.id, m.uid, m.name]:
                        idx[_norm(key)] = m
            elif kind == "trial":
                for t in self.trials:
                    keys = [t.id, t.uid, t.name, *t.aliases]
                    if t.nct:
                        keys += [t.nct, f"trial:{t.nct}"]
                    for key in keys:
                        idx[_norm(key)] = t
            elif kind == "target":
                for g in self.targets:
                    for key in [g.symbol, g.uid, *g.aliases]:
                        idx[_norm(key)] = g
            elif kind == "biomarker":
                for b in self.biomarkers:
                    for key in [b.id, b.uid, b.name]:
                        idx[_norm(key)] = b
            elif kind == "reference":
                for r in self.references:
                    for key in [str(r.number), r.id]:
                        idx[_norm(key)] = r
            cache[kind] = idx
        return cache[kind]

    def _get(self, kind: str, name: str, valid: list[str]):
        from her2lab.errors import UnknownIdError

        found = self._index(kind).get(_norm(str(name)))
        if found is None:
            raise UnknownIdError(kind, str(name), valid)
        return found

    def drug(self, name: str) -> Drug:
        """The drug with a given ID, name or alias.

        Parameters
        ----------
        name : str
            ``drug:trastuzumab``, ``trastuzumab``, ``Herceptin``, ``T-DM1``, ... (case and
            punctuation ignored).

        Returns
        -------
        Drug
            The drug.

        Raises
        ------
        UnknownIdError
            If no drug matches (the message lists the valid IDs).
        """
        return self._get("drug", name, [d.id for d in self.drugs])

    def mechanism(self, name: str) -> Mechanism:
        """The resistance mechanism with a given ID, name or alias.

        Parameters
        ----------
        name : str
            ``mech:pten_loss``, ``pten_loss``, or its name (case and punctuation ignored).

        Returns
        -------
        Mechanism
            The mechanism.

        Raises
        ------
        UnknownIdError
            If no mechanism matches (the message lists the valid IDs).
        """
        return self._get("mechanism", name, [m.id for m in self.mechanisms])

    def trial(self, name: str) -> Trial:
        """The trial with a given ID, NCT number, name or alias.

        Parameters
        ----------
        name : str
            ``trial:NCT00567190``, ``cleopatra``, ``CLEOPATRA``, ... (case and punctuation ignored).

        Returns
        -------
        Trial
            The trial.

        Raises
        ------
        UnknownIdError
            If no trial matches (the message lists the valid IDs).
        """
        return self._get("trial", name, [t.id for t in self.trials])

    def target(self, name: str) -> Target:
        """The target with a given HGNC symbol, name or alias.

        Parameters
        ----------
        name : str
            ``target:ERBB2``, ``ERBB2``, ``HER2``, ... (case and punctuation ignored).

        Returns
        -------
        Target
            The target.

        Raises
        ------
        UnknownIdError
            If no target matches (the message lists the valid IDs).
        """
        return self._get("target", name, [g.symbol for g in self.targets])

    def biomarker(self, name: str) -> Biomarker:
        """The biomarker with a given ID, name or alias.

        Parameters
        ----------
        name : str
            ``biomarker:pten_low``, ``pten_low``, or its name (case and punctuation ignored).

        Returns
        -------
        Biomarker
            The biomarker.

        Raises
        ------
        UnknownIdError
            If no biomarker matches (the message lists the valid IDs).
        """
        return self._get("biomarker", name, [b.id for b in self.biomarkers])

    def reference(self, number: int | str) -> Reference:
        """The seed's reference with a given number.

        Parameters
        ----------
        number : int or str
            Its number in the seed's reference list (``59``), or ``ref:59``.

        Returns
        -------
        Reference
            The reference.

        Raises
        ------
        UnknownIdError
            If the seed has no such reference.
        """
        return self._get("reference", str(number), [r.id for r in self.references])

    def published(self, trial: Trial, outcome: Outcome) -> dt.date:
        """The date by which an outcome was public.

        Its own ``published``, else its trial's, else the latest possible date of the latest
        reference it cites (conservative for ``as_of`` filters).

        Parameters
        ----------
        trial : Trial
            The trial the outcome belongs to.
        outcome : Outcome
            The outcome.

        Returns
        -------
        datetime.date
            The date.
        """
        if outcome.published is not None:
            return outcome.published
        if trial.published is not None:
            return trial.published
        refs = outcome.provenance.refs or trial.provenance.refs
        if not refs:
            return self.cited_on
        return max(self.reference(r).latest_date(self.cited_on) for r in refs)

    def known_on(self, trial: Trial) -> dt.date:
        """The date by which a trial was known.

        Parameters
        ----------
        trial : Trial
            The trial.

        Returns
        -------
        datetime.date
            The seed's date (``cited_on``) for the seed's trials, else the trial's ``published`` (or
            its earliest result).
        """
        if trial.provenance.source == "seed":
            return self.cited_on
        dates = [self.published(trial, o) for o in trial.outcomes]
        if trial.published is not None:
            dates.append(trial.published)
        return min(dates) if dates else self.cited_on

    def as_of(self, when: dt.date | None) -> KnowledgeBase:
        """The knowledge base as it stood on a date.

        Only results published on or before it are kept; a trial known by then whose results came
        later is ``ongoing`` with none; a trial not yet known is left out, and so are conflicts and
        biomarker statements about results left out.

        Parameters
        ----------
        when : datetime.date or None
            The date; None returns the whole knowledge base.

        Returns
        -------
        KnowledgeBase
            The knowledge base as of ``when``.
        """
        if when is None:
            return self
        trials: list[Trial] = []
        kept: set[str] = set()
        for t in self.trials:
            outs = [o for o in t.outcomes if self.published(t, o) <= when]
            if not outs and self.known_on(t) > when:
                continue
            kept |= {outcome_key(t, o) for o in outs}
            if len(outs) == len(t.outcomes):
                trials.append(t)
            else:
                trials.append(t.model_copy(update={
                    "outcomes": outs, "status": t.status if outs else "ongoing"}))
        ids = {t.id for t in trials}

        def outcome_kept(ref: str) -> bool:
            return ref in kept

        conflicts = []
        for c in self.conflicts:
            outs = [v.outcome for v in c.values if v.outcome]
            subject = c.subject.split(":", 1)
            if outs and not all(outcome_kept(x) for x in outs):
                continue
            if subject[0] == "trial" and not outs and subject[1] not in ids:
                continue
            conflicts.append(c)
        biomarkers = []
        for b in self.biomarkers:
            stmts = [s.model_copy(update={"outcomes": [x for x in s.outcomes
                                                       if outcome_kept(x)]})
                     if s.outcomes else s for s in b.statements]
            stmts = [s for s, orig in zip(stmts, b.statements, strict=True)
                     if s.outcomes or not orig.outcomes]
            biomarkers.append(b.model_copy(update={"statements": stmts}))
        view = self.model_copy(update={"trials": trials, "conflicts": conflicts,
                                       "biomarkers": biomarkers})
        view._indexes = {}  # model_copy shares the look-up caches, which point at the originals
        return view


    def superseded(self) -> dict[str, str]:
        """The outcomes superseded by a recorded conflict: each value of a conflict with a
        ``preferred`` outcome other than that one, by key (:func:`outcome_key`) -> the
        conflict's ID. A conflict without ``preferred`` supersedes nothing (both are kept).

        Returns
        -------
        dict of str to str
            Outcome key -> conflict ID (computed once per knowledge base).
        """
        cache = self._indexes
        if "superseded" not in cache:
            cache["superseded"] = {
                v.outcome: c.id for c in self.conflicts if c.preferred for v in c.values
                if v.outcome and v.outcome != c.preferred}
        return cache["superseded"]  # type: ignore[return-value]

    def outcomes(
        self, *, endpoint: str | Iterable[str] | None = None,
        kind: str | Iterable[str] | None = None, arm: str | None = None,
        trial: str | Trial | None = None, as_of: dt.date | None = None,
        subgroup: str | _Any | None = ANY, superseded: bool = False,
    ) -> list[OutcomeRef]:
        """The outcomes matching every filter given, in the order of the knowledge base.

        Parameters
        ----------
        endpoint
            An endpoint (``"pCR"``, :class:`Endpoint`) or several; None: any.
        kind
            An outcome kind (``"effect"``, ``"rate"``, ``"median"``, ...) or several.
        arm
            The arm a median or rate belongs to, or that an effect compares (either side).
        trial
            One trial (ID, name, alias or the record).
        as_of
            Only outcomes public on or before this date (:meth:`published`).
        subgroup
            A subgroup's ID; None: the overall population only; :data:`ANY` (the default):
            any subgroup or none.
        superseded
            False (the default) leaves out the outcomes a recorded conflict supersedes
            (:meth:`superseded`); True keeps them.

        Returns
        -------
        list of OutcomeRef
            One reference per outcome, with ``.trial``, ``.outcome`` and ``.key``.
        """
        endpoints, kinds = _values(endpoint), _values(kind)
        trials = (self.trials if trial is None
                  else [trial if isinstance(trial, Trial) else self.trial(trial)])
        skip = {} if superseded else self.superseded()
        out = []
        for t in trials:
            for o in t.outcomes:
                if ((endpoints is not None and o.endpoint.value not in endpoints)
                        or (kinds is not None and o.kind not in kinds)
                        or (arm is not None and o.arm != arm and arm not in o.arms)
                        or (subgroup is not ANY and o.subgroup != subgroup)
                        or outcome_key(t, o) in skip
                        or (as_of is not None and self.published(t, o) > as_of)):
                    continue
                out.append(OutcomeRef(t, o))
        return out
