"""The report stage of ``her2lab reproduce``: example strategy reports under ``OUT/report/``.

Four profiles (:data:`EXAMPLES`), each as HTML, PDF and JSON: a trastuzumab-sensitive tumor in
first-line metastatic disease, PTEN loss after trastuzumab, p95HER2 after trastuzumab, and an
HR-positive tumor before surgery. The virtual trials use the calibration the virtual-trials
stage wrote (``OUT/virtual_trials/calibration.json``) when it ran. Research outputs, not
medical advice.
"""

from __future__ import annotations

from her2lab.report.strategy import strategy_report
from her2lab.reproduce import Context, StageResult, register_stage
from her2lab.virtual_trials.defaults import RunSettings

EXAMPLES = {
    "trastuzumab_sensitive": ("none", "metastatic_first_line"),
    "pten_loss_pretreated": ("pten_loss,trastuzumab_pretreated", "metastatic_pretreated"),
    "p95her2_pretreated": ("p95her2,trastuzumab_pretreated", "metastatic_pretreated"),
    "hr_positive_neoadjuvant": ("hr_positive", "neoadjuvant"),
}
"""name -> (profile, setting) of the example reports."""


@register_stage("report", "Strategy reports for example profiles")
def report_stage(ctx: Context) -> StageResult:
    out = ctx.out_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    # the virtual-trials stage's calibration (as of the seed's date), where it ran before
    vt = ctx.results.get("virtual_trials")
    calibration = vt.data["calibration"] if vt is not None else None
    settings = (calibration.settings if calibration is not None
                else RunSettings(seed=ctx.seed))
    if ctx.quick:
        settings = settings.with_(samples=300, replicates=10)
    files = []
    summary = [("virtual trials calibrated by", calibration.source if calibration
                else "none (the link's priors)")]
    for name, (profile, setting) in EXAMPLES.items():
        rep = strategy_report(profile, setting, settings=settings, calibration=calibration)
        files += [rep.write_html(out / f"{name}.html"), rep.write_pdf(out / f"{name}.pdf"),
                  rep.write_json(out / f"{name}.json")]
        first = rep.ranked[0] if rep.ranked else None
        summary.append((f"{name} ({setting}): first",
                        f"{first.label} [ESCAT {first.tier_text()}]" if first else "none"))
    return StageResult(summary=summary, files=files)
