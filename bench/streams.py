"""Random streams of the pathway runs: one shared by every condition, one per tumor profile
(what :func:`her2lab.pathway.simulate.stream_seed` gives), or one per condition, judged by the
Monte Carlo error they leave in the calibration's targets.

    python bench/streams.py [--samples 312] [--seeds 11,12,13,14,15,16]

Predicts every target of the calibration as of 2014-08-12 at fixed parameters (those of
``bench/trajectories_needed.py``) from pathway runs of each seed, for each way of seeding the
runs, and prints each target's Monte Carlo SD over the seeds in units of its reported SE and
the mean of their squares (the share of a target's variance the Monte Carlo adds). The runs
bypass the cache. Measured 2026-12-07, 6 seeds at 312 trajectories: shared 0.057, per profile
0.033, per condition 0.021.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from her2lab.pathway.response import MAX_TIME
from her2lab.pathway.simulate import (
    _condition,
    _payload,
    _result,
    simulator,
    stream_seed,
)
from her2lab.virtual_trials.defaults import RunSettings
from her2lab.virtual_trials.fit import predict_targets
from her2lab.virtual_trials.model import TrialModel
from her2lab.virtual_trials.rates import RatesModel
from her2lab.virtual_trials.targets import targets_from_kb
from trajectories_needed import CALIBRATED

MODES = ("shared", "profile", "condition")


class SeededRates(RatesModel):
    """Rates whose runs are seeded by ``mode``: ``shared`` (the run's seed for every
    condition), ``profile`` (:func:`stream_seed`: a hash of the seed and the profile, shared by
    its regimens) or ``condition`` (a hash of the seed and the whole condition)."""

    mode: str = "condition"

    def _seed_of(self, cond, prof) -> int:
        if self.mode == "shared":
            return self.seed
        if self.mode == "profile":
            return stream_seed(cond, self.seed)
        h = hashlib.sha256(repr((self.seed, cond.parameters, cond.initial)).encode()).digest()
        return int.from_bytes(h[:8], "little") >> 1

    def prefetch(self, requests) -> None:
        keys = {}
        for profile, drugs, potency, hr in requests:
            key = self._key(profile, drugs, potency, hr)
            if key not in self._memo:
                keys[key] = None
        by_pot: dict[tuple, list] = {}
        for key in keys:
            by_pot.setdefault(key[2], []).append(key)
        sim = simulator(self.samples, MAX_TIME)
        for pot, group in by_pot.items():
            conds = [_condition(self._profile_arg(dict(prof)), list(reg), dict(pot) or None)
                     for prof, reg, _ in group]
            seeds = [self._seed_of(c, k[0]) for c, k in zip(conds, group, strict=True)]
            runs = sim.run_batch([c.overrides() for c in conds], seeds=seeds)
            for key, c, run in zip(group, conds, runs, strict=True):
                self._memo[key] = _result(c, _payload(run), self.samples, self.seed,
                                          False).rates

    def rates(self, profile, drugs, potency=(), *, hr_positive=False):
        key = self._key(profile, drugs, potency, hr_positive)
        if key not in self._memo:
            self.prefetch([(profile, drugs, potency, hr_positive)])
        return self._memo[key]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=312)
    ap.add_argument("--seeds", default="11,12,13,14,15,16")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    ts = targets_from_kb(None, dt.date(2014, 8, 12))
    se = np.array([t.se for t in ts])
    sds = {}
    for mode in MODES:
        start = time.perf_counter()
        preds = []
        for seed in seeds:
            m = TrialModel.for_settings(RunSettings(samples=args.samples, seed=seed))
            m.rates = SeededRates(samples=args.samples, seed=seed)
            m.rates.mode = mode
            m.prefetch([t.plan for t in ts], offsets=(CALIBRATED.tki_offset,))
            preds.append(predict_targets(ts, CALIBRATED, m))
        sds[mode] = np.array(preds).std(axis=0, ddof=1) / se
        print(f"{mode}: {time.perf_counter() - start:.0f} s", flush=True)
    print(f"{'target':46s} " + " ".join(f"{m:>9s}" for m in MODES))
    for k, t in enumerate(ts):
        print(f"{t.trial[:30]:30s} {t.outcome[:15]:15s} "
              + " ".join(f"{sds[m][k]:9.3f}" for m in MODES))
    print(f"{'mean (MC SD / SE)^2':46s} "
          + " ".join(f"{np.mean(sds[m] ** 2):9.4f}" for m in MODES))


if __name__ == "__main__":
    main()
