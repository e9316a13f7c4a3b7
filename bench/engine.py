"""Benchmark: our stochastic engine against MaBoSS (cmaboss) on the same models.

Run: ``.venv/bin/python bench/engine.py`` (add ``--quick`` for a short run).

Both engines get the same model (written by ``format_maboss``), the same sample count, max
time, time tick and thread count (2). The output nodes (non-internal in MaBoSS, whose joint
states both engines track per window) are the same: the first 5 nodes ("typical": a few read-out
nodes), and, for the 20-node model, all nodes (MaBoSS's default). Our engine always returns the
per-node trajectories of every node. Times are wall-clock of the whole call (including Python
post-processing, excluding numba's one-time compilation, reported separately). Results are
checked equal within Monte Carlo error: every node's probability in every window must agree
within 5 standard errors of the difference of two binomial proportions.

Then the cost of our engine is measured against the number of nodes and of trajectories.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from her2lab.boolnet import StochasticSimulator, read_bnet
from her2lab.boolnet.generate import random_model
from her2lab.boolnet.reference import run_maboss

THREADS = 2


REPEATS = 3


def timed(fn, repeats: int = 1):
    """Run ``fn`` ``repeats`` times; return its last result and the shortest wall time."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def compare(ours, ref) -> tuple[float, float]:
    """Largest |difference| of node probabilities, and that difference in standard errors."""
    cols = [ours.node_names.index(n) for n in ref.node_names]
    a = ours.node_probabilities[:, cols]
    b = ref.node_probabilities
    pbar = (a + b) / 2
    se = np.sqrt(2 * np.clip(pbar * (1 - pbar), 1e-4, None) / ours.samples)
    diff = np.abs(a - b)
    return float(diff.max()), float((diff / se).max())


def versus(n_nodes: int, samples: int, max_time: float, tick: float, outputs, label: str,
           model=None):
    model = model or random_model(n_nodes, seed=1, n_mutations=2)
    if isinstance(outputs, list):
        outs = outputs
    else:
        outs = model.node_names if outputs == "all" else model.node_names[:outputs]
    kw = dict(samples=samples, max_time=max_time, time_tick=tick)
    ours, t_ours = timed(
        lambda: StochasticSimulator(model, threads=THREADS, outputs=outs, **kw).run(seed=1),
        REPEATS,
    )
    ref, t_ref = timed(
        lambda: run_maboss(model, threads=THREADS, outputs=outs, seed=1, **kw), REPEATS
    )
    dmax, zmax = compare(ours, ref)
    ok = "ok" if zmax < 5 else "MISMATCH"
    print(
        f"{n_nodes:>5} {label:>11} {samples:>8} {t_ours:>9.3f} {t_ref:>9.3f} "
        f"{t_ref / t_ours:>7.1f}x {ours.n_transitions / samples:>8.1f} {dmax:>8.4f} "
        f"{zmax:>5.1f} {ok}"
    )
    return t_ref / t_ours


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples (not the target run)")
    args = ap.parse_args()
    samples = 10_000 if args.quick else 100_000
    max_time, tick = 20.0, 0.5

    warm = random_model(5, seed=0)
    _, t_compile = timed(lambda: StochasticSimulator(warm, samples=2, max_time=1, time_tick=0.5,
                                                    threads=THREADS).run(seed=0))
    import os
    import platform

    import cmaboss
    import numba

    print(f"python {platform.python_version()}, numba {numba.__version__}, cmaboss "
          f"{getattr(cmaboss, '__version__', '1.0.0b34')}, {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}")
    print("times: best of 3, wall clock; 'random' models are seeded (generate.random_model)")
    print(f"kernel load/compile (once per installation, then cached): {t_compile:.2f} s")
    print(f"max_time={max_time}, time_tick={tick}, threads={THREADS}")
    print(f"{'nodes':>5} {'outputs':>11} {'samples':>8} {'ours_s':>9} {'maboss_s':>9} "
          f"{'ratio':>8} {'trans/tr':>8} {'max|d|':>8} {'z_max':>5}")
    r20 = versus(20, samples, max_time, tick, 5, "5 nodes")
    versus(20, samples, max_time, tick, "all", "all")
    sahin = Path(__file__).resolve().parents[1].parent / "shared" / "models" / \
        "sahin2009_erbb_g1s" / "model.bnet"
    if sahin.exists():
        versus(20, samples, max_time, tick, ["v_pRB1", "v_MYC", "v_CDK4", "v_p21", "v_EGF"],
               "Sahin 5", model=read_bnet(sahin, undefined="input"))
    else:
        print(f"(the Sahin 2009 model is not at {sahin}: its row is skipped)")
    r80 = versus(80, samples, max_time, tick, 5, "5 nodes")
    print(f"\ntargets: >=10x at 20 nodes -> {r20:.1f}x {'met' if r20 >= 10 else 'NOT met'}; "
          f">=5x at 80 nodes -> {r80:.1f}x {'met' if r80 >= 5 else 'NOT met'}")

    print("\nscaling of our engine (5 output nodes), time per transition:")
    print(f"{'nodes':>6} {'samples':>8} {'seconds':>9} {'transitions':>12} {'ns/trans':>9}")
    for n in (10, 20, 40, 80, 160, 320):
        m = random_model(n, seed=1, n_mutations=2)
        sim = StochasticSimulator(m, samples=samples // 4, max_time=max_time, time_tick=tick,
                                  threads=THREADS, outputs=m.node_names[:5])
        res, t = timed(lambda sim=sim: sim.run(seed=1))
        print(f"{n:>6} {samples // 4:>8} {t:>9.3f} {res.n_transitions:>12} "
              f"{1e9 * t / max(res.n_transitions, 1):>9.1f}")
    m = random_model(20, seed=1, n_mutations=2)
    for s in (samples // 10, samples // 3, samples, samples * 3):
        sim = StochasticSimulator(m, samples=s, max_time=max_time, time_tick=tick,
                                  threads=THREADS, outputs=m.node_names[:5])
        res, t = timed(lambda sim=sim: sim.run(seed=1))
        print(f"{20:>6} {s:>8} {t:>9.3f} {res.n_transitions:>12} "
              f"{1e9 * t / max(res.n_transitions, 1):>9.1f}")


if __name__ == "__main__":
    main()
