"""``her2lab trials ...``: virtual clinical trials (calibrate, validate, simulate, design)."""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from her2lab.virtual_trials.defaults import (
    DEFAULT_SEED,
    FIT_WORKERS,
    PANEL_SIZE,
    PATHWAY_SAMPLES,
    REPLICATES,
    RunSettings,
)

if TYPE_CHECKING:
    from her2lab.virtual_trials.calibration import Calibration
    from her2lab.virtual_trials.trial import TrialResult

app = typer.Typer(no_args_is_help=True)
console = LazyConsole()  # a fresh console per print: wide when written to a file
err = LazyConsole(stderr=True)

DISCLAIMER = "Research tool: simulated results, not medical advice."
_SEED_HELP = f"Seed (default: the calibration's, else {DEFAULT_SEED})."
_SAMPLES_HELP = f"Pathway trajectories (default: the calibration's, else {PATHWAY_SAMPLES})."
_PANEL_HELP = f"Profiles per trial population (default: the calibration's, else {PANEL_SIZE})."


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
    seed: int = typer.Option(DEFAULT_SEED, "--seed", min=0, max=2**32 - 1),
    out: Path = typer.Option(Path("calibration.json"), "-o", "--out"),
    panel: int = typer.Option(PANEL_SIZE, "--panel", min=1, max=100_000,
                              help="Profiles per trial population."),
    samples: int = typer.Option(PATHWAY_SAMPLES, "--samples", min=1, max=1_000_000,
                                help="Pathway trajectories per profile."),
    workers: int = typer.Option(
        FIT_WORKERS, "--workers", min=1, help="Local processes for the fit's finite "
        "differences and the prediction intervals (the result does not depend on it; default: "
        "2 where there are 2 cores, worth it on idle cores only)."),
) -> None:
    """Fit the link to the knowledge base's trials as of a date; write calibration JSON."""
    from her2lab.virtual_trials import calibrate as run
    from her2lab.virtual_trials.validation import summarize, summary_line

    day = as_of_date(as_of)
    check_not_input([out], [kb_data_dir()])
    check_output_file(out)
    with _progress() as prog:
        cal = run(day, settings=RunSettings(samples=samples, panel_size=panel, seed=seed),
                  progress=prog, workers=workers)
    cal.write(out)
    p = cal.params
    console.print(_fit_table([r.to_dict() for r in cal.table],
                             f"Calibration as of {as_of}: kill/cycle {p.kill_per_cycle():.3g},"
                             f" resistance {p.resistance:.3g}/month, TKI offset "
                             f"{p.tki_offset:.3g}"))
    console.print(summary_line(summarize(cal.table)))
    if cal.fit is not None and cal.fit.outside_prior:
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
    nested: bool = typer.Option(False, "--nested",
                                help="With --loo: repeat the whole calibration without each "
                                     "trial, from the priors (slowest; nothing fitted to the "
                                     "trial enters its prediction)."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", min=0, max=2**32 - 1),
    panel: int = typer.Option(PANEL_SIZE, "--panel", min=1, max=100_000),
    samples: int = typer.Option(PATHWAY_SAMPLES, "--samples", min=1, max=1_000_000),
    fmt: str = format_option("table", "json"),
) -> None:
    """Reported versus expected for each trial: forward from a date, or leave-one-trial-out,
    with the null model (HR = 1, OR = 1) beside each figure."""
    from her2lab.virtual_trials import validate as run_validate
    from her2lab.virtual_trials.validation import summary_line

    for flag, on in (("--refit", refit), ("--nested", nested)):
        if on and not loo:
            raise typer.BadParameter(f"{flag} applies to leave-one-trial-out: add --loo",
                                     param_hint=flag)
    method = ("nested" if nested else "refit" if refit else "loo") if loo else "forward"
    with _progress() as prog:
        run = RunSettings(samples=samples, panel_size=panel, seed=seed)
        res = run_validate(as_of_date(as_of), method=method, settings=run, progress=prog)
    if fmt == "json":
        write_json(res)
        return
    kind = "leave-one-trial-out" if loo else f"forward from {as_of}"
    console.print(_fit_table(res["rows"], f"Validation ({kind}; {res['method']})"))
    console.print(f"{res['sample']} (model, null in brackets): " + summary_line(res["summary"]))
    console.print(f"{res['in_sample']['sample']}: "
                  + summary_line(res["in_sample"]["summary"]))
    console.print(DISCLAIMER)


def _calibration(calibration: Path | None) -> Calibration | None:
    """The calibration file given with ``--calibration`` (``None``: the priors)."""
    if calibration is None:
        return None
    from her2lab.virtual_trials.calibration import Calibration

    return Calibration.read(calibration)


def _settings(cal: Calibration | None, *, seed: int | None, samples: int | None,
              panel: int | None, replicates: int | None = None) -> RunSettings:
    """The run settings: the calibration's (or the defaults), with what was given changed."""
    base = cal.settings if cal is not None else RunSettings()
    return base.with_(seed=seed, samples=samples, panel_size=panel, replicates=replicates)


def _show(res: TrialResult, fmt: str) -> None:
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


def _simulate(target: str, calibration: Path | None, replicates: int | None, seed: int | None,
              fmt: str, samples: int | None, panel: int | None, as_of: str | None) -> None:
    from her2lab.virtual_trials import predict as run_predict
    from her2lab.virtual_trials import simulate as run_simulate

    cal = _calibration(calibration)
    when = as_of_date(as_of) if as_of else None
    run = _settings(cal, seed=seed, samples=samples, panel=panel, replicates=replicates)
    with _progress() as prog:
        def step(d: int, n: int) -> None:
            prog("replicates", d, n)

        if Path(target).suffix in (".yaml", ".yml"):
            res = run_predict(Path(target), cal, as_of=when, settings=run, progress=step)
        else:
            res = run_simulate(target, cal, as_of=when, settings=run, progress=step)
    _show(res, fmt)


@app.command()
def simulate(
    target: str = typer.Argument(..., help="A trial ID of the knowledge base or a SPEC.yaml"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(None, "--replicates", min=1, max=100_000,
                                   help=f"Simulated trials (default {REPLICATES})."),
    seed: int = typer.Option(None, "--seed", min=0, max=2**32 - 1, help=_SEED_HELP),
    samples: int = typer.Option(None, "--samples", min=1, max=1_000_000, help=_SAMPLES_HELP),
    panel: int = typer.Option(None, "--panel", min=1, max=100_000, help=_PANEL_HELP),
    as_of: str = typer.Option(None, "--as-of", help="Baselines as of (default: calibration's)"),
    fmt: str = format_option("table", "json"),
) -> None:
    """Simulate a trial of the knowledge base (or a specification) from the pathway model."""
    _simulate(target, calibration, replicates, seed, fmt, samples, panel, as_of)


@app.command()
def predict(
    spec: Path = typer.Argument(..., help="A trial specification (YAML)"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(None, "--replicates", min=1, max=100_000,
                                   help=f"Simulated trials (default {REPLICATES})."),
    seed: int = typer.Option(None, "--seed", min=0, max=2**32 - 1, help=_SEED_HELP),
    samples: int = typer.Option(None, "--samples", min=1, max=1_000_000, help=_SAMPLES_HELP),
    panel: int = typer.Option(None, "--panel", min=1, max=100_000, help=_PANEL_HELP),
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
    seed: int = typer.Option(None, "--seed", min=0, max=2**32 - 1, help=_SEED_HELP),
    samples: int = typer.Option(None, "--samples", min=1, max=1_000_000, help=_SAMPLES_HELP),
    panel: int = typer.Option(None, "--panel", min=1, max=100_000, help=_PANEL_HELP),
    fmt: str = format_option("table", "json"),
) -> None:
    """Sample size for a power by simulation, beside Schoenfeld's (or the two-proportion)
    formula for the model's expected effect."""
    from her2lab.virtual_trials import design as run_design

    if not 0 < power < 1 or not 0 < alpha < 1:
        raise DataError(f"--power and --alpha must lie in (0, 1); got {power} and {alpha}")
    with err.status("simulating trials of increasing size ..."):
        cal = _calibration(calibration)
        res = run_design(spec, cal, power=power, alpha=alpha, replicates=replicates,
                         settings=_settings(cal, seed=seed, samples=samples, panel=panel))
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
