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

from her2lab.cli._io import LazyConsole, check_output_file, format_option, write_json
from her2lab.cli._io import console as make_console
from her2lab.errors import DataError

app = typer.Typer(no_args_is_help=True)
console = LazyConsole()  # a fresh console per print: wide when written to a file
err = LazyConsole(stderr=True)

DISCLAIMER = "Research tool: simulated results, not medical advice."


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DataError(f"--as-of must be a date YYYY-MM-DD; got {text!r}") from None


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
    for c in ("trial", "outcome", "measure", "reported", "reported CI", "predicted",
              "predicted interval", "inside"):
        t.add_column(c)
    for r in rows:
        t.add_row(
            r["trial"], r["outcome"], r["measure"], _fmt(r["reported"]),
            f"{_fmt(r['reported_low'])}-{_fmt(r['reported_high'])}", _fmt(r["predicted"]),
            f"{_fmt(r['pred_low'])}-{_fmt(r['pred_high'])}",
            "yes" if r["reported_inside_prediction"] else "no",
        )
    return t


@app.command()
def calibrate(
    as_of: str = typer.Option(..., "--as-of", help="Use results published on or before this date."),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    out: Path = typer.Option(Path("calibration.json"), "-o", "--out"),
    panel: int = typer.Option(64, "--panel", min=1, max=100_000,
                              help="Profiles per trial population."),
    samples: int = typer.Option(1000, "--samples", min=1, max=1_000_000,
                                help="Pathway trajectories per profile."),
    bootstrap: int = typer.Option(100, "--bootstrap", min=0, max=100_000,
                                  help="Bootstrap refits over trials."),
) -> None:
    """Fit the link to the knowledge base's trials as of a date; write calibration JSON."""
    from her2lab.virtual_trials.calibrate import calibrate as run

    day = _date(as_of)
    check_output_file(out)
    with _progress() as prog:
        cal = run(day, seed=seed, panel_size=panel, samples=samples,
                  bootstrap_reps=bootstrap, progress=prog)
    write_json(cal.to_dict(), out)
    console.print(_fit_table(cal.table, f"Calibration as of {as_of}: "
                             f"beta={cal.params.beta:.3g}, gamma={cal.params.gamma:.3g}"))
    console.print(f"wrote {out}. {DISCLAIMER}")


@app.command()
def validate(
    as_of: str = typer.Option(..., "--as-of"),
    loo: bool = typer.Option(False, "--loo", help="Leave-one-trial-out instead of forward."),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    panel: int = typer.Option(64, "--panel", min=1, max=100_000),
    samples: int = typer.Option(1000, "--samples", min=1, max=1_000_000),
    fmt: str = format_option("table", "json"),
) -> None:
    """Reported versus predicted for each trial: forward from a date, or leave-one-trial-out."""
    from her2lab.virtual_trials.calibrate import forward, leave_one_out

    with _progress() as prog:
        fn = leave_one_out if loo else forward
        res = fn(_date(as_of), seed=seed, panel_size=panel, samples=samples, progress=prog)
    if fmt == "json":
        write_json(res)
        return
    kind = "leave-one-trial-out" if loo else f"forward from {as_of}"
    console.print(_fit_table(res["rows"], f"Validation ({kind})"))
    s = res["summary"]
    console.print(
        f"median |error| log HR {_fmt(s['median_abs_error_log_hr'])}, "
        f"pCR/ORR points {_fmt(s['median_abs_error_rate_points'])}; direction "
        f"{_fmt(s['direction_accuracy'])}; coverage {_fmt(s['coverage'])}. {DISCLAIMER}"
    )


def _params(calibration: Path | None):
    """The link parameters of a calibration file (``trials calibrate -o``), validated whole."""
    from her2lab.virtual_trials.link import LinkParams

    if calibration is None:
        return LinkParams()
    p = _read_calibration(calibration).params
    return LinkParams(beta=p.beta, gamma=p.gamma, assumption_scale=p.assumption_scale,
                      potency=dict(p.potency))


def _read_calibration(path: Path):
    """A calibration JSON as a pydantic model: numbers must be finite numbers (not strings)."""
    import pydantic
    from pydantic import BaseModel, ConfigDict, Field

    from her2lab.errors import Problem, ValidationError
    from her2lab.yamlio import YamlDocument, problems_from_pydantic

    number = {"strict": True, "allow_inf_nan": False}

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        beta: float = Field(**number)
        gamma: float = Field(**number)
        assumption_scale: float = Field(1.0, gt=0, **number)
        potency: dict[str, float] = Field(default_factory=dict)

        @pydantic.field_validator("potency")
        @classmethod
        def _unit(cls, v: dict[str, float]) -> dict[str, float]:
            from her2lab.yamlio import field_error

            for k, x in v.items():
                if not 0 <= x <= 1:
                    raise field_error((k,), "a potency in [0, 1]", repr(x))
            return v

    class CalibrationFile(BaseModel):
        model_config = ConfigDict(extra="allow")
        params: Params

    file = str(path)
    if path.is_dir() or not path.is_file():
        found = "a directory" if path.is_dir() else "no such file"
        raise ValidationError([Problem(file, "(file)", "a calibration JSON written by "
                                       "'her2lab trials calibrate'", found)],
                              f"{file} is not a calibration JSON")
    try:
        text = path.read_bytes().decode("utf-8")
        data = json.loads(text)
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


def _plan(target: str):
    from her2lab.virtual_trials.trial import TrialPlan

    path = Path(target)
    if path.suffix in (".yaml", ".yml"):
        from her2lab.virtual_trials.spec import load_spec

        return TrialPlan.from_spec(load_spec(path))
    return TrialPlan.from_kb(target)


def _show(res: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        res = {k: v for k, v in res.items() if k != "curves"}
        write_json(res)
        return
    t = Table(title=f"{res['trial']} ({res['endpoint']}), simulated")
    for c in ("arm", "n", "median / rate", "CI"):
        t.add_column(c)
    for a in res["arms"]:
        val = a.get("median") if "median" in a else a.get("rate")
        t.add_row(a["name"], str(a["n"]), _fmt(val), f"{_fmt(a['ci_low'])}-{_fmt(a['ci_high'])}")
    console.print(t)
    e = res["effect"]
    d = res["replicates"]["statistics"].get("effect.estimate", {})
    console.print(
        f"{e['measure']} {e['arm']} vs {e['control']}: {_fmt(e['estimate'])} "
        f"({_fmt(e['ci_low'])}-{_fmt(e['ci_high'])}), p {_fmt(e['p'])}; over "
        f"{res['replicates']['replicates']} replicates median {_fmt(d.get('median'))} "
        f"[{_fmt(d.get('p2_5'))}, {_fmt(d.get('p97_5'))}], power "
        f"{_fmt(res['replicates']['power'])}."
    )
    console.print(DISCLAIMER)


def _simulate(target: str, calibration: Path | None, replicates: int, seed: int, fmt: str,
              samples: int, panel: int) -> None:
    from her2lab.virtual_trials.trial import run_trial

    plan = _plan(target)
    with _progress() as prog:
        res = run_trial(plan, _params(calibration), replicates=replicates, seed=seed,
                        samples=samples, panel_size=panel,
                        progress=lambda d, n: prog("replicates", d, n))
    _show(res, fmt)


@app.command()
def simulate(
    target: str = typer.Argument(..., help="A trial ID of the knowledge base or a SPEC.yaml"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(20, "--replicates", min=1, max=100_000),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    samples: int = typer.Option(1000, "--samples", min=1, max=1_000_000),
    panel: int = typer.Option(64, "--panel", min=1, max=100_000),
    fmt: str = format_option("table", "json"),
) -> None:
    """Simulate a trial of the knowledge base (or a specification) from the pathway model."""
    _simulate(target, calibration, replicates, seed, fmt, samples, panel)


@app.command()
def predict(
    spec: Path = typer.Argument(..., help="A trial specification (YAML)"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(20, "--replicates", min=1, max=100_000),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    samples: int = typer.Option(1000, "--samples", min=1, max=1_000_000),
    panel: int = typer.Option(64, "--panel", min=1, max=100_000),
    fmt: str = format_option("table", "json"),
) -> None:
    """Predict a new trial from its specification (same output as simulate)."""
    _simulate(str(spec), calibration, replicates, seed, fmt, samples, panel)


@app.command()
def design(
    spec: Path = typer.Argument(..., help="A trial specification (YAML) with two arms"),
    power: float = typer.Option(0.8, "--power"),
    alpha: float = typer.Option(0.05, "--alpha"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(400, "--replicates", min=1, max=100_000,
                                   help="Simulated trials per size."),
    seed: int = typer.Option(20140812, "--seed", min=0, max=2**32 - 1),
    samples: int = typer.Option(1000, "--samples", min=1, max=1_000_000),
    panel: int = typer.Option(64, "--panel", min=1, max=100_000),
    fmt: str = format_option("table", "json"),
) -> None:
    """Sample size for a power by simulation, beside Schoenfeld's (or the two-proportion)
    formula for the model's expected effect."""
    from her2lab.virtual_trials.trial import design_trial

    if not 0 < power < 1 or not 0 < alpha < 1:
        raise DataError(f"--power and --alpha must lie in (0, 1); got {power} and {alpha}")
    plan = _plan(str(spec))
    with err.status("simulating trials of increasing size ..."):
        res = design_trial(plan, _params(calibration), power=power, alpha=alpha,
                           replicates=replicates, seed=seed, samples=samples, panel_size=panel)
    if fmt == "json":
        write_json(res)
        return
    sim, form = res["simulation"], res["formula"]
    t = Table(title=f"Design of {res['trial']} ({res['endpoint']}), power {power}, alpha {alpha}")
    t.add_column("method")
    t.add_column("patients per arm", justify="right")
    t.add_column("note")
    t.add_row("simulation", str(sim["n_per_arm"]),
              f"power there {sim['power']:.3f} ± {sim['power_se']:.3f} ({replicates} trials)")
    t.add_row(form["method"], str(form["n_per_arm"]), json.dumps(res["expected_effect"]))
    console.print(t)
    console.print(DISCLAIMER)
