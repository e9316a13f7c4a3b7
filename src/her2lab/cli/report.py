"""``her2lab report``: the strategy report for a tumor profile and a setting.

::

    her2lab report --profile pten_loss,trastuzumab_pretreated --setting metastatic_pretreated \
        -o report.pdf
    her2lab report --profile profile.yaml --setting neoadjuvant --as-of 2014-08-12 -o report.html
"""

from __future__ import annotations

from pathlib import Path

import typer

from her2lab.cli._io import (
    as_of_date,
    check_not_input,
    check_output_file,
    echo,
    input_file,
    kb_data_dir,
    note,
)
from her2lab.errors import DataError

_SUFFIXES = (".html", ".pdf", ".json")


def report(
    profile: str = typer.Option(
        ..., "--profile", help="Mechanisms, biomarkers and attributes, comma-separated, with "
        "degrees where the model takes them (pten_loss,p95her2:0.5,hr_positive), or a YAML file; "
        "'none' for a trastuzumab-sensitive tumor."),
    setting: str = typer.Option(
        ..., "--setting", help="A setting of the knowledge base (neoadjuvant, adjuvant, "
        "metastatic_first_line, metastatic_pretreated, ...)."),
    out: Path = typer.Option(..., "-o", "--out", help="report.html, report.pdf or report.json"),
    as_of: str = typer.Option(None, "--as-of", help="Only evidence published by this date "
                              "(YYYY-MM-DD)."),
    calibration: Path = typer.Option(None, "--calibration", help="A calibration JSON of "
                                     "'her2lab trials calibrate' for the virtual trials."),
    samples: int = typer.Option(None, "--samples", min=1, max=1_000_000,
                                help="Pathway-model trajectories (default: the calibration's)."),
    replicates: int = typer.Option(None, "--replicates", min=1, max=100_000,
                                   help="Virtual trials per regimen (default: the "
                                        "calibration's)."),
    seed: int = typer.Option(None, "--seed", min=0, max=2**32 - 1,
                             help="Random seed (default: the calibration's)."),
) -> None:
    """Rank regimens for a tumor profile and setting, with ESCAT-graded clinical evidence and
    the model's in-silico rationale. A research output, not medical advice."""
    from her2lab.report import DISCLAIMER, strategy_report
    from her2lab.virtual_trials.calibration import Calibration

    suffix = out.suffix.lower()
    if suffix not in _SUFFIXES:
        raise DataError(f"-o {out}: expected a file ending in {', '.join(_SUFFIXES)}; got "
                        f"{suffix or 'no suffix'!r}")
    check_not_input([out], [calibration, input_file(profile), kb_data_dir()])
    check_output_file(out)
    date = None if as_of is None else as_of_date(as_of)
    # the profile and the setting checked before the progress line: a mistake is one message
    from her2lab.report.profile import parse_profile
    from her2lab.report.strategy import _setting as known_setting

    parse_profile(profile)
    known_setting(setting)
    cal = Calibration.priors() if calibration is None else Calibration.read(calibration)
    settings = cal.settings.with_(samples=samples, replicates=replicates, seed=seed)
    note("simulating the pathway model and virtual trials ...")
    rep = strategy_report(profile, setting, as_of=date,
                          calibration=None if calibration is None else cal, settings=settings)
    if suffix == ".pdf":
        rep.write_pdf(out)
    elif suffix == ".json":
        rep.write_json(out)
    else:
        rep.write_html(out)
    for r in rep.ranked[:5]:
        echo(f"{r.rank}. {r.label} [ESCAT {r.tier_text()}] {r.key_evidence()}")
    echo(f"{len(rep.ranked)} regimens ranked; the rest, the evidence and the in-silico results "
         "are in the report")
    note(f"wrote {out}")
    echo(DISCLAIMER + ".")
