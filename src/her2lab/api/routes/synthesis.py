"""``/api/synthesis``: meta-analysis and the knowledge base's pooled analyses
(:mod:`her2lab.synthesis`), with forest plot data and SVG.

``GET /api/synthesis/questions`` lists the questions pooled across the knowledge base's trials;
``GET /api/synthesis/pooled`` answers all of them (or those that include one trial) and
``/pooled/{question}`` one, each with the studies that entered, what was left out, the
conflict values used and the pooled result; ``/pooled/{question}/forest.svg`` is its forest
plot. ``POST /api/synthesis/meta-analysis`` pools studies given as estimates with intervals.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from her2lab.api.errors import ApiError, clean_json, problem

if TYPE_CHECKING:
    from her2lab.synthesis.kb import PooledAnalysis
    from her2lab.synthesis.meta import MetaResult
    from her2lab.synthesis.nma import NMAResult

router = APIRouter(prefix="/api/synthesis", tags=["synthesis"])
pooled_router = APIRouter(prefix="/api/synthesis", tags=["synthesis"])
"""The knowledge base's pooled analyses: mounted where the installed synthesis has them."""

MAX_STUDIES = 200

Method = Literal["DL", "PM", "REML"]
AsOfQ = Annotated[dt.date | None, Query(description="Only studies published by then.")]
MethodQ = Annotated[Method, Query(description="Random-effects estimator.")]


class QuestionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    kind: str
    measure: str
    endpoints: list[str]


class PooledOut(BaseModel):
    """A pooled analysis (``PooledAnalysis.to_dict()``) with its forest plot's numbers."""

    model_config = ConfigDict(extra="allow")

    question: str
    title: str
    kind: str
    measure: str
    studies: list[dict[str, Any]]
    excluded: list[str]
    conflicts: list[dict[str, Any]]
    result: dict[str, Any] | None
    networks: list[dict[str, Any]]
    forest: list[dict[str, Any]] = Field(
        description="One forest plot's rows per pooled result (the pairwise result, or each "
        "connected part of a network).")
    forest_svg: str | None = Field(default=None, description="Path of the SVG forest plot.")
    disclaimer: str


class StudyIn(BaseModel):
    """One study: its estimate inside its own confidence interval."""

    model_config = ConfigDict(extra="forbid", strict=True)

    label: str = Field(min_length=1, max_length=200)
    estimate: float = Field(allow_inf_nan=False, ge=-1e6, le=1e6)
    ci_low: float = Field(allow_inf_nan=False, ge=-1e6, le=1e6)
    ci_high: float = Field(allow_inf_nan=False, ge=-1e6, le=1e6)

    @model_validator(mode="after")
    def _inside(self) -> StudyIn:
        if not self.ci_low < self.ci_high:
            raise ValueError(f"ci_low must be below ci_high; got {self.ci_low} and "
                             f"{self.ci_high}")
        if not self.ci_low <= self.estimate <= self.ci_high:
            raise ValueError(f"the estimate {self.estimate} lies outside its own interval "
                             f"[{self.ci_low}, {self.ci_high}]")
        return self


RATIOS = ("HR", "OR", "RR")


class MetaIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    studies: list[StudyIn] = Field(min_length=1, max_length=MAX_STUDIES)
    measure: Literal["HR", "OR", "RR", "RD", "MD"] = "HR"
    method: Method = "REML"
    hksj: bool = False
    level: float = Field(default=0.95, gt=0.5, lt=1)

    @model_validator(mode="after")
    def _positive_ratios(self) -> MetaIn:
        if self.measure in RATIOS:
            bad = [s.label for s in self.studies if s.ci_low <= 0]
            if bad:
                raise ValueError(f"a {self.measure} and its interval are positive; not in "
                                 f"{', '.join(bad[:5])}")
        return self


class MetaOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    forest: dict[str, Any] | None = Field(
        default=None, description="The forest plot's rows (where the installed synthesis "
        "draws forest plots).")
    disclaimer: str = "Research use: pooled published results, not medical advice."


def _results(pa: PooledAnalysis) -> list[MetaResult | NMAResult]:
    return [pa.result] if pa.result is not None else list(pa.networks)


def _pooled(pa: PooledAnalysis) -> PooledOut:
    from her2lab.synthesis.forest import forest_rows

    d = clean_json(pa.to_dict())
    forest = [clean_json(forest_rows(r)) for r in _results(pa)]
    svg = f"/api/synthesis/pooled/{d['question']}/forest.svg" if forest else None
    return PooledOut(**{**d, "forest": forest, "forest_svg": svg})


@pooled_router.get("/questions", response_model=list[QuestionOut])
def questions() -> list[QuestionOut]:
    """The questions pooled across the knowledge base's trials."""
    from her2lab.synthesis import kb_questions

    return [QuestionOut(**q.model_dump()) for q in kb_questions()]


@pooled_router.get("/pooled", response_model=list[PooledOut])
def pooled_all(trial: Annotated[str | None, Query(max_length=100, description="Only the "
                                                   "analyses this trial enters.")] = None,
               as_of: AsOfQ = None, method: MethodQ = "REML") -> list[PooledOut]:
    """Every pooled analysis of the knowledge base (or those that include ``trial``)."""
    from her2lab.knowledge import load
    from her2lab.synthesis import kb_questions, pool_kb

    tid = load().trial(trial).id if trial is not None else None
    out = []
    for q in kb_questions():
        pa = pool_kb(q, as_of, method=method)
        if tid is None or any(s.trial == tid for s in pa.studies):
            out.append(_pooled(pa))
    return out


@pooled_router.get("/pooled/{question}", response_model=PooledOut)
def pooled(question: str, as_of: AsOfQ = None, method: MethodQ = "REML",
           hksj: bool = False) -> PooledOut:
    """One question answered from the knowledge base."""
    from her2lab.synthesis import pool_kb

    return _pooled(pool_kb(question, as_of, method=method, hksj=hksj))


@pooled_router.get("/pooled/{question}/forest.svg", response_class=Response, responses={
    200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}},
          "description": "The forest plot."},
    404: {"description": "No such question.", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}})
def pooled_forest(question: str, as_of: AsOfQ = None, method: MethodQ = "REML") -> Response:
    """The forest plot of a pooled analysis as SVG (the first part of a network)."""
    from her2lab.synthesis import forest_svg, pool_kb

    pa = pool_kb(question, as_of, method=method)
    results = _results(pa)
    if not results:
        raise ApiError(404, f"{question}: no study qualifies, so there is no forest plot",
                       [problem("as_of", "a date by which a study was published", str(as_of))],
                       error="NothingPooled")
    return Response(forest_svg(results[0], title=pa.question.title),
                    media_type="image/svg+xml")


@router.post("/meta-analysis", response_model=MetaOut)
def meta(body: MetaIn) -> MetaOut:
    """Pool studies given as estimates with their confidence intervals (common and random
    effects, heterogeneity), with the forest plot's numbers."""
    import warnings

    from her2lab.synthesis import meta_analysis

    try:
        # numpy's warnings on the way (identical studies: a heterogeneity of 0/0) are harmless
        # where the result is finite, as on the command line; a result that is not is refused
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            res = meta_analysis(
                [s.label for s in body.studies], [s.estimate for s in body.studies],
                [s.ci_low for s in body.studies], [s.ci_high for s in body.studies],
                measure=body.measure, method=body.method, hksj=body.hksj, level=body.level)
        pooled = res.to_dict()
        bad = [k for k in ("estimate", "ci_low", "ci_high")
               if not isinstance(pooled.get(k), int | float) or not math.isfinite(pooled[k])]
        if bad:
            why = "; ".join(sorted({str(w.message) for w in caught})) or "not finite"
            raise ArithmeticError(f"the pooled {', '.join(bad)} is not a finite number ({why})")
    except (ArithmeticError, ValueError) as exc:
        # numbers the estimators cannot handle (overflow): the input's fault, reported as such
        # rather than as a server error
        raise ApiError(422, f"these studies cannot be pooled: {exc}",
                       [problem("studies", "estimates with intervals that the estimators can "
                                "handle", f"{type(exc).__name__}: {exc}")],
                       error="ValidationError") from None
    from her2lab.synthesis.forest import forest_rows

    return MetaOut(**{**clean_json(pooled), "forest": clean_json(forest_rows(res))})
