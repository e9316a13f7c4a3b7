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
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from her2lab.api.errors import ApiError, clean_json, problem
from her2lab.api.routes.pathway import JobOut
from her2lab.errors import DataError, SimulationError
from her2lab.virtual_trials import TrialSpec

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
    spec: StrictSpec


class DesignIn(_Body):
    spec: StrictSpec
    calibration: str = Field(default="default", max_length=100)
    power: float = Field(default=0.8, ge=0.5, le=0.99, description="Target power.")
    alpha: float = Field(default=0.05, ge=1e-4, le=0.2,
                         description="Two-sided significance level.")
    replicates: int = Field(default=100, ge=20, le=400, description="Simulated trials per size.")
    seed: int = Field(default=20140812, ge=0, le=2**31 - 1)
    samples: int = Field(default=300, ge=50, le=1000)
    panel: int = Field(default=16, ge=4, le=32)


class CalibrateIn(_Body):
    as_of: dt.date = Field(description="Fit to results published on or before this date.",
                           examples=["2014-08-12"], strict=False)
    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,60}$")
    seed: int = Field(default=20140812, ge=0, le=2**31 - 1)
    panel: int = Field(default=16, ge=4, le=32)
    samples: int = Field(default=300, ge=50, le=1000)
    bootstrap: int = Field(default=10, ge=0, le=100)


class Curve(BaseModel):
    time: list[float]
    survival: list[float]


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


def _trial_out(res: Any, calibration: str) -> VirtualTrialOut:
    d = clean_json(_as_dict(res))
    d.setdefault("effect", None)
    return VirtualTrialOut(**{**d, "calibration": calibration, "notice": NOTICE})


async def _run(make_plan, request: Request, body: _RunSettings) -> VirtualTrialOut:
    """The trial in a simulation slot (429 at once when every slot and its queue are full)."""
    from her2lab.virtual_trials.trial import run_trial

    params = _params(request, body.calibration)

    def work():
        return run_trial(make_plan(), params, replicates=body.replicates, seed=body.seed,
                         samples=body.samples, panel_size=body.panel)

    return _trial_out(await request.app.state.slots.run(work), body.calibration)


@router.post("/api/virtual-trials/simulate", response_model=VirtualTrialOut)
async def simulate_trial(body: SimulateTrialIn, request: Request) -> VirtualTrialOut:
    """Simulate a trial of the knowledge base from the pathway model."""
    from her2lab.virtual_trials.trial import TrialPlan

    return await _run(lambda: TrialPlan.from_kb(body.trial), request, body)


@router.post("/api/virtual-trials/predict", response_model=VirtualTrialOut)
async def predict(body: PredictIn, request: Request) -> VirtualTrialOut:
    """Predict a new trial from its specification (setting, population, arms, endpoint); at
    most :data:`MAX_ARM_N` patients per arm, as in a design."""
    from her2lab.virtual_trials.trial import TrialPlan

    spec = _check_spec(body.spec)  # a bad specification is refused before it takes a slot
    return await _run(lambda: TrialPlan.from_spec(spec), request, body)


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
        job.report("pathway simulations of the arms", 0, 1)
        try:
            res = _as_dict(design_trial(plan, params, power=body.power, alpha=body.alpha,
                                        replicates=body.replicates, seed=body.seed,
                                        samples=body.samples, panel_size=body.panel,
                                        n_max=MAX_ARM_N, progress=job.report))
        except SimulationError as exc:
            if f"n_max={MAX_ARM_N}" not in str(exc):
                raise
            raise SimulationError(
                f"no size up to {MAX_ARM_N} patients per arm (the bound of predict and design "
                f"alike) reaches the power {body.power}: {exc}".replace(
                    ", or raise n_max", "")) from None
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


