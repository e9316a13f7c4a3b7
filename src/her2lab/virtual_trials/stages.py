"""The virtual trials' stage of ``her2lab reproduce``: calibration as of the seed, the virtual
Table 1 (reported against simulated, with Kaplan-Meier plots of the simulated arms) and
leave-one-trial-out validation."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from her2lab.knowledge import load
from her2lab.reproduce import Context, StageResult, register_stage
from her2lab.virtual_trials.calibrate import WEEKS_PER_MONTH, calibrate, leave_one_out
from her2lab.virtual_trials.link import TIME_TO_EVENT
from her2lab.virtual_trials.trial import TrialPlan, run_trial

AS_OF = dt.date(2014, 8, 12)


def _km_plot(res: dict[str, Any], path: Path, reported: dict[str, float]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, c in res["curves"].items():
        line = ax.step(c["time"], c["survival"], where="post", label=f"{name} (simulated)")[0]
        if name in reported:
            ax.axvline(reported[name], color=line.get_color(), ls=":", lw=1,
                       label=f"{name} reported median")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.set_xlabel("months")
    ax.set_ylabel(f"{res['endpoint']} (Kaplan-Meier)")
    e = res["effect"]
    ax.set_title(f"{res['trial']}: simulated HR {e['estimate']:.2f} "
                 f"({e['ci_low']:.2f}-{e['ci_high']:.2f})", fontsize=10)
    ax.legend(fontsize=7)
    ax.text(0.99, 0.01, "simulated; research use, not medical advice", fontsize=6,
            transform=ax.transAxes, ha="right", va="bottom", color="grey")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _reported_effects(t) -> list[dict[str, Any]]:
    """Every overall effect the knowledge base holds for the trial (preferred values only)."""
    kb = load()
    skip = {v.outcome for c in kb.conflicts if c.preferred for v in c.values
            if v.outcome and v.outcome != c.preferred}
    out = []
    for o in t.outcomes:
        if (o.kind == "effect" and o.subgroup is None and o.ci and f"{t.id}/{o.id}" not in skip):
            out.append({"outcome": o.id, "endpoint": o.endpoint.value, "measure": o.measure,
                        "arm": o.arms[0], "control": o.arms[1], "value": o.value,
                        "low": o.ci.low, "high": o.ci.high})
    return out


@register_stage("virtual_trials", "Virtual trials: calibration, virtual Table 1, validation")
def virtual_trials_stage(ctx: Context) -> StageResult:
    out = ctx.out_dir / "virtual_trials"
    (out / "km").mkdir(parents=True, exist_ok=True)
    panel, samples = (16, 300) if ctx.quick else (48, 800)
    reps = 5 if ctx.quick else 20
    kb = load()

    cal = calibrate(AS_OF, seed=ctx.seed, kb=kb, panel_size=panel, samples=samples,
                    bootstrap_reps=20 if ctx.quick else 100)
    cal_path = out / "calibration.json"
    cal_path.write_text(json.dumps(cal.to_dict(), indent=1))

    rows: list[dict[str, Any]] = []
    files = [cal_path]
    inside = 0
    compared = 0
    for t in kb.trials:
        if not t.in_table1:
            continue
        plan = TrialPlan.from_kb(t, kb)
        res = run_trial(plan, cal.params, replicates=reps, seed=ctx.seed, samples=samples,
                        panel_size=panel)
        reported_medians: dict[str, float] = {}
        for o in t.outcomes:
            if o.kind == "median" and o.endpoint.value == plan.endpoint and o.value is not None:
                v = o.value / WEEKS_PER_MONTH if o.unit == "weeks" else o.value
                reported_medians[o.arm] = v
        sim_effects = {(e["arm"], e["measure"]): e for e in res["effects_over_replicates"]}
        row: dict[str, Any] = {"trial": t.name, "endpoint": plan.endpoint,
                               "control": plan.control, "power": res["replicates"]["power"]}
        matched = [r for r in _reported_effects(t) if r["endpoint"] == plan.endpoint
                   and r["control"] == plan.control and (r["arm"], r["measure"]) in sim_effects]
        for r in matched[:1]:
            sim = sim_effects[(r["arm"], r["measure"])]
            scale = 100.0 if r["measure"] == "difference" else 1.0  # points vs proportion
            med = None if sim["median"] is None else sim["median"] * scale
            row.update({
                "measure": r["measure"], "arms": f"{r['arm']} vs {r['control']}",
                "reported": r["value"], "reported_ci": f"{r['low']}-{r['high']}",
                "simulated_median_of_replicates": med,
                "simulated_2.5%": None if sim["p2_5"] is None else sim["p2_5"] * scale,
                "simulated_97.5%": None if sim["p97_5"] is None else sim["p97_5"] * scale,
            })
            if med is not None:
                compared += 1
                ok = r["low"] <= med <= r["high"]
                inside += ok
                row["simulated_inside_reported_ci"] = ok
        reported_rates = {o.arm: o.value for o in t.outcomes
                          if o.kind == "rate" and o.endpoint.value == plan.endpoint
                          and o.timepoint is None and o.subgroup is None}
        for a in res["arms"]:
            key = "median" if "median" in a else "rate"
            val = a.get(key)
            row[f"sim_{a['name']}_{key}"] = None if val is None else round(
                val * (100 if key == "rate" else 1), 2)
            if a["name"] in reported_medians:
                row[f"rep_{a['name']}_median"] = round(reported_medians[a["name"]], 2)
            if key == "rate" and a["name"] in reported_rates:
                row[f"rep_{a['name']}_rate"] = reported_rates[a["name"]]
        rows.append(row)
        if plan.endpoint in TIME_TO_EVENT:
            png = out / "km" / f"{t.id}.png"
            _km_plot(res, png, reported_medians)
            files.append(png)

    table = out / "table1_virtual.csv"
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with table.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    files.append(table)

    loo = leave_one_out(AS_OF, seed=ctx.seed, kb=kb, panel_size=panel, samples=samples,
                        bootstrap_reps=5 if ctx.quick else 20)
    loo_path = out / "loo.json"
    loo_path.write_text(json.dumps(loo, indent=1))
    files.append(loo_path)
    s = loo["summary"]

    def f(x: Any) -> str:
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"

    ci = cal.intervals
    summary = [
        ("link beta (95% bootstrap)",
         f"{cal.params.beta:.3g} ({f(ci.get('beta', (None,))[0])}-"
         f"{f(ci.get('beta', (None, None))[1])})"),
        ("link gamma (95% bootstrap)",
         f"{cal.params.gamma:.3g} ({f(ci.get('gamma', (None,))[0])}-"
         f"{f(ci.get('gamma', (None, None))[1])})"),
        ("Table 1 effects: simulated inside reported CI", f"{inside} / {compared}"),
        ("leave-one-out: median |error| log HR / rate points",
         f"{f(s['median_abs_error_log_hr'])} / {f(s['median_abs_error_rate_points'])}"),
        ("leave-one-out: direction accuracy / coverage",
         f"{f(s['direction_accuracy'])} / {f(s['coverage'])}"),
    ]
    return StageResult(summary=summary, files=files,
                       data={"calibration": cal, "rows": rows, "loo": loo})
