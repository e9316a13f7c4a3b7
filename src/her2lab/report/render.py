"""Rendering a :class:`~her2lab.report.strategy.StrategyReport`: one Jinja2 template, two
outputs. HTML carries the disclaimer in its header and footer; the PDF (WeasyPrint) on every
page through CSS ``@page`` margin boxes. Figures are inline SVG drawn by matplotlib.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

from her2lab.errors import Her2labError

if TYPE_CHECKING:
    from her2lab.report.strategy import StrategyReport

__all__ = ["evidence_svg", "in_silico_svg", "render_html", "write_atomic", "write_pdf"]

SUMMARY_LINES = 6
"""Lines in the one-page summary (the rest are in appendix A)."""

SETTING_NAMES = {
    "neoadjuvant": "neoadjuvant (before surgery)", "adjuvant": "adjuvant (after surgery)",
    "post_neoadjuvant": "post-neoadjuvant", "extended_adjuvant": "extended adjuvant",
    "metastatic_first_line": "metastatic, first line",
    "metastatic_pretreated": "metastatic, after trastuzumab",
    "metastatic_any_line": "metastatic, any line",
    "advanced_solid_tumors": "advanced solid tumours",
}

TIER_COLOURS = {"I-A": "#1b7837", "II-A": "#4d9221", "II-B": "#7f9a2e", "III-A": "#8c6bb1",
                "X": "#808080"}


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "her2lab-report"
    plt.rcParams["font.size"] = 8
    return plt


def evidence_svg(report: StrategyReport, top: int = 8) -> str | None:
    """Forest plot of the cited HRs (whole populations and the profile's subgroups) of the
    first ``top`` regimens, on a log axis, coloured by ESCAT tier."""
    rows = []
    for r in report.ranked[:top]:
        for e in r.evidence:
            if e.measure == "HR" and e.ci_low and e.ci_high and (
                    e.subgroup is None or e.subgroup in report.profile.biomarkers):
                sub = f" [{e.match}]" if e.subgroup else ""
                rows.append((f"#{r.rank} {e.trial_name} {e.endpoint}{sub}", e.value, e.ci_low,
                             e.ci_high, e.tier))
        for p in r.pooled:
            rows.append((f"#{r.rank} pooled {p.endpoint} ({p.k} trials)", p.estimate, p.ci_low,
                         p.ci_high, "pooled"))
    if not rows:
        return None
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(6.4, 0.26 * len(rows) + 0.9))
    for i, (_, v, lo, hi, tier) in enumerate(rows):
        y = len(rows) - 1 - i
        colour = TIER_COLOURS.get(tier, "#2166ac")
        ax.plot([lo, hi], [y, y], color=colour, lw=2)
        marker = "D" if tier == "pooled" else "s"
        ax.plot([v], [y], marker=marker, color=colour if tier != "pooled" else "#2166ac",
                ms=5)
        ax.text(1.0, y, f"  {v:.2f} ({lo:.2f}-{hi:.2f}) {tier}", va="center", fontsize=7,
                transform=ax.get_yaxis_transform())
    ax.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)])
    ax.axvline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xscale("log")
    lo = min(r[2] for r in rows)
    hi = max(r[3] for r in rows)
    xlim = (max(lo * 0.8, 0.05), min(max(hi * 1.25, 1.3), 20))
    ax.set_xlim(*xlim)
    _log_ticks(ax, *xlim)
    ax.set_xlabel("hazard ratio (log scale; < 1 favours the regimen)")
    ax.set_title("Clinical evidence: hazard ratios with their CIs (ESCAT tier)", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def in_silico_svg(report: StrategyReport, top: int = 8) -> str | None:
    """Pathway response without and with the added drugs, and the virtual-trial HR, for the
    first ``top`` regimens. Labelled in silico."""
    rs = [r for r in report.ranked[:top] if r.rationale is not None]
    if not rs:
        return None
    plt = _mpl()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(6.6, 0.3 * len(rs) + 1.1), sharey=True)
    labels = [f"#{r.rank} {_short(r.label)}" for r in rs]
    for i, r in enumerate(rs):
        y = len(rs) - 1 - i
        ra = r.rationale
        a1.plot([ra.response_without, ra.response_with], [y, y], color="#999999", lw=1)
        a1.plot([ra.response_without], [y], "o", color="#bbbbbb", ms=4)
        a1.plot([ra.response_with], [y], "o", color="#762a83", ms=5)
        p = r.prediction
        if p is not None and math.isfinite(p.estimate):
            a2.plot([p.low, p.high], [y, y], color="#762a83", lw=2)
            a2.plot([p.estimate], [y], "s", color="#762a83", ms=4)
    a1.set_yticks(range(len(rs)), list(reversed(labels)))
    a1.set_xlabel("pathway response (grey: without the added drug)")
    a1.set_xlim(0, 1)
    measure = next((r.prediction.measure for r in rs if r.prediction), "HR")
    preds = [r.prediction for r in rs if r.prediction is not None
             and math.isfinite(r.prediction.low) and r.prediction.low > 0]
    a2.set_xscale("log")
    a2.axvline(1.0, color="k", lw=0.8, ls="--")
    if preds:
        xlim = (max(min(p.low for p in preds) * 0.8, 0.02),
                min(max(max(p.high for p in preds) * 1.25, 1.3), 50))
        a2.set_xlim(*xlim)
        _log_ticks(a2, *xlim)
    a2.set_xlabel(f"virtual-trial {measure} (95% of trials)")
    fig.suptitle("IN SILICO (her2lab model), not clinical evidence", fontsize=9)
    for a in (a1, a2):
        a.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _log_ticks(ax, lo: float, hi: float) -> None:
    """Plain-number ticks on a log axis (0.2, 0.5, 1, 2) instead of powers of ten."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ticks = [t for t in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20)
             if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{t:g}" for t in ticks])


def _short(label: str, n: int = 38) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("her2lab.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def render_html(report: StrategyReport) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG)."""
    import datetime as dt

    import markupsafe

    import her2lab
    from her2lab.knowledge import load
    from her2lab.report.evidence import ENDPOINT_NAMES

    kb = load()
    cal = report.settings.get("calibration_as_of")
    cal_date = dt.date.fromisoformat(cal) if cal else None
    newer_uids = {e.uid for x in report.ranked for e in x.clinical_items
                  if cal_date is not None and e.published > cal_date}
    tmpl = _env().get_template("report.html.j2")
    ev = evidence_svg(report)
    sil = in_silico_svg(report)
    return tmpl.render(
        r=report, version=her2lab.__version__,
        evidence_svg=markupsafe.Markup(ev) if ev else None,
        in_silico_svg=markupsafe.Markup(sil) if sil else None,
        tier_colours=TIER_COLOURS, setting_name=SETTING_NAMES.get(report.setting,
                                                                  report.setting),
        setting_names=SETTING_NAMES, endpoint_names=ENDPOINT_NAMES,
        mech_names={m.id: m.name for m in kb.mechanisms},
        trial_names={t.id: t.name for t in kb.trials}, newer_uids=newer_uids,
        summary_lines=SUMMARY_LINES,
    )


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`her2lab.atomic.atomic_write_bytes`)."""
    from her2lab.atomic import atomic_write_bytes

    return atomic_write_bytes(path, data)


def write_pdf(report: StrategyReport, path: Path) -> Path:
    """The report as PDF through WeasyPrint (which needs pango; see docs/report.md)."""
    try:
        import weasyprint
    except OSError as exc:  # missing system libraries (pango, harfbuzz)
        raise Her2labError(
            "WeasyPrint cannot load its system libraries (pango and friends): "
            f"{exc}. Install them with 'make .venv/.installed' as root (Debian: libpango-1.0-0 "
            "libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core) and retry"
        ) from None
    html = render_html(report)
    pdf = weasyprint.HTML(string=html).write_pdf()
    return write_atomic(path, pdf)
