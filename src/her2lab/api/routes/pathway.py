"""``/api/pathway``: the HER2 pathway model: simulate, the response matrix, the model's files.

A profile is a list of mechanism IDs (or aliases), or a mapping mechanism -> degree in [0, 1];
a regimen a list of drug IDs or aliases. Everything is computed by :mod:`her2lab.pathway`.
"""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from her2lab.api.errors import ApiError, clean_json, problem
from her2lab.api.jobs import JobPool, Slots
from her2lab.seeds import DEFAULT_SEED

if TYPE_CHECKING:
    from her2lab.pathway import Result

router = APIRouter(prefix="/api/pathway", tags=["pathway model"])

MAX_SAMPLES = 10_000
MAX_SCREEN_CELLS = 2_000
MAX_SCREEN_SAMPLES = 2_000

Name = Annotated[str, Field(min_length=1, max_length=100)]
Degree = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Profile = Annotated[list[Name], Field(max_length=32)] | Annotated[
    dict[Name, Degree], Field(max_length=32)]
Regimen = Annotated[list[Name], Field(max_length=16)]


class _Body(BaseModel):
    """Strict: a number must be a JSON number (``true`` is not 1), a bool a JSON bool ("yes" is
    not true), and no field the model does not name."""

    model_config = ConfigDict(extra="forbid", strict=True)


class SimulateIn(_Body):
    profile: Profile = Field(
        default_factory=list, description="Mechanism IDs, or mechanism -> degree in [0, 1]; "
        "empty for a HER2-amplified, trastuzumab-sensitive tumor.",
        examples=[["pten_loss"], {"pten_loss": 0.6}])
    regimen: Regimen = Field(default_factory=list, description="Drug IDs or aliases; empty for "
                             "untreated.", examples=[["trastuzumab", "everolimus"]])
    samples: int = Field(default=1000, ge=1, le=MAX_SAMPLES, description="Trajectories.")
    seed: int = Field(default=DEFAULT_SEED, ge=0, le=2**31 - 1)
    potency: dict[Name, Degree] = Field(
        default_factory=dict, max_length=32,
        description="Override drugs' graded efficacy, drug -> value in [0, 1].")
    hr_positive: bool | Degree | None = Field(
        default=None, description="Hormone-receptor status: a bool or a degree (where the "
        "model has one).")


class RatesOut(BaseModel):
    """Growth and kill rates of the tumor (per day), kill by source."""

    growth: float
    kill: dict[str, float]
    total_kill: float


class SimulationOut(BaseModel):
    profile: Any = Field(description="The resolved profile (IDs, or ID -> degree).")
    degrees: dict[str, float] | None = Field(default=None, description="Mechanism -> degree.")
    hr_positive: float | None = None
    regimen: list[str]
    phenotypes: dict[str, float]
    response: float = Field(description="Tumor control in [0, 1], higher is better.")
    response_se: float | None = None
    samples: int
    seed: int
    rates: RatesOut | None = None
    time_course: Any = Field(default=None,
                             description="Phenotype probabilities per time point.")
    cached: bool = False
    notice: str = "Research use: a model output, not a treatment recommendation."


class OptionOut(BaseModel):
    id: str
    name: str
    detail: str = ""


class OptionsOut(BaseModel):
    mechanisms: list[OptionOut]
    drugs: list[OptionOut]
    phenotypes: list[str]
    default_seed: int = Field(description="The seed every simulation defaults to "
                              "(her2lab.seeds.DEFAULT_SEED); the pages start their seed field "
                              "at it.")


class ScreenIn(_Body):
    profiles: Literal["all-single", "all"] | Annotated[
        list[Annotated[str, Field(max_length=400)]], Field(min_length=1, max_length=200)] = (
        "all-single")
    regimens: Literal["all-single", "all-pairs", "table1"] | Annotated[
        list[Annotated[str, Field(max_length=400)]], Field(min_length=1, max_length=400)] = (
        "all-single")
    samples: int = Field(default=500, ge=1, le=MAX_SCREEN_SAMPLES)
    seed: int = Field(default=DEFAULT_SEED, ge=0, le=2**31 - 1)


class JobOut(BaseModel):
    """A background job: its status, its progress, and its result once done."""

    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    progress: dict[str, Any]
    result: Any = None
    error: dict[str, Any] | None = None
    created: str
    started: str | None = None
    finished: str | None = None


def _rates(res: Result) -> RatesOut:
    r = res.rates
    return RatesOut(growth=float(r.growth), kill={k: float(v) for k, v in r.kill.items()},
                    total_kill=float(r.total_kill))


def result_out(res: Result) -> SimulationOut:
    return SimulationOut(
        profile=list(res.profile), regimen=list(res.regimen),
        degrees={k: float(v) for k, v in res.degrees.items()},
        hr_positive=float(res.hr_positive),
        phenotypes={k: float(v) for k, v in res.phenotypes.items()},
        response=float(res.response), response_se=float(res.response_se),
        samples=int(res.samples), seed=int(res.seed), rates=_rates(res),
        time_course=clean_json(res.time_course.to_dict()), cached=bool(res.cached),
    )


def _profile_arg(profile: list[str] | dict[str, float]) -> Any:
    return dict(profile) if isinstance(profile, dict) else list(profile)


def parse_profile_text(text: str | None) -> Any:
    """``pten_loss:0.6,p95her2`` -> ``{"pten_loss": 0.6, "p95her2": 1.0}``; without any degree
    a plain list of IDs."""
    if not text:
        return []
    items = [p.strip() for p in text.split(",") if p.strip()]
    if not any(":" in p for p in items):
        return items
    out: dict[str, float] = {}
    for p in items:
        name, _, value = p.partition(":")
        try:
            degree = float(value) if value else 1.0
        except ValueError:
            raise ApiError(422, f"profile: a degree must be a number; got {p!r}",
                           [problem("profile", "MECHANISM or MECHANISM:DEGREE", p)]) from None
        if not 0.0 <= degree <= 1.0:
            raise ApiError(422, f"profile: a degree lies in [0, 1]; got {p!r}",
                           [problem("profile", "a degree in [0, 1]", p)])
        out[name.strip()] = degree
    return out


def _slots(request: Request) -> Slots:
    return request.app.state.slots


def _jobs(request: Request) -> JobPool:
    return request.app.state.jobs


@router.get("/options", response_model=OptionsOut)
def options() -> OptionsOut:
    """The mechanisms and drugs the model knows (IDs and the knowledge base's names), and the
    default seed."""
    from her2lab.knowledge import load
    from her2lab.pathway import DRUGS, MECHANISMS, PHENOTYPES

    kb = load()

    def name(getter, key: str) -> str:
        try:
            return getter(key).name
        except KeyError:
            return key

    def why(value: Any) -> str:
        if isinstance(value, tuple | list):
            return "; ".join(str(getattr(v, "why", "")) for v in value if getattr(v, "why", ""))
        return str(getattr(value, "why", "") or "")

    return OptionsOut(
        mechanisms=[OptionOut(id=m, name=name(kb.mechanism, m), detail=why(v))
                    for m, v in MECHANISMS.items()],
        drugs=[OptionOut(id=d, name=name(kb.drug, d), detail=why(v)) for d, v in DRUGS.items()],
        phenotypes=list(PHENOTYPES), default_seed=DEFAULT_SEED,
    )


def _check_potency(regimen: list[str], potency: dict[str, float]) -> dict[str, float]:
    """Potency overrides by drug ID; each drug must be in the regimen (else it does nothing)."""
    from her2lab.pathway.drugs import normalize_regimen, resolve_drug

    drugs = set(normalize_regimen(regimen))
    out: dict[str, float] = {}
    for name, value in potency.items():
        did = resolve_drug(name)
        if did not in drugs:
            given = ", ".join(sorted(drugs)) or "none"
            raise ApiError(422, f"potency: {name!r} is not in the regimen, so its potency would "
                           "change nothing", [problem(f"potency.{name}", f"a drug of the regimen "
                                                     f"({given})", name)],
                           error="ValidationError")
        out[did] = value
    return out


@router.post("/simulate", response_model=SimulationOut)
async def simulate(body: SimulateIn, request: Request) -> SimulationOut:
    """Simulate one regimen on one tumor profile: phenotypes, response (and rates). Runs in one
    of the server's simulation slots; 429 at once when they and their queue are full."""
    import inspect

    from her2lab.pathway import simulate as run

    extra: dict[str, Any] = {}
    if body.hr_positive is not None:
        if "hr_positive" not in inspect.signature(run).parameters:
            raise ApiError(422, "hr_positive: this version of the pathway model has no "
                           "hormone-receptor status", [problem("hr_positive", "null",
                                                                body.hr_positive)])
        extra["hr_positive"] = body.hr_positive
    potency = _check_potency(list(body.regimen), dict(body.potency))
    res = await _slots(request).run(lambda: run(
        _profile_arg(body.profile), list(body.regimen), samples=body.samples, seed=body.seed,
        potency=potency or None, **extra))
    return result_out(res)


_FILES = {"application/zip": {"schema": {"type": "string", "format": "binary"}},
          "text/plain": {"schema": {"type": "string"}},
          "application/xml": {"schema": {"type": "string"}}}


@router.get("/model", response_class=Response,
            responses={200: {"content": _FILES, "description": "The model file(s)."}})
def model(
    format: Annotated[Literal["bnet", "maboss", "bnd", "cfg", "sbml"], Query(
        description="bnet (logic only), maboss (zip of .bnd and .cfg), bnd, cfg, or sbml "
        "(SBML-qual, logic only)")] = "maboss",
    profile: Annotated[str | None, Query(
        max_length=1000, description="Mechanisms, comma-separated, optionally with a degree "
        "(pten_loss:0.6,p95her2).")] = None,
    regimen: Annotated[str | None, Query(
        max_length=1000, description="Drugs joined by '+' (trastuzumab+everolimus; a '+' "
        "left unescaped in the address arrives as a space, and is read as '+').")] = None,
) -> Response:
    """The HER2 model, set for a profile and a regimen, as files to run in another tool."""
    from her2lab.boolnet import format_bnet, format_sbmlqual, parse_maboss
    from her2lab.pathway import model_files

    reg = regimen_text(regimen)
    bnd, cfg = model_files(parse_profile_text(profile), reg)
    stem = "her2"
    if format == "bnd":
        return _download(bnd, f"{stem}.bnd", "text/plain")
    if format == "cfg":
        return _download(cfg, f"{stem}.cfg", "text/plain")
    if format == "maboss":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{stem}.bnd", bnd)
            zf.writestr(f"{stem}.cfg", cfg)
        return Response(buf.getvalue(), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.zip"'})
    parsed = parse_maboss(bnd, cfg, bnd_source=f"{stem}.bnd", cfg_source=f"{stem}.cfg",
                          name=stem)
    if format == "bnet":
        return _download(format_bnet(parsed), f"{stem}.bnet", "text/plain")
    return _download(format_sbmlqual(parsed), f"{stem}.sbml", "application/xml")


def regimen_text(text: str | None) -> list[str]:
    """Drug IDs from ``A+B``. In a query string an unescaped ``+`` means a space, so
    ``?regimen=trastuzumab+everolimus`` arrives as ``trastuzumab everolimus``: a part that is
    not a drug name as a whole is split at its spaces (a name with a space still resolves)."""
    from her2lab.errors import UnknownIdError
    from her2lab.pathway.drugs import resolve_drug

    out: list[str] = []
    for part in (p.strip() for p in (text or "").split("+")):
        if not part or part.lower() == "none":
            continue
        try:
            out.append(resolve_drug(part))
        except UnknownIdError:
            words = part.split()
            if len(words) < 2:
                raise
            out.extend(resolve_drug(w) for w in words if w.lower() != "none")
    return out


def _download(text: str, filename: str, media: str) -> Response:
    return Response(text, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post("/screen", response_model=JobOut, status_code=202)
def screen(body: ScreenIn, request: Request) -> JobOut:
    """The response matrix (profiles by regimens) as a background job; poll
    ``/api/jobs/{id}``. At most 2,000 cells."""
    from her2lab.pathway import screen as sc

    profiles = sc.resolve_profiles(body.profiles)
    regimens = sc.resolve_regimens(body.regimens)
    cells = len(profiles) * len(regimens)
    if cells > MAX_SCREEN_CELLS:
        raise ApiError(422, f"a screen of {cells} cells is over the limit of {MAX_SCREEN_CELLS}",
                       [problem("profiles x regimens", f"at most {MAX_SCREEN_CELLS} cells",
                                f"{len(profiles)} x {len(regimens)} = {cells}")])

    def work(job) -> dict[str, Any]:
        job.report("cells", 0, cells)
        res = sc.screen(profiles, regimens, samples=body.samples, seed=body.seed,
                        progress=lambda d, n: job.report("cells", d, n))
        rows = [sc.label(p, ",") for p in res.profiles]
        cols = [sc.label(r, "+") for r in res.regimens]
        return {"profiles": rows, "regimens": cols,
                "response": [[res.response(p, r) for r in res.regimens] for p in res.profiles],
                "cells": res.rows(), "samples": body.samples, "seed": body.seed,
                "notice": "Research use: a model output, not a treatment recommendation."}

    return JobOut(**_jobs(request).submit("screen", work).to_dict())
