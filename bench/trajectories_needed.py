"""How many pathway trajectories each calibration target needs (issue 23's design data).

    python bench/trajectories_needed.py [--samples 500]

Predicts every target of the calibration as of 2014-08-12 at the calibrated parameters (those
of ``tests/virtual_trials/test_hr_status.py``) from pathway runs of two independent seeds at
``--samples`` trajectories; the Monte Carlo SD of a target at that size is their difference
over sqrt(2) (one pair: a rough estimate, chi-square with one degree of freedom), and the
trajectories for an SD of a tenth of the target's SE follow as ``samples (sd / (0.1 SE))^2``.
The default run (5,000 for every run) is printed beside it. This is the measurement a
per-population trajectory count would be designed from; the calibration does not read it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from her2lab.virtual_trials.defaults import RunSettings
from her2lab.virtual_trials.fit import predict_targets
from her2lab.virtual_trials.link import LinkParams
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.targets import targets_from_kb

CALIBRATED = LinkParams.from_dict({
    "log_kill": 0.678, "log_targeted": 2.370, "log_resistance": -2.107, "tki_offset": -0.565,
    "setting": {"early": -0.096, "metastatic_first_line": 0.136,
                "metastatic_pretreated": -0.656}})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=500)
    args = ap.parse_args()
    ts = targets_from_kb(None, dt.date(2014, 8, 12))
    start = time.perf_counter()
    out = {}
    for seed in (7, 8):
        m = TrialModel.for_settings(RunSettings(samples=args.samples, panel_size=32,
                                                seed=seed))
        m.prefetch([t.plan for t in ts])
        out[seed] = predict_targets(ts, CALIBRATED, m)
    print(f"{time.perf_counter() - start:.0f} s for two seeds at {args.samples} trajectories")
    sd = np.abs(out[7] - out[8]) / np.sqrt(2)
    for t, s in zip(ts, sd, strict=True):
        need = args.samples * (s / (0.1 * t.se)) ** 2
        print(f"{t.trial:38s} {t.outcome:16s} SE {t.se:.3f}  MC SD {s:.4f} "
              f"({s / t.se:.2f} SE)  trajectories for 0.1 SE: {need:7.0f}")


if __name__ == "__main__":
    main()
