"""The knowledge base's questions, pooled across trials (``her2lab synth kb``).

The questions are data (``synthesis/data/questions.yaml``): a measure, the endpoints that
count, and for each trial the two arms compared. How a study's effect is taken, in order:

1. a reported effect of that measure for those arms (an OR or HR with its CI), used as is;
2. for OR/RR/RD, counts derived from the arms' reported rates and sizes:
   ``events = round(rate × n / 100)`` (half up), rates as reported (one decimal); where an arm
   has no recorded size, the trial's size split equally among its arms (rounded down) is used
   and the study says so;
3. for an HR, only where the question allows it (``derive_hr_from_medians``): the ratio of
   the medians (exponential times assumed) with the standard error from the p-value taken as
   two-sided, ``se = |log HR| / Φ⁻¹(1 - p/2)``; flagged as derived.

Where the knowledge base holds more than one value for the same figure, the conflict's
``preferred`` outcome is used and the analysis says which (``conflicts``); a figure that is
part of a recorded conflict without a preferred value is used as recorded and the conflict is
listed too. ``as_of`` keeps only studies whose figures were published on or before that date
(:meth:`KnowledgeBase.published`). Research use only, not medical advice.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from her2lab.errors import DataError, UnknownIdError
from her2lab.knowledge.schema import outcome_key
from her2lab.synthesis.effects import Effect, effect_from_ci, effect_from_counts
from her2lab.synthesis.meta import MetaResult, meta_analysis
from her2lab.synthesis.nma import Contrast, NMAResult, connected_components, network_meta_analysis

__all__ = [
    "DISCLAIMER",
    "ConflictUse",
    "KBQuestion",
    "PooledAnalysis",
    "StudyInput",
    "kb_questions",
    "pool_kb",
]

DISCLAIMER = ("Research use only, not medical advice: pooled published trial results, "
              "with every derivation stated.")

QUESTIONS_FILE = Path(__file__).parent / "data" / "questions.yaml"


class _Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    trial: str
    experimental: str
    control: str
    derive_hr_from_medians: bool = False


class KBQuestion(BaseModel):
    """One question pooled across the knowledge base's trials."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    kind: Literal["meta", "nma"]
    measure: Literal["HR", "OR", "RR", "RD"]
    endpoints: list[str] = Field(min_length=1)
    larger_is_better: bool
    locator: str
    since: dt.date | None = None
    comparisons: list[_Comparison] = Field(min_length=1)


@lru_cache(maxsize=1)
def _load_questions() -> tuple[KBQuestion, ...]:
    from her2lab.errors import ValidationError
    from her2lab.yamlio import problems_from_pydantic, read_yaml_document

    doc = read_yaml_document(QUESTIONS_FILE, label="questions")
    out = []
    for i, item in enumerate(doc.data or []):
        try:
            out.append(KBQuestion.model_validate(item))
        except Exception as exc:  # pydantic.ValidationError
            raise ValidationError(problems_from_pydantic(exc, doc, (i,))) from None
    return tuple(out)


def kb_questions(as_of: dt.date | str | None = None) -> list[KBQuestion]:
    """The questions :func:`pool_kb` answers, in the order of the data file.

    Parameters
    ----------
    as_of : datetime.date or str, optional
        Only the questions that could be asked by then (``since``: the first report of the
        earliest trial that prompted the question; the seed's questions have none).

    Returns
    -------
    list of KBQuestion
        The questions.

    Raises
    ------
    DataError
        If ``as_of`` is not a date ``YYYY-MM-DD``.
    """
    when = _as_date(as_of)
    return [q for q in _load_questions()
            if when is None or q.since is None or q.since <= when]


@dataclass(frozen=True)
class ConflictUse:
    """A recorded conflict that touches a figure an analysis used, and what was used."""

    conflict: str
    field: str
    used: str
    how: str
    values: tuple[str, ...]
    resolution: str | None

    def to_dict(self) -> dict:
        return {"conflict": self.conflict, "field": self.field, "used": self.used,
                "how": self.how, "values": list(self.values), "resolution": self.resolution}


@dataclass(frozen=True)
class StudyInput:
    """One trial's comparison as it enters a pooled analysis."""

    trial: str
    trial_name: str
    experimental: str
    control: str
    effect: Effect
    outcomes: tuple[str, ...]
    published: dt.date
    derivation: str
    counts: tuple[int, int, int, int] | None = None
    assumptions: tuple[str, ...] = ()
    reported: tuple[dict, ...] = ()

    def to_dict(self, level: float = 0.95) -> dict:
        lo, hi = self.effect.ci(level)
        return {
            "trial": self.trial, "trial_name": self.trial_name,
            "experimental": self.experimental, "control": self.control,
            "measure": self.effect.measure, "estimate": self.effect.estimate,
            "ci_low": lo, "ci_high": hi, "log_estimate": self.effect.yi, "se": self.effect.se,
            "outcomes": list(self.outcomes), "published": self.published.isoformat(),
            "derivation": self.derivation,
            "counts": None if self.counts is None else dict(zip(
                ("events_t", "n_t", "events_c", "n_c"), self.counts, strict=True)),
            "assumptions": list(self.assumptions), "reported": list(self.reported),
        }


@dataclass(frozen=True)
class PooledAnalysis:
    """A question answered from the knowledge base.

    Attributes
    ----------
    question : KBQuestion
        The question.
    as_of : datetime.date or None
        The evidence date: studies published later were left out.
    studies : tuple of StudyInput
        The studies that entered, each with how its effect was obtained.
    excluded : tuple of str
        What was left out and why.
    conflicts : tuple of ConflictUse
        The recorded conflicts that touched the studies used, and the value taken.
    result : MetaResult or None
        The pooled result of a pairwise question.
    networks : tuple of NMAResult
        For a network question, one analysis per connected part.
    notes : tuple of str
        Remarks (no study qualifies, a network in parts, ...).
    """

    question: KBQuestion
    as_of: dt.date | None
    studies: tuple[StudyInput, ...]
    excluded: tuple[str, ...]
    conflicts: tuple[ConflictUse, ...]
    result: MetaResult | None = None
    networks: tuple[NMAResult, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def conflicts_used(self) -> tuple[ConflictUse, ...]:
        return self.conflicts

    def to_dict(self) -> dict:
        """The analysis as a JSON-ready dict (the shape of ``her2lab synth kb --format json``).

        Returns
        -------
        dict
            The question, studies, exclusions, conflicts and results.
        """
        q = self.question
        return {
            "question": q.id, "title": q.title, "kind": q.kind, "measure": q.measure,
            "endpoints": list(q.endpoints), "locator": q.locator,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "studies": [s.to_dict() for s in self.studies],
            "excluded": list(self.excluded),
            "conflicts": [c.to_dict() for c in self.conflicts],
            "result": None if self.result is None else self.result.to_dict(),
            "networks": [n.to_dict() for n in self.networks],
            "notes": list(self.notes),
            "disclaimer": DISCLAIMER,
        }


# --------------------------------------------------------------------------- selection


def _conflicts_of(kb, uid: str):
    return [c for c in kb.conflicts if any(v.outcome == uid for v in c.values)]


def _describe(c) -> tuple[str, ...]:
    return tuple(f"{v.value} ({v.outcome or v.provenance.locator})" for v in c.values)


def _pick(kb, trial, candidates, what: str, uses: list[ConflictUse]):
    """One outcome among ``candidates`` (figures of the same thing); a tie is broken by a
    recorded conflict's preferred value. Returns (outcome, None) or (None, reason)."""
    if not candidates:
        return None, f"no {what} recorded"
    chosen = None
    if len(candidates) == 1:
        chosen = candidates[0]
    else:
        uids = {outcome_key(trial, o) for o in candidates}
        for c in kb.conflicts:
            outs = {v.outcome for v in c.values if v.outcome}
            if c.preferred and len(outs & uids) >= 2 and c.preferred in uids:
                chosen = next(o for o in candidates if outcome_key(trial, o) == c.preferred)
                break
        if chosen is None:
            return None, (f"{len(candidates)} values of the {what} "
                          f"({', '.join(sorted(uids))}) and no recorded preferred one")
    uid = outcome_key(trial, chosen)
    for c in _conflicts_of(kb, uid):
        if c.preferred == uid:
            how = "the conflict's preferred value"
        elif c.preferred:
            how = f"recorded value (the conflict prefers {c.preferred} for another figure)"
        else:
            how = "the recorded value; the conflict names no preferred value"
        if not any(u.conflict == c.id and u.used == uid for u in uses):
            uses.append(ConflictUse(c.id, c.field, uid, how, _describe(c), c.resolution))
    return chosen, None


def _regimen_name(kb, arm) -> str:
    names = sorted(kb.drug(d).name for d in arm.regimen)
    return " + ".join(names)


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)




def _reported_beside(kb, trial, comp, endpoints, effect: Effect, counts):
    """The trial's own reported comparisons of these arms that our effect is not (a
    difference, a p-value), each with our figure for the same quantity."""
    out = []
    for r in kb.outcomes(trial=trial, endpoint=endpoints, subgroup=None, superseded=True):
        o = r.outcome
        if o.arms != [comp.experimental, comp.control]:
            continue
        item = {"outcome": outcome_key(trial, o), "kind": o.kind, "locator": o.provenance.locator}
        if o.kind == "effect" and o.measure == "difference" and counts is not None:
            et, nt, ec, nc = counts
            rd = effect_from_counts("rd", et, nt, ec, nc, measure="RD")
            lo, hi = rd.ci()
            item.update(reported=f"{o.value:g} points"
                        + (f" ({o.ci.low:g} to {o.ci.high:g})" if o.ci else ""),
                        ours=f"{100 * rd.yi:.1f} points ({100 * lo:.1f} to {100 * hi:.1f}), "
                             "from the derived counts")
        elif o.kind == "p_only" and o.p is not None:
            p = 2 * stats.norm.sf(abs(effect.yi / effect.se))
            item.update(reported=f"p {o.p.relation} {o.p.value:g}",
                        ours=f"p = {p:.3g} (Wald test of the log {effect.measure})")
        elif o.kind == "effect" and o.measure == effect.measure:
            continue
        else:
            continue
        out.append(item)
    return tuple(out)


def _overall(kb, trial, kind: str, endpoint: str) -> list:
    """The trial's overall-population outcomes of one kind and endpoint, superseded ones
    included (:func:`_pick` settles a recorded conflict and says how)."""
    return [r.outcome for r in kb.outcomes(trial=trial, kind=kind, endpoint=endpoint,
                                           subgroup=None, superseded=True)]


def _study(kb, question: KBQuestion, comp: _Comparison, uses: list[ConflictUse]
           ) -> tuple[StudyInput | None, str | None]:
    trial = kb.trial(comp.trial)
    exp, ctrl = trial.arm(comp.experimental), trial.arm(comp.control)
    label_e, label_c = _regimen_name(kb, exp), _regimen_name(kb, ctrl)
    m = question.measure
    eps = question.endpoints
    # 1. a reported effect of the measure, best endpoint first
    for ep in eps:
        cands = [o for o in _overall(kb, trial, "effect", ep)
                 if o.measure == m and o.arms == [comp.experimental, comp.control]]
        if not cands:
            continue
        o, why = _pick(kb, trial, cands, f"{ep} {m}", uses)
        if o is None:
            return None, f"{trial.name}: {why}"
        if o.ci is None or o.ci.low is None or o.ci.high is None:
            return None, f"{trial.name}: the {ep} {m} has no confidence interval"
        eff = effect_from_ci(trial.name, o.value, o.ci.low, o.ci.high, measure=m,
                             level=o.ci.level, source=outcome_key(trial, o))
        how = f"reported {ep} {m} {o.value:g} ({o.ci.low:g}-{o.ci.high:g}), {o.provenance.locator}"
        if ep != eps[0]:
            how += f"; {ep} stands in for {eps[0]}, which the trial's record does not give"
        return StudyInput(trial.id, trial.name, label_e, label_c, eff, (outcome_key(trial, o),),
                          kb.published(trial, o), how,
                          reported=_reported_beside(kb, trial, comp, eps, eff, None)), None
    ep = eps[0]
    if m in ("OR", "RR", "RD"):
        rates, arms_n, assumptions, used = [], [], [], []
        for arm in (exp, ctrl):
            cands = [o for o in _overall(kb, trial, "rate", ep) if o.arm == arm.id]
            o, why = _pick(kb, trial, cands, f"{ep} rate of arm {arm.id}", uses)
            if o is None:
                return None, f"{trial.name}: {why}"
            rates.append(o.value)
            used.append(o)
            n = trial.arm_size(arm)
            if arm.n is not None:
                arms_n.append(arm.n)
            elif n is not None:
                arms_n.append(n)
                assumptions.append(
                    f"arm {arm.id} has no recorded size: {n} assumed (the trial's {trial.n} "
                    f"split equally over its {len(trial.arms)} arms, rounded down)")
            else:
                return None, f"{trial.name}: no size recorded for arm {arm.id} nor the trial"
        events = [_round_half_up(r * n / 100) for r, n in zip(rates, arms_n, strict=True)]
        counts = (events[0], arms_n[0], events[1], arms_n[1])
        eff = effect_from_counts(trial.name, *counts, measure=m,
                                 source=", ".join(outcome_key(trial, o) for o in used))
        how = (f"{m} from counts derived from the {ep} rates {rates[0]:g}% of {arms_n[0]} and "
               f"{rates[1]:g}% of {arms_n[1]}: events = round(rate × n) = {events[0]} and "
               f"{events[1]}")
        published = max(kb.published(trial, o) for o in used)
        return StudyInput(trial.id, trial.name, label_e, label_c, eff,
                          tuple(outcome_key(trial, o) for o in used), published, how, counts,
                          tuple(assumptions),
                          _reported_beside(kb, trial, comp, eps, eff, counts)), None
    if m == "HR" and comp.derive_hr_from_medians:
        meds, used = [], []
        for arm in (exp, ctrl):
            cands = [o for o in _overall(kb, trial, "median", ep)
                     if o.arm == arm.id and o.value]
            o, why = _pick(kb, trial, cands, f"{ep} median of arm {arm.id}", uses)
            if o is None:
                return None, f"{trial.name}: no {ep} HR and {why}"
            meds.append(o.value if o.unit == "months" else o.value * 12 / 52.1775)
            used.append(o)
        pcands = [o for o in (r.outcome for r in kb.outcomes(
                      trial=trial, kind="p_only", endpoint=ep, superseded=True))
                  if o.arms == [comp.experimental, comp.control] and o.p is not None]
        po, why = _pick(kb, trial, pcands, f"{ep} p-value", uses)
        if po is None or po.p.relation != "=":
            return None, f"{trial.name}: no {ep} HR, and no exact p-value to derive one"
        hr = meds[1] / meds[0]
        z = stats.norm.isf(po.p.value / 2)
        se = abs(math.log(hr)) / z
        used.append(po)
        eff = Effect(trial.name, math.log(hr), se, "HR",
                     source=", ".join(outcome_key(trial, o) for o in used))
        how = (f"HR derived, not reported: ratio of the {ep} medians {meds[1]:g}/{meds[0]:g} "
               f"months (exponential times assumed) = {hr:.3f}; SE from p = {po.p.value:g} "
               f"taken as two-sided: |log HR| / {z:.3f} = {se:.3f}")
        return StudyInput(trial.id, trial.name, label_e, label_c, eff,
                          tuple(outcome_key(trial, o) for o in used),
                          max(kb.published(trial, o) for o in used), how,
                          assumptions=("exponential PFS in both arms",
                                       "the p-value is two-sided and from a test of the HR")
                          ), None
    return None, f"{trial.name}: no {' or '.join(eps)} {m} recorded for these arms"


def _as_date(as_of) -> dt.date | None:
    if as_of is None or isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise DataError(f"as_of must be a date YYYY-MM-DD; got {as_of!r}") from None


def _question(question: str | KBQuestion) -> KBQuestion:
    if isinstance(question, KBQuestion):
        return question
    qs = {q.id: q for q in _load_questions()}
    if question not in qs:
        raise UnknownIdError("synthesis question", str(question), list(qs))
    return qs[question]


def pool_kb(question: str | KBQuestion, as_of: dt.date | str | None = None, *, kb=None,
            method: str = "REML", hksj: bool = False) -> PooledAnalysis:
    """Answer one question from the knowledge base.

    Parameters
    ----------
    question : str or KBQuestion
        A question, or its ID (one of :func:`kb_questions`).
    as_of : datetime.date or str, optional
        Use only results published on or before this date.
    kb : KnowledgeBase, optional
        The knowledge base (default: the shipped one).
    method : {"REML", "DL", "PM"}, optional
        τ² estimator of a pairwise question (default ``REML``).
    hksj : bool, optional
        Hartung–Knapp–Sidik–Jonkman intervals for a pairwise question (default False).

    Returns
    -------
    PooledAnalysis
        The studies used and left out, the conflicts and the pooled result.

    Raises
    ------
    UnknownIdError
        If the question is unknown.
    DataError
        If ``as_of`` is not a date ``YYYY-MM-DD``.
    """
    from her2lab.knowledge import load

    q = _question(question)
    when = _as_date(as_of)
    kb = kb if kb is not None else load()
    uses: list[ConflictUse] = []
    studies, excluded = [], []
    for comp in q.comparisons:
        s, why = _study(kb, q, comp, uses)
        if s is None:
            excluded.append(why)
            continue
        if when is not None and s.published > when:
            excluded.append(f"{s.trial_name}: published {s.published.isoformat()}, after "
                            f"as_of {when.isoformat()}")
            continue
        studies.append(s)
    used = {o for s in studies for o in s.outcomes}
    conflicts = tuple(u for u in uses if u.used in used)
    notes = []
    if not studies:
        return PooledAnalysis(q, when, (), tuple(excluded), conflicts,
                              notes=("no study qualifies",))
    if q.kind == "meta":
        res = meta_analysis([s.effect for s in studies], method=method, hksj=hksj)
        return PooledAnalysis(q, when, tuple(studies), tuple(excluded), conflicts, result=res,
                              notes=tuple(notes))
    contrasts = [Contrast(s.trial_name, s.experimental, s.control, s.effect.yi, s.effect.se,
                          s.effect.source) for s in studies]
    nets = []
    small = "undesirable" if q.larger_is_better else "desirable"
    parts = connected_components(contrasts)
    if len(parts) > 1:
        notes.append(f"the network falls into {len(parts)} unconnected parts (no trial links "
                     "them), each analysed on its own; treatments in different parts cannot "
                     "be compared")
    for part in parts:
        sub = [c for c in contrasts if c.treatment1 in part]
        as_control = Counter(c.treatment2 for c in sub)
        count = Counter(t for c in sub for t in (c.treatment1, c.treatment2))
        reference = sorted(part, key=lambda t: (-as_control[t], -count[t], t))[0]
        nets.append(network_meta_analysis(sub, measure=q.measure, reference=reference,
                                          small_values=small))
    return PooledAnalysis(q, when, tuple(studies), tuple(excluded), conflicts,
                          networks=tuple(nets), notes=tuple(notes))


# --------------------------------------------------------------------------- outputs


def _studies_csv(pa: PooledAnalysis) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["question", "trial", "experimental", "control", "measure", "estimate", "ci_low",
                "ci_high", "log_estimate", "se", "weight_random", "published", "outcomes",
                "derivation", "assumptions"])
    weights = dict.fromkeys((s.trial for s in pa.studies), "")
    if pa.result is not None:
        weights = {s.trial: f"{w:.4f}" for s, w in zip(pa.studies, pa.result.weights,
                                                       strict=True)}
    for s in pa.studies:
        d = s.to_dict()
        w.writerow([pa.question.id, s.trial_name, s.experimental, s.control, d["measure"],
                    f"{d['estimate']:.4f}", f"{d['ci_low']:.4f}", f"{d['ci_high']:.4f}",
                    f"{s.effect.yi:.6f}", f"{s.effect.se:.6f}", weights[s.trial],
                    d["published"], ";".join(s.outcomes), s.derivation,
                    "; ".join(s.assumptions)])
    return buf.getvalue()


def write_pooled(pa: PooledAnalysis, out_dir: str | Path) -> list[Path]:
    """Write one analysis under ``out_dir``: ``<id>.json`` (everything), ``<id>_studies.csv``,
    and forest plots ``<id>.svg``, ``<id>.png``, ``<id>.html`` (a network: one set per
    connected part with at least two treatments, ``<id>_part<N>.*``, plus league tables)."""
    import json

    from her2lab.atomic import atomic_write_text
    from her2lab.synthesis.forest import forest_html, forest_png, forest_svg

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    qid = pa.question.id
    files = []
    p = out / f"{qid}.json"
    atomic_write_text(p, json.dumps(pa.to_dict(), indent=1, ensure_ascii=False) + "\n")
    files.append(p)
    p = out / f"{qid}_studies.csv"
    atomic_write_text(p, _studies_csv(pa))
    files.append(p)
    title = f"{pa.question.title}" + (f" (as of {pa.as_of})" if pa.as_of else "")
    plots = []
    if pa.result is not None:
        plots.append((qid, pa.result, title))
    for i, net in enumerate(pa.networks, start=1):
        plots.append((f"{qid}_part{i}", net, f"{title}, part {i}: versus {net.reference}"))
        p = out / f"{qid}_part{i}_league.csv"
        import csv
        import io

        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(net.league_table("random"))
        atomic_write_text(p, buf.getvalue())
        files.append(p)
    for stem, res, t in plots:
        svg = out / f"{stem}.svg"
        atomic_write_text(svg, forest_svg(res, title=t))
        png = out / f"{stem}.png"
        forest_png(res, png, title=t)
        html = out / f"{stem}.html"
        atomic_write_text(html, forest_html(res, title=t))
        files += [svg, png, html]
    return files
