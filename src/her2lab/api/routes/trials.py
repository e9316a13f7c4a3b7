"""``/api/virtual-trials`` and ``/api/calibrations``: virtual trials on the pathway model.

Simulate a trial of the knowledge base, predict a new one from a specification (the library's
:class:`~her2lab.virtual_trials.TrialSpec`, as JSON), design one (patients per arm for a power,
as a background job), and calibrations as named resources: ``default`` (the priors' centres),
any calibration file the server was started with, and those computed through the API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

import her2lab.virtual_trials as vt
from her2lab.api.errors import ApiError, clean_json, problem
from her2lab.api.routes.pathway import JobOut
from her2lab.errors import DataError, SimulationError
from her2lab.virtual_trials import TrialSpec
from her2lab.virtual_trials.calibration import Calibration
from her2lab.virtual_trials.defaults import (
    DEFAULT_SEED,
    PANEL_SIZE,
    PATHWAY_SAMPLES,
    RunSettings,
)
from her2lab.virtual_trials.trial import TrialResult, plan_of_spec

router = APIRouter(tags=["virtual trials"])

NOTICE = "Research tool: simulated results, not medical advice."
MAX_ARM_N = 10_000
"""Patients per arm, in a prediction and in a design's search alike (the largest adjuvant
trials randomised about 2,400 per arm; a simulated replicate of 10,000 per arm takes well
under a second)."""
MAX_ARMS = 6
MAX_MONTHS = 600.0
"""Longest duration (months) a specification may give: 50 years."""
MAX_CYCLES = 1_000


def _strict_spec(value: Any) -> Any:
    """A specification validated strictly, as JSON: ``true`` is not a number, ``"12"`` not 12,
    and a number must be finite."""
    if isinstance(value, TrialSpec):
        return value
    bad = _not_finite(value)
    if bad:
        raise ValueError(f"{bad}: a number must be finite (not NaN or Infinity)")
    return TrialSpec.model_validate_json(json.dumps(value), strict=True)


def _not_finite(value: Any, at: str = "spec") -> str | None:
    """Where the first NaN or infinity in ``value`` is (``spec.control_median_months``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return at
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(
        value, list) else ()
    for k, v in items:
        found = _not_finite(v, f"{at}[{k}]" if isinstance(k, int) else f"{at}.{k}")
        if found:
            return found
    return None


StrictSpec = Annotated[TrialSpec, BeforeValidator(_strict_spec)]


class _Body(BaseModel):
    """Strict: a number must be a JSON number (``true`` is not 1), and no unnamed field."""

    model_config = ConfigDict(extra="forbid", strict=True)


INTERACTIVE_CAP = RunSettings(samples=1000, panel_size=16, replicates=20, seed=0)
"""The most a synchronous request runs (samples, panel, replicates): a calibration's own
settings above these are lowered to them for the request, and the response says so."""

_DEFAULT_NOTE = "default: the calibration's, capped for interactive requests"


class _RunSettings(_Body):
    calibration: str = Field(default="default", max_length=100,
                             description="Name of a calibration (GET /api/calibrations).")
    replicates: int | None = Field(default=None, ge=1, le=INTERACTIVE_CAP.replicates,
                                   description=f"Simulated copies of the trial ({_DEFAULT_NOTE}).")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1,
                             description="Random seed (default: the calibration's).")
    samples: int | None = Field(default=None, ge=50, le=INTERACTIVE_CAP.samples,
                                description=f"Pathway trajectories ({_DEFAULT_NOTE}).")
    panel: int | None = Field(default=None, ge=4, le=INTERACTIVE_CAP.panel_size,
                              description=f"Tumor profiles per population ({_DEFAULT_NOTE}).")


class SimulateTrialIn(_RunSettings):
    trial: str = Field(min_length=1, max_length=100, examples=["cleopatra"],
                       description="A trial of the knowledge base (ID, name, alias or NCT).")


class PredictIn(_RunSettings):
    spec: StrictSpec


class DesignIn(_Body):
    spec: StrictSpec
    calibration: str = Field(default="default", max_length=100)
    power: float = Field(default=0.8, ge=0.5, le=0.99, description="Target power.")
    alpha: float = Field(default=0.05, ge=1e-4, le=0.2,
                         description="Two-sided significance level.")
    replicates: int = Field(default=100, ge=20, le=400, description="Simulated trials per size.")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    samples: int | None = Field(default=None, ge=50, le=INTERACTIVE_CAP.samples)
    panel: int | None = Field(default=None, ge=4, le=INTERACTIVE_CAP.panel_size)


class CalibrateIn(_Body):
    as_of: dt.date = Field(description="Fit to results published on or before this date.",
                           examples=["2014-08-12"], strict=False)
    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,60}$")
    seed: int = Field(default=DEFAULT_SEED, ge=0, le=2**31 - 1)
    panel: int = Field(default=PANEL_SIZE, ge=4, le=PANEL_SIZE)
    samples: int = Field(default=PATHWAY_SAMPLES, ge=50, le=PATHWAY_SAMPLES)


class Curve(BaseModel):
    time: list[float]
    survival: list[float]
    at_risk: list[int] | None = Field(
        default=None, description="Patients at risk at each time (time to event or censoring "
        "at or after it): the numbers at risk under a Kaplan-Meier plot.")


class VirtualTrialOut(BaseModel):
    """A simulated trial: the first replicate's arms and effect, every statistic over the
    replicates, Kaplan-Meier curves (time to event)."""

    model_config = ConfigDict(extra="allow")

    trial: str
    endpoint: str
    control: str
    arms: list[dict[str, Any]]
    effect: dict[str, Any] | None
    replicates: dict[str, Any]
    settings: dict[str, Any]
    params: dict[str, Any]
    curves: dict[str, Curve] | None = None
    calibration: str
    settings_note: str | None = Field(
        default=None, description="How the run settings differ from the calibration's.")
    notice: str = NOTICE


class CalibrationOut(BaseModel):
    name: str
    source: str = Field(description="prior, file or job")
    as_of: dt.date | None = None
    params: dict[str, Any]
    detail: dict[str, Any] | None = Field(
        default=None, description="The calibration's JSON (fit table, intervals, ...).")


@dataclasses.dataclass
class _Entry:
    info: CalibrationOut
    obj: Calibration
    """What the library's simulations take as their calibration."""


class Calibrations:
    """Named calibrations (thread-safe): the :class:`Calibration` of each, and its
    description. ``default`` is the link's priors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        prior = Calibration.priors()
        self._items: dict[str, _Entry] = {
            "default": _Entry(CalibrationOut(name="default", source="prior",
                                             params=clean_json(prior.params.to_dict())),
                              prior)}

    def add(self, info: CalibrationOut, obj: Calibration) -> None:
        with self._lock:
            self._items[info.name] = _Entry(info, obj)

    def add_file(self, path: Path) -> CalibrationOut:
        """A calibration file (``her2lab trials calibrate``), named ``as-of-DATE``."""
        cal = Calibration.read(path)
        if cal.as_of is None:
            raise DataError(f"{path}: a calibration file without 'as_of' cannot be offered "
                            "by date; run 'her2lab trials calibrate --as-of DATE'")
        return self._add(f"as-of-{cal.as_of}", "file", cal)

    def add_calibration(self, name: str, cal: Calibration) -> CalibrationOut:
        """A calibration computed here (:func:`her2lab.virtual_trials.calibrate`)."""
        return self._add(name, "job", cal)

    def _add(self, name: str, source: str, cal: Calibration) -> CalibrationOut:
        d = clean_json(cal.to_dict())
        info = CalibrationOut(name=name, source=source, as_of=cal.as_of,
                              params=clean_json(cal.params.to_dict()), detail=d)
        self.add(info, cal)
        return info

    def names(self) -> list[str]:
        return list(self._items)

    def _entry(self, name: str) -> _Entry:
        try:
            return self._items[name]
        except KeyError:
            from her2lab.errors import UnknownIdError

            raise UnknownIdError("calibration", name, list(self._items)) from None

    def get(self, name: str) -> CalibrationOut:
        return self._entry(name).info

    def obj(self, name: str) -> Calibration:
        return self._entry(name).obj

    def list(self) -> list[CalibrationOut]:
        return [e.info.model_copy(update={"detail": None}) for e in self._items.values()]


def _calibration(request: Request, name: str) -> Calibration:
    return request.app.state.calibrations.obj(name)


def _settings(cal: Calibration, body: _RunSettings | DesignIn) -> tuple[RunSettings, str | None]:
    return run_settings(cal, seed=body.seed, samples=body.samples, panel_size=body.panel,
                        replicates=body.replicates if isinstance(body, _RunSettings) else None)


def run_settings(cal: Calibration, *, seed: int | None = None, samples: int | None = None,
                 panel_size: int | None = None, replicates: int | None = None
                 ) -> tuple[RunSettings, str | None]:
    """A request's run settings: the calibration's, with what the request gave changed,
    lowered to :data:`INTERACTIVE_CAP` (and a note saying what was lowered)."""
    run = cal.settings.with_(seed=seed, samples=samples, panel_size=panel_size,
                             replicates=replicates)
    lowered = {k: (getattr(run, k), getattr(INTERACTIVE_CAP, k))
               for k in ("samples", "panel_size", "replicates")
               if getattr(run, k) > getattr(INTERACTIVE_CAP, k)}
    if not lowered:
        return run, None
    run = run.with_(**{k: cap for k, (_, cap) in lowered.items()})
    note = ("lowered for an interactive request from the calibration's settings: " + ", ".join(
        f"{k} {v} -> {cap}" for k, (v, cap) in lowered.items())
        + "; run 'her2lab trials predict' for the calibration's own")
    return run, note


def _check_spec(spec: TrialSpec, field: str = "spec") -> TrialSpec:
    from her2lab.virtual_trials import resolve_spec

    if len(spec.arms) > MAX_ARMS:
        raise ApiError(422, f"a specification has at most {MAX_ARMS} arms; got {len(spec.arms)}",
                       [problem(f"{field}.arms", f"at most {MAX_ARMS} arms", len(spec.arms))])
    for i, a in enumerate(spec.arms):
        if a.n > MAX_ARM_N:
            raise ApiError(422, f"an arm has at most {MAX_ARM_N} patients; got {a.n}",
                           [problem(f"{field}.arms[{i}].n", f"at most {MAX_ARM_N}", a.n)])
        for j, ph in enumerate(a.schedule or ()):
            if ph.cycles is not None and ph.cycles > MAX_CYCLES:
                raise ApiError(422, f"a phase has at most {MAX_CYCLES} cycles; got {ph.cycles}",
                               [problem(f"{field}.arms[{i}].schedule[{j}].cycles",
                                        f"at most {MAX_CYCLES}", ph.cycles)])
    for name in ("follow_up_months", "landmark_months", "accrual_months",
                 "control_median_months", "control_pfs_median_months"):
        v = getattr(spec, name, None)
        if v is not None and not (math.isfinite(v) and v <= MAX_MONTHS):
            raise ApiError(422, f"{name}: at most {MAX_MONTHS:g} months; got {v!r}",
                           [problem(f"{field}.{name}", f"a duration of at most {MAX_MONTHS:g} "
                                    "months", v)])
    return resolve_spec(spec)


def _trial_out(res: TrialResult, calibration: str, note: str | None) -> VirtualTrialOut:
    d = clean_json(res.to_dict())
    d.setdefault("effect", None)
    return VirtualTrialOut(**{**d, "calibration": calibration, "settings_note": note,
                              "notice": NOTICE})


async def _run(run: Callable[[Calibration, RunSettings], TrialResult], request: Request,
               body: _RunSettings) -> VirtualTrialOut:
    """The trial in a simulation slot (429 at once when every slot and its queue are full):
    ``run(calibration, settings)`` there (baselines as of the calibration's date)."""
    cal = _calibration(request, body.calibration)
    settings, note = _settings(cal, body)

    def work() -> TrialResult:
        return run(cal, settings)

    return _trial_out(await request.app.state.slots.run(work), body.calibration, note)


@router.post("/api/virtual-trials/simulate", response_model=VirtualTrialOut)
async def simulate_trial(body: SimulateTrialIn, request: Request) -> VirtualTrialOut:
    """Simulate a trial of the knowledge base from the pathway model."""
    return await _run(lambda cal, run: vt.simulate(body.trial, cal, settings=run), request,
                      body)


@router.post("/api/virtual-trials/predict", response_model=VirtualTrialOut)
async def predict(body: PredictIn, request: Request) -> VirtualTrialOut:
    """Predict a new trial from its specification (setting, population, arms, endpoint); at
    most :data:`MAX_ARM_N` patients per arm, as in a design."""
    spec = _check_spec(body.spec)  # a bad specification is refused before it takes a slot
    return await _run(lambda cal, run: vt.predict(spec, cal, settings=run), request, body)


@router.post("/api/virtual-trials/design", response_model=JobOut, status_code=202)
def design(body: DesignIn, request: Request) -> JobOut:
    """Patients per arm for a power, by simulation beside the closed-form answer, as a
    background job (poll ``/api/jobs/{id}``). The specification needs two arms."""
    spec = _check_spec(body.spec)
    if len(spec.arms) != 2:
        raise ApiError(422, f"a design compares two arms; got {len(spec.arms)}",
                       [problem("spec.arms", "exactly two arms", len(spec.arms))])
    cal = _calibration(request, body.calibration)
    plan = plan_of_spec(spec, cal)
    settings, note = _settings(cal, body)

    def work(job) -> dict[str, Any]:
        job.report("pathway simulations of the arms", 0, 1)
        try:
            res = vt.design(plan, cal, power=body.power, alpha=body.alpha,
                            replicates=body.replicates, settings=settings,
                            n_max=MAX_ARM_N, progress=job.report).to_dict()
        except SimulationError as exc:
            if f"n_max={MAX_ARM_N}" not in str(exc):
                raise
            raise SimulationError(
                f"no size up to {MAX_ARM_N} patients per arm (the bound of predict and design "
                f"alike) reaches the power {body.power}: {exc}".replace(
                    ", or raise n_max", "")) from None
        return {**res, "calibration": body.calibration, "settings_note": note,
                "notice": NOTICE}

    return JobOut(**request.app.state.jobs.submit("design", work).to_dict())


@router.get("/api/virtual-trials/examples", response_model=dict[str, TrialSpec])
def examples() -> dict[str, TrialSpec]:
    """The shipped example specifications, by name."""
    from her2lab.virtual_trials.spec import example_specs, load_spec

    return {name: load_spec(path) for name, path in example_specs().items()}


@router.get("/api/calibrations", response_model=list[CalibrationOut])
def calibrations(request: Request) -> list[CalibrationOut]:
    """Every named calibration (without the detail)."""
    return request.app.state.calibrations.list()


@router.get("/api/calibrations/{name}", response_model=CalibrationOut)
def calibration(name: str, request: Request) -> CalibrationOut:
    return request.app.state.calibrations.get(name)


@router.post("/api/calibrations", response_model=JobOut, status_code=202)
def calibrate(body: CalibrateIn, request: Request) -> JobOut:
    """Fit the link to the knowledge base's results as of a date, as a background job; when
    done it is a named calibration (``as-of-DATE`` unless a name is given)."""
    store: Calibrations = request.app.state.calibrations
    name = body.name or f"as-of-{body.as_of}"
    if name in store.names():
        raise ApiError(409, f"a calibration named {name!r} exists; give another 'name'",
                       [problem("name", "a name not yet used", name)], error="Conflict")

    def work(job) -> dict[str, Any]:
        # no result dated on or before as_of: calibrate's DataError, the job's failure
        cal = vt.calibrate(body.as_of, settings=RunSettings(
            samples=body.samples, panel_size=body.panel, seed=body.seed), progress=job.report)
        info = store.add_calibration(name, cal)
        return {"name": name, "params": info.params, "as_of": str(info.as_of)}

    return JobOut(**request.app.state.jobs.submit("calibration", work).to_dict())


