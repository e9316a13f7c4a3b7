"""Benchmark: a 1,000,000-patient two-arm virtual trial, simulated and analysed.

Run: ``.venv/bin/python bench/virtual_trials.py`` (``--quick`` for 100,000 patients;
``--lifelines-cox`` also times lifelines' CoxPHFitter on the full trial, about a minute).

The trial: 1:1, Weibull baseline (shape 1.3, control median 12 months), HR 0.7, uniform accrual
over 24 months, analysis 24 months after the last patient, 5% dropout a year. Timed (wall clock,
best of 3 unless said otherwise):

1. simulation (``simulate_two_arm_survival``), split into the random draws and the rest;
2. analysis with the NumPy engine (``analyze_survival(engine="numpy")``), split into
   Kaplan–Meier per arm, the risk table (one sort of all times, grouped by distinct time) that
   the Cox fit and the log-rank test share, the Cox Newton–Raphson iterations and the log-rank
   sums;
3. the lifelines pieces that are practical at this size (Kaplan–Meier, log-rank), and, on
   request, lifelines' Cox fit;
4. a binary (pCR) trial of the same size;
5. replicates: 1,000 replicates of a 400-patient trial with the NumPy engine, against lifelines
   (timed on 50 and scaled).

The results are checked: the HR estimate must lie within 4 SE of 0.7 and the two engines must
agree on the analysis of the replicate-sized trial.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from her2lab.virtual_trials.stats.analyze import (
    _cox,
    _cox_lifelines,
    _kaplan_meier_lifelines,
    _logrank,
    _logrank_lifelines,
    _risk_table,
    analyze_binary,
    analyze_survival,
    cox_two_group,
    kaplan_meier,
    logrank_two_group,
)
from her2lab.virtual_trials.stats.simulate import (
    simulate_two_arm_binary,
    simulate_two_arm_survival,
    weibull_scale_from_median,
)

TRIAL = dict(hr=0.7, control_median=12.0, shape=1.3, accrual_months=24.0,
             follow_up_months=24.0, dropout_per_year=0.05)


def timed(fn, repeats: int = 3):
    """Run ``fn`` ``repeats`` times; return its last result and the shortest wall time."""
    best, out = math.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def row(label: str, seconds: float, note: str = "") -> None:
    print(f"  {label:<44} {seconds:8.3f} s  {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="100,000 patients instead of 1,000,000")
    ap.add_argument("--lifelines-cox", action="store_true",
                    help="also time lifelines' CoxPHFitter on the full trial (about a minute)")
    args = ap.parse_args()
    n = 100_000 if args.quick else 1_000_000
    half = n // 2

    print(f"Two-arm trial, {n:,} patients, HR 0.7, Weibull shape 1.3, control median 12 months")
    print("1. simulation")
    (time_, event, arm), t_sim = timed(
        lambda: simulate_two_arm_survival(np.random.default_rng(1), half, **TRIAL))
    scale = weibull_scale_from_median(12.0, 1.3)

    def draws_only():
        rng = np.random.default_rng(1)
        rng.standard_exponential(n), rng.uniform(0, 24, n), rng.standard_exponential(n)

    _, t_draws = timed(draws_only)
    row("simulate_two_arm_survival", t_sim, f"({event.sum():,} events)")
    row("  of which the three random draws", t_draws, f"({100 * t_draws / t_sim:.0f}%)")
    del scale

    print("2. analysis, NumPy engine")
    x = arm == 1
    res, t_all = timed(lambda: analyze_survival(time_, event, arm, control=0, engine="numpy",
                                                landmark_months=12))
    row("analyze_survival(engine='numpy')", t_all)
    _, t_km = timed(lambda: (kaplan_meier(time_[~x], event[~x]), kaplan_meier(time_[x], event[x])))
    row("  Kaplan–Meier, both arms", t_km)
    table, t_table = timed(lambda: _risk_table(time_, event, x))
    row("  risk table: sort, group by time, count", t_table)
    (beta, se), t_cox = timed(lambda: _cox(table))
    row("  Cox (Efron, Newton–Raphson) on the table", t_cox)
    _, t_lr = timed(lambda: _logrank(table))
    row("  log-rank on the table", t_lr)
    _, t_sort = timed(lambda: np.argsort(time_))
    row("  (one argsort of all times)", t_sort)
    assert (beta, se) == cox_two_group(time_, event, x)
    assert _logrank(table) == logrank_two_group(time_, event, x)
    hr_hat = res.effect.estimate
    z = abs(math.log(hr_hat) - math.log(0.7)) / se
    print(f"  HR {hr_hat:.4f} [{res.effect.ci_low:.4f}, {res.effect.ci_high:.4f}], "
          f"{z:.2f} SE from 0.7; medians "
          + ", ".join(f"{a.name}: {a.median:.2f}" for a in res.arms))
    assert z < 4, "the simulated HR is not recovered"

    print("3. lifelines at this size")
    _, t_lkm = timed(lambda: (_kaplan_meier_lifelines(time_[~x], event[~x], 0.05),
                              _kaplan_meier_lifelines(time_[x], event[x], 0.05)), 1)
    row("KaplanMeierFitter, both arms", t_lkm)
    _, t_llr = timed(lambda: _logrank_lifelines(time_, event, x), 1)
    row("logrank_test", t_llr)
    if args.lifelines_cox:
        (lb, _lse), t_lcox = timed(lambda: _cox_lifelines(time_, event, x), 1)
        row("CoxPHFitter", t_lcox, f"(log HR {lb:.6f} vs ours {beta:.6f})")
    else:
        print("  CoxPHFitter                                   skipped (--lifelines-cox; "
              "about 40 s on 1M rows on the dev machine)")

    print("4. binary endpoint (pCR 30% vs 40%)")
    (success, barm), t_bsim = timed(lambda: simulate_two_arm_binary(
        np.random.default_rng(2), half, p_control=0.3, p_experimental=0.4))
    row("simulate_two_arm_binary", t_bsim)
    _, t_bana = timed(lambda: analyze_binary(success, barm, control=0))
    row("analyze_binary", t_bana)

    print("5. replicates of a 400-patient trial")
    reps = 1000

    def replicate(engine: str, count: int):
        rng = np.random.default_rng(3)
        out = []
        for _ in range(count):
            t, e, a = simulate_two_arm_survival(rng, 200, **TRIAL)
            out.append(analyze_survival(t, e, a, control=0, engine=engine))
        return out

    num, t_num = timed(lambda: replicate("numpy", reps), 1)
    row(f"{reps} replicates, NumPy engine", t_num, f"({1000 * t_num / reps:.2f} ms each)")
    lif, t_lif = timed(lambda: replicate("lifelines", 50), 1)
    row(f"{reps} replicates, lifelines (50 timed, scaled)", t_lif * reps / 50,
        f"({1000 * t_lif / 50:.1f} ms each)")
    for a, b in zip(num[:50], lif, strict=True):
        assert math.isclose(a.effect.estimate, b.effect.estimate, rel_tol=1e-6)
        assert math.isclose(a.effect.p, b.effect.p, rel_tol=1e-6)
    print("  engines agree on the first 50 replicates (HR and p to 1e-6)")

    print("Summary")
    row("simulate + analyze (NumPy engine)", t_sim + t_all)
    parts = {"simulation": t_sim, "Kaplan–Meier": t_km, "risk table (sort + group)": t_table,
             "Cox iterations": t_cox, "log-rank": t_lr}
    total = sum(parts.values())
    print("  shares: " + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in parts.items()))
    print("  sorting and grouping by distinct time (risk table, and the same inside each KM) "
          "dominate;\n  the simulation is a few vectorised draws and powers")


def calibration() -> None:
    """A full calibration as of the seed at the CLI's defaults (panel 32, 1,000 trajectories),
    from a fresh cache: the pathway runs it needs, then the joint fit with its Hessian."""
    import datetime as dt
    import os
    import tempfile

    from her2lab.knowledge import load
    from her2lab.virtual_trials import calibrate
    from her2lab.virtual_trials.defaults import PANEL_SIZE, PATHWAY_SAMPLES, RunSettings
    from her2lab.virtual_trials.fit import predict_targets
    from her2lab.virtual_trials.link import LinkParams
    from her2lab.virtual_trials.model import TrialModel
    from her2lab.virtual_trials.targets import targets_from_kb

    print(f"Full calibration as of 2014-08-12 (the defaults: panel {PANEL_SIZE}, "
          f"{PATHWAY_SAMPLES:,} trajectories per profile and HR status)")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["HER2LAB_CACHE"] = cache
        kb = load()
        targets = targets_from_kb(kb, dt.date(2014, 8, 12))
        model = TrialModel.for_settings(RunSettings())
        start = time.perf_counter()
        model.prefetch([t.plan for t in targets])  # the pathway runs, in batches
        predict_targets(targets, LinkParams(), model)
        t_resp = time.perf_counter() - start
        n = model.rates.calls
        row("pathway simulations (fresh cache)", t_resp,
            f"({n} profile x drug-set runs, {1000 * t_resp / max(n, 1):.1f} ms each, "
            f"{len(targets)} targets)")
        start = time.perf_counter()
        cal = calibrate(dt.date(2014, 8, 12), kb=kb, model=model)
        t_fit = time.perf_counter() - start
        row("calibrate() with the pathway runs cached", t_fit,
            f"({cal.fit.evaluations} objective evaluations, Hessian, prediction intervals; "
            f"{model.rates.calls - n} further pathway runs for the TKI offsets)")
        print(f"  fitted: {cal.params.to_dict()}")


if __name__ == "__main__":
    main()
    calibration()
