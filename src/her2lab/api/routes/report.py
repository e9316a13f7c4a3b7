"""``/api/reports``: the strategy report (:func:`her2lab.report.strategy_report`) as a job.

A report simulates the pathway model and virtual trials for every candidate regimen (tens of
seconds), so ``POST /api/reports`` starts a job; once done, the report is kept (the newest
:data:`KEEP`) and served as JSON, HTML and PDF. The profile is given as the report's compact
text (``pten_loss,p95her2:0.5,trastuzumab_pretreated``) or a mapping; never as a file name.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from her2lab.api.errors import ApiError, clean_json, problem
from her2lab.api.routes.pathway import JobOut
from her2lab.api.routes.trials import INTERACTIVE_CAP, run_settings

if TYPE_CHECKING:
    from her2lab.report import StrategyReport

router = APIRouter(prefix="/api/reports", tags=["strategy report"])

KEEP = 8
NOTICE = "Research output, not medical advice."

Name = Annotated[str, Field(min_length=1, max_length=100)]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    profile: Annotated[str, Field(max_length=500, pattern=r"^[A-Za-z0-9_,:=. +-]*$")] | Annotated[
        dict[Name, bool | Annotated[float, Field(ge=0, le=1)]], Field(max_length=32)] = Field(
        default="none", description="Compact text (pten_loss,p95her2:0.5,hr_positive,"
        "trastuzumab_pretreated) or a mapping name -> true/false/degree.",
        examples=["pten_loss,trastuzumab_pretreated"])
    setting: Name = Field(examples=["metastatic_pretreated"])
    as_of: dt.date | None = Field(default=None, description="Only evidence published by then.",
                                  strict=False)
    calibration: str = Field(default="default", max_length=100)
    in_silico: bool = Field(default=True, description="Add the pathway model's rationale and "
                            "virtual-trial predictions (never part of the rank).")
    samples: int | None = Field(default=None, ge=50, le=INTERACTIVE_CAP.samples,
                                description="Pathway trajectories (default: the "
                                "calibration's, capped for interactive requests).")
    replicates: int | None = Field(default=None, ge=1, le=INTERACTIVE_CAP.replicates,
                                   description="Virtual trials per regimen (default: the "
                                   "calibration's, capped).")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1,
                             description="Random seed (default: the calibration's).")


class ReportOut(BaseModel):
    """The report's JSON (``StrategyReport.to_dict()``) with the links to its renderings."""

    model_config = ConfigDict(extra="allow")

    id: str
    html: str
    pdf: str
    disclaimer: str
    setting: str
    ranked: list[dict[str, Any]]


class Reports:
    """The newest :data:`KEEP` reports, with their PDF once rendered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, StrategyReport] = OrderedDict()
        self._pdf: dict[str, bytes] = {}

    def add(self, key: str, report: StrategyReport) -> None:
        with self._lock:
            self._items[key] = report
            while len(self._items) > KEEP:
                old, _ = self._items.popitem(last=False)
                self._pdf.pop(old, None)

    def get(self, key: str) -> StrategyReport:
        with self._lock:
            if key not in self._items:  # no list of the reports there are: see jobs
                raise ApiError(404, f"no report {key!r}: its ID is the job's that built it, "
                               f"and only the newest {KEEP} reports are kept",
                               error="UnknownIdError")
            return self._items[key]

    def pdf(self, key: str) -> bytes:
        rep = self.get(key)
        if key not in self._pdf:
            with tempfile.TemporaryDirectory(prefix="her2lab-report-") as d:
                path = Path(d) / "report.pdf"
                rep.write_pdf(path)
                self._pdf[key] = path.read_bytes()
        return self._pdf[key]


def _store(request: Request) -> Reports:
    return request.app.state.reports


def _out(key: str, rep: StrategyReport) -> ReportOut:
    d = clean_json(rep.to_dict())
    for row, r in zip(d["ranked"], rep.ranked, strict=True):
        row["key_evidence"] = r.key_evidence()
    return ReportOut(**{**d, "id": key, "html": f"/api/reports/{key}/html",
                        "pdf": f"/api/reports/{key}/pdf"})


@router.post("", response_model=JobOut, status_code=202)
def create(body: ReportIn, request: Request) -> JobOut:
    """Rank regimens for a tumor profile and setting, as a background job (poll
    ``/api/jobs/{id}``; its result names the report's JSON, HTML and PDF)."""
    from her2lab.knowledge import Setting
    from her2lab.report import parse_profile, strategy_report

    if isinstance(body.profile, str) and body.profile.lower().endswith((".yaml", ".yml")):
        raise ApiError(422, "profile: give the profile itself, not a file name",
                       [problem("profile", "compact text or a mapping", body.profile)])
    parse_profile(body.profile)  # a bad profile is a 422 now, not a failed job later
    settings = [s.value for s in Setting]
    if body.setting not in settings:
        raise ApiError(422, f"setting: expected one of {', '.join(settings)}; got "
                       f"{body.setting!r}", [problem("setting", "one of " + ", ".join(settings),
                                                     body.setting)])
    store_cal = request.app.state.calibrations
    info, cal = store_cal.get(body.calibration), store_cal.obj(body.calibration)
    settings, _ = run_settings(cal, seed=body.seed, samples=body.samples,
                                   replicates=body.replicates)
    store = _store(request)

    def work(job) -> dict[str, Any]:
        job.report("pathway simulations of the candidate regimens", 0, 1)
        rep = strategy_report(body.profile, body.setting, as_of=body.as_of,
                              calibration=None if info.source == "prior" else cal,
                              settings=settings, in_silico=body.in_silico,
                              progress=job.report)
        store.add(job.id, rep)
        return _out(job.id, rep).model_dump()

    return JobOut(**request.app.state.jobs.submit("report", work).to_dict())


@router.get("/{report_id}", response_model=ReportOut)
def get(report_id: str, request: Request) -> ReportOut:
    """A finished report's JSON (its ID is the job's)."""
    return _out(report_id, _store(request).get(report_id))


_JSON_404 = {404: {"description": "No such report.", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}}


@router.get("/{report_id}/html", response_class=HTMLResponse, responses=_JSON_404)
def html(report_id: str, request: Request) -> HTMLResponse:
    """The report as one self-contained HTML page."""
    return HTMLResponse(_store(request).get(report_id).to_html())


@router.get("/{report_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary"}}},
                "description": "The report as PDF."}, **_JSON_404})
async def pdf(report_id: str, request: Request) -> Response:
    """The report as PDF (rendered once, in a simulation slot, then kept with the report)."""
    store = _store(request)
    store.get(report_id)
    data = await request.app.state.slots.run(lambda: store.pdf(report_id))
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="her2lab-report-{report_id}.pdf"'})
