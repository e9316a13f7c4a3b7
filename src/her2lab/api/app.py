"""The FastAPI application: the REST API under ``/api`` and the web UI beside it.

``create_app()`` builds it; ``her2lab serve`` runs it with uvicorn. The UI is static HTML, CSS
and JavaScript shipped in this package (``static/``), plus plotly.js served from the installed
plotly package: nothing is loaded from the network. OpenAPI: ``/openapi.json``, ``/docs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

import her2lab
from her2lab.api.errors import ApiError, ErrorOut, install_handlers
from her2lab.api.guard import LOOPBACK_HOSTS, Guard
from her2lab.api.jobs import JobPool, Slots
from her2lab.api.routes import kb, network, pathway, trials, ui
from her2lab.api.routes.pathway import JobOut

__all__ = ["MAX_BODY_BYTES", "create_app"]

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 256 * 1024
"""Largest request body accepted (a trial specification is a few hundred bytes)."""

PAGES = {
    "/": "landscape.html",
    "/trials": "trials.html",
    "/pathway": "pathway.html",
    "/designer": "designer.html",
    "/report": "report.html",
}


class Limits(BaseModel):
    """The bounds the API enforces, for forms to state."""

    arm_patients: int = Field(description="Patients per arm, in predict and in a design.")
    arms: int = Field(description="Arms of a specification.")
    body_bytes: int = Field(description="Largest request body.")


class Meta(BaseModel):
    name: str
    version: str
    features: dict[str, bool]
    limits: Limits
    notice: str


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _features() -> dict[str, bool]:
    import importlib
    import importlib.util

    synthesis = importlib.util.find_spec("her2lab.synthesis") is not None
    pooled = synthesis and hasattr(importlib.import_module("her2lab.synthesis"), "pool_kb")
    return {
        "synthesis": synthesis,
        "pooled": pooled,
        "report": importlib.util.find_spec("her2lab.report") is not None,
    }


jobs_router = APIRouter(tags=["jobs"])
listing_router = APIRouter(tags=["jobs"])
"""``GET /api/jobs``: mounted only when the server is started with ``--list-jobs``."""


@listing_router.get("/api/jobs", response_model=list[JobOut])
def list_jobs(request: Request) -> list[JobOut]:
    """Every job kept (queued, running, and the most recent finished ones)."""
    return [JobOut(**j.to_dict()) for j in request.app.state.jobs.list()]


@jobs_router.get("/api/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, request: Request) -> JobOut:
    """A job's status and progress; its result once ``status`` is ``done``."""
    job = request.app.state.jobs.get(job_id)
    if job is None:  # no list of the jobs there are: their IDs are what keeps them private
        raise ApiError(404, f"no job {job_id!r}: an ID is given when a job starts, and only "
                       f"the newest {request.app.state.jobs.keep} finished jobs are kept",
                       error="UnknownIdError")
    return JobOut(**job.to_dict())


@jobs_router.get("/api/meta", response_model=Meta)
def meta() -> Meta:
    """Version, which optional parts (synthesis, report) this installation has, and the bounds
    the API enforces."""
    from her2lab.api.routes.trials import MAX_ARM_N, MAX_ARMS

    return Meta(name="her2lab", version=her2lab.__version__, features=_features(),
                limits=Limits(arm_patients=MAX_ARM_N, arms=MAX_ARMS, body_bytes=MAX_BODY_BYTES),
                notice="Research use: simulated and curated results, not medical advice.")


def create_app(
    *,
    calibration_files: Sequence[str | Path] = (),
    workers: int = 1,
    max_jobs: int = 4,
    slots: int = 2,
    queue: int = 4,
    allowed_hosts: Sequence[str] = (),
    token: str | None = None,
    list_jobs: bool = False,
) -> FastAPI:
    """The FastAPI application: the REST API and the web UI.

    Parameters
    ----------
    calibration_files : sequence of str or Path, optional
        Calibration JSON files (``her2lab trials calibrate``), each offered as a named
        calibration ``as-of-DATE``.
    workers : int, optional
        Background jobs that run at once (default 1).
    max_jobs : int, optional
        Most jobs queued or running; a new one beyond is refused with 429 (default 4).
    slots : int, optional
        Synchronous simulations that run at once, each in its own thread (default 2).
    queue : int, optional
        Most synchronous requests that wait for a slot, without holding a thread; beyond, 429
        at once (default 4).
    allowed_hosts : sequence of str, optional
        Host names accepted in the ``Host`` header besides
        :data:`~her2lab.api.guard.LOOPBACK_HOSTS` (:mod:`her2lab.api.guard`).
    token : str, optional
        A bearer token every request must carry (required when serving beyond loopback).
    list_jobs : bool, optional
        Whether ``GET /api/jobs`` lists every job (default False).

    Returns
    -------
    fastapi.FastAPI
        The application; serve it with ``her2lab serve`` or any ASGI server.

    Raises
    ------
    ValidationError
        If a calibration file does not read (file, line and field named).
    DataError
        If a calibration file has no ``as_of``.
    """
    pool = JobPool(workers=workers, max_active=max_jobs)
    compute = Slots(slots, queue)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        pool.shutdown()
        compute.shutdown()

    app = FastAPI(
        title="her2lab",
        version=her2lab.__version__,
        description="An open in-silico laboratory for HER2-positive breast cancer: the curated "
        "knowledge base, the HER2 pathway model, virtual trials. Research use: simulated and "
        "curated results, not medical advice.",
        lifespan=lifespan, docs_url=None, redoc_url=None,  # offline docs: routes/ui.py
        responses={400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 404: {"model": ErrorOut},
                   413: {"model": ErrorOut}, 422: {"model": ErrorOut},
                   429: {"model": ErrorOut}},
    )
    app.state.jobs = pool
    app.state.slots = compute
    app.state.calibrations = trials.Calibrations()
    for f in calibration_files:
        app.state.calibrations.add_file(Path(f))
    install_handlers(app)

    app.add_middleware(Guard, allowed_hosts=[*LOOPBACK_HOSTS, *allowed_hosts], token=token,
                       max_body=MAX_BODY_BYTES)

    app.include_router(kb.router)
    app.include_router(pathway.router)
    app.include_router(trials.router)
    app.include_router(jobs_router)
    app.include_router(network.router)
    app.include_router(ui.router)
    if list_jobs:
        app.include_router(listing_router)
    _optional_routers(app)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(_plotly_js(), media_type="text/javascript")

    def page(name: str):
        def serve() -> HTMLResponse:
            return HTMLResponse((STATIC / name).read_text(encoding="utf-8"))
        return serve

    for route, name in PAGES.items():
        app.get(route, include_in_schema=False, response_class=HTMLResponse)(page(name))

    @app.get("/trials/{trial_id}", include_in_schema=False, response_class=HTMLResponse)
    def trial_page(trial_id: str) -> HTMLResponse:
        return HTMLResponse((STATIC / "trial.html").read_text(encoding="utf-8"))

    return app


def _optional_routers(app: FastAPI) -> None:
    """Synthesis and report endpoints, where this installation has those packages."""
    features = _features()
    if features["synthesis"]:
        from her2lab.api.routes import synthesis

        app.include_router(synthesis.router)
        if features["pooled"]:
            app.include_router(synthesis.pooled_router)
    if features["report"]:
        from her2lab.api.routes import report

        app.state.reports = report.Reports()
        app.include_router(report.router)

