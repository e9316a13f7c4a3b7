"""The virtual trials' stage of ``her2lab reproduce``: calibration as of the seed's date, the
virtual Table 1 (every comparable Table 1 effect and the NeoSphere and NSABP B-41 arm rates,
reported against expected with intervals; Kaplan-Meier plots of simulated arms),
leave-one-trial-out and forward validation, each beside the null model."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from her2lab.atomic import atomic_open, atomic_path, atomic_write_text
from her2lab.knowledge import KnowledgeBase, load
from her2lab.reproduce import Context, StageResult, register_stage
from her2lab.virtual_trials.calibration import Calibration, calibrate
from her2lab.virtual_trials.defaults import FIT_WORKERS, RunSettings
from her2lab.virtual_trials.link import PRIOR_DEPARTURES
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.plan import TrialPlan
from her2lab.virtual_trials.rows import TargetRow, rows_for
from her2lab.virtual_trials.targets import Target, table1_targets
from her2lab.virtual_trials.trial import TrialResult, simulate
from her2lab.virtual_trials.validation import summarize, summary_line, validate

AS_OF = dt.date(2014, 8, 12)
FORWARD_AS_OF = dt.date(2012, 12, 31)


def virtual_table1_rows(cal: Calibration, kb: KnowledgeBase, model: TrialModel
                        ) -> list[tuple[Target, TargetRow]]:
    """The virtual Table 1 as validation rows: :func:`.targets.table1_targets` as of the
    calibration's date, each reported (as the knowledge base gives it) against expected at the
    calibration, with its prediction interval (:func:`.rows.rows_for`)."""
    targets = table1_targets(kb, cal.as_of)
    return list(zip(targets, rows_for(targets, cal.params, cal.cov, model),
                    strict=True))


def virtual_table1(cal: Calibration, kb: KnowledgeBase, model: TrialModel
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(effects, arm rates): each Table 1 trial's primary-endpoint effect with a CI, and the
    NeoSphere and B-41 arm pCR rates, reported against expected with 95% intervals (the rows
    of :func:`virtual_table1_rows`, in the CSVs' columns)."""
    effects, rates = [], []
    for t, r in virtual_table1_rows(cal, kb, model):
        name = kb.trial(t.trial).name
        if t.kind == "rate":
            rates.append({
                "trial": name, "arm": t.arm, "control": t.arm == t.reference,
                "reported": r.reported, "reported_low": r.reported_low,
                "reported_high": r.reported_high, "expected": r.expected,
                "pred_low": r.pred_low, "pred_high": r.pred_high,
                "inside_arm_interval": r.inside_reported_ci,
            })
        else:
            effects.append({
                "trial": name, "outcome": r.outcome, "endpoint": r.endpoint,
                "measure": r.measure, "arms": r.arms, "reported": r.reported,
                "reported_low": r.reported_low, "reported_high": r.reported_high,
                "expected": r.expected, "pred_low": r.pred_low, "pred_high": r.pred_high,
                "inside_reported_ci": r.inside_reported_ci, "null": r.null_expected,
                "null_inside_reported_ci": r.null_inside,
            })
    return effects, rates


def _km_plot(res: TrialResult, path: Path, reported: dict[str, float]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, c in res.curves.items():
        line = ax.step(c["time"], c["survival"], where="post", label=f"{name} (simulated)")[0]
        if name in reported:
            ax.axvline(reported[name], color=line.get_color(), ls=":", lw=1,
                       label=f"{name} reported median")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.set_xlabel("months")
    ax.set_ylabel(f"{res.endpoint} (Kaplan-Meier)")
    e = res.effect
    ax.set_title(f"{res.trial}: expected HR {e.expected:.2f} ({e.pred_low:.2f}-"
                 f"{e.pred_high:.2f})", fontsize=10)
    ax.legend(fontsize=7)
    ax.text(0.99, 0.01, "simulated; research use, not medical advice", fontsize=6,
            transform=ax.transAxes, ha="right", va="bottom", color="grey")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with atomic_open(path, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


@register_stage("virtual_trials", "Virtual trials: calibration, virtual Table 1, validation")
def virtual_trials_stage(ctx: Context) -> StageResult:
    out = ctx.out_dir / "virtual_trials"
    (out / "km").mkdir(parents=True, exist_ok=True)
    settings = RunSettings(seed=ctx.seed)
    if ctx.quick:
        settings = settings.with_(panel_size=16, samples=200)
    km_settings = settings.with_(replicates=3 if ctx.quick else 10)  # the Kaplan-Meier plots
    kb = load()
    model = TrialModel.for_settings(settings)

    workers = 1 if ctx.quick else FIT_WORKERS  # quick: tests, where processes cost more
    cal = calibrate(AS_OF, settings=settings, kb=kb, model=model, workers=workers)
    cal_path = out / "calibration.json"
    cal.write(cal_path)
    files = [cal_path]

    effects, rates = virtual_table1(cal, kb, model)
    for name, rows in (("table1_virtual.csv", effects), ("table1_arm_rates.csv", rates)):
        _csv(out / name, rows)
        files.append(out / name)
    for t in kb.trials:
        if t.in_table1 and t.primary_endpoint and t.primary_endpoint.is_time_to_event:
            res = simulate(TrialPlan.from_kb(t, kb, as_of=AS_OF), cal, settings=km_settings,
                           model=model, kb=kb)
            reported = {r.outcome.arm: r.outcome.value
                        for r in kb.outcomes(trial=t, kind="median", endpoint=res.endpoint,
                                             superseded=True)
                        if r.outcome.value is not None and r.outcome.unit == "months"}
            png = out / "km" / f"{t.id}.png"
            _km_plot(res, png, reported)
            files.append(png)

    loo = validate(AS_OF, method="loo", kb=kb, calibration=cal, model=model)
    fwd = validate(FORWARD_AS_OF, settings=settings, kb=kb, model=model, workers=workers)
    for name, obj in (("loo.json", loo), ("forward.json", fwd)):
        atomic_write_text(out / name, json.dumps(obj, indent=1))
        files.append(out / name)

    fit_s = summarize(cal.table)
    assert cal.fit is not None  # a fitted calibration
    se = cal.fit.se
    p = cal.params.vector()
    params = ", ".join(f"{n} {p[i]:.3g} ± {se[n]:.2g}" for i, n in enumerate(se))
    n_eff = sum(e["inside_reported_ci"] for e in effects)
    n_null = sum(e["null_inside_reported_ci"] for e in effects)
    arm_rates = [r for r in rates if not r["control"]]
    summary = [
        ("calibration as of", f"{AS_OF} ({cal.counts['targets']} targets, "
         f"{cal.counts['trials']} trials)"),
        ("parameters (Laplace SE)", params),
        ("outside prior 95%", "; ".join(
            f"{n} ({PRIOR_DEPARTURES[n]})" if n in PRIOR_DEPARTURES else n
            for n in cal.fit.outside_prior) or "none"),
        ("Table 1 effects: expected inside reported CI",
         f"{n_eff} / {len(effects)} (null model {n_null} / {len(effects)})"),
        ("NeoSphere/B-41 arm rates inside arm's 95% interval",
         f"{sum(r['inside_arm_interval'] for r in arm_rates)} / {len(arm_rates)} "
         "(non-control arms)"),
        ("fit (model vs null)", summary_line(fit_s)),
        ("leave-one-trial-out (model vs null)", summary_line(loo["summary"])),
        (f"forward from {FORWARD_AS_OF} (model vs null)", summary_line(fwd["summary"])),
    ]
    return StageResult(summary=summary, files=files,
                       data={"calibration": cal, "effects": effects, "rates": rates,
                             "loo": loo, "forward": fwd})
