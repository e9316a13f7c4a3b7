"""Compile the project's kernels ahead of their first use: ``python -m her2lab.kernels``.

The pathway engine's native library (:mod:`her2lab.boolnet._native`, built by the system's C
compiler) and the link's numba kernels (:mod:`her2lab.virtual_trials._kernels`, ``cache=True``)
are compiled on first use and kept on disk; on a fresh machine that first use costs about 16 s
(measured on the idle 2-core machine: 9.6 s for the native library, the rest for numba). The
set-up (``make``) runs this once after installing, so the first calibration or ``make run``
starts with them built, as every later one does.

It compiles them by using them: a virtual trial of each kind (metastatic hazard ratio,
neoadjuvant pCR, adjuvant hazard ratio) predicted with a handful of pathway trajectories. Its
pathway runs go to a temporary cache, so the user's cache gets none of these small runs.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time

__all__ = ["build"]

_TRIALS = ("emilia", "neosphere", "altto")
"""One knowledge-base trial of each kind of outcome the link computes."""


def build() -> dict[str, float | bool]:
    """Build the kernels (a no-op where they are built); return what was done and the seconds
    each step took."""
    out: dict[str, float | bool] = {}
    old = os.environ.get("HER2LAB_CACHE")
    with tempfile.TemporaryDirectory(prefix="her2lab-kernels-") as tmp:
        os.environ["HER2LAB_CACHE"] = tmp
        try:
            t = time.perf_counter()
            from her2lab.boolnet import _native

            out["native"] = _native.load() is not None
            out["native_seconds"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            from her2lab.knowledge import load
            from her2lab.virtual_trials.fit import predict_targets
            from her2lab.virtual_trials.link import LinkParams
            from her2lab.virtual_trials.model import TrialModel
            from her2lab.virtual_trials.rates import RatesModel
            from her2lab.virtual_trials.targets import targets_from_kb

            targets = [x for x in targets_from_kb(load(), dt.date(2014, 8, 12))
                       if x.trial in _TRIALS]
            model = TrialModel(RatesModel(samples=8), panel_size=2, chemo_points=3)
            predict_targets(targets, LinkParams(), model)
            out["link_seconds"] = round(time.perf_counter() - t, 2)
        finally:
            if old is None:
                os.environ.pop("HER2LAB_CACHE", None)
            else:
                os.environ["HER2LAB_CACHE"] = old
    return out


def main() -> int:
    done = build()
    native = "built or found" if done["native"] else "not available (numba kernel used)"
    print(f"her2lab kernels: native engine {native} in {done['native_seconds']} s; "
          f"link kernels ready in {done['link_seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
