"""The calibration's figures in one run: calibrate as of 2014-08-12 at the CLI's defaults, the
virtual Table 1 and the NeoSphere/B-41 arm rates, leave-one-out (Newton step) with the in-sample
figures beside it, forward from 2012-12-31, and with ``nested`` the nested leave-one-out.

    python bench/calibration_figures.py OUT.json [nested]

The calls are those of the ``reproduce`` stage (``calibrate``, ``stages.virtual_table1``,
``validate``); docs/virtual_trials.md's tables come
from it. Takes about 10 minutes cold on a loaded 2-core machine, 15 more with ``nested``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from her2lab.knowledge import load
from her2lab.virtual_trials import calibrate, validate
from her2lab.virtual_trials.defaults import DEFAULT_SEED, RunSettings
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.stages import AS_OF, FORWARD_AS_OF, virtual_table1
from her2lab.virtual_trials.validation import summarize, summary_line

SEED = DEFAULT_SEED


def main() -> None:
    out = Path(sys.argv[1])
    kb = load()
    t0 = time.time()
    settings = RunSettings(samples=5000, panel_size=32, seed=SEED)
    model = TrialModel.for_settings(settings)
    cal = calibrate(AS_OF, settings=settings, kb=kb, model=model)
    print("calibrate", round(time.time() - t0), "s", cal.params.to_dict(), flush=True)
    print("se", cal.fit.se, "outside", cal.fit.outside_prior)
    print("fit (in-sample)", summary_line(summarize(cal.table)), flush=True)
    eff, rates = virtual_table1(cal, kb, model)
    print("table1", sum(e["inside_reported_ci"] for e in eff), "/", len(eff), "null",
          sum(e["null_inside_reported_ci"] for e in eff))
    for e in eff:
        print("  ", e["trial"], e["measure"], e["reported"], e["reported_low"],
              e["reported_high"], round(e["expected"], 3), e["inside_reported_ci"])
    arms = [r for r in rates if not r["control"]]
    print("arm rates", sum(r["inside_arm_interval"] for r in arms), "/", len(arms), "all",
          sum(r["inside_arm_interval"] for r in rates), "/", len(rates))
    for r in rates:
        print("  ", r["trial"], r["arm"], r["reported"], round(r["reported_low"], 1),
              round(r["reported_high"], 1), round(r["expected"], 1), r["inside_arm_interval"])
    loo = validate(AS_OF, method="loo", kb=kb, calibration=cal, model=model)
    print("loo (out-of-sample)", summary_line(loo["summary"]), flush=True)
    fwd = validate(FORWARD_AS_OF, settings=settings, kb=kb, model=model)
    print("forward (out-of-sample)", summary_line(fwd["summary"]), flush=True)
    res = {"params": cal.params.to_dict(), "effects": eff, "rates": rates,
           "loo": loo["summary"], "forward": fwd["summary"], "fit": summarize(cal.table)}
    if "nested" in sys.argv[2:]:
        t1 = time.time()
        nest = validate(AS_OF, method="nested", kb=kb, calibration=cal, model=model)
        print("nested loo (out-of-sample)", summary_line(nest["summary"]),
              round(time.time() - t1), "s", flush=True)
        res["nested"] = nest["summary"]
    out.write_text(json.dumps(res, indent=1, default=str))
    print("total", round(time.time() - t0), "s")


if __name__ == "__main__":
    main()
