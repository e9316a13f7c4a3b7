"""``her2lab reproduce``: the main job.

The output directory is complete exactly when it holds ``MANIFEST.json``: the manifest of an
earlier run is removed before the first stage starts and the new one is written (atomically)
after the last stage finished, listing every file with its size and SHA-256. An interrupted or
failed run therefore leaves no manifest, and a reader (or ``make run``) can tell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

import typer

from her2lab.cli._io import check_not_input, check_output_dir, console, kb_data_dir, write_json
from her2lab.errors import OutputError
from her2lab.reproduce import Context, load_stages
from her2lab.seeds import DEFAULT_SEED

#: The file that marks an output directory complete.
MANIFEST = "MANIFEST.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(out: Path, *, seed: int, quick: bool, started: dt.datetime,
                   stages: list[str]) -> Path:
    """Write ``out/MANIFEST.json`` (every file under ``out`` with size and SHA-256), last."""
    from her2lab import __version__

    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != MANIFEST):
        rel = path.relative_to(out).as_posix()
        if rel.startswith(".") or "/." in rel:  # temporary files of an atomic write
            continue
        files[rel] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    doc = {
        "complete": True,
        "her2lab": __version__,
        "seed": seed,
        "quick": quick,
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "stages": stages,
        "files": files,
    }
    write_json(doc, out / MANIFEST)
    return out / MANIFEST


def reproduce(
    out: Path = typer.Option(Path("out"), "-o", "--out", help="Directory for the outputs."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", min=0, max=2**32 - 1,
                             help="Seed of every random step."),
    quick: bool = typer.Option(
        False, "--quick", help="Smaller sample sizes, for a fast look (results noisier)."
    ),
) -> None:
    """Build the knowledge base, run the audit and every later stage; write outputs under OUT.

    OUT is complete when it holds MANIFEST.json (written last, listing every file).
    """
    from rich.table import Table
    from rich.text import Text

    check_not_input([out], [kb_data_dir()])
    check_output_dir(out)
    started = dt.datetime.now(dt.UTC)
    stages = load_stages()
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"-o {out}: cannot prepare the output directory: "
                          f"{exc.strerror or exc}") from None
    con = console()
    ctx = Context(out_dir=out, seed=seed, quick=quick)
    table = Table(title="her2lab reproduce", show_lines=True)
    table.add_column("stage")
    table.add_column("result")
    table.add_column("value", justify="right")
    files: list[Path] = []
    for stage in stages:
        start = time.perf_counter()
        with console(stderr=True).status(Text(f"{stage.title} ...")):
            result = stage.run(ctx)
        ctx.results[stage.name] = result
        files.extend(result.files)
        for i, (label, value) in enumerate(result.summary):
            table.add_row(stage.title if i == 0 else "", label, value)
        # print, not log: a log line is padded to the console's width to show its source path,
        # and written to a file that width is FILE_WIDTH
        con.print(f"[{time.strftime('%H:%M:%S')}] {stage.title}: "
                  f"done in {time.perf_counter() - start:.1f} s", markup=False)
    manifest = write_manifest(out, seed=seed, quick=quick, started=started,
                              stages=[s.name for s in stages])
    con.print(table)
    con.print("Files written:")
    for f in [*files, manifest]:
        con.print(f"  {f}")
