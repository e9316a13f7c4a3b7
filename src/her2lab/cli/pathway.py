"""``her2lab simulate`` and ``her2lab screen``: the HER2 pathway model from the command line.

::

    her2lab simulate --profile pten_loss --regimen trastuzumab+everolimus --format json
    her2lab simulate --profile pten_loss=0.6,hr_positive --regimen trastuzumab+pertuzumab
    her2lab simulate --profile none --regimen T-DM1 --samples 5000 --seed 7
    her2lab screen --profiles all-single --regimens table1 -o out/screen
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from her2lab.cli._io import (
    check_not_input,
    check_output_dir,
    format_option,
    input_file,
    kb_data_dir,
)
from her2lab.cli._io import console as make_console
from her2lab.errors import SimulationError
from her2lab.seeds import DEFAULT_SEED


def simulate(
    profile: str = typer.Option(
        "none", "--profile", help="Resistance mechanisms, comma-separated (IDs or aliases), "
        "each optionally with a degree in [0, 1] (pten_loss=0.6); 'hr_positive' for an "
        "HR-positive tumor; 'none' for a HER2-amplified tumor with no named mechanism."),
    regimen: str = typer.Option(
        "none", "--regimen", help="Drugs joined by '+' (IDs or aliases such as T-DM1, BKM120); "
        "'none' for untreated."),
    samples: int = typer.Option(2000, "--samples", min=1, max=1_000_000,
                                help="Number of trajectories."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", min=0, max=2**32 - 1, help="Random seed."),
    fmt: str = format_option("table", "json"),
    potency: list[str] = typer.Option(
        [], "--potency", help="Override a drug's graded efficacy, DRUG=VALUE in [0, 1] "
        "(repeatable), e.g. --potency trastuzumab=0.7."),
    backend: str = typer.Option(
        "boolnet", "--backend", help="boolnet (our engine) or maboss (the reference, cmaboss)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
) -> None:
    """Simulate one regimen on one tumor profile: phenotype probabilities and the response."""
    from her2lab.pathway import simulate as run

    res = run(profile, regimen, samples=samples, seed=seed, cache=not no_cache,
              potency=_potencies(potency), backend=backend)  # type: ignore[arg-type]
    if fmt == "json":
        typer.echo(json.dumps(res.to_dict(), indent=2))
        return
    from rich.text import Text

    from her2lab.pathway.mechanisms import normalize_profile

    console = make_console()

    table = Table(title=f"profile: {normalize_profile(profile).label()}   "
                        f"regimen: {'+'.join(res.regimen) or 'none'}")
    table.add_column("read-out")
    table.add_column("value", justify="right")
    for k, v in res.phenotypes.items():
        table.add_row(f"P({k})", f"{v:.3f}")
    table.add_row("growth rate (/day)", f"{res.rates.growth:.4f}")
    for k, v in res.rates.kill.items():
        table.add_row(f"kill rate, {k} (/day)", f"{v:.4f}")
    value = Text(f"{res.response:.3f}", style="bold")
    value.append(f" ± {res.response_se:.3f}")
    table.add_row(Text("response", style="bold"), value)
    console.print(table)
    console.print(f"{res.samples} trajectories, seed {res.seed}"
                  f"{' (from cache)' if res.cached else ''}. Research use: a model output, "
                  "not a treatment recommendation.")


def _potencies(items: list[str]) -> dict[str, float]:
    from her2lab.pathway.drugs import resolve_drug

    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[resolve_drug(name)] = float(value)
        except ValueError:
            raise SimulationError(
                f"--potency must read DRUG=VALUE with VALUE a number in [0, 1]; got {item!r}"
            ) from None
        if not sep:
            raise SimulationError(f"--potency must read DRUG=VALUE; got {item!r}")
    return out


def screen(
    profiles: str = typer.Option(
        "all-single", "--profiles", help="all-single, all, or a file with one profile a line."),
    regimens: str = typer.Option(
        "all-single", "--regimens",
        help="all-single, all-pairs, table1, or a file with one regimen a line."),
    out: Path = typer.Option(..., "-o", "--out", help="Output directory."),
    samples: int = typer.Option(2000, "--samples", min=1, max=1_000_000,
                                help="Trajectories per cell."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", min=0, max=2**32 - 1, help="Random seed."),
    executor_kind: str = typer.Option(
        "serial", "--executor", help="serial, processes (local) or dask (a LocalCluster, or "
        "the scheduler of --scheduler / $HER2LAB_DASK_SCHEDULER)."),
    workers: int | None = typer.Option(None, "--workers", min=1,
                                       help="Worker processes (default: the CPUs)."),
    scheduler: str | None = typer.Option(None, "--scheduler",
                                         help="Dask scheduler address, e.g. tcp://host:8786."),
) -> None:
    """The response matrix (profiles by regimens): CSV, heatmap PNG and interactive HTML."""
    from her2lab.executor import executor
    from her2lab.pathway import screen as sc

    check_not_input([out, *sc.output_paths(out)],
                    [input_file(profiles), input_file(regimens), kb_data_dir()])
    check_output_dir(out)
    profs = sc.resolve_profiles(profiles)
    regs = sc.resolve_regimens(regimens)
    console = make_console(stderr=True)
    with executor(executor_kind, workers=workers, scheduler=scheduler) as ex, \
            Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                     TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("cells", total=len(profs) * len(regs))
        result = sc.screen(profs, regs, samples=samples, seed=seed, executor=ex,
                           progress=lambda done, total: bar.update(task, completed=done))
    files = sc.write_outputs(result, out)
    for f in files:
        typer.echo(str(f))
