"""Benchmark: our engine against MaBoSS (cmaboss), as whole processes, in the same run.

Run: ``.venv/bin/python bench/engine.py`` (``--quick``: a tenth of the trajectories, not the
target run; ``--repeats N``: each engine N times, alternating, ratios from the fastest of each).

1. Whole processes, 2 threads, on the same MaBoSS files (written by ``format_maboss``, output
   nodes = the non-internal ones): ``her2lab boolnet simulate X.bnd --format json`` against a
   Python process that imports cmaboss, runs the same files and reads both its node and state
   trajectories. Wall time and CPU time (user + system of the child) of each process; their
   final output-node probabilities must agree within 5 standard errors.
   * a seeded random 30-node network (``random_model(30, seed=1, n_mutations=2)``), 5 outputs,
     max_time 10, 2,000,000 trajectories (target >= 12x);
   * the 80-node Zanudo et al. 2017 breast drug-resistance model
     (``../shared/models/zanudo2017_breast_drug_resistance``, undefined nodes as inputs), 4
     outputs, max_time 20, at 200,000 and 1,000,000 trajectories (target >= 20x).
2. Our cost (in-process, kernel + post-processing, 2 threads) against trajectories, nodes and
   outputs, per transition.
3. The HER2 pathway model: a perturbed run at 2,000 trajectories through
   ``her2lab.pathway.simulate(..., cache=False)``, as an override on the compiled model
   (``sim.run(overrides=...)``), and batched (``sim.run_batch``).
4. A screen (every profile by every single drug, ``cache=False``) on 1 and 2 local worker
   processes (``her2lab.executor``), its parallel efficiency, and a paper estimate of the same
   sweep on 100 workers from the measured per-cell time and per-task overhead.

Our process loads the kernel from its shared library (``her2lab.boolnet._native``, built on
first use); with ``HER2LAB_NATIVE=0`` in the environment it measures numba's build instead.

Timings on a shared machine are noisy: read the ratios, which are measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from her2lab.boolnet import StochasticSimulator, read_bnet  # noqa: E402
from her2lab.boolnet.formats.maboss import format_maboss  # noqa: E402
from her2lab.boolnet.generate import random_model  # noqa: E402

THREADS = 2
ZANUDO = ROOT.parent / "shared" / "models" / "zanudo2017_breast_drug_resistance" / "model.bnet"
ZANUDO_OUTPUTS = ["v_Proliferation", "v_Apoptosis", "v_AKT", "v_MAPK"]
HER2LAB = Path(sys.executable).with_name("her2lab")

MABOSS_SCRIPT = """
import importlib, json, sys
bnd, cfg, module = sys.argv[1:4]
cmaboss = importlib.import_module(module)
res = cmaboss.MaBoSSSim(network=bnd, config=cfg).run()
probs, times, names, _ = res.get_nodes_probtraj()
res.get_probtraj()
print(json.dumps({n: float(probs[-1][i]) for i, n in enumerate(names)}))
"""


def whole(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd``; return its wall seconds, CPU seconds (user + system) and stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def write_case(model, outputs, stem: Path, samples: int, max_time: float) -> None:
    m = model.copy()
    for node in m:
        m.set_node(replace(node, internal=node.name not in outputs))
    bnd, cfg = format_maboss(m, sample_count=samples, max_time=max_time, time_tick=0.5,
                             thread_count=THREADS, seed_pseudorandom=1, discrete_time=0,
                             use_physrandgen=0)
    stem.with_suffix(".bnd").write_text(bnd)
    stem.with_suffix(".cfg").write_text(cfg)


def versus(label: str, model, outputs, samples: int, max_time: float, repeats: int,
           workdir: Path) -> float:
    stem = workdir / label.replace(" ", "_")
    write_case(model, outputs, stem, samples, max_time)
    bnd, cfg = str(stem.with_suffix(".bnd")), str(stem.with_suffix(".cfg"))
    width = next(w for w in (64, 128, 256, 512, 1024) if len(model) <= w)
    module = "cmaboss" if width == 64 else f"cmaboss_{width}n"
    ours_cmd = [str(HER2LAB), "boolnet", "simulate", bnd, "--format", "json"]
    ref_cmd = [sys.executable, "-c", MABOSS_SCRIPT, bnd, cfg, module]
    ours_t, ref_t = [], []
    for _ in range(repeats):
        w, c, out = whole(ours_cmd)
        ours_t.append((w, c))
        ours = json.loads(out)["final"]
        w, c, out = whole(ref_cmd)
        ref_t.append((w, c))
        ref = json.loads(out)
    z = max(abs(ours[n] - ref[n]) / math.sqrt(max(2 * ref[n] * (1 - ref[n]), 1e-4) / samples)
            for n in outputs)
    ow, oc = min(ours_t)
    rw, rc = min(ref_t)
    ok = "ok" if z < 5 else "MISMATCH"
    print(f"{label:<24} {samples:>9} {ow:>8.2f} {oc:>8.2f} {rw:>8.2f} {rc:>8.2f} "
          f"{rw / ow:>7.1f}x {rc / oc:>7.1f}x {z:>5.1f} {ok}")
    print(f"{'':<24} all runs (wall s): ours {[round(w, 2) for w, _ in ours_t]}, "
          f"MaBoSS {[round(w, 2) for w, _ in ref_t]}")
    return rw / ow


def cost(label: str, model, outputs, samples: int, max_time: float) -> None:
    sim = StochasticSimulator(model, samples=samples, max_time=max_time, time_tick=0.5,
                              threads=THREADS, outputs=outputs, nodes=outputs,
                              keep_final_states=False)
    sim.run(seed=1)
    t0 = time.perf_counter()
    res = sim.run(seed=1)
    t = time.perf_counter() - t0
    print(f"{label:<34} {samples:>9} {t:>8.3f} {res.n_transitions / samples:>8.1f} "
          f"{1e9 * t * THREADS / max(res.n_transitions, 1):>9.1f}")


def scaling(quick: bool) -> None:
    print("\n2. our cost, in-process, 2 threads (ns per transition per thread)")
    print(f"{'case':<34} {'samples':>9} {'seconds':>8} {'tr/traj':>8} {'ns/trans':>9}")
    base = 20_000 if quick else 200_000
    m30 = random_model(30, seed=1, n_mutations=2)
    for s in (base // 4, base, base * 4):
        cost("random 30, 5 outputs", m30, m30.node_names[:5], s, 10.0)
    for n in (10, 30, 80, 160, 320):
        m = random_model(n, seed=1, n_mutations=2)
        cost(f"random {n}, 5 outputs", m, m.node_names[:5], base, 10.0)
    for k in (1, 5, 10, 20):
        cost(f"random 30, {k} outputs", m30, m30.node_names[:k], base, 10.0)


def pathway(quick: bool) -> None:
    from her2lab.boolnet import Overrides, parse_maboss
    from her2lab.pathway import simulate

    print("\n3. the HER2 pathway model, 2,000 trajectories per run, 1 thread")
    data = ROOT / "src" / "her2lab" / "pathway" / "data"
    model = parse_maboss((data / "her2.bnd").read_text(), (data / "her2.cfg").read_text())
    outs = [n for n in ("Proliferation", "Apoptosis", "Angiogenesis", "Immune_kill")
            if n in model]
    n_runs = 20 if quick else 100
    profiles = [[], ["pten_loss"], ["p95her2"], ["pik3ca_mutation"]]
    regimens = [[], ["trastuzumab"], ["lapatinib"], ["trastuzumab", "pertuzumab"]]
    pairs = [(p, r) for p in profiles for r in regimens]
    simulate(*pairs[0], cache=False)
    t0 = time.perf_counter()
    for k in range(n_runs):
        simulate(*pairs[k % len(pairs)], cache=False)
    today = (time.perf_counter() - t0) / n_runs
    # perturbations like the pathway layer's: a mechanism switches a node's activation
    # parameter ($u_X) on or off, a drug scales a node's activation down
    rng = np.random.default_rng(0)
    switches = sorted(p for p in model.parameters if p.startswith("u_"))
    nodes = model.node_names
    sets = [Overrides(parameters={p: 0.0 if model.parameters[p] else 1.0 for p in
                                  rng.choice(switches, size=2, replace=False)},
                      up_factor={nd: 0.3 for nd in rng.choice(nodes, size=2, replace=False)})
            for _ in range(n_runs)]
    sim = StochasticSimulator(model, samples=2000, max_time=float(model.config.get(
        "max_time", 40)), time_tick=float(model.config.get("time_tick", 1)), threads=1,
        outputs=outs, nodes=outs, keep_final_states=False)
    sim.run(seed=1, overrides=sets[0])
    t0 = time.perf_counter()
    for _ in range(n_runs):
        sim.run(seed=1)
    plain = (time.perf_counter() - t0) / n_runs
    t0 = time.perf_counter()
    for ov in sets:
        sim.run(seed=1, overrides=ov)
    single = (time.perf_counter() - t0) / n_runs
    sim.run_batch(sets[:2], seed=1)
    t0 = time.perf_counter()
    sim.run_batch(sets, seed=1)
    batched = (time.perf_counter() - t0) / n_runs
    print(f"pathway.simulate (cache off):        {1 / today:8.1f} runs/s ({1e3 * today:.2f} ms)")
    print(f"  (a plain run of the compiled model: {1e3 * plain:.2f} ms)")
    print(f"override on the compiled model:      {1 / single:8.1f} runs/s ({1e3 * single:.2f} ms)"
          f"  {today / single:.1f}x")
    print(f"batched (run_batch of {n_runs}):        {1 / batched:8.1f} runs/s "
          f"({1e3 * batched:.2f} ms)  {today / batched:.1f}x")
    sim.threads = 2
    t0 = time.perf_counter()
    sim.run_batch(sets, seed=1)
    batched2 = (time.perf_counter() - t0) / n_runs
    print(f"batched, 2 threads:                  {1 / batched2:8.1f} runs/s "
          f"({1e3 * batched2:.2f} ms)  {today / batched2:.1f}x")


def screen_bench(quick: bool) -> None:
    from her2lab.executor import executor
    from her2lab.pathway.screen import resolve_profiles, resolve_regimens, screen

    print("\n4. a screen (profiles x single drugs, 2,000 trajectories a cell, cache off)")
    profs = resolve_profiles("all-single")
    regs = resolve_regimens("all-single")
    if quick:
        profs, regs = profs[:4], regs[:4]
    cells = len(profs) * len(regs)
    walls = {}
    for kind, workers in (("serial", 1), ("processes", 1), ("processes", 2), ("dask", 2)):
        with executor(kind, workers=workers) as ex:
            t0 = time.perf_counter()
            screen(profs, regs, cache=False, executor=ex)
            wall = time.perf_counter() - t0
            st = ex.stats
        walls[(kind, workers)] = (wall, st)
        print(f"{kind:>9} x{workers}: {cells} cells in {wall:6.2f} s  "
              f"(tasks {st.tasks}, batch {st.batch}, in-worker {st.busy_s:.2f} s)")
    w1 = walls[("processes", 1)][0]
    w2 = walls[("processes", 2)][0]
    print(f"parallel efficiency, 2 local processes: {w1 / (2 * w2):.0%} (speed-up {w1 / w2:.2f}x)")
    dwall, dst = walls[("dask", 2)]
    per_cell = dst.busy_s / max(dst.items, 1)
    overhead = max(0.0, (dwall * 2 - dst.busy_s) / max(dst.tasks, 1))
    print(f"Dask, 2 workers: {per_cell * 1e3:.1f} ms a cell in a worker, {overhead * 1e3:.0f} ms "
          "overhead a task (wall x workers - in-worker time, per task; start-up included)")
    batch = max(1, math.ceil(0.1 / max(per_cell, 1e-6)))
    full = len(resolve_profiles("all")) * len(resolve_regimens("all-pairs"))
    for label, n_cells in (("this screen", cells), ("all profiles x all-pairs", full)):
        tasks = math.ceil(n_cells / batch)
        est = math.ceil(tasks / 100) * (batch * per_cell + overhead)
        print(f"paper estimate, {label} ({n_cells:,} cells) on 100 workers: {tasks:,} tasks "
              f"of {batch}, ~{est:.1f} s of tasks (serial {n_cells * per_cell:.0f} s; speed-up "
              f"{n_cells * per_cell / est:.0f}x) plus the cluster's start-up; assumes the "
              "per-task overhead measured on 2 workers and a scheduler far from its limit "
              "(thousands of tasks a second)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the trajectories")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--only", choices=["maboss", "scaling", "pathway", "screen"], default=None)
    args = ap.parse_args()
    import cmaboss
    import numba

    load = os.getloadavg()
    print(f"python {platform.python_version()}, numba {numba.__version__}, cmaboss "
          f"{getattr(cmaboss, '__version__', '1.0.0b34')}, {os.cpu_count()} CPUs, load "
          f"average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (1, 5, 15 min)")
    div = 10 if args.quick else 1
    if args.only in (None, "maboss"):
        print("\n1. whole processes, 2 threads (best of "
              f"{args.repeats}; wall and CPU seconds; z: largest difference in s.e.)")
        print(f"{'model':<24} {'samples':>9} {'ours_w':>8} {'ours_cpu':>8} {'mb_w':>8} "
              f"{'mb_cpu':>8} {'wall':>8} {'cpu':>8} {'z':>5}")
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            m30 = random_model(30, seed=1, n_mutations=2)
            r30 = versus("random 30", m30, m30.node_names[:5], 2_000_000 // div, 10.0,
                         args.repeats, work)
            z = read_bnet(ZANUDO, undefined="input")
            z200 = versus("Zanudo 2017 (80)", z, ZANUDO_OUTPUTS, 200_000 // div, 20.0,
                          args.repeats, work)
            z1m = versus("Zanudo 2017 (80)", z, ZANUDO_OUTPUTS, 1_000_000 // div, 20.0,
                         args.repeats, work)
        print(f"targets (wall): >=12x random 30 -> {r30:.1f}x; >=20x Zanudo -> {z200:.1f}x "
              f"(200k), {z1m:.1f}x (1M)")
    if args.only in (None, "scaling"):
        scaling(args.quick)
    if args.only in (None, "pathway"):
        pathway(args.quick)
    if args.only in (None, "screen"):
        screen_bench(args.quick)


if __name__ == "__main__":
    main()
