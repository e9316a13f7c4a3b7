"""``her2lab synth ...``: pairwise and network meta-analysis of a CSV, and the knowledge base's
pooled questions with their forest plots."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from her2lab.cli._io import (
    as_of_date,
    check_not_input,
    check_output_dir,
    console,
    format_option,
    kb_data_dir,
    note,
    write_json,
)

app = typer.Typer(no_args_is_help=True)

DISCLAIMER = "Research use only, not medical advice."


def _measure(value: str) -> str:
    from her2lab.synthesis import MEASURES

    m = value.strip().upper()
    if m not in MEASURES:
        raise typer.BadParameter(f"expected one of {', '.join(MEASURES)}; got {value!r}")
    return m


def _method(value: str) -> str:
    from her2lab.synthesis import METHODS

    m = value.strip().upper()
    if m not in METHODS:
        raise typer.BadParameter(f"expected one of {', '.join(METHODS)}; got {value!r}")
    return m


def _f(x: Any, nd: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def _i2(d: dict) -> str:
    if d["i2"] is None:
        return "-"
    return f"{d['i2']:.1f}% ({_f(d['i2_low'], 1)} to {_f(d['i2_high'], 1)})"


def _meta_table(d: dict) -> Table:
    if d.get("hksj_applied", d["hksj"]):
        how = " with HKSJ"
    elif d["hksj"]:
        how = " (HKSJ not applied: it needs two studies; normal interval)"
    else:
        how = ""
    t = Table(title=f"{d['measure']} meta-analysis, {d['method']}{how}")
    for c in ("study", d["measure"], "CI", "weight %"):
        t.add_column(c)
    for s in d["studies"]:
        t.add_row(s["study"], _f(s["estimate"]), f"{_f(s['ci_low'])} to {_f(s['ci_high'])}",
                  f"{100 * s['weight']:.1f}")
    for label, b in ((f"random ({d['method']})", d), ("common", d["fixed"])):
        t.add_row(label, _f(b["estimate"]), f"{_f(b['ci_low'])} to {_f(b['ci_high'])}", "")
    t.add_row("prediction", "", f"{_f(d['prediction_low'])} to {_f(d['prediction_high'])}", "")
    return t


@app.command()
def meta(
    file: Path = typer.Argument(..., help="CSV: study, then estimate,ci_low,ci_high[,ci_level] "
                                          "or events_t,n_t,events_c,n_c or "
                                          "mean_t,sd_t,n_t,mean_c,sd_c,n_c."),
    measure: str = typer.Option(..., "--measure", callback=_measure,
                                help="HR, OR, RR, RD or MD."),
    method: str = typer.Option("REML", "--method", callback=_method,
                               help="τ² estimator: DL, PM or REML."),
    hksj: bool = typer.Option(False, "--hksj", help="Hartung-Knapp-Sidik-Jonkman intervals."),
    drop_double_zero: bool = typer.Option(
        True, "--drop-double-zero/--keep-double-zero",
        help="Counts: leave out studies with no events (or only events) in both arms (the "
             "default), or keep them with 1/2 added to every cell as metafor does."),
    rd_add_half: bool = typer.Option(
        False, "--rd-add-half", help="RD from counts: add 1/2 to every cell of a zero-cell "
                                     "study, as metafor does (default: no correction)."),
    fmt: str = format_option("table", "json"),
) -> None:
    """Pairwise meta-analysis of the studies in FILE (random effects beside common effect)."""
    from her2lab.synthesis import meta_analysis
    from her2lab.synthesis.effects import read_effects_table

    effects, conventions = read_effects_table(
        file, measure=measure, double_zero="drop" if drop_double_zero else "add",
        rd_add=0.5 if rd_add_half else 0.0)
    res = meta_analysis(effects, method=method, hksj=hksj)
    d = res.to_dict()
    d["conventions"] = conventions
    if fmt == "json":
        write_json(d)
        return
    con = console()
    con.print(_meta_table(d))
    i2 = _i2(d)
    con.print(f"k = {d['k']}; tau2 = {_f(d['tau2'], 4)}; I2 = {i2}; Q = {_f(d['q'], 2)} on "
              f"{d['q_df']} df", markup=False, highlight=False)
    for line in conventions:
        con.print(f"note: {line}", markup=False, highlight=False)
    for n in d.get("notes", []):
        con.print(f"note: {n}", markup=False, highlight=False)


@app.command()
def nma(
    file: Path = typer.Argument(..., help="CSV: study,treatment1,treatment2,estimate,se "
                                          "(estimate on the analysis scale: log for ratios)."),
    measure: str = typer.Option(..., "--measure", callback=_measure,
                                help="HR, OR, RR, RD or MD."),
    reference: str | None = typer.Option(None, "--reference", help="Reference treatment."),
    larger_is_better: bool = typer.Option(
        False, "--larger-is-better",
        help="For P-scores: larger values are better (default: smaller, e.g. an HR)."),
    fmt: str = format_option("table", "json"),
) -> None:
    """Network meta-analysis (graph-theoretical, common and random effects) of FILE."""
    from her2lab.synthesis import network_meta_analysis, read_contrasts_csv

    res = network_meta_analysis(read_contrasts_csv(file), measure=measure, reference=reference,
                                small_values="undesirable" if larger_is_better else "desirable")
    d = res.to_dict()
    if fmt == "json":
        write_json(d)
        return
    con = console()
    t = Table(title=f"Network meta-analysis ({measure}, analysis scale) versus {d['reference']}")
    for c in ("treatment", "random", "random CI", "common", "common CI", "P-score"):
        t.add_column(c)
    common = {r["treatment"]: r for r in d["common"]}
    for r in d["random"]:
        c = common[r["treatment"]]
        t.add_row(r["treatment"], _f(r["estimate"]), f"{_f(r['ci_low'])} to {_f(r['ci_high'])}",
                  _f(c["estimate"]), f"{_f(c['ci_low'])} to {_f(c['ci_high'])}",
                  _f(d["pscores"][r["treatment"]], 4))
    t.add_row(d["reference"], "(reference)", "", "", "", _f(d["pscores"][d["reference"]], 4))
    con.print(t)
    i2 = _i2(d)
    con.print(f"tau2 = {_f(d['tau2'], 4)}; I2 = {i2}; Q = {_f(d['q'], 2)} on {d['q_df']} df "
              f"(within designs {_f(d['q_within'], 2)} on {d['q_within_df']}, between designs "
              f"{_f(d['q_between'], 2)} on {d['q_between_df']})", markup=False, highlight=False)


@app.command(name="kb")
def kb_cmd(
    questions: list[str] | None = typer.Argument(
        None, help="Question IDs (default: all); see --list."),
    out: Path = typer.Option(Path("synthesis"), "-o", "--out", help="Output directory."),
    as_of: str | None = typer.Option(None, "--as-of",
                                     help="Use results published on or before this date."),
    method: str = typer.Option("REML", "--method", callback=_method),
    list_only: bool = typer.Option(False, "--list", help="List the questions and exit."),
) -> None:
    """Pool the knowledge base's questions across trials; write JSON, CSV and forest plots."""
    from her2lab.synthesis.kb import kb_questions, pool_kb, write_pooled

    known = {q.id: q for q in kb_questions()}
    if list_only:
        for q in known.values():
            typer.echo(f"{q.id}\t{q.title}")
        return
    chosen = list(questions) if questions else list(known)
    for qid in chosen:
        if qid not in known:
            from her2lab.errors import UnknownIdError

            raise UnknownIdError("synthesis question", qid, list(known))
    when = None if as_of is None else as_of_date(as_of)
    check_not_input([out], [kb_data_dir()])
    check_output_dir(out)
    con = console()
    t = Table(title="Pooled analyses of the knowledge base" + (f" as of {when}" if when else ""))
    for c in ("question", "k", "pooled (random)", "CI", "I²", "conflicts used"):
        t.add_column(c)
    n_files = 0
    for qid in chosen:
        pa = pool_kb(qid, as_of=when, method=method)
        n_files += len(write_pooled(pa, out))
        conflicts = ", ".join(sorted({c.conflict for c in pa.conflicts})) or "-"
        if pa.result is not None:
            r = pa.result.to_dict()
            t.add_row(qid, str(r["k"]), f"{pa.question.measure} {_f(r['estimate'], 2)}",
                      f"{_f(r['ci_low'], 2)} to {_f(r['ci_high'], 2)}",
                      "-" if r["i2"] is None else f"{r['i2']:.0f}%", conflicts)
        else:
            parts = "; ".join(f"{len(n.treatments)} treatments" for n in pa.networks) or "none"
            t.add_row(qid, str(len(pa.studies)), f"network: {parts}", "", "", conflicts)
    con.print(t)
    note(f"wrote {n_files} files under {out}")
    note(DISCLAIMER)
