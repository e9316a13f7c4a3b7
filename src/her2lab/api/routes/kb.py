"""``/api/kb``: the curated knowledge base, read-only, with the CLI's filters.

Records are the library's own pydantic models (:mod:`her2lab.knowledge.schema`), so the OpenAPI
schema is the knowledge base's schema. ``as_of`` (a date) keeps only the outcomes public on or
before it (:meth:`KnowledgeBase.published`) and the trials that have one.
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from her2lab.knowledge import (
    Biomarker,
    Conflict,
    Drug,
    KnowledgeBase,
    Mechanism,
    Reference,
    Target,
    Trial,
    load,
)
from her2lab.knowledge.audit import Finding

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])

DrugQ = Annotated[str | None, Query(max_length=100, description="Drug ID, name or alias.")]
SettingQ = Annotated[str | None, Query(
    max_length=100, description="A setting (neoadjuvant, metastatic_first_line, ...) or a prefix "
    "naming several (metastatic).")]
MechanismQ = Annotated[str | None, Query(max_length=100, description="Mechanism ID or name.")]
AsOfQ = Annotated[dt.date | None, Query(
    description="Only outcomes public on or before this date (YYYY-MM-DD), and the trials that "
    "have one.")]


class Summary(BaseModel):
    drugs: int
    targets: int
    mechanisms: int
    biomarkers: int
    trials: int
    arms: int
    outcomes: int
    references: int
    conflicts: int
    cited_on: dt.date


class TrialSummary(BaseModel):
    """One row of the trials table."""

    id: str
    name: str
    nct: str | None
    phase: str
    randomized: bool
    status: str
    setting: str
    primary_endpoint: str | None
    n: int | None
    in_table1: bool
    drugs: list[str] = Field(description="Every drug of every arm, and the drugs tested.")
    arms: int
    outcomes: int
    first_published: dt.date | None = Field(
        description="The earliest date by which one of its outcomes was public.")


class DrugDetail(BaseModel):
    drug: Drug
    targets: list[Target]
    counteracts: list[str] = Field(description="Mechanisms this drug counteracts.")
    trials: list[TrialSummary]


class MechanismDetail(BaseModel):
    mechanism: Mechanism
    biomarkers: list[Biomarker]
    trials: list[TrialSummary]


class TrialDetail(BaseModel):
    """A trial with what the trial page shows beside it."""

    trial: Trial
    published: dict[str, dt.date] = Field(description="Outcome ID -> date it was public by.")
    references: list[Reference]
    conflicts: list[Conflict]
    audit: list[Finding]


class GraphNode(BaseModel):
    id: str
    kind: Literal["drug", "target", "mechanism", "trial"]
    label: str
    group: str = Field(description="Drug class, mechanism category, trial setting, target role.")


class GraphEdge(BaseModel):
    source: str
    target: str
    kind: Literal["targets", "involves", "counteracts", "tested_in"]


class Graph(BaseModel):
    """The landscape (Figure 1 of the seed): drugs, their targets, the resistance mechanisms
    and the trials that tested each drug."""

    nodes: list[GraphNode]
    edges: list[GraphEdge]


class OutcomeRows(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]


def kb() -> KnowledgeBase:
    return load()


@cache
def _audit() -> tuple[Finding, ...]:
    from her2lab.knowledge.audit import run_audit

    return tuple(run_audit(kb()))


def _dates(t: Trial) -> list[dt.date]:
    k = kb()
    return [k.published(t, r.outcome) for r in k.outcomes(trial=t, superseded=True)]


def _as_of(trials: list[Trial], as_of: dt.date | None) -> list[Trial]:
    if as_of is None:
        return trials
    k = kb()
    out = []
    for t in trials:
        kept = [r.outcome for r in k.outcomes(trial=t, as_of=as_of, superseded=True)]
        if kept:
            out.append(t.model_copy(update={"outcomes": kept}))
    return out


def _drugs_of(t: Trial) -> list[str]:
    seen: dict[str, None] = {}
    for a in t.arms:
        for d in a.regimen:
            seen[d] = None
    for d in t.drugs_tested:
        seen[d] = None
    return list(seen)


def _summary(t: Trial) -> TrialSummary:
    dates = _dates(t)
    return TrialSummary(
        id=t.id, name=t.name, nct=t.nct, phase=t.phase, randomized=t.randomized,
        status=t.status, setting=t.setting.value,
        primary_endpoint=t.primary_endpoint.value if t.primary_endpoint else None, n=t.n,
        in_table1=t.in_table1, drugs=_drugs_of(t), arms=len(t.arms), outcomes=len(t.outcomes),
        first_published=min(dates) if dates else None,
    )


def filtered_trials(drug: str | None = None, setting: str | None = None,
                    mechanism: str | None = None, as_of: dt.date | None = None) -> list[Trial]:
    return list(_filtered(drug, setting, mechanism, as_of))


@lru_cache(maxsize=512)
def _filtered(drug: str | None, setting: str | None, mechanism: str | None,
              as_of: dt.date | None) -> tuple[Trial, ...]:
    """The library's answer, kept: the knowledge base does not change while the server runs
    (unknown names raise, and errors are not cached)."""
    from her2lab.knowledge import query

    return tuple(_as_of(query.trials(drug=drug, setting=setting, mechanism=mechanism), as_of))


@lru_cache(maxsize=512)
def _summaries(drug: str | None, setting: str | None, mechanism: str | None,
               as_of: dt.date | None) -> tuple[TrialSummary, ...]:
    return tuple(_summary(t) for t in _filtered(drug, setting, mechanism, as_of))


def _keys(record: Any) -> set[str]:
    """The names a record answers to: its IDs, name, symbol, NCT number, number and aliases."""
    keys = {str(v) for a in ("id", "uid", "name", "symbol", "nct", "number")
            if (v := getattr(record, a, None)) is not None}
    keys |= {str(a) for a in getattr(record, "aliases", None) or ()}
    if getattr(record, "nct", None):
        keys.add(f"trial:{record.nct}")
    return {k.strip().casefold() for k in keys}


def exact(kind: str, name: str) -> Any:
    """The record of ``kind`` whose ID, name or alias is ``name`` (case-insensitive, nothing
    else ignored: ``-1`` is not reference 1). The library's look-up also ignores punctuation,
    which suits a command line; an address names one record exactly."""
    from her2lab.errors import UnknownIdError

    k = kb()
    record = getattr(k, kind)(name)
    if name.strip().casefold() not in _keys(record):
        raise UnknownIdError(kind, name, [str(getattr(r, "symbol", None) or r.id)
                                          for r in _records(k, kind)])
    return record


def _records(k: KnowledgeBase, kind: str) -> list[Any]:
    return list(getattr(k, {"reference": "references", "drug": "drugs", "trial": "trials",
                            "target": "targets", "mechanism": "mechanisms",
                            "biomarker": "biomarkers"}[kind]))


@router.get("/summary", response_model=Summary)
def summary() -> Summary:
    """Counts of every kind of record, and the date of the seed review."""
    k = kb()
    return Summary(
        drugs=len(k.drugs), targets=len(k.targets), mechanisms=len(k.mechanisms),
        biomarkers=len(k.biomarkers), trials=len(k.trials),
        arms=sum(len(t.arms) for t in k.trials), outcomes=sum(len(t.outcomes) for t in k.trials),
        references=len(k.references), conflicts=len(k.conflicts), cited_on=k.cited_on,
    )


@router.get("/drugs", response_model=list[Drug])
def drugs() -> list[Drug]:
    return kb().drugs


@router.get("/drugs/{name}", response_model=DrugDetail)
def drug(name: str) -> DrugDetail:
    """One drug by ID, name or alias (``Herceptin``, ``T-DM1``), with its targets, the
    mechanisms it counteracts and the trials that use it."""
    k = kb()
    d = exact("drug", name)
    targets = [g for g in k.targets if g.symbol in d.targets]
    return DrugDetail(drug=d, targets=targets,
                      counteracts=[m.id for m in k.mechanisms if d.id in m.counteracted_by],
                      trials=[_summary(t) for t in filtered_trials(drug=d.id)])


@router.get("/targets", response_model=list[Target])
def targets() -> list[Target]:
    return kb().targets


@router.get("/targets/{symbol}", response_model=Target)
def target(symbol: str) -> Target:
    return exact("target", symbol)


@router.get("/mechanisms", response_model=list[Mechanism])
def mechanisms() -> list[Mechanism]:
    return kb().mechanisms


@router.get("/mechanisms/{name}", response_model=MechanismDetail)
def mechanism(name: str) -> MechanismDetail:
    k = kb()
    m = exact("mechanism", name)
    return MechanismDetail(mechanism=m, biomarkers=[b for b in k.biomarkers if b.mechanism == m.id],
                           trials=[_summary(t) for t in filtered_trials(mechanism=m.id)])


@router.get("/biomarkers", response_model=list[Biomarker])
def biomarkers() -> list[Biomarker]:
    return kb().biomarkers


@router.get("/biomarkers/{name}", response_model=Biomarker)
def biomarker(name: str) -> Biomarker:
    return exact("biomarker", name)


@router.get("/references", response_model=list[Reference])
def references() -> list[Reference]:
    return kb().references


@router.get("/references/{number}", response_model=Reference)
def reference(number: str) -> Reference:
    return exact("reference", number)


@router.get("/conflicts", response_model=list[Conflict])
def conflicts() -> list[Conflict]:
    """Recorded disagreements between sources; both values are kept."""
    return kb().conflicts


@router.get("/audit", response_model=list[Finding])
def audit(trial: Annotated[str | None, Query(max_length=100)] = None) -> list[Finding]:
    """The statistical consistency audit of every reported result (or of one trial's)."""
    found = list(_audit())
    if trial is not None:
        tid = kb().trial(trial).id
        found = [f for f in found if f.trial == tid]
    return found


@router.get("/trials", response_model=list[TrialSummary])
def trials(drug: DrugQ = None, setting: SettingQ = None, mechanism: MechanismQ = None,
           as_of: AsOfQ = None) -> list[TrialSummary]:
    """Trials matching every filter given (as ``her2lab kb trials``), one row each."""
    return list(_summaries(drug, setting, mechanism, as_of))


@router.get("/trials/{name}", response_model=Trial)
def trial(name: str, as_of: AsOfQ = None) -> Trial:
    """One trial by ID, name, alias or NCT number, with its arms, outcomes and provenance."""
    t = exact("trial", name)
    kept = _as_of([t], as_of)
    if not kept:
        from her2lab.api.errors import ApiError, problem

        raise ApiError(404, f"trial {t.id} has no outcome public on or before {as_of}",
                       [problem("as_of", f"a date on or after {min(_dates(t), default='-')}",
                                str(as_of))], error="NotYetPublished")
    return kept[0]


@router.get("/trials/{name}/detail", response_model=TrialDetail)
def trial_detail(name: str) -> TrialDetail:
    """A trial with its references, the conflicts recorded about it and its audit findings."""
    k = kb()
    t = exact("trial", name)
    outs = k.outcomes(trial=t, superseded=True)
    refs = sorted({n for r in outs for n in r.outcome.provenance.refs}
                  | set(t.provenance.refs))
    outcome_keys = {r.key for r in outs}
    conf = [c for c in k.conflicts
            if c.subject == t.uid or any(v.outcome in outcome_keys for v in c.values)]
    return TrialDetail(
        trial=t, published={r.outcome.id: k.published(t, r.outcome) for r in outs},
        references=[k.reference(r) for r in refs], conflicts=conf,
        audit=[f for f in _audit() if f.trial == t.id],
    )


@router.get("/outcomes", response_model=OutcomeRows)
def outcomes() -> OutcomeRows:
    """One row per outcome with its trial's columns and its provenance (the CSV export)."""
    from her2lab.knowledge import query

    res = query.outcome_table()
    return OutcomeRows(columns=res.columns, rows=res.records())


@router.get("/graph", response_model=Graph)
def graph(drug: DrugQ = None, setting: SettingQ = None, mechanism: MechanismQ = None,
          as_of: AsOfQ = None) -> Graph:
    """The landscape graph. With filters, the trials are those matching them; the drugs those
    used by those trials (or the drug filtered on), with their targets and mechanisms."""
    k = kb()
    filtering = any(v is not None for v in (drug, setting, mechanism, as_of))
    chosen = filtered_trials(drug, setting, mechanism, as_of)
    trial_drugs = {t.id: _drugs_of(t) for t in chosen}
    drug_ids = {d.id for d in k.drugs}
    if filtering:
        keep = {d for ds in trial_drugs.values() for d in ds}
        if drug is not None:
            keep.add(k.drug(drug).id)
        if mechanism is not None:
            keep |= set(k.mechanism(mechanism).counteracted_by)
        drug_ids &= keep
    drugs_ = [d for d in k.drugs if d.id in drug_ids]
    mech = [m for m in k.mechanisms
            if not filtering or mechanism is None or m.id == k.mechanism(mechanism).id
            or drug_ids & set(m.counteracted_by)]
    symbols = {s for d in drugs_ for s in d.targets} | {s for m in mech for s in m.targets}
    nodes = [GraphNode(id=d.uid, kind="drug", label=d.name, group=d.drug_class.value)
             for d in drugs_]
    nodes += [GraphNode(id=g.uid, kind="target", label=g.symbol, group=g.role)
              for g in k.targets if g.symbol in symbols]
    have = {n.id for n in nodes}
    nodes += [GraphNode(id=f"target:{s}", kind="target", label=s, group="")
              for s in sorted(symbols) if f"target:{s}" not in have]
    nodes += [GraphNode(id=m.uid, kind="mechanism", label=m.name, group=m.category)
              for m in mech]
    nodes += [GraphNode(id=t.uid, kind="trial", label=t.name, group=t.setting.value)
              for t in chosen]
    edges = [GraphEdge(source=d.uid, target=f"target:{s}", kind="targets")
             for d in drugs_ for s in d.targets]
    edges += [GraphEdge(source=m.uid, target=f"target:{s}", kind="involves")
              for m in mech for s in m.targets]
    edges += [GraphEdge(source=f"drug:{d}", target=m.uid, kind="counteracts")
              for m in mech for d in m.counteracted_by if d in drug_ids]
    edges += [GraphEdge(source=f"drug:{d}", target=f"trial:{tid}", kind="tested_in")
              for tid, ds in trial_drugs.items() for d in ds if d in drug_ids]
    return Graph(nodes=nodes, edges=edges)
