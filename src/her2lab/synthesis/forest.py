"""Forest plots of a pairwise meta-analysis or a network meta-analysis.

- :func:`forest_svg` / :func:`forest_png`: static figures (matplotlib, Agg; no global pyplot
  state), one row per study with its CI and a square sized by its random-effects weight, the
  pooled random-effects diamond, the common-effect diamond, and the prediction interval as a
  bar under the random-effects diamond. Ratio measures on a log axis.
- :func:`forest_html`: the same as an interactive plotly figure in one self-contained HTML
  page; plotly.js is embedded from the installed plotly package (no CDN, works offline).

An :class:`~her2lab.synthesis.nma.NMAResult` is drawn as the network estimates of every
treatment against the reference (random effects), with P-scores in place of weights.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from her2lab.synthesis.effects import RATIO_MEASURES, from_analysis_scale
from her2lab.synthesis.meta import MetaResult
from her2lab.synthesis.nma import NMAResult

__all__ = ["forest_html", "forest_png", "forest_rows", "forest_svg"]

_LABEL = {"HR": "hazard ratio", "OR": "odds ratio", "RR": "risk ratio",
          "RD": "risk difference", "MD": "mean difference"}


def forest_rows(result: MetaResult | NMAResult) -> dict:
    """The numbers a forest plot draws, on the reporting scale: ``rows`` (label, estimate,
    low, high, weight in percent or P-score), ``pooled`` (random and common diamonds),
    ``prediction`` (interval or None), ``measure``, ``null`` (1 for ratios, 0 otherwise)."""
    def back(x):
        return from_analysis_scale(x, result.measure)

    if isinstance(result, MetaResult):
        rows = []
        for s, w in zip(result.studies, result.weights, strict=True):
            lo, hi = s.ci(result.level)
            rows.append({"label": s.label, "estimate": s.estimate, "low": lo, "high": hi,
                         "weight": 100 * w})
        r, f = result.random, result.fixed
        pooled = [
            {"label": f"Random effects ({result.method}{', HKSJ' if result.hksj else ''})",
             "estimate": back(r.log_estimate), "low": back(r.ci_low_analysis),
             "high": back(r.ci_high_analysis)},
            {"label": "Common effect", "estimate": back(f.log_estimate),
             "low": back(f.ci_low_analysis), "high": back(f.ci_high_analysis)},
        ]
        pred = None
        if r.prediction_low_analysis is not None:
            pred = {"low": back(r.prediction_low_analysis),
                    "high": back(r.prediction_high_analysis)}
        i2 = "n/a" if r.i2 is None else f"{r.i2:.1f}%"
        stats_line = (f"k = {result.k}; τ² = {r.tau2:.4g}; I² = {i2}; "
                      f"Q = {result.q:.2f} on {result.q_df} df")
        weight_title = "weight %"
    else:
        rows = []
        ps = result.pscores("random")
        for row in result.versus_reference("random"):
            rows.append({"label": f"{row['treatment']} vs {result.reference}",
                         "estimate": back(row["estimate"]), "low": back(row["ci_low"]),
                         "high": back(row["ci_high"]), "weight": 100 * ps[row["treatment"]]})
        pooled, pred = [], None
        i2 = "n/a" if result.i2 is None else f"{result.i2:.1f}%"
        stats_line = (f"{len(result.studies)} studies, {len(result.treatments)} treatments; "
                      f"τ² = {result.tau2:.4g}; I² = {i2}; Q = {result.q:.2f} on "
                      f"{result.q_df} df (between designs {result.q_between:.2f} on "
                      f"{result.q_between_df})")
        weight_title = "P-score %"
    return {"rows": rows, "pooled": pooled, "prediction": pred, "measure": result.measure,
            "null": 1.0 if result.measure in RATIO_MEASURES else 0.0, "stats": stats_line,
            "weight_title": weight_title}


def _figure(result: MetaResult | NMAResult, title: str | None):
    from matplotlib.figure import Figure

    data = forest_rows(result)
    rows, pooled, pred = data["rows"], data["pooled"], data["prediction"]
    n = len(rows) + len(pooled) + (1 if pred else 0)
    longest = max(len(r["label"]) for r in rows + pooled) if rows else 10
    width = 9.0 + max(0.0, (longest - 30) * 0.075)
    left = (0.25 + 0.075 * longest) / width
    fig = Figure(figsize=(width, 1.4 + 0.36 * (n + 1)))
    ax = fig.add_axes((left, 0.14 + 0.3 / (n + 2), 0.745 - left, 0.76 - 0.3 / (n + 2)))
    ratio = result.measure in RATIO_MEASURES
    y = n
    labels, ys = [], []
    wmax = max((r["weight"] for r in rows), default=1.0) or 1.0
    for r in rows:
        ax.plot([r["low"], r["high"]], [y, y], color="#333333", lw=1.1)
        size = 4 + 10 * math.sqrt(r["weight"] / wmax)
        ax.plot([r["estimate"]], [y], marker="s", ms=size, color="#1f4e79", ls="none")
        labels.append(r["label"])
        ys.append(y)
        y -= 1
    colors = ["#b22222", "#7f7f7f"]
    for p, c in zip(pooled, colors, strict=False):
        h = 0.32
        ax.fill([p["low"], p["estimate"], p["high"], p["estimate"]], [y, y + h, y, y - h],
                color=c, alpha=0.9)
        labels.append(p["label"])
        ys.append(y)
        y -= 1
        if c == colors[0] and pred:
            ax.plot([pred["low"], pred["high"]], [y, y], color=c, lw=3, solid_capstyle="butt")
            labels.append("Prediction interval")
            ys.append(y)
            y -= 1
    ax.axvline(data["null"], color="black", lw=0.8, ls="--")
    if ratio:
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

        ax.set_xscale("log")
        lo, hi = ax.get_xlim()
        ticks = [t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20) if lo <= t <= hi]
        if len(ticks) < 4:
            ticks = [t for t in (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4) if lo <= t <= hi]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(ys, labels)
    ax.set_ylim(y + 0.4, n + 0.8)
    ax.set_xlabel(_LABEL[result.measure] + (" (log scale)" if ratio else ""))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    # right-hand columns: estimate [CI] and weight
    texts = []
    for r in rows:
        texts.append((f"{r['estimate']:.2f} [{r['low']:.2f}, {r['high']:.2f}]",
                      f"{r['weight']:.1f}"))
    for i, p in enumerate(pooled):
        texts.append((f"{p['estimate']:.2f} [{p['low']:.2f}, {p['high']:.2f}]", ""))
        if i == 0 and pred:
            texts.append((f"[{pred['low']:.2f}, {pred['high']:.2f}]", ""))
    from matplotlib.transforms import blended_transform_factory

    trans = blended_transform_factory(fig.transFigure, ax.transData)
    for (est, w), yy in zip(texts, ys, strict=True):
        ax.text(0.765, yy, est, transform=trans, va="center", fontsize=8.5)
        ax.text(0.985, yy, w, transform=trans, va="center", fontsize=8.5, ha="right")
    ax.text(0.765, n + 0.7, f"{result.measure} [{round(100 * _level(result))}% CI]",
            transform=trans, fontsize=8.5, weight="bold")
    ax.text(0.985, n + 0.7, data["weight_title"], transform=trans, fontsize=8.5, ha="right",
            weight="bold")
    fig.text(0.02, 0.02, data["stats"], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11, x=0.02, ha="left")
    return fig


def _level(result) -> float:
    return result.level if isinstance(result, MetaResult) else result.random.level


def forest_svg(result: MetaResult | NMAResult, path: str | Path | None = None, *,
               title: str | None = None) -> str:
    """The forest plot as SVG text (written to ``path`` too when given).

    The SVG is the same for the same input (fixed hash salt, no date).

    Parameters
    ----------
    result : MetaResult or NMAResult
        A pairwise result (one row per study and the pooled rows) or a network (each treatment
        against the reference).
    path : str or Path, optional
        Where to write it, atomically.
    title : str, optional
        The plot's title.

    Returns
    -------
    str
        The SVG text.

    Raises
    ------
    OutputError
        If ``path`` cannot be written.
    """
    import matplotlib

    fig = _figure(result, title)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "her2lab", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    if path is not None:
        from her2lab.atomic import atomic_write_text

        atomic_write_text(path, text)
    return text


def forest_png(result: MetaResult | NMAResult, path: str | Path, *, title: str | None = None,
               dpi: int = 150) -> Path:
    """The forest plot as a PNG file.

    Parameters
    ----------
    result : MetaResult or NMAResult
        The analysis to plot.
    path : str or Path
        Where to write it, atomically.
    title : str, optional
        The plot's title.
    dpi : int, optional
        Resolution, dots per inch (default 150).

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    OutputError
        If ``path`` cannot be written.
    """
    from her2lab.atomic import atomic_path

    fig = _figure(result, title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    return Path(path)


def forest_html(result: MetaResult | NMAResult, path: str | Path | None = None, *,
                title: str | None = None, full_html: bool = True) -> str:
    """An interactive forest plot (plotly): hovering a row shows its estimate, CI and weight.

    Parameters
    ----------
    result : MetaResult or NMAResult
        The analysis to plot.
    path : str or Path, optional
        Where to write it, atomically.
    title : str, optional
        The plot's title.
    full_html : bool, optional
        True (default): one self-contained page with plotly.js embedded from the installed
        plotly package; False: only the ``<div>`` and its script, for a page that loads
        plotly.js once itself (``plotly.offline.get_plotlyjs()`` gives the same bundle).

    Returns
    -------
    str
        The HTML text.

    Raises
    ------
    OutputError
        If ``path`` cannot be written.
    """
    import plotly.graph_objects as go

    data = forest_rows(result)
    rows, pooled, pred = data["rows"], data["pooled"], data["prediction"]
    labels = [r["label"] for r in rows]
    fig = go.Figure()
    wmax = max((r["weight"] for r in rows), default=1.0) or 1.0
    fig.add_trace(go.Scatter(
        x=[r["estimate"] for r in rows], y=labels, mode="markers", name="studies",
        marker={"symbol": "square", "color": "#1f4e79",
                "size": [6 + 14 * math.sqrt(r["weight"] / wmax) for r in rows]},
        error_x={"type": "data", "symmetric": False,
                 "array": [r["high"] - r["estimate"] for r in rows],
                 "arrayminus": [r["estimate"] - r["low"] for r in rows], "color": "#333"},
        customdata=[[r["low"], r["high"], r["weight"]] for r in rows],
        hovertemplate=("%{y}<br>%{x:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]<br>"
                       + data["weight_title"] + " %{customdata[2]:.1f}<extra></extra>"),
    ))
    colors = ["#b22222", "#7f7f7f"]
    for p, c in zip(pooled, colors, strict=False):
        lab = p["label"]
        fig.add_trace(go.Scatter(
            x=[p["low"], p["estimate"], p["high"], p["estimate"], p["low"]],
            y=[lab, lab, lab, lab, lab], mode="lines", fill="toself", line={"color": c,
                                                                            "width": 6},
            name=lab, hovertemplate=(f"{lab}<br>{p['estimate']:.3f} "
                                     f"[{p['low']:.3f}, {p['high']:.3f}]<extra></extra>"),
        ))
        labels.append(lab)
        if c == colors[0] and pred:
            fig.add_trace(go.Scatter(
                x=[pred["low"], pred["high"]], y=["Prediction interval"] * 2, mode="lines",
                line={"color": c, "width": 3}, name="prediction interval",
                hovertemplate=(f"prediction interval [{pred['low']:.3f}, "
                               f"{pred['high']:.3f}]<extra></extra>"),
            ))
            labels.append("Prediction interval")
    ratio = result.measure in RATIO_MEASURES
    fig.add_vline(x=data["null"], line_dash="dash", line_color="black")
    fig.update_layout(
        title=title or f"Forest plot ({_LABEL[result.measure]})",
        xaxis={"type": "log" if ratio else "linear", "title": _LABEL[result.measure]},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(labels)),
               "automargin": True},
        showlegend=False, template="plotly_white", height=180 + 32 * len(labels),
        annotations=[{"text": data["stats"], "xref": "paper", "yref": "paper", "x": 0,
                      "y": -0.25, "showarrow": False, "align": "left"}],
        margin={"b": 110},
    )
    html = fig.to_html(include_plotlyjs=full_html, full_html=full_html, div_id="forest")
    if path is not None:
        from her2lab.atomic import atomic_write_text

        atomic_write_text(path, html)
    return html
