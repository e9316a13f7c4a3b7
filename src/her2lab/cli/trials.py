"""``her2lab trials ...``: virtual clinical trials (calibrate, validate, simulate, design)."""

from __future__ import annotations

import datetime as dt
import json
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from her2lab.errors import DataError

app = typer.Typer(no_args_is_help=True)
console = Console()
err = Console(stderr=True)

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
        console=err, transient=True,
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
    seed: int = typer.Option(20140812, "--seed"),
    out: Path = typer.Option(Path("calibration.json"), "-o", "--out"),
    panel: int = typer.Option(64, "--panel", help="Profiles per trial population."),
    samples: int = typer.Option(1000, "--samples", help="Pathway trajectories per profile."),
    bootstrap: int = typer.Option(100, "--bootstrap", help="Bootstrap refits over trials."),
) -> None:
    """Fit the link to the knowledge base's trials as of a date; write calibration JSON."""
    from her2lab.virtual_trials.calibrate import calibrate as run

    with _progress() as prog:
        cal = run(_date(as_of), seed=seed, panel_size=panel, samples=samples,
                  bootstrap_reps=bootstrap, progress=prog)
    out.write_text(json.dumps(cal.to_dict(), indent=1))
    console.print(_fit_table(cal.table, f"Calibration as of {as_of}: "
                             f"beta={cal.params.beta:.3g}, gamma={cal.params.gamma:.3g}"))
    console.print(f"wrote {out}. {DISCLAIMER}")


@app.command()
def validate(
    as_of: str = typer.Option(..., "--as-of"),
    loo: bool = typer.Option(False, "--loo", help="Leave-one-trial-out instead of forward."),
    seed: int = typer.Option(20140812, "--seed"),
    panel: int = typer.Option(64, "--panel"),
    samples: int = typer.Option(1000, "--samples"),
    fmt: str = typer.Option("table", "--format", help="json or table"),
) -> None:
    """Reported versus predicted for each trial: forward from a date, or leave-one-trial-out."""
    from her2lab.virtual_trials.calibrate import forward, leave_one_out

    with _progress() as prog:
        fn = leave_one_out if loo else forward
        res = fn(_date(as_of), seed=seed, panel_size=panel, samples=samples, progress=prog)
    if fmt == "json":
        console.print_json(json.dumps(res))
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
    from her2lab.virtual_trials.link import LinkParams

    if calibration is None:
        return LinkParams()
    try:
        d = json.loads(calibration.read_text())
        return LinkParams(**d["params"])
    except (OSError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{calibration}: expected a calibration JSON written by 'her2lab trials calibrate' "
            f"(with 'params': {{'beta', 'gamma'}}); {exc}"
        ) from None


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
        console.print_json(json.dumps(res))
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
    replicates: int = typer.Option(20, "--replicates"),
    seed: int = typer.Option(20140812, "--seed"),
    samples: int = typer.Option(1000, "--samples"),
    panel: int = typer.Option(64, "--panel"),
    fmt: str = typer.Option("table", "--format", help="json or table"),
) -> None:
    """Simulate a trial of the knowledge base (or a specification) from the pathway model."""
    _simulate(target, calibration, replicates, seed, fmt, samples, panel)


@app.command()
def predict(
    spec: Path = typer.Argument(..., help="A trial specification (YAML)"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(20, "--replicates"),
    seed: int = typer.Option(20140812, "--seed"),
    samples: int = typer.Option(1000, "--samples"),
    panel: int = typer.Option(64, "--panel"),
    fmt: str = typer.Option("table", "--format", help="json or table"),
) -> None:
    """Predict a new trial from its specification (same output as simulate)."""
    _simulate(str(spec), calibration, replicates, seed, fmt, samples, panel)


@app.command()
def design(
    spec: Path = typer.Argument(..., help="A trial specification (YAML) with two arms"),
    power: float = typer.Option(0.8, "--power"),
    alpha: float = typer.Option(0.05, "--alpha"),
    calibration: Path = typer.Option(None, "--calibration"),
    replicates: int = typer.Option(400, "--replicates", help="Simulated trials per size."),
    seed: int = typer.Option(20140812, "--seed"),
    samples: int = typer.Option(1000, "--samples"),
    panel: int = typer.Option(64, "--panel"),
    fmt: str = typer.Option("table", "--format", help="json or table"),
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
        console.print_json(json.dumps(res))
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
