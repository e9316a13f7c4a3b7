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

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from her2lab.errors import ValidationError

app = typer.Typer(no_args_is_help=True)

_state: dict[str, Path | None] = {"data_dir": None}


def _console() -> Console:
    return Console(highlight=False)


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


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        _console().print(f"wrote {out}")


# --------------------------------------------------------------------------- validate


@app.command()
def validate(
    directory: Path = typer.Argument(..., help="Data directory to validate."),
) -> None:
    """Validate a data directory: exit 0 with a summary, or 1 listing every problem."""
    from her2lab.knowledge.validate import load_directory

    console = _console()
    try:
        kb = load_directory(directory)
    except ValidationError as exc:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print(f"[bold red]{len(exc.problems)} problem(s)[/] in {directory}:")
        for p in exc.problems:
            err.print(f"  {p}", markup=False)
        # SystemExit, not typer.Exit: under standalone_mode=False click would return the code
        raise SystemExit(1) from None
    n_arms = sum(len(t.arms) for t in kb.trials)
    n_out = sum(len(t.outcomes) for t in kb.trials)
    console.print(
        f"valid: {len(kb.drugs)} drugs, {len(kb.targets)} targets, "
        f"{len(kb.mechanisms)} mechanisms, {len(kb.biomarkers)} biomarkers, "
        f"{len(kb.trials)} trials ({n_arms} arms, {n_out} outcomes), "
        f"{len(kb.references)} references, {len(kb.conflicts)} conflicts",
        soft_wrap=True,
    )


# --------------------------------------------------------------------------- export


def _csv(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue()


@app.command()
def export(
    fmt: str = typer.Option("json", "--format", "-f", help="json or csv."),
    out: Path | None = typer.Option(
        None, "-o", "--output", help="File to write (default: standard output)."
    ),
) -> None:
    """The whole knowledge base as JSON, or its outcomes as one CSV (a row per outcome)."""
    from her2lab.knowledge import query

    if fmt == "json":
        kb = _kb()
        _write(json.dumps(query.export_json(kb), indent=1, ensure_ascii=False) + "\n", out)
    elif fmt == "csv":
        res = query.outcome_table(data_dir=_state["data_dir"])
        _write(_csv(res.columns, res.rows), out)
    else:
        raise typer.BadParameter(f"expected json or csv; got {fmt!r}", param_hint="--format")


# --------------------------------------------------------------------------- queries


@app.command()
def trials(
    drug: str | None = typer.Option(None, "--drug", help="Drug ID, name or alias."),
    setting: str | None = typer.Option(
        None, "--setting", help="Setting (neoadjuvant, metastatic_first_line, ...) or a prefix."
    ),
    mechanism: str | None = typer.Option(None, "--mechanism", help="Resistance mechanism ID."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Trials that use a drug, in a setting, or addressing a resistance mechanism."""
    from her2lab.knowledge import query

    found = query.trials(drug=drug, setting=setting, mechanism=mechanism,
                         data_dir=_state["data_dir"])
    if fmt == "json":
        sys.stdout.write(json.dumps([t.model_dump(mode="json") for t in found], indent=1,
                                    ensure_ascii=False) + "\n")
        return
    if fmt != "table":
        raise typer.BadParameter(f"expected table or json; got {fmt!r}", param_hint="--format")
    table = Table(title=f"{len(found)} trial(s)", show_lines=False)
    for col in ("id", "name", "phase", "setting", "n", "arms", "outcomes"):
        table.add_column(col, overflow="fold")
    for t in found:
        arms = "\n".join(f"{a.id}: {' + '.join(a.regimen)}" for a in t.arms)
        table.add_row(t.id, t.name, t.phase, t.setting.value, "" if t.n is None else str(t.n),
                      arms, str(len(t.outcomes)))
    _console().print(table)


@app.command()
def drug(name: str = typer.Argument(..., help="Drug ID, name or alias.")) -> None:
    """One drug: class, targets, mechanism, aliases, identifiers and the trials that use it."""
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
        ("source", f"{d.provenance.locator}; refs {', '.join(map(str, d.provenance.refs)) or '-'}"),
    ]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for k, v in rows:
        grid.add_row(k, v)
    _console().print(Panel(grid, title=f"{d.name} [dim]({d.uid})[/]", expand=False))


@app.command()
def sql(
    query_text: str = typer.Argument(..., metavar="QUERY", help='One SELECT, e.g. "SELECT ..."'),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
) -> None:
    """Run one read-only SQL query on the compiled database (tables: see `kb sql --help`).

    Tables: drugs, drug_aliases, drug_targets, drug_components, drug_identifiers, targets,
    mechanisms, mechanism_targets, mechanism_drugs, biomarkers, biomarker_statements, trials,
    arms, arm_drugs, outcomes, "references" (quoted; or the view reference_list), conflicts,
    conflict_values, meta.
    """
    from her2lab.knowledge import query

    res = query.sql(query_text, data_dir=_state["data_dir"])
    if fmt == "csv":
        sys.stdout.write(_csv(res.columns, res.rows))
    elif fmt == "json":
        sys.stdout.write(json.dumps(res.records(), indent=1, ensure_ascii=False) + "\n")
    elif fmt == "table":
        table = Table(title=f"{len(res.rows)} row(s)")
        for col in res.columns:
            table.add_column(col, overflow="fold")
        for row in res.rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        _console().print(table)
    else:
        raise typer.BadParameter(f"expected table, csv or json; got {fmt!r}",
                                 param_hint="--format")


# --------------------------------------------------------------------------- audit


@app.command()
def audit(
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """The statistical consistency audit of every result (kind, severity, subject, message)."""
    from her2lab.knowledge.audit import run_audit

    findings = run_audit(_kb())
    if fmt == "json":
        sys.stdout.write(json.dumps([f.to_dict() for f in findings], indent=1,
                                    ensure_ascii=False) + "\n")
        return
    if fmt != "table":
        raise typer.BadParameter(f"expected table or json; got {fmt!r}", param_hint="--format")
    table = Table(title=f"{len(findings)} finding(s)")
    for col in ("severity", "kind", "subject", "message"):
        table.add_column(col, overflow="fold")
    colour = {"error": "red", "warning": "yellow"}
    for f in findings:
        sev = f"[{colour[f.severity]}]{f.severity}[/]" if f.severity in colour else f.severity
        table.add_row(sev, f.kind, f.subject, f.message)
    _console().print(table)
