"""The calibration value every virtual-trial entry point takes, how it is fitted
(:func:`calibrate`), and its one file format.

A :class:`Calibration` holds the link's parameters with their covariance, the date of the
evidence it saw (``as_of``), the Monte Carlo settings it was fitted with (:class:`RunSettings`)
and its provenance (the fit, the target table, the date check). The command line, the REST
API, the strategy report and the main job all pass a ``Calibration``, never a dict or a path:

>>> cal = Calibration.read("calibration.json")          # doctest: +SKIP
>>> predict("spec.yaml", cal)                           # doctest: +SKIP  (as_of and settings
...                                                     #   default from cal)

:meth:`Calibration.read` is the only reader of calibration files and :meth:`Calibration.write`
the only writer (a test greps for others). :meth:`Calibration.priors` stands for "no
calibration": the link's priors, no date, the default settings.

:func:`calibrate` collects the targets published on or before ``as_of`` (:mod:`.targets`),
checks that nothing it uses is dated later (targets, prevalence priors: a prior published after
``as_of`` is replaced by the uninformative one, :mod:`.population`), fits the parameters
jointly (:mod:`.fit`) and tabulates every target, reported against expected with its prediction
interval (:mod:`.rows`). It fits coarse to fine: a pilot fit on pathway runs of a sixteenth of
the trajectories (:data:`PILOT_DIVISOR`) and panels of 8 profiles (:data:`PILOT_PANEL`) finds
where the optimum lies, and the fit proper starts
there, so of the TKI potency grid it runs only the points around the optimum at full size
(:class:`.model.RateGrid` fills a point when first read). The calibration is deterministic:
the patient mixture is a quadrature and the optimiser has no random start; the seed enters only
the pathway model's Monte Carlo trajectories (``samples``). The prediction intervals are the
delta method on the Jacobian of the fit's own curvature evaluations (:func:`.rows.rows_for`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from her2lab.errors import DataError, Problem, ValidationError
from her2lab.executor import executor
from her2lab.knowledge import KnowledgeBase, load
from her2lab.virtual_trials.defaults import (
    DEFAULT_SEED,
    PANEL_SIZE,
    PATHWAY_SAMPLES,
    REPLICATES,
    RunSettings,
)
from her2lab.virtual_trials.fit import COARSE_TOL, Fit, fit
from her2lab.virtual_trials.link import GROUPS, KINETICS, PRIORS, SETTING_SD, LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.population import load_prevalence
from her2lab.virtual_trials.rows import TargetRow, rows_for
from her2lab.virtual_trials.targets import Target, targets_from_kb

__all__ = ["N_PARAMS", "PILOT_DIVISOR", "PILOT_PANEL", "Calibration", "RunSettings",
           "calibrate", "date_check"]

N_PARAMS = len(LinkParams.NAMES)
"""The number of link parameters (the covariance is ``N_PARAMS x N_PARAMS``)."""

PILOT_DIVISOR = 16
"""The pilot fit's pathway runs have ``samples / PILOT_DIVISOR`` trajectories (4 times the
Monte Carlo SD): enough to find where the optimum lies, for a sixteenth of the trajectories of
a run at full size (:func:`calibrate`)."""

PILOT_PANEL = 8
"""Tumor profiles per population in the pilot fit (the calibration's panels have
:data:`.defaults.PANEL_SIZE`): the link's work grows with the profiles, and the pilot only has
to find the TKI grid's interval and a start. Measured on the calibration as of 2014-08-12 at
2,500 trajectories, all runs cached, 2 processes: the pilot took 25.5 s at 32 profiles and about
8 s at 8; the fit proper then ends within 0.01 SE of the same optimum (log kill 0.697 against
0.699) in the same 65 evaluations."""

_EXPECTED = "a calibration JSON written by 'her2lab trials calibrate'"


@dataclass(frozen=True, eq=False)
class Calibration:
    """A fitted (or prior) link: what every virtual-trial entry point takes.

    Parameters
    ----------
    params : LinkParams
        The link's parameters.
    cov : numpy.ndarray
        Their ``N_PARAMS x N_PARAMS`` covariance (zeros: no parameter uncertainty).
    as_of : datetime.date or None
        The date of the evidence the calibration saw; the default ``as_of`` of the baselines
        of every prediction made with it. ``None`` for the priors.
    settings : RunSettings
        The Monte Carlo settings it was fitted with (every entry point's default).
    source : str
        A line saying where the parameters come from (shown beside every prediction).
    fit : Fit or None
        The fit (objective, convergence, chi-square by trial); ``None`` for the priors.
    table : tuple of TargetRow
        Every target reported against expected at the fitted parameters.
    dates : dict
        The date check (latest target, priors published after ``as_of``).
    counts : dict
        Targets and trials used, chemotherapy quadrature points (provenance).
    """

    params: LinkParams
    cov: np.ndarray
    as_of: dt.date | None = None
    settings: RunSettings = field(default_factory=RunSettings)
    source: str = "given parameters"
    fit: Fit | None = None
    table: tuple[TargetRow, ...] = ()
    dates: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cov = np.asarray(self.cov, dtype=float)
        if cov.shape != (N_PARAMS, N_PARAMS):
            raise ValueError(f"a calibration's covariance must be {N_PARAMS} x {N_PARAMS}; "
                             f"got shape {cov.shape}")
        object.__setattr__(self, "cov", cov)
        object.__setattr__(self, "table", tuple(self.table))

    # ------------------------------------------------------------------ constructors

    @classmethod
    def priors(cls, settings: RunSettings | None = None) -> Calibration:
        """No calibration: the link's priors (their SDs as the covariance), no date.

        Parameters
        ----------
        settings : RunSettings, optional
            The Monte Carlo settings predictions with it use (default: the defaults).

        Returns
        -------
        Calibration
            The priors' means and a diagonal covariance of their variances; ``as_of`` None.
        """
        sd = [PRIORS[n].sd for n in LinkParams.GLOBAL] + [SETTING_SD.value] * len(GROUPS)
        return cls(LinkParams(), np.diag(np.square(sd)), None, settings or RunSettings(),
                   "priors (no calibration)")

    @classmethod
    def of_params(cls, params: LinkParams, *, as_of: dt.date | None = None,
                  settings: RunSettings | None = None) -> Calibration:
        """Given parameters without uncertainty (a zero covariance).

        Parameters
        ----------
        params : LinkParams
            The link's parameters.
        as_of : datetime.date, optional
            The date of the evidence they stand for (the baselines' default date).
        settings : RunSettings, optional
            The Monte Carlo settings (default: the defaults).

        Returns
        -------
        Calibration
            ``params`` with a zero covariance (prediction intervals without parameter error).
        """
        return cls(params, np.zeros((N_PARAMS, N_PARAMS)), as_of, settings or RunSettings(),
                   "given parameters")

    # ------------------------------------------------------------------ file format

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (:meth:`write`); :meth:`from_dict` reads it back.

        Returns
        -------
        dict
            ``as_of``, ``params``, ``run_settings``, ``source``, ``fit`` (with the covariance),
            the priors and constants used, the date check and the target table.
        """
        out: dict[str, Any] = {
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "seed": self.settings.seed,
            "params": self.params.to_dict(),
            "run_settings": self.settings.to_dict(),
            "source": self.source,
        }
        if self.fit is not None:
            out["fit"] = self.fit.to_dict()
        else:
            out["fit"] = {"cov": self.cov.tolist()}
        out["priors"] = ({k: {"mean": p.mean, "sd": p.sd, "source": p.source}
                          for k, p in PRIORS.items()}
                         | {"setting": {"mean": 0.0, "sd": SETTING_SD.value,
                                        "source": SETTING_SD.source}})
        out["constants"] = {k: {"value": c.value, "source": c.source}
                            for k, c in KINETICS.items()}
        out["settings"] = {"panel_size": self.settings.panel_size,
                           "samples": self.settings.samples, **self.counts}
        out["dates"] = self.dates
        out["table"] = [r.to_dict() for r in self.table]
        return out

    def write(self, path: str | Path) -> Path:
        """Write the calibration as JSON, atomically (the only writer of calibration files).

        Parameters
        ----------
        path : str or Path
            The file to write (replaced whole, or left as it was if writing fails).

        Returns
        -------
        Path
            The file written.
        """
        from her2lab.atomic import atomic_write_text

        text = json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False)
        return atomic_write_text(path, text + "\n")

    @classmethod
    def read(cls, path: str | Path) -> Calibration:
        """Read and validate a calibration file (the only reader).

        Parameters
        ----------
        path : str or Path
            A JSON file written by :meth:`write` (``her2lab trials calibrate``).

        Returns
        -------
        Calibration
            The calibration, its source naming the file.

        Raises
        ------
        ValidationError
            Naming the file, the field and what was expected: not a file, not JSON, a field
            missing, a number that is not finite, a covariance of the wrong size or not
            symmetric positive semi-definite.
        """
        p = Path(path)
        file = str(p)
        if p.is_dir() or not p.is_file():
            found = "a directory" if p.is_dir() else "no such file"
            raise ValidationError([Problem(file, "(file)", _EXPECTED, found)],
                                  f"{file} is not a calibration JSON")
        try:
            data = json.loads(p.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            raise ValidationError([Problem(file, "(file)", _EXPECTED, str(exc), line)],
                                  f"{file} is not a calibration JSON") from None
        return cls.from_dict(data, file=file)

    @classmethod
    def from_dict(cls, data: Any, *, file: str = "(calibration)") -> Calibration:
        """A calibration from its JSON form, validated whole (see :meth:`read`).

        Parameters
        ----------
        data : object
            The parsed JSON (a mapping as :meth:`to_dict` gives).
        file : str, optional
            The name problems are reported under.

        Returns
        -------
        Calibration
            The calibration.

        Raises
        ------
        ValidationError
            Naming the field and what was expected.
        """
        import pydantic

        from her2lab.yamlio import YamlDocument, problems_from_pydantic

        schema = _schema()
        try:
            doc = schema.model_validate(data)
        except pydantic.ValidationError as exc:
            raise ValidationError(
                problems_from_pydantic(exc, schema, YamlDocument(file, data, None)),
                f"{file} is not a valid calibration JSON (as written by "
                "'her2lab trials calibrate')") from None
        cov = np.array(doc.fit.cov, dtype=float)
        problem = _covariance_problem(cov)
        if problem:
            raise ValidationError([Problem(file, "fit.cov", "a symmetric positive "
                                           f"semi-definite {N_PARAMS} x {N_PARAMS} matrix",
                                           problem)],
                                  f"{file} is not a valid calibration JSON")
        p = doc.params
        try:
            params = LinkParams(p.log_kill, p.log_targeted, p.log_resistance, p.tki_offset,
                                tuple(sorted(p.setting.items())))
        except ValueError as exc:
            raise ValidationError([Problem(file, "params", "the link's parameters", str(exc))],
                                  f"{file} is not a valid calibration JSON") from None
        run = doc.run_settings
        legacy = doc.settings or {}
        try:
            settings = RunSettings(
                samples=run.samples if run else int(legacy.get("samples", PATHWAY_SAMPLES)),
                panel_size=(run.panel_size if run
                            else int(legacy.get("panel_size", PANEL_SIZE))),
                replicates=run.replicates if run else REPLICATES,
                seed=run.seed if run else (doc.seed if doc.seed is not None else DEFAULT_SEED))
        except (TypeError, ValueError) as exc:
            raise ValidationError([Problem(file, "run_settings", "positive integers", str(exc))],
                                  f"{file} is not a valid calibration JSON") from None
        f = doc.fit
        fitted = None
        if f.objective is not None:
            fitted = Fit(params, float(f.objective), cov, int(f.evaluations or 0),
                         bool(True if f.converged is None else f.converged),
                         str(f.message or ""), dict(f.chi2_by_trial or {}))
        source = doc.source or (f"calibration as of {doc.as_of}" if doc.as_of
                                else "given parameters")
        if file != "(calibration)":
            source = f"{source} ({Path(file).name})"
        rows = []
        for i, r in enumerate(doc.table or []):
            try:
                rows.append(TargetRow(**r))
            except TypeError as exc:
                raise ValidationError([Problem(file, f"table.{i}", "a target row", str(exc))],
                                      f"{file} is not a valid calibration JSON") from None
        counts = {k: int(v) for k, v in legacy.items()
                  if k in ("targets", "trials", "chemo_points") and isinstance(v, int)}
        return cls(params, cov, doc.as_of, settings, source, fitted, tuple(rows),
                   dict(doc.dates or {}), counts)


def date_check(as_of: dt.date, targets: list[Target]) -> dict[str, Any]:
    """What a calibration as of ``as_of`` uses, with dates: every target on or before it, and
    the prevalence priors published later (replaced by the uninformative one)."""
    late = [f"{t.trial}/{t.outcome}" for t in targets if t.published > as_of]
    if late:
        raise DataError(f"targets published after {as_of}: {late}")
    priors_late = load_prevalence().dated_after(as_of)
    return {"as_of": as_of.isoformat(), "targets_latest": max(
        (t.published for t in targets), default=as_of).isoformat(),
        "prevalence_priors_after_as_of_replaced": priors_late}


def calibrate(
    as_of: dt.date,
    *,
    settings: RunSettings | None = None,
    kb: KnowledgeBase | None = None,
    model: TrialModel | None = None,
    progress: Callable[[str, int, int], Any] | None = None,
    workers: int | None = None,
) -> Calibration:
    """Fit the link to every target published on or before ``as_of``.

    Parameters
    ----------
    as_of : datetime.date
        The date of the evidence: only results published on or before it are used.
    settings : RunSettings, optional
        Monte Carlo settings (trajectories, panel, seed); stored in the result, so every
        prediction made with the calibration uses them by default.
    kb : KnowledgeBase, optional
        The knowledge base (default: the shipped one).
    model : TrialModel, optional
        A ready trial model (tests pass fakes); by default one built for ``settings``.
    progress : callable, optional
        ``progress(stage, done, total)`` as work advances (for a progress bar).
    workers : int, optional
        More than 1: the fit's finite differences on that many
        local processes (the same result).

    Returns
    -------
    Calibration
        Parameters, covariance, ``as_of``, the settings, the fit and the target table.
    """
    settings = settings or RunSettings()
    kb = kb or load()
    targets = targets_from_kb(kb, as_of)
    if not targets:
        raise DataError(f"no trial result in the knowledge base is dated on or before {as_of}")
    dates = date_check(as_of, targets)
    model = model or TrialModel.for_settings(settings)
    with executor("processes" if workers and workers > 1 else "serial",
                  workers=workers if workers and workers > 1 else None) as ex:
        # coarse to fine: a pilot fit on rates of PILOT_DIVISOR times fewer trajectories finds
        # where the optimum lies; the fit proper starts there, so its TKI offsets stay near it
        # and only the pathway runs around it are made at full size (model.prefetch)
        pilot = fit(targets, model.coarse(PILOT_DIVISOR, PILOT_PANEL), uncertainty=False,
                    tol=COARSE_TOL, executor=ex)
        fitted = fit(targets, model, start=pilot.params, progress=progress, executor=ex)
        # prediction intervals by the delta method, on the fit's own curvature evaluations
        table = rows_for(targets, fitted.params, fitted.cov, model,
                         jacobian=fitted.curvature.predictions, executor=ex)
    return Calibration(
        params=fitted.params, cov=fitted.cov, as_of=as_of,
        settings=settings.with_(samples=model.rates.samples, panel_size=model.panel_size),
        source=f"calibration as of {as_of}", fit=fitted, table=tuple(table), dates=dates,
        counts={"chemo_points": model.chemo_points, "targets": len(targets),
                "trials": len({t.trial for t in targets})},
    )


def _covariance_problem(cov: np.ndarray) -> str | None:
    bad = np.argwhere(~np.isfinite(cov))
    if bad.size:
        i, j = (int(x) for x in bad[0])
        x = float(cov[i, j])
        word = "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
        return f"{word} at row {i + 1}, column {j + 1}: not a finite number"
    if not np.allclose(cov, cov.T, rtol=1e-8, atol=1e-12):
        return "a matrix that is not symmetric"
    w = np.linalg.eigvalsh((cov + cov.T) / 2)
    scale = max(float(np.max(np.abs(w))), 1e-300)
    if float(w.min()) < -1e-9 * scale:
        return f"a negative eigenvalue ({float(w.min()):.3g})"
    return None


@functools.cache
def _schema() -> Any:
    """The pydantic schema of the file (built once, on first use)."""
    import pydantic
    from pydantic import BaseModel, ConfigDict, Field

    from her2lab.yamlio import field_error

    number = {"strict": True, "allow_inf_nan": False}
    bound = 700.0  # exp() of a larger log parameter overflows a float

    class Params(BaseModel):
        model_config = ConfigDict(extra="allow")
        log_kill: float = Field(ge=-bound, le=bound, **number)
        log_targeted: float = Field(0.0, ge=-bound, le=bound, **number)
        log_resistance: float = Field(ge=-bound, le=bound, **number)
        tki_offset: float = Field(ge=-bound, le=bound, **number)
        setting: dict[str, float] = Field(default_factory=dict)

        @pydantic.field_validator("setting")
        @classmethod
        def _groups(cls, v: dict[str, float]) -> dict[str, float]:
            for k, x in v.items():
                if k not in GROUPS:
                    raise field_error((k,), f"a setting group ({', '.join(GROUPS)})", repr(k))
                if not math.isfinite(x) or abs(x) > bound:
                    raise field_error((k,), f"a finite number within ±{bound:g}", repr(x))
            return v

    class FitPart(BaseModel):
        model_config = ConfigDict(extra="allow")
        cov: list[list[float]]
        objective: float | None = None
        evaluations: int | None = None
        converged: bool | None = None
        message: str | None = None
        chi2_by_trial: dict[str, float] | None = None

        @pydantic.field_validator("cov")
        @classmethod
        def _square(cls, v: list[list[float]]) -> list[list[float]]:
            if len(v) != N_PARAMS or any(len(r) != N_PARAMS for r in v):
                raise field_error((), f"a {N_PARAMS} x {N_PARAMS} covariance matrix",
                                  f"{len(v)} rows")
            return v

    class Run(BaseModel):
        model_config = ConfigDict(extra="forbid")
        samples: int = Field(ge=1, strict=True)
        panel_size: int = Field(ge=1, strict=True)
        replicates: int = Field(REPLICATES, ge=1, strict=True)
        seed: int = Field(ge=0, lt=2**32, strict=True)

    class CalibrationFile(BaseModel):
        model_config = ConfigDict(extra="allow")
        as_of: dt.date | None
        seed: int | None = Field(None, ge=0, lt=2**32)
        params: Params
        fit: FitPart
        run_settings: Run | None = None
        settings: dict[str, Any] | None = None
        source: str | None = None
        dates: dict[str, Any] | None = None
        table: list[dict[str, Any]] | None = None

    return CalibrationFile
