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
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from her2lab.api.errors import ApiError, clean_json, problem
from her2lab.api.routes.pathway import JobOut
from her2lab.errors import DataError
from her2lab.virtual_trials import TrialSpec

router = APIRouter(tags=["virtual trials"])

NOTICE = "Research tool: simulated results, not medical advice."
MAX_ARM_N = 2_000
MAX_ARMS = 6


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _RunSettings(_Body):
    calibration: str = Field(default="default", max_length=100,
                             description="Name of a calibration (GET /api/calibrations).")
    replicates: int = Field(default=10, ge=1, le=20, description="Simulated copies of the trial.")
    seed: int = Field(default=20140812, ge=0, le=2**31 - 1)
    samples: int = Field(default=300, ge=50, le=1000, description="Pathway trajectories.")
    panel: int = Field(default=16, ge=4, le=32, description="Tumor profiles per population.")


class SimulateTrialIn(_RunSettings):
    trial: str = Field(min_length=1, max_length=100, examples=["cleopatra"],
                       description="A trial of the knowledge base (ID, name, alias or NCT).")


class PredictIn(_RunSettings):
    spec: TrialSpec


class DesignIn(_Body):
    spec: TrialSpec
    calibration: str = Field(default="default", max_length=100)
    power: float = Field(default=0.8, gt=0, lt=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    replicates: int = Field(default=100, ge=20, le=400, description="Simulated trials per size.")
    seed: int = Field(default=20140812, ge=0, le=2**31 - 1)
    samples: int = Field(default=300, ge=50, le=1000)
    panel: int = Field(default=16, ge=4, le=32)


class CalibrateIn(_Body):
    as_of: dt.date = Field(description="Fit to results published on or before this date.",
                           examples=["2014-08-12"])
    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,60}$")
    seed: int = Field(default=20140812, ge=0, le=2**31 - 1)
    panel: int = Field(default=16, ge=4, le=32)
    samples: int = Field(default=300, ge=50, le=1000)
    bootstrap: int = Field(default=10, ge=0, le=100)


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
    notice: str = NOTICE


class CalibrationOut(BaseModel):
    name: str
    source: str = Field(description="prior, file or job")
    as_of: dt.date | None = None
    params: dict[str, Any]
    detail: dict[str, Any] | None = Field(
        default=None, description="The calibration's JSON (fit table, intervals, ...).")


def _trial_module():
    from her2lab.virtual_trials import trial

    return trial


def _typed() -> bool:
    """Whether the installed virtual trials take a calibration object (typed results)."""
    return hasattr(_trial_module(), "simulate_trial")


@dataclasses.dataclass
class _Entry:
    info: CalibrationOut
    obj: Any
    """What the library's simulations take as their calibration."""


class Calibrations:
    """Named calibrations (thread-safe): the library object for each, and its description."""

    def __init__(self) -> None:
        from her2lab.virtual_trials.link import LinkParams

        self._lock = threading.Lock()
        if _typed():
            obj, params = None, _trial_module().ParameterSet.priors().params.to_dict()
        else:
            obj, params = LinkParams(), LinkParams().to_dict()
        self._items: dict[str, _Entry] = {
            "default": _Entry(CalibrationOut(name="default", source="prior",
                                             params=clean_json(params)), obj)}

    def add(self, info: CalibrationOut, obj: Any) -> None:
        with self._lock:
            self._items[info.name] = _Entry(info, obj)

    def add_file(self, path: Path) -> CalibrationOut:
        from her2lab.virtual_trials.link import LinkParams

        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            as_of = dt.date.fromisoformat(d["as_of"])
            params = dict(d["params"])
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: expected a calibration JSON written by 'her2lab trials "
                            f"calibrate' (with 'as_of' and 'params'); {exc}") from None
        obj = _trial_module().load_parameters(path) if _typed() else LinkParams(**params)
        info = CalibrationOut(name=f"as-of-{as_of}", source="file", as_of=as_of,
                              params=clean_json(params), detail=clean_json(d))
        self.add(info, obj)
        return info

    def add_calibration(self, name: str, cal: Any) -> CalibrationOut:
        """A calibration computed here (``her2lab.virtual_trials.calibrate.calibrate``)."""
        d = clean_json(cal.to_dict())
        info = CalibrationOut(name=name, source="job", as_of=cal.as_of, params=d["params"],
                              detail=d)
        self.add(info, cal if _typed() else cal.params)
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

    def obj(self, name: str) -> Any:
        return self._entry(name).obj

    def list(self) -> list[CalibrationOut]:
        return [e.info.model_copy(update={"detail": None}) for e in self._items.values()]


def _as_dict(x: Any) -> dict[str, Any]:
    if isinstance(x, dict):
        return x
    if hasattr(x, "to_dict"):
        return x.to_dict()
    if dataclasses.is_dataclass(x):
        return dataclasses.asdict(x)
    raise TypeError(f"cannot serialise {type(x).__name__}")


def _params(request: Request, name: str) -> Any:
    return request.app.state.calibrations.obj(name)


def _check_spec(spec: TrialSpec, field: str = "spec") -> TrialSpec:
    from her2lab.virtual_trials import resolve_spec

    if len(spec.arms) > MAX_ARMS:
        raise ApiError(422, f"a specification has at most {MAX_ARMS} arms; got {len(spec.arms)}",
                       [problem(f"{field}.arms", f"at most {MAX_ARMS} arms", len(spec.arms))])
    for i, a in enumerate(spec.arms):
        if a.n > MAX_ARM_N:
            raise ApiError(422, f"an arm has at most {MAX_ARM_N} patients; got {a.n}",
                           [problem(f"{field}.arms[{i}].n", f"at most {MAX_ARM_N}", a.n)])
    return resolve_spec(spec)


def _trial_out(res: Any, calibration: str) -> VirtualTrialOut:
    d = clean_json(_as_dict(res))
    d.setdefault("effect", None)
    return VirtualTrialOut(**{**d, "calibration": calibration, "notice": NOTICE})


def _run(plan, request: Request, body: _RunSettings) -> VirtualTrialOut:
    from her2lab.virtual_trials.trial import run_trial

    params = _params(request, body.calibration)
    with request.app.state.slots.acquire():
        res = run_trial(plan, params, replicates=body.replicates, seed=body.seed,
                        samples=body.samples, panel_size=body.panel)
    return _trial_out(res, body.calibration)


@router.post("/api/virtual-trials/simulate", response_model=VirtualTrialOut)
def simulate_trial(body: SimulateTrialIn, request: Request) -> VirtualTrialOut:
    """Simulate a trial of the knowledge base from the pathway model."""
    from her2lab.virtual_trials.trial import TrialPlan

    return _run(TrialPlan.from_kb(body.trial), request, body)


@router.post("/api/virtual-trials/predict", response_model=VirtualTrialOut)
def predict(body: PredictIn, request: Request) -> VirtualTrialOut:
    """Predict a new trial from its specification (setting, population, arms, endpoint)."""
    from her2lab.virtual_trials.trial import TrialPlan

    return _run(TrialPlan.from_spec(_check_spec(body.spec)), request, body)


@router.post("/api/virtual-trials/design", response_model=JobOut, status_code=202)
def design(body: DesignIn, request: Request) -> JobOut:
    """Patients per arm for a power, by simulation beside the closed-form answer, as a
    background job (poll ``/api/jobs/{id}``). The specification needs two arms."""
    from her2lab.virtual_trials.trial import TrialPlan, design_trial

    spec = _check_spec(body.spec)
    if len(spec.arms) != 2:
        raise ApiError(422, f"a design compares two arms; got {len(spec.arms)}",
                       [problem("spec.arms", "exactly two arms", len(spec.arms))])
    plan = TrialPlan.from_spec(spec)
    params = _params(request, body.calibration)

    def work(job) -> dict[str, Any]:
        job.report("simulating trials of increasing size", 0, 1)
        res = _as_dict(design_trial(plan, params, power=body.power, alpha=body.alpha,
                                    replicates=body.replicates, seed=body.seed,
                                    samples=body.samples, panel_size=body.panel))
        job.report("simulating trials of increasing size", 1, 1)
        return {**res, "calibration": body.calibration, "notice": NOTICE}

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
    from her2lab.virtual_trials.calibrate import calibrate as run

    store: Calibrations = request.app.state.calibrations
    name = body.name or f"as-of-{body.as_of}"
    if name in store.names():
        raise ApiError(409, f"a calibration named {name!r} exists; give another 'name'",
                       [problem("name", "a name not yet used", name)], error="Conflict")

    def work(job) -> dict[str, Any]:
        try:
            cal = run(body.as_of, seed=body.seed, panel_size=body.panel, samples=body.samples,
                      bootstrap_reps=body.bootstrap, progress=job.report)
        except ValueError as exc:  # no result dated on or before as_of (earlier versions)
            raise DataError(str(exc)) from None
        info = store.add_calibration(name, cal)
        return {"name": name, "params": info.params, "as_of": str(info.as_of)}

    return JobOut(**request.app.state.jobs.submit("calibration", work).to_dict())


