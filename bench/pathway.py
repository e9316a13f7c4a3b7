"""Time per (profile, regimen) run of the HER2 pathway model, against MaBoSS in the same run.

    python bench/pathway.py [--samples 2000] [--repeats 2]

For nine conditions (three profiles by three regimens), at the given number of trajectories:
``simulate`` one call per condition, ``simulate_many`` all nine in one engine batch, and MaBoSS
(cmaboss) on the same exported model, condition by condition. Reported: milliseconds per
condition and the ratio to MaBoSS, plus the share of a ``simulate`` call spent in the engine's
kernel (the rest is the pathway layer: overrides, read-outs, bookkeeping). Caching is off.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from her2lab.pathway import simulate, simulate_many

PAIRS = [(p, r) for p in ("none", "pten_loss", "p95her2")
         for r in ("trastuzumab", "trastuzumab+pertuzumab+docetaxel", "lapatinib+capecitabine")]


def _per_run(fn, repeats: int) -> float:
    t = time.perf_counter()
    for k in range(repeats):
        fn(k)
    return (time.perf_counter() - t) / (repeats * len(PAIRS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    n = a.samples
    simulate_many(PAIRS[:2], samples=n, cache=False)  # compile the kernel once
    one = _per_run(lambda k: [simulate(p, r, samples=n, seed=k + 1, cache=False)
                              for p, r in PAIRS], a.repeats)
    many = _per_run(lambda k: simulate_many(PAIRS, samples=n, seed=k + 1, cache=False),
                    a.repeats)
    prof = cProfile.Profile()
    prof.enable()
    for p, r in PAIRS:
        simulate(p, r, samples=n, seed=9, cache=False)
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    kernel = sum(v[3] for k, v in stats.items() if k[2] == "_run_kernel")
    total = sum(v[3] for k, v in stats.items() if k[2] == "simulate" and "pathway" in k[0])
    try:
        ref = _per_run(lambda k: simulate_many(PAIRS, samples=n, seed=k + 1, cache=False,
                                               backend="maboss"), 1)
    except Exception as exc:
        ref = float("nan")
        print(f"MaBoSS not run: {exc}")
    print(f"trajectories per run: {n}; conditions: {len(PAIRS)}")
    print(f"simulate, one call per condition:  {one * 1e3:7.1f} ms per run "
          f"(x{one / ref:.2f} of MaBoSS)")
    print(f"simulate_many, one batch:          {many * 1e3:7.1f} ms per run "
          f"(x{many / ref:.2f} of MaBoSS)")
    print(f"MaBoSS (cmaboss), same model:      {ref * 1e3:7.1f} ms per run")
    print(f"share of a simulate call in the engine kernel: {kernel / total:.0%}")


if __name__ == "__main__":
    main()
