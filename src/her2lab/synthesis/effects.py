"""Study-level effect sizes on the analysis scale, and the CSV files they are read from.

Ratio measures (HR, OR, RR) are analysed on the log scale, differences (RD, MD) as they are.
An :class:`Effect` holds one study's estimate ``yi`` on that scale and its standard error.
It is made from

- a reported estimate with its confidence interval (:func:`effect_from_ci`, any ``level``):
  ``se = (g(high) - g(low)) / (2 z)``, ``g = log`` for ratios, ``z = Φ⁻¹((1 + level) / 2)``;
- 2×2 counts (:func:`effect_from_counts`, OR, RR, RD) through statsmodels'
  ``effectsize_2proportions``; a study with a zero cell gets 0.5 added to every cell for OR
  and RR (the usual correction, metafor's ``add=1/2, to="only0"``). Two conventions differ
  from metafor's defaults and are stated wherever they apply (:func:`zero_cell_notes`):

  * a *double-zero* study (no events, or only events, in both arms) says nothing of an OR or
    RR; her2lab leaves it out by default (``double_zero="drop"``; ``her2lab synth meta``'s
    ``--drop-double-zero``, on by default), while metafor's ``escalc`` keeps it with ½ added
    to every cell (``drop00=FALSE``): ``double_zero="add"`` (``--keep-double-zero``) does that;
  * an RD gets no ½ in a zero-cell study by default (the observed proportions are unbiased;
    ``rd_add=0``), while metafor adds ½ for every measure: ``rd_add=0.5``
    (``--rd-add-half``) does that. A double-zero study has an RD of 0 with variance 0 unless
    ½ is added, so without it such a study is left out under RD too.
- means, SDs and sizes (:func:`effect_from_means`, MD): ``yi = m_t - m_c``,
  ``vi = sd_t²/n_t + sd_c²/n_c``.

:func:`read_effects_csv` reads the CSV of ``her2lab synth meta``; every bad cell is reported with
its file, line and column (:class:`~her2lab.errors.ValidationError`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from her2lab.errors import DataError, Problem, ValidationError

__all__ = [
    "DOUBLE_ZERO",
    "MEASURES",
    "RATIO_MEASURES",
    "DoubleZeroStudy",
    "Effect",
    "effect_from_ci",
    "effect_from_counts",
    "effect_from_means",
    "read_effects_csv",
    "read_effects_table",
    "zero_cell_notes",
]

RATIO_MEASURES = ("HR", "OR", "RR")
MEASURES = ("HR", "OR", "RR", "RD", "MD")

_MEASURE_NAMES = {
    "HR": "hazard ratio",
    "OR": "odds ratio",
    "RR": "risk ratio",
    "RD": "risk difference",
    "MD": "mean difference",
}


def check_measure(measure: str) -> str:
    m = str(measure).strip().upper()
    if m not in MEASURES:
        raise DataError(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
    return m


def to_analysis_scale(value: float, measure: str) -> float:
    return math.log(value) if measure in RATIO_MEASURES else float(value)


def from_analysis_scale(value: float | None, measure: str) -> float | None:
    if value is None or not math.isfinite(value):
        return value
    return math.exp(value) if measure in RATIO_MEASURES else float(value)


@dataclass(frozen=True)
class Effect:
    """One study's effect on the analysis scale (log for HR, OR, RR).

    Attributes
    ----------
    label : str
        Names the study.
    yi : float
        The effect on the analysis scale (a log HR, not the HR; a risk or mean difference as
        is).
    se : float
        Its standard error, on the same scale.
    measure : str
        One of :data:`MEASURES`: ``HR``, ``OR``, ``RR``, ``RD`` or ``MD``.
    source : str
        Where the figure came from or how it was derived (free text, carried into outputs).
    """

    label: str
    yi: float
    se: float
    measure: str
    source: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.yi) and math.isfinite(self.se) and self.se > 0):
            raise DataError(
                f"study {self.label!r}: the effect needs a finite estimate and a positive "
                f"standard error; got estimate {self.yi}, se {self.se}"
            )

    @property
    def vi(self) -> float:
        return self.se**2

    @property
    def estimate(self) -> float:
        """The effect on the reporting scale (back-transformed for ratios)."""
        return from_analysis_scale(self.yi, self.measure)  # type: ignore[return-value]

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """The Wald confidence interval on the reporting scale.

        Parameters
        ----------
        level : float, optional
            Confidence level, in (0, 1) (default 0.95).

        Returns
        -------
        tuple of (float, float)
            ``(low, high)``, back-transformed for ratio measures.
        """
        z = stats.norm.isf((1 - level) / 2)
        lo, hi = self.yi - z * self.se, self.yi + z * self.se
        return from_analysis_scale(lo, self.measure), from_analysis_scale(hi, self.measure)  # type: ignore[return-value]

    def to_dict(self) -> dict:
        """The effect as a JSON-ready dict.

        Returns
        -------
        dict
            ``label``, ``yi``, ``se``, ``measure`` and ``source``.
        """
        return asdict(self)


def effect_from_ci(
    label: str,
    estimate: float,
    ci_low: float,
    ci_high: float,
    *,
    measure: str,
    level: float = 0.95,
    source: str = "",
) -> Effect:
    """An effect from a reported estimate and its confidence interval.

    The standard error comes from the width of the interval on the analysis scale; the estimate
    itself is kept as reported (a rounded CI need not be symmetric around it).

    Parameters
    ----------
    label : str
        Names the study.
    estimate : float
        The reported estimate, on the reporting scale (an HR, not its log).
    ci_low, ci_high : float
        The reported interval, on the same scale.
    measure : str
        One of :data:`MEASURES` (``HR``, ``OR``, ``RR``, ``RD``, ``MD``), case-insensitive.
    level : float, optional
        The interval's confidence level, in (0, 1) (default 0.95).
    source : str, optional
        Where the figure comes from (carried into outputs).

    Returns
    -------
    Effect
        The effect on the analysis scale.

    Raises
    ------
    DataError
        If the measure is unknown, the level is outside (0, 1), a ratio is not positive, or the
        interval does not contain the estimate.
    """
    measure = check_measure(measure)
    if not 0 < level < 1:
        raise DataError(f"study {label!r}: ci_level must lie in (0, 1); got {level}")
    if measure in RATIO_MEASURES and min(estimate, ci_low, ci_high) <= 0:
        raise DataError(
            f"study {label!r}: a {_MEASURE_NAMES[measure]} and its CI must be above 0; "
            f"got {estimate} ({ci_low}, {ci_high})"
        )
    if not ci_low < ci_high:
        raise DataError(
            f"study {label!r}: ci_low must be below ci_high; got {ci_low} and {ci_high}"
        )
    z = stats.norm.isf((1 - level) / 2)
    lo, hi = to_analysis_scale(ci_low, measure), to_analysis_scale(ci_high, measure)
    return Effect(label, to_analysis_scale(estimate, measure), (hi - lo) / (2 * z), measure,
                  source)


_STATISTIC = {"OR": "odds-ratio", "RR": "risk-ratio", "RD": "diff"}


DOUBLE_ZERO = ("drop", "add", "refuse")
"""What :func:`effect_from_counts` does with a double-zero study: ``drop`` (her2lab's default
in a table of studies: left out and said so), ``add`` (½ to every cell, metafor's default) or
``refuse`` (an error: the default for one study on its own)."""


class DoubleZeroStudy(DataError):
    """A study with no events (or only events) in both arms, asked to be left out."""


def is_double_zero(events_t: int, n_t: int, events_c: int, n_c: int) -> bool:
    return (events_t == 0 and events_c == 0) or (events_t == n_t and events_c == n_c)


def effect_from_counts(
    label: str,
    events_t: int,
    n_t: int,
    events_c: int,
    n_c: int,
    *,
    measure: str,
    source: str = "",
    double_zero: str = "refuse",
    rd_add: float = 0.0,
) -> Effect:
    """An OR, RR or RD (treatment versus control) from 2×2 counts (statsmodels).

    Parameters
    ----------
    label : str
        Names the study.
    events_t, n_t : int
        Events and patients in the treatment arm.
    events_c, n_c : int
        Events and patients in the control arm.
    measure : {"OR", "RR", "RD"}
        The effect measure.
    source : str, optional
        Where the counts come from.
    double_zero : {"refuse", "drop", "add"}, optional
        What a study with no events, or only events, in both arms gets (:data:`DOUBLE_ZERO`):
        ``refuse`` (default) raises :class:`~her2lab.errors.DataError`, ``drop`` raises
        :class:`DoubleZeroStudy` for the caller to leave it out, ``add`` adds 0.5 to every
        cell.
    rd_add : float, optional
        What an RD's zero-cell study gets added to every cell: 0 (her2lab's default) or 0.5
        (metafor's).

    Returns
    -------
    Effect
        The effect on the analysis scale (log for OR and RR).

    Raises
    ------
    DataError
        If the counts are impossible (events above n, negative), the measure or
        ``double_zero`` is unknown, or a double-zero study is refused.
    DoubleZeroStudy
        For a double-zero study with ``double_zero="drop"``.
    """
    from statsmodels.stats.meta_analysis import effectsize_2proportions

    measure = check_measure(measure)
    if measure not in _STATISTIC:
        raise DataError(
            f"study {label!r}: counts give OR, RR or RD, not {measure} "
            "(an HR needs estimate,ci_low,ci_high; an MD needs means and SDs)"
        )
    if double_zero not in DOUBLE_ZERO:
        raise DataError(f"double_zero must be one of {', '.join(DOUBLE_ZERO)}; got "
                        f"{double_zero!r}")
    if rd_add not in (0.0, 0.5):
        raise DataError(f"rd_add must be 0 or 0.5; got {rd_add!r}")
    for name, e, n in (("events_t", events_t, n_t), ("events_c", events_c, n_c)):
        if not (0 <= e <= n and n >= 1):
            raise DataError(
                f"study {label!r}: {name} must lie between 0 and its arm size; got {e} of {n}"
            )
    both = is_double_zero(events_t, n_t, events_c, n_c)
    undefined = both and (measure != "RD" or rd_add == 0.0)
    if undefined and double_zero == "drop":
        raise DoubleZeroStudy(f"study {label!r}: double-zero study left out")
    if undefined and not (double_zero == "add" and measure != "RD"):
        what = (f"its {_MEASURE_NAMES[measure]} is undefined" if measure != "RD" else
                "its risk difference is 0 with variance 0")
        raise DataError(
            f"study {label!r}: no events (or only events) in both arms; {what}: leave the "
            "study out (her2lab synth meta --drop-double-zero, the default) or keep it with ½ "
            "added to every cell as metafor does (--keep-double-zero"
            + (", with --rd-add-half for RD)" if measure == "RD" else ")")
        )
    # statsmodels adds a float correction to the counts of every study, not only of those with a
    # zero cell; so it is asked for only where a cell is zero (this function sees one study)
    has_zero = events_t in (0, n_t) or events_c in (0, n_c)
    add = rd_add if measure == "RD" else 0.5
    zero = add if has_zero and add > 0 else None
    eff, var = effectsize_2proportions(
        np.array([events_t], float), np.array([n_t], float),
        np.array([events_c], float), np.array([n_c], float),
        statistic=_STATISTIC[measure], zero_correction=zero,
    )
    se = math.sqrt(float(var[0]))
    if se == 0:
        raise DataError(
            f"study {label!r}: the risk difference has zero variance (all or no events in both "
            "arms)"
        )
    return Effect(label, float(eff[0]), se, measure, source)


def zero_cell_notes(measure: str, *, double_zero: str, rd_add: float,
                    dropped: Sequence[str] = (), corrected: Sequence[str] = ()) -> list[str]:
    """The zero-cell conventions of a table of counts, as the output states them."""
    notes = []
    if dropped:
        notes.append(f"double-zero studies left out ({', '.join(dropped)}): no events (or only "
                     "events) in both arms (--drop-double-zero, the default; metafor keeps "
                     "them with ½ added: --keep-double-zero)")
    if corrected:
        how = ("½ added to every cell" if measure != "RD" else
               f"{rd_add:g} added to every cell")
        notes.append(f"zero-cell studies with {how}: {', '.join(corrected)}"
                     + (" (metafor's add=1/2, to='only0')" if measure != "RD" or rd_add else ""))
    if measure == "RD" and rd_add == 0.0:
        notes.append("RD: no ½ added to zero-cell studies (her2lab's choice; metafor adds ½: "
                     "--rd-add-half)")
    return notes


def effect_from_means(
    label: str,
    mean_t: float,
    sd_t: float,
    n_t: int,
    mean_c: float,
    sd_c: float,
    n_c: int,
    *,
    source: str = "",
) -> Effect:
    """A mean difference (treatment minus control) with ``se² = sd_t²/n_t + sd_c²/n_c``.

    Parameters
    ----------
    label : str
        Names the study.
    mean_t, sd_t : float
        Mean and standard deviation in the treatment arm.
    n_t : int
        Patients in the treatment arm.
    mean_c, sd_c : float
        Mean and standard deviation in the control arm.
    n_c : int
        Patients in the control arm.
    source : str, optional
        Where the figures come from.

    Returns
    -------
    Effect
        An ``MD`` effect.

    Raises
    ------
    DataError
        If a standard deviation is not above 0 or an arm size is below 1.
    """
    if min(sd_t, sd_c) <= 0 or min(n_t, n_c) < 1:
        raise DataError(
            f"study {label!r}: SDs must be above 0 and arm sizes at least 1; got sd {sd_t}, "
            f"{sd_c} and n {n_t}, {n_c}"
        )
    return Effect(label, mean_t - mean_c, math.sqrt(sd_t**2 / n_t + sd_c**2 / n_c), "MD", source)


# --------------------------------------------------------------------------- CSV

_LAYOUTS = {
    "ci": ("estimate", "ci_low", "ci_high"),
    "counts": ("events_t", "n_t", "events_c", "n_c"),
    "means": ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"),
}
_INTEGER = {"events_t", "n_t", "events_c", "n_c"}


def read_table(path: str | Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and rows (with their line numbers) of a CSV file; clear errors for what is not
    a readable, non-empty CSV."""
    from her2lab.textfile import read_text

    p = Path(path)
    # refuses a directory, a missing file, text that is not UTF-8 and NUL bytes (file, line)
    text = read_text(p, what="CSV file").removeprefix("\ufeff")
    lines = text.splitlines()
    reader = csv.reader(lines)
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    try:
        for raw in reader:
            line = reader.line_num
            if not raw or all(not c.strip() for c in raw) or raw[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [c.strip() for c in raw]
                dup = sorted({c for c in header if header.count(c) > 1})
                if dup:
                    raise ValidationError(
                        [Problem(str(p), "header", "unique column names",
                                 f"repeated {', '.join(dup)}", line)],
                        f"{p}: bad header",
                    )
                continue
            if len(raw) != len(header):
                raise ValidationError(
                    [Problem(str(p), "row", f"{len(header)} comma-separated cells (the header's)",
                             f"{len(raw)} cells", line)],
                    f"{p}: bad row",
                )
            rows.append((line, {h: c.strip() for h, c in zip(header, raw, strict=True)}))
    except csv.Error as exc:
        raise DataError(f"{p}:{reader.line_num}: not valid CSV ({exc})") from None
    if header is None:
        raise DataError(f"{p}: empty file; expected a header line and one row per study")
    if not rows:
        raise DataError(f"{p}: a header but no rows; expected one row per study")
    return header, rows


def parse_number(
    cell: str, *, file: str, line: int, column: str, integer: bool = False,
    problems: list[Problem],
) -> float | None:
    expected = "a whole number" if integer else "a number"
    if cell == "":
        problems.append(Problem(file, column, expected, "an empty cell", line))
        return None
    try:
        value = float(cell)
    except ValueError:
        problems.append(Problem(file, column, expected, repr(cell), line))
        return None
    if not math.isfinite(value):
        problems.append(Problem(file, column, f"{expected} (finite)", repr(cell), line))
        return None
    if integer and value != int(value):
        problems.append(Problem(file, column, expected, repr(cell), line))
        return None
    return value


def _layout(header: Sequence[str], file: str, measure: str) -> str:
    if "study" not in header:
        raise ValidationError(
            [Problem(file, "study", "a 'study' column naming each study",
                     f"columns {', '.join(header)}", 1)],
            f"{file}: bad header",
        )
    found = [name for name, cols in _LAYOUTS.items() if all(c in header for c in cols)]
    allowed = {"HR": ["ci"], "OR": ["ci", "counts"], "RR": ["ci", "counts"],
               "RD": ["ci", "counts"], "MD": ["ci", "means"]}[measure]
    usable = [f for f in found if f in allowed]
    if len(usable) > 1:
        forms = " and ".join("'" + ",".join(_LAYOUTS[a]) + "'" for a in usable)
        raise ValidationError(
            [Problem(file, "header", "the columns of one layout (one way of giving every "
                     "study's effect)", f"both {forms}", 1)],
            f"{file}: the columns mix layouts; give each file one layout",
        )
    if not usable:
        forms = " or ".join("'" + ",".join(_LAYOUTS[a]) + "'" for a in allowed)
        raise ValidationError(
            [Problem(file, "header", f"study, then {forms} for {measure}",
                     f"columns {', '.join(header)}", 1)],
            f"{file}: the columns do not fit measure {measure}",
        )
    return usable[0]


def read_effects_csv(path: str | Path, *, measure: str, double_zero: str = "drop",
                     rd_add: float = 0.0) -> list[Effect]:
    """The studies of a ``synth meta`` CSV as :class:`Effect` objects.

    :func:`read_effects_table` also says which double-zero studies were left out.

    Parameters
    ----------
    path : str or Path
        The CSV: ``study``, then ``estimate,ci_low,ci_high[,ci_level]`` (reporting scale),
        or ``events_t,n_t,events_c,n_c`` (OR, RR, RD), or ``mean_t,sd_t,n_t,mean_c,sd_c,n_c``
        (MD).
    measure : str
        The effect measure of every row (one of :data:`MEASURES`).
    double_zero : {"drop", "add", "refuse"}, optional
        What a double-zero study gets (default ``drop``: left out).
    rd_add : float, optional
        What an RD's zero-cell study gets added to every cell (0 or 0.5).

    Returns
    -------
    list of Effect
        One effect per study kept, in file order.

    Raises
    ------
    ValidationError
        Listing every bad row and field (file, line, what was expected).
    DataError
        If the file is empty, not CSV, or every study is a double-zero study.
    """
    return read_effects_table(path, measure=measure, double_zero=double_zero,
                              rd_add=rd_add)[0]


def read_effects_table(path: str | Path, *, measure: str, double_zero: str = "drop",
                       rd_add: float = 0.0) -> tuple[list[Effect], list[str]]:
    """The studies of a ``synth meta`` CSV as :class:`Effect` objects, and the notes that
    state the zero-cell conventions applied (:func:`zero_cell_notes`).

    Columns: ``study``, then ``estimate,ci_low,ci_high[,ci_level]`` (any measure; ci_level a
    fraction such as 0.95, or a percentage such as 95; default 0.95), or
    ``events_t,n_t,events_c,n_c`` (OR, RR, RD), or ``mean_t,sd_t,n_t,mean_c,sd_c,n_c`` (MD).
    Estimates are on the reporting scale (an HR of 0.7, not its log). ``double_zero`` and
    ``rd_add`` as in :func:`effect_from_counts`.
    """
    measure = check_measure(measure)
    file = str(path)
    dropped: list[str] = []
    corrected: list[str] = []
    header, rows = read_table(path)
    layout = _layout(header, file, measure)
    problems: list[Problem] = []
    effects: list[Effect] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        label = row["study"]
        if not label:
            problems.append(Problem(file, "study", "a study name", "an empty cell", line))
            continue
        if label in seen:
            problems.append(Problem(file, "study", "a name used once",
                                    f"{label!r}, already on line {seen[label]}", line))
            continue
        seen[label] = line
        nums: dict[str, float | None] = {}
        for col in _LAYOUTS[layout]:
            nums[col] = parse_number(row[col], file=file, line=line, column=col,
                                     integer=col in _INTEGER, problems=problems)
        level = 0.95
        if layout == "ci" and row.get("ci_level", ""):
            lv = parse_number(row["ci_level"], file=file, line=line, column="ci_level",
                              problems=problems)
            if lv is not None:
                level = lv / 100 if lv > 1 else lv
                if not 0 < level < 1:
                    problems.append(Problem(file, "ci_level", "a level in (0, 1) or (0, 100)",
                                            row["ci_level"], line))
                    continue
        if any(v is None for v in nums.values()):
            continue
        v = {k: float(x) for k, x in nums.items()}  # type: ignore[arg-type]
        try:
            if layout == "ci":
                eff = effect_from_ci(label, v["estimate"], v["ci_low"], v["ci_high"],
                                     measure=measure, level=level, source=f"{file}:{line}")
                if not v["ci_low"] <= v["estimate"] <= v["ci_high"]:
                    raise DataError(f"the CI ({v['ci_low']}, {v['ci_high']}) does not contain "
                                    f"the estimate {v['estimate']}")
            elif layout == "counts":
                cells = (int(v["events_t"]), int(v["n_t"]), int(v["events_c"]), int(v["n_c"]))
                try:
                    eff = effect_from_counts(label, *cells, measure=measure,
                                             source=f"{file}:{line}", double_zero=double_zero,
                                             rd_add=rd_add)
                except DoubleZeroStudy:
                    dropped.append(label)
                    continue
                et, nt, ec, nc = cells
                add = rd_add if measure == "RD" else 0.5
                if add and (et in (0, nt) or ec in (0, nc)):
                    corrected.append(label)
            else:
                eff = effect_from_means(label, v["mean_t"], v["sd_t"], int(v["n_t"]),
                                        v["mean_c"], v["sd_c"], int(v["n_c"]),
                                        source=f"{file}:{line}")
        except DataError as exc:
            problems.append(Problem(file, ",".join(_LAYOUTS[layout]),
                                    "values that define an effect", str(exc), line))
            continue
        effects.append(eff)
    if problems:
        raise ValidationError(problems, f"{file}: {len(problems)} problem(s)")
    if not effects:
        raise DataError(f"{file}: every study is a double-zero study ({', '.join(dropped)}); "
                        "nothing to pool (keep them with ½ added, as metafor does: "
                        "--keep-double-zero)")
    notes = (zero_cell_notes(measure, double_zero=double_zero, rd_add=rd_add,
                             dropped=dropped, corrected=corrected)
             if layout == "counts" else [])
    return effects, notes
