"""``her2lab kb ...``: the curated knowledge base.

Every command reads the shipped data unless ``her2lab kb --data-dir DIR ...`` (or the
environment variable ``HER2LAB_KB_DIR``) names another directory laid out the same way::

    her2lab kb validate DIR                       check a data directory, list every problem
    her2lab kb export --format json|csv [-o FILE] the whole knowledge base
    her2lab kb trials [--drug X] [--setting S] [--mechanism M]
    her2lab kb drug X                             one drug: class, targets, trials, ...
    her2lab kb sql "SELECT ..."                   read-only SQL on the compiled database
    her2lab kb audit --format table|json          the statistical consistency audit

``export --format csv`` writes **one file**, one row per outcome, with the trial's and the
outcome's provenance columns (the shape a statistician loads into a data frame); the other
records are in the JSON export, or one ``sql`` query away.
"""

from __future__ import annotations

from pathlib import Path

import typer

from her2lab.cli._io import (
    as_of_date,
    check_not_input,
    check_output_file,
    console,
    echo,
    format_option,
    kb_data_dir,
    note,
    write_csv,
    write_json,
)
from her2lab.errors import ValidationError

app = typer.Typer(no_args_is_help=True)

_state: dict[str, Path | None] = {"data_dir": None}


@app.callback()
def _options(
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        envvar="HER2LAB_KB_DIR",
        help="A data directory laid out like the shipped one (default: the shipped data).",
    ),
) -> None:
    """The curated knowledge base: validate, export, query, audit."""
    _state["data_dir"] = data_dir


def _kb():
    from her2lab.knowledge import load

    return load(_state["data_dir"])


# --------------------------------------------------------------------------- validate


@app.command()
def validate(
    directory: Path = typer.Argument(..., help="Data directory to validate."),
) -> None:
    """Validate a data directory: exit 0 with a summary, or 1 listing every problem."""
    from her2lab.errors import DataError
    from her2lab.knowledge.validate import load_directory

    # a path that is no data directory at all is an error (exit 2), not a list of problems
    if not directory.exists():
        raise DataError(f"{directory}: expected a data directory to validate; no such "
                        "directory")
    if not directory.is_dir():
        raise DataError(f"{directory}: expected a data directory to validate; found a file")
    try:
        kb = load_directory(directory)
    except ValidationError as exc:
        note(f"{len(exc.problems)} problem(s) in {directory}:")
        for p in exc.problems:
            note(f"  {p}")
        # SystemExit, not typer.Exit: under standalone_mode=False click would return the code
        raise SystemExit(1) from None
    n_arms = sum(len(t.arms) for t in kb.trials)
    n_out = sum(len(t.outcomes) for t in kb.trials)
    echo(
        f"valid: {len(kb.drugs)} drugs, {len(kb.targets)} targets, "
        f"{len(kb.mechanisms)} mechanisms, {len(kb.biomarkers)} biomarkers, "
        f"{len(kb.trials)} trials ({n_arms} arms, {n_out} outcomes), "
        f"{len(kb.references)} references, {len(kb.conflicts)} conflicts"
    )


# --------------------------------------------------------------------------- export


@app.command()
def export(
    fmt: str = format_option("json", "csv"),
    out: Path | None = typer.Option(
        None, "-o", "--output", help="File to write (default: standard output)."
    ),
) -> None:
    """The whole knowledge base as JSON, or its outcomes as one CSV (a row per outcome)."""
    from her2lab.knowledge import query

    if out is not None:
        check_not_input([out], [kb_data_dir(_state["data_dir"])])
        check_output_file(out)
    if fmt == "json":
        write_json(query.export_json(_kb()), out)
    else:
        res = query.outcome_table(data_dir=_state["data_dir"])
        write_csv(res.columns, res.rows, out)
    if out is not None:
        note(f"wrote {out}")


# --------------------------------------------------------------------------- queries


@app.command()
def trials(
    drug: str | None = typer.Option(None, "--drug", help="Drug ID, name or alias."),
    setting: str | None = typer.Option(
        None, "--setting", help="Setting (neoadjuvant, metastatic_first_line, ...) or a prefix."
    ),
    mechanism: str | None = typer.Option(None, "--mechanism", help="Resistance mechanism ID."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="The knowledge base as of this date (YYYY-MM-DD): later results "
        "left out."),
    fmt: str = format_option("table", "json"),
) -> None:
    """Trials that use a drug, in a setting, or addressing a resistance mechanism."""
    from her2lab.knowledge import query

    found = query.trials(drug=drug, setting=setting, mechanism=mechanism,
                         data_dir=_state["data_dir"],
                         as_of=None if as_of is None else as_of_date(as_of))
    if fmt == "json":
        write_json([t.model_dump(mode="json") for t in found])
        return
    from rich.table import Table

    table = Table(title=f"{len(found)} trial(s)", show_lines=False)
    for col in ("id", "name", "phase", "setting", "n", "arms", "outcomes"):
        table.add_column(col, overflow="fold")
    for t in found:
        arms = "\n".join(f"{a.id}: {' + '.join(a.regimen)}" for a in t.arms)
        table.add_row(t.id, t.name, t.phase, t.setting.value,
                      "" if t.n is None else str(t.n), arms, str(len(t.outcomes)))
    console().print(table)


@app.command()
def drug(name: str = typer.Argument(..., help="Drug ID, name or alias.")) -> None:
    """One drug: class, targets, mechanism, aliases, identifiers and the trials that use it."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from her2lab.knowledge import query

    kb = _kb()
    d = kb.drug(name)
    used = query.trials(drug=d.id, data_dir=_state["data_dir"])
    counters = [m.id for m in kb.mechanisms if d.id in m.counteracted_by]
    targets = []
    for sym in d.targets:
        try:
            targets.append(f"{sym} ({kb.target(sym).name})")
        except KeyError:
            targets.append(sym)
    rows = [
        ("class", d.drug_class.value.replace("_", " ")),
        ("targets", ", ".join(targets) or "-"),
        ("binding site", d.binding_site or "-"),
        ("mechanism", "; ".join(d.mechanism)),
        ("reversibility", d.reversibility or "-"),
        ("aliases", ", ".join(d.aliases) or "-"),
        ("components", ", ".join(d.components) or "-"),
        ("identifiers", ", ".join(f"{k}:{v}" for k, v in d.identifiers.items()) or "-"),
        ("counteracts", ", ".join(counters) or "-"),
        ("trials", ", ".join(f"{t.id} ({t.name})" for t in used) or "-"),
        ("source", f"{d.provenance.locator}; "
                   + (f"{d.provenance.citation}" if d.provenance.citation
                      else f"refs {', '.join(map(str, d.provenance.refs)) or '-'}")),
    ]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for k, v in rows:
        grid.add_row(k, v)
    title = Text(d.name)
    title.append(f" ({d.uid})", style="dim")
    console().print(Panel(grid, title=title, expand=False))


@app.command()
def sql(
    query_text: str = typer.Argument(..., metavar="QUERY", help='One SELECT, e.g. "SELECT ..."'),
    fmt: str = format_option("table", "csv", "json"),
    timeout: float = typer.Option(
        10.0, "--timeout", min=0.001, max=3600,
        help="Stop the query after this many seconds (Ctrl-C stops it too)."),
) -> None:
    """Run one read-only SQL query on the compiled database (tables: see `kb sql --help`).

    Tables: drugs, drug_aliases, drug_targets, drug_components, drug_identifiers, targets,
    mechanisms, mechanism_targets, mechanism_drugs, biomarkers, biomarker_statements, trials,
    arms, arm_drugs, outcomes, "references" (quoted; or the view reference_list), conflicts,
    conflict_values, meta.
    """
    from her2lab.knowledge import query

    res = query.sql(query_text, data_dir=_state["data_dir"], timeout=timeout)
    if fmt == "csv":
        write_csv(res.columns, res.rows)
    elif fmt == "json":
        write_json(res.records())
    else:
        from rich.table import Table

        table = Table(title=f"{len(res.rows)} row(s)")
        for col in res.columns:
            table.add_column(col, overflow="fold")
        for row in res.rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console().print(table)


# --------------------------------------------------------------------------- audit


@app.command()
def audit(
    fmt: str = format_option("table", "json"),
) -> None:
    """The statistical consistency audit of every result (kind, severity, subject, message)."""
    from her2lab.knowledge.audit import run_audit

    findings = run_audit(_kb())
    if fmt == "json":
        write_json([f.to_dict() for f in findings])
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(findings)} finding(s)")
    for col in ("severity", "kind", "subject", "message"):
        table.add_column(col, overflow="fold")
    colour = {"error": "red", "warning": "yellow"}
    for f in findings:
        table.add_row(Text(f.severity, style=colour.get(f.severity, "")), f.kind, f.subject,
                      f.message)
    console().print(table)
