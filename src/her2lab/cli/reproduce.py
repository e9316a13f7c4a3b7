"""``her2lab reproduce``: the main job."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from her2lab.reproduce import Context, load_stages


def reproduce(
    out: Path = typer.Option(Path("out"), "-o", "--out", help="Directory for the outputs."),
    seed: int = typer.Option(20140812, "--seed", help="Seed of every random step."),
    quick: bool = typer.Option(
        False, "--quick", help="Smaller sample sizes, for a fast look (results noisier)."
    ),
) -> None:
    """Build the knowledge base, run the audit and every later stage; write outputs under OUT."""
    console = Console()
    ctx = Context(out_dir=out, seed=seed, quick=quick)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="her2lab reproduce", show_lines=True)
    table.add_column("stage")
    table.add_column("result")
    table.add_column("value", justify="right")
    files: list[Path] = []
    for stage in load_stages():
        start = time.perf_counter()
        with console.status(f"{stage.title} ..."):
            result = stage.run(ctx)
        ctx.results[stage.name] = result
        files.extend(result.files)
        for i, (label, value) in enumerate(result.summary):
            table.add_row(stage.title if i == 0 else "", label, value)
        console.log(f"{stage.title}: done in {time.perf_counter() - start:.1f} s")
    console.print(table)
    console.print("Files written:")
    for f in files:
        console.print(f"  {f}")
