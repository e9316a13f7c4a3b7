"""``her2lab trials ...``: virtual clinical trials (calibrate, validate, simulate, design)."""

from __future__ import annotations

import datetime as dt
import json
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from her2lab.cli._io import (
    LazyConsole,
    as_of_date,
    check_not_input,
    check_output_file,
    format_option,
    kb_data_dir,
    write_json,
)
from her2lab.cli._io import console as make_console
from her2lab.errors import DataError
from her2lab.virtual_trials.defaults import PANEL_SIZE, PATHWAY_SAMPLES

app = typer.Typer(no_args_is_help=True)
console = LazyConsole()  # a fresh console per print: wide when written to a file
err = LazyConsole(stderr=True)

DISCLAIMER = "Research tool: simulated results, not medical advice."


@contextmanager
def _progress():
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=make_console(stderr=True), transient=True,
    ) as prog:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = prog.add_task(stage, total=total)
            prog.update(tasks[stage], completed=done, total=total)

        yield update


def _fmt(x: Any, nd: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:.{nd}g}"
    return str(x)


def _fit_table(rows: list[dict[str, Any]], title: str) -> Table:
    t = Table(title=title)
    for c in ("trial", "outcome", "measure", "reported", "reported CI", "expected",
              "prediction interval", "null", "inside"):
        t.add_column(c)
    for r in rows:
        t.add_row(
            r["trial"], r["outcome"],
            # a comparison reported as two medians: its "HR" is their ratio, model and trial
            "HR (median ratio)" if r.get("derived") == "median+p" else r["measure"],
            _fmt(r["reported"]),
            f"{_fmt(r['reported_low'])}-{_fmt(r['reported_high'])}", _fmt(r["expected"]),
            f"{_fmt(r['pred_low'])}-{_fmt(r['pred_high'])}", _fmt(r["null_expected"]),
            "yes" if r["reported_inside_prediction"] else "no",
        )
    return t


@app.command()
def calibrate(
    as_of: str = typer.Option(..., "--as-of", help="Use results published on or before this date."),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    out: Path = typer.Option(Path("calibration.json"), "-o", "--out"),
    panel: int = typer.Option(PANEL_SIZE, "--panel", min=1, max=100_000,
                              help="Profiles per trial population."),
    samples: int = typer.Option(PATHWAY_SAMPLES, "--samples", min=1, max=1_000_000,
                                help="Pathway trajectories per profile."),
    workers: int = typer.Option(
        1, "--workers", min=1, help="Local processes for the fit's finite differences and the "
        "prediction intervals (the result does not depend on it; worth it on idle cores only)."),
) -> None:
    """Fit the link to the knowledge base's trials as of a date; write calibration JSON."""
    from her2lab.virtual_trials.calibrate import calibrate as run
    from her2lab.virtual_trials.validation import summarise, summary_line

    day = as_of_date(as_of)
    check_not_input([out], [kb_data_dir()])
    check_output_file(out)
    with _progress() as prog:
        cal = run(day, seed=seed, panel_size=panel, samples=samples, progress=prog,
                  workers=workers)
    write_json(cal.to_dict(), out)
    p = cal.params
    console.print(_fit_table([r.to_dict() for r in cal.table],
                             f"Calibration as of {as_of}: kill/cycle {p.kill_per_cycle():.3g},"
                             f" resistance {p.resistance:.3g}/month, TKI offset "
                             f"{p.tki_offset:.3g}"))
    console.print(summary_line(summarise(cal.table)))
    if cal.fit.outside_prior:
        from her2lab.virtual_trials.link import PRIOR_DEPARTURES

        for name in cal.fit.outside_prior:
            why = PRIOR_DEPARTURES.get(name, "no stated reason")
            console.print(f"outside its prior's 95% interval: {name} ({why})")
    console.print(f"wrote {out}.")
    console.print(DISCLAIMER)


@app.command()
def validate(
    as_of: str = typer.Option(..., "--as-of"),
    loo: bool = typer.Option(False, "--loo", help="Leave-one-trial-out instead of forward."),
    refit: bool = typer.Option(False, "--refit",
                               help="With --loo: refit without each trial (slower) instead "
                                    "of one Newton step from the full fit."),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    panel: int = typer.Option(PANEL_SIZE, "--panel", min=1, max=100_000),
    samples: int = typer.Option(PATHWAY_SAMPLES, "--samples", min=1, max=1_000_000),
    fmt: str = format_option("table", "json"),
) -> None:
    """Reported versus expected for each trial: forward from a date, or leave-one-trial-out,
    with the null model (HR = 1, OR = 1) beside each figure."""
    from her2lab.virtual_trials.validation import forward, leave_one_out, summary_line

    if refit and not loo:
        raise typer.BadParameter("--refit applies to leave-one-trial-out: add --loo",
                                 param_hint="--refit")
    with _progress() as prog:
        fn = leave_one_out if loo else forward
        res = fn(as_of_date(as_of), seed=seed, panel_size=panel, samples=samples, progress=prog,
                 refit=refit)
    if fmt == "json":
        write_json(res)
        return
    kind = "leave-one-trial-out" if loo else f"forward from {as_of}"
    console.print(_fit_table(res["rows"], f"Validation ({kind})"))
    console.print(summary_line(res["summary"]))
    console.print(DISCLAIMER)


def _calibration(calibration: Path | None):
    """The parameters and covariance of a calibration file (``trials calibrate -o``),
    validated whole."""
    if calibration is None:
        return None
    import numpy as np

    from her2lab.virtual_trials.link import LinkParams
    from her2lab.virtual_trials.trial import ParameterSet

    d = _read_calibration(calibration)
    p = d.params
    return ParameterSet(
        LinkParams(p.log_kill, p.log_targeted, p.log_resistance, p.tki_offset,
                   tuple(sorted(p.setting.items()))),
        np.array(d.fit.cov, dtype=float), f"calibration as of {d.as_of} ({calibration.name})")


def _read_calibration(path: Path):
    """A calibration JSON as a pydantic model: numbers must be finite numbers (not strings)."""
    import datetime as _dt

    import pydantic
    from pydantic import BaseModel, ConfigDict, Field

    from her2lab.errors import Problem, ValidationError
    from her2lab.virtual_trials.link import GROUPS
    from her2lab.yamlio import YamlDocument, field_error, problems_from_pydantic

    number = {"strict": True, "allow_inf_nan": False}

    class Params(BaseModel):
        model_config = ConfigDict(extra="allow")
        log_kill: float = Field(**number)
        log_targeted: float = Field(0.0, **number)
        log_resistance: float = Field(**number)
        tki_offset: float = Field(**number)
        setting: dict[str, float] = Field(default_factory=dict)

        @pydantic.field_validator("setting")
        @classmethod
        def _groups(cls, v: dict[str, float]) -> dict[str, float]:
            for k in v:
                if k not in GROUPS:
                    raise field_error((k,), f"a setting group ({', '.join(GROUPS)})", repr(k))
            return v

    class FitPart(BaseModel):
        model_config = ConfigDict(extra="allow")
        cov: list[list[float]]

        @pydantic.field_validator("cov")
        @classmethod
        def _square(cls, v: list[list[float]]) -> list[list[float]]:
            if len(v) != 7 or any(len(r) != 7 for r in v):
                raise field_error((), "a 7 x 7 covariance matrix", f"{len(v)} rows")
            return v

    class CalibrationFile(BaseModel):
        model_config = ConfigDict(extra="allow")
        as_of: _dt.date
        params: Params
        fit: FitPart

    file = str(path)
    if path.is_dir() or not path.is_file():
        found = "a directory" if path.is_dir() else "no such file"
        raise ValidationError([Problem(file, "(file)", "a calibration JSON written by "
                                       "'her2lab trials calibrate'", found)],
                              f"{file} is not a calibration JSON")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise ValidationError([Problem(file, "(file)", "a calibration JSON written by "
                                       "'her2lab trials calibrate'", str(exc), line)],
                              f"{file} is not a calibration JSON") from None
    try:
        return CalibrationFile.model_validate(data)
    except pydantic.ValidationError as exc:
        doc = YamlDocument(file, data, None)
        raise ValidationError(problems_from_pydantic(exc, CalibrationFile, doc),
                              f"{file} is not a valid calibration JSON (as written by "
                              "'her2lab trials calibrate')") from None


def _as_of(calibration: Path | None, as_of: str | None) -> dt.date | None:
    if as_of:
        return as_of_date(as_of)
    if calibration is not None:
        return _read_calibration(calibration).as_of
    return None


def _show(res: Any, fmt: str) -> None:
    if fmt == "json":
        write_json(res.to_dict(curves=False))
        return
    t = Table(title=f"{res.trial} ({res.endpoint}), expected and simulated")
    for c in ("arm", "n", "expected", "95% interval", "unit"):
        t.add_column(c)
    for a in res.arms:
        t.add_row(a.name, str(a.n), _fmt(a.expected), f"{_fmt(a.pred_low)}-{_fmt(a.pred_high)}",
                  a.unit)
    console.print(t)
    e = Table(title="effects against " + res.control)
    for c in ("arm", "measure", "expected", "prediction interval", "replicates median",
              "replicates 2.5-97.5%"):
        e.add_column(c)
    for x in res.effects:
        r = x.replicates
        e.add_row(x.arm, x.measure, _fmt(x.expected), f"{_fmt(x.pred_low)}-{_fmt(x.pred_high)}",
                  _fmt(None if r is None else r.median),
                  "-" if r is None else f"{_fmt(r.p2_5)}-{_fmt(r.p97_5)}")
    console.print(e)
    console.print(f"baseline: {res.anchor.kind} {_fmt(res.anchor.value)} ({res.anchor.source});"
                  f" parameters: {res.parameter_source}; power over "
                  f"{res.replicates.replicates} replicates {_fmt(res.replicates.power)}.")
    console.print(DISCLAIMER)


def _simulate(target: str, calibration: Path | None, replicates: int, seed: int, fmt: str,
              samples: int, panel: int, as_of: str | None) -> None:
    from her2lab.virtual_trials.trial import predict as run_predict
    from her2lab.virtual_trials.trial import simulate_trial

    ps = _calibration(calibration)
    when = _as_of(calibration, as_of)
    kw = dict(replicates=replicates, seed=seed, samples=samples, panel_size=panel)
    with _progress() as prog:
        kw["progress"] = lambda d, n: prog("replicates", d, n)
        if Path(target).suffix in (".yaml", ".yml"):
            res = run_predict(Path(target), ps, as_of=when, **kw)
        else:
            res = simulate_trial(target, ps, as_of=when, **kw)
    _show(res, fmt)


@app.command()
def simulate(
    target: str = typer.Argument(..., help="A trial ID of the knowledge base or a SPEC.yaml"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(20, "--replicates", min=1, max=100_000),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    samples: int = typer.Option(PATHWAY_SAMPLES, "--samples", min=1, max=1_000_000),
    panel: int = typer.Option(PANEL_SIZE, "--panel", min=1, max=100_000),
    as_of: str = typer.Option(None, "--as-of", help="Baselines as of (default: calibration's)"),
    fmt: str = format_option("table", "json"),
) -> None:
    """Simulate a trial of the knowledge base (or a specification) from the pathway model."""
    _simulate(target, calibration, replicates, seed, fmt, samples, panel, as_of)


@app.command()
def predict(
    spec: Path = typer.Argument(..., help="A trial specification (YAML)"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(20, "--replicates", min=1, max=100_000),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    samples: int = typer.Option(PATHWAY_SAMPLES, "--samples", min=1, max=1_000_000),
    panel: int = typer.Option(PANEL_SIZE, "--panel", min=1, max=100_000),
    as_of: str = typer.Option(None, "--as-of", help="Baselines as of (default: calibration's)"),
    fmt: str = format_option("table", "json"),
) -> None:
    """Predict a new trial from its specification (same output as simulate)."""
    _simulate(str(spec), calibration, replicates, seed, fmt, samples, panel, as_of)


@app.command()
def design(
    spec: Path = typer.Argument(..., help="A trial specification (YAML) with two arms"),
    power: float = typer.Option(0.8, "--power"),
    alpha: float = typer.Option(0.05, "--alpha"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(400, "--replicates", min=1, max=100_000,
                                   help="Simulated trials per size."),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    samples: int = typer.Option(PATHWAY_SAMPLES, "--samples", min=1, max=1_000_000),
    panel: int = typer.Option(PANEL_SIZE, "--panel", min=1, max=100_000),
    fmt: str = format_option("table", "json"),
) -> None:
    """Sample size for a power by simulation, beside Schoenfeld's (or the two-proportion)
    formula for the model's expected effect."""
    from her2lab.virtual_trials.trial import design as run_design

    if not 0 < power < 1 or not 0 < alpha < 1:
        raise DataError(f"--power and --alpha must lie in (0, 1); got {power} and {alpha}")
    with err.status("simulating trials of increasing size ..."):
        res = run_design(spec, _calibration(calibration), as_of=_as_of(calibration, None),
                         power=power, alpha=alpha, replicates=replicates, seed=seed,
                         samples=samples, panel_size=panel)
    if fmt == "json":
        write_json(res.to_dict())
        return
    sim, form = res.simulation, res.formula
    t = Table(title=f"Design of {res.trial} ({res.endpoint}), power {power}, alpha {alpha}")
    t.add_column("method")
    t.add_column("patients per arm", justify="right")
    t.add_column("note")
    t.add_row("simulation", str(sim["n_per_arm"]),
              f"power there {sim['power']:.3f} ± {sim['power_se']:.3f} ({replicates} trials)")
    e = res.expected
    t.add_row(form["method"], str(form["n_per_arm"]),
              f"expected {e.measure} {_fmt(e.expected)} ({_fmt(e.pred_low)}-{_fmt(e.pred_high)})")
    console.print(t)
    console.print(DISCLAIMER)
