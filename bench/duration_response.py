"""The duration response of the pathway model at calibrated parameters (issue 23's figures).

    python bench/duration_response.py [--calibration calibration.json]

Adjuvant arms: FEC x3, then docetaxel + trastuzumab x3 (nine weeks of trastuzumab), then
trastuzumab alone for ``n`` three-weekly cycles, or cycles with no drug; the control arm's
disease-free share 86% at four years (ALTTO-like); the CLI's defaults (panel 32, 5,000
trajectories, the default seed). Prints the expected hazard ratios (limiting Cox): each tail
against none, 9 weeks + 14 empty cycles against 9 weeks, 6 months against 12, 2 years against
1, and the monotone check over 0-40 cycles. Without ``--calibration`` the parameters are those
of ``tests/virtual_trials/test_hr_status.py`` (the calibration as of 2014-08-12).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from her2lab.virtual_trials.defaults import RunSettings  # noqa: E402
from her2lab.virtual_trials.link import Anchor, LinkParams  # noqa: E402
from her2lab.virtual_trials.model import TrialModel  # noqa: E402
from her2lab.virtual_trials.plan import PlanArm, TrialPlan  # noqa: E402
from her2lab.virtual_trials.schedule import Phase, Schedule  # noqa: E402

# as tests/virtual_trials/test_hr_status.py: the calibration as of 2014-08-12
CALIBRATED = LinkParams.from_dict({
    "log_kill": 0.678, "log_targeted": 2.370, "log_resistance": -2.107, "tki_offset": -0.565,
    "setting": {"early": -0.096, "metastatic_first_line": 0.136,
                "metastatic_pretreated": -0.656}})
CHEMO = (Phase(("fec",), 3), Phase(("docetaxel", "trastuzumab"), 3))


def _arm(name: str, tail: int, empty: int = 0) -> PlanArm:
    # as tests/virtual_trials/test_duration.py
    phases = [*CHEMO, *([Phase(("trastuzumab",), tail)] if tail else []),
              *([Phase((), empty)] if empty else [])]
    return PlanArm(name, Schedule(tuple(phases)), 2000)


def _plan(*arms: PlanArm) -> TrialPlan:
    return TrialPlan(name="DURATION", setting="adjuvant", prior_trastuzumab=False, require=(),
                     exclude=(), arms=arms, control=arms[0].name, endpoint="DFS",
                     accrual_months=36.0, follow_up_months=60.0, dropout_per_year=0.02,
                     anchor=Anchor("rate", 0.86, 48.0), landmark_months=48.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calibration", type=Path, default=None)
    args = ap.parse_args()
    params = CALIBRATED
    if args.calibration is not None:
        import json

        params = LinkParams.from_dict(json.loads(args.calibration.read_text())["params"])
    m = TrialModel.for_settings(RunSettings(samples=5000, panel_size=32))

    def hr(*arms):
        return {e.arm: round(e.estimate, 3) for e in m.prepare(_plan(*arms), params).effects}

    print("trastuzumab cycles after the chemotherapy, against none:",
          hr(_arm("c0", 0), _arm("c1", 1), _arm("c4", 4), _arm("c14", 14), _arm("c30", 30)))
    print("9 weeks + 14 empty cycles against 9 weeks:",
          hr(_arm("nine", 0), _arm("nine_empty", 0, empty=14)))
    print("6 months against 12 months:", hr(_arm("twelve", 14), _arm("six", 6)))
    print("2 years against 1 year:", hr(_arm("one", 14), _arm("two", 31)))
    seq = hr(_arm("c0", 0), *(_arm(f"c{n}", n) for n in range(1, 41)))
    values = [seq[f"c{n}"] for n in range(1, 41)]
    print("1..40 cycles against none:", values)
    print("never rises:", all(b <= a + 1e-9 for a, b in itertools.pairwise(values)))


if __name__ == "__main__":
    main()
