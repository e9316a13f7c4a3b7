"""The response matrix: tumor profiles by regimens, as CSV and heatmaps (PNG and HTML).

Profiles and regimens are given as lists, or by name:

profiles  ``all-single`` (none and each mechanism), ``all`` (also every pair of mechanisms),
          or a file with one profile per line (``pten_loss,p95her2``; ``none``; ``#`` comments)
regimens  ``all-single`` (none and each drug), ``all-pairs`` (also every pair of drugs),
          ``table1`` (every arm of the seed's Table 1, from the knowledge base), or a file
          with one regimen per line (``trastuzumab+pertuzumab+docetaxel``)

Every cell is one :func:`her2lab.pathway.simulate` call, so cells come from the on-disk cache
when they were computed before.
"""

from __future__ import annotations

import csv
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from her2lab.errors import DataError
from her2lab.pathway.drugs import DRUGS, normalize_regimen
from her2lab.pathway.mechanisms import MECHANISMS, Profile, normalize_profile
from her2lab.pathway.response import KILL_SOURCES, PHENOTYPES
from her2lab.pathway.simulate import DEFAULT_SAMPLES, DEFAULT_SEED, Result, simulate, simulate_many

if TYPE_CHECKING:
    from her2lab.executor import Executor

__all__ = [
    "ScreenResult",
    "label",
    "resolve_profiles",
    "resolve_regimens",
    "screen",
    "table1_regimens",
    "write_outputs",
]

Regimen = tuple[str, ...]


def label(items: Profile | Sequence[str], sep: str = "+") -> str:
    """``pten_loss=0.6,hr_positive`` for a profile, ``a+b`` for a regimen, ``none`` if empty."""
    if isinstance(items, Profile):
        return items.label()
    return sep.join(items) or "none"


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"{path}: no such file (expected a name such as all-single, or a file)")
    lines = []
    from her2lab.textfile import read_text

    for raw in read_text(path, what="list of profiles or regimens").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    if not lines:
        raise DataError(f"{path}: the file lists nothing (one entry per line expected)")
    return lines


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def resolve_profiles(spec: str | Sequence[str]) -> list[Profile]:
    """Profiles from ``all-single``, ``all``, a file, or a list of ``a,b`` strings."""
    singles = [normalize_profile(s) for s in ("none", *MECHANISMS)]
    if isinstance(spec, str):
        if spec == "all-single":
            return singles
        if spec == "all":
            pairs = [normalize_profile(list(p)) for p in itertools.combinations(MECHANISMS, 2)]
            return singles + pairs
        if spec == "all-single+hr":
            return singles + [normalize_profile(p, hr_positive=True) for p in singles]
        spec = _read_lines(Path(spec))
    return _unique([normalize_profile(s) for s in spec])


def table1_regimens() -> list[Regimen]:
    """Every distinct arm regimen of the seed's Table 1 (from the knowledge base)."""
    from her2lab.knowledge import load

    regs = []
    for trial in load().trials:
        if getattr(trial, "in_table1", False):
            for arm in trial.arms:
                regs.append(normalize_regimen(arm.regimen))
    return _unique(regs)


def resolve_regimens(spec: str | Sequence[str]) -> list[Regimen]:
    """Regimens from ``all-single``, ``all-pairs``, ``table1``, a file, or ``a+b`` strings."""
    singles: list[Regimen] = [(), *((d,) for d in DRUGS)]
    if isinstance(spec, str):
        if spec == "all-single":
            return singles
        if spec == "all-pairs":
            pairs = [tuple(sorted(p)) for p in itertools.combinations(DRUGS, 2)]
            return singles + pairs
        if spec == "table1":
            return table1_regimens()
        spec = _read_lines(Path(spec))
    return _unique([normalize_regimen(s) for s in spec])


@dataclass(frozen=True)
class ScreenResult:
    profiles: list[Profile]
    regimens: list[Regimen]
    results: dict[tuple[Profile, Regimen], Result]

    def response(self, profile: Profile, regimen: Regimen) -> float:
        return self.results[(profile, regimen)].response

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for p in self.profiles:
            for r in self.regimens:
                res = self.results[(p, r)]
                row: dict[str, Any] = {"profile": label(p), "regimen": label(r, "+")}
                row.update({k: round(v, 6) for k, v in res.phenotypes.items()})
                row["growth"] = round(res.rates.growth, 6)
                row.update({f"kill_{s}": round(v, 6) for s, v in res.rates.kill.items()})
                row["response"] = round(res.response, 6)
                row["response_se"] = round(res.response_se, 6)
                out.append(row)
        return out


def screen(
    profiles: str | Sequence[str] | Sequence[Profile] = "all-single",
    regimens: str | Sequence[str] | Sequence[Regimen] = "all-single",
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    **simulate_kw: Any,
) -> ScreenResult:
    """Simulate every (profile, regimen) and collect the results (cached cells are reused).

    ``executor`` (:func:`her2lab.executor.executor`) runs the cells on local processes or a
    Dask cluster; every cell has the same seed as in a serial screen, so the results are
    the serial ones."""
    profs = _coerce(profiles, resolve_profiles, normalize_profile)
    regs = _coerce(regimens, resolve_regimens, normalize_regimen)
    total = len(profs) * len(regs)
    results: dict[tuple[Profile, Regimen], Result] = {}
    if executor is not None and executor.kind != "serial":
        pairs = [(p, r) for p in profs for r in regs]
        cell = functools.partial(_cell, samples=samples, seed=seed, **simulate_kw)
        values = executor.map(cell, pairs, progress=progress)
        return ScreenResult(profs, regs, dict(zip(pairs, values, strict=True)))
    done = 0
    for p in profs:  # one batch per profile row, so a progress bar moves
        row = simulate_many([(p, r) for r in regs], samples=samples, seed=seed, **simulate_kw)
        results.update({(p, r): res for r, res in zip(regs, row, strict=True)})
        done += len(regs)
        if progress is not None:
            progress(done, total)
    return ScreenResult(profs, regs, results)


def _cell(pair: tuple[Profile, Regimen], **kw: Any) -> Result:
    """One cell of a screen (module-level, so that executor workers can import it)."""
    return simulate(pair[0], pair[1], **kw)


def _coerce(spec: Any, by_name: Callable[[Any], list[Any]], one: Callable[[Any], Any]) -> list[Any]:
    if isinstance(spec, str):
        return by_name(spec)
    return _unique([one(s) for s in spec])


def output_paths(out_dir: Path | str, *, stem: str = "response") -> list[Path]:
    """The files :func:`write_outputs` writes under ``out_dir``."""
    out = Path(out_dir)
    return [out / f"{stem}_{name}" for name in ("long.csv", "matrix.csv", "heatmap.png",
                                                 "heatmap.html")]


def write_outputs(
    result: ScreenResult, out_dir: Path | str, *, stem: str = "response"
) -> list[Path]:
    """Write ``{stem}_long.csv`` (one row per cell, phenotypes and response),
    ``{stem}_matrix.csv`` (profiles by regimens), ``{stem}_heatmap.png`` and
    ``{stem}_heatmap.html``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from her2lab.atomic import atomic_open

    rows = result.rows()
    long_csv = out / f"{stem}_long.csv"
    with atomic_open(long_csv, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["profile", "regimen", *PHENOTYPES, "growth",
                                           *(f"kill_{s}" for s in KILL_SOURCES), "response",
                                           "response_se"])
        w.writeheader()
        w.writerows(rows)
    row_labels = [label(p) for p in result.profiles]
    col_labels = [label(r, "+") for r in result.regimens]
    matrix = [[result.response(p, r) for r in result.regimens] for p in result.profiles]
    matrix_csv = out / f"{stem}_matrix.csv"
    with atomic_open(matrix_csv, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["profile", *col_labels])
        for lab, vals in zip(row_labels, matrix, strict=True):
            w.writerow([lab, *(f"{v:.4f}" for v in vals)])
    png = out / f"{stem}_heatmap.png"
    _heatmap_png(matrix, row_labels, col_labels, png)
    html = out / f"{stem}_heatmap.html"
    _heatmap_html(result, row_labels, col_labels, html)
    return [long_csv, matrix_csv, png, html]


_TITLE = ("HER2 model: response (tumor control, 0-1, higher is better) by tumor profile and "
          "regimen. Research use: a model output, not a treatment recommendation.")


def _heatmap_png(matrix: list[list[float]], rows: list[str], cols: list[str], path: Path) -> None:
    import matplotlib

    from her2lab.atomic import atomic_path

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = max(6.0, 0.32 * len(cols) + 3.0)
    h = max(3.0, 0.32 * len(rows) + 2.5)
    fig, ax = plt.subplots(figsize=(w, h), dpi=110)
    im = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("regimen")
    ax.set_ylabel("tumor profile (resistance mechanisms)")
    ax.set_title(_TITLE.split(". ")[0], fontsize=9)
    fig.colorbar(im, ax=ax, label="response", shrink=0.8)
    fig.text(0.01, 0.005, "Research use: a model output, not a treatment recommendation.",
             fontsize=6)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)


def _heatmap_html(result: ScreenResult, rows: list[str], cols: list[str], path: Path) -> None:
    import plotly.graph_objects as go

    from her2lab.atomic import atomic_path

    z, text = [], []
    for p in result.profiles:
        zr, tr = [], []
        for r in result.regimens:
            res = result.results[(p, r)]
            zr.append(res.response)
            ph = "<br>".join(f"{k}: {v:.3f}" for k, v in res.phenotypes.items())
            tr.append(f"response {res.response:.3f} ± {res.response_se:.3f}<br>{ph}")
        z.append(zr)
        text.append(tr)
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, zmin=0, zmax=1, colorscale="Viridis", text=text,
        hovertemplate="%{y} | %{x}<br>%{text}<extra></extra>", colorbar={"title": "response"},
    ))
    fig.update_layout(title={"text": _TITLE, "font": {"size": 12}},
                      xaxis={"title": "regimen", "tickangle": -60},
                      yaxis={"title": "tumor profile", "autorange": "reversed"},
                      height=max(400, 22 * len(rows) + 250), width=max(700, 22 * len(cols) + 300))
    with atomic_path(path) as tmp:
        fig.write_html(tmp, include_plotlyjs=True, full_html=True)
