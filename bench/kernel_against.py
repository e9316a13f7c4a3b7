"""The simulation kernel of an earlier commit against today's, on the same arguments, in one run.

    python bench/kernel_against.py [--rev 55c24b1] [--rounds 15]

Both kernels are the plain Python source of ``her2lab.boolnet._kernel._chunks`` (today's, and
the one ``git show REV:src/her2lab/boolnet/_kernel.py`` gives), compiled here by numba the same
way; the commits must share the kernel's interface (``_abi.ARGS``). Their arguments are those
today's engine passes for the nine conditions of ``bench/pathway_against.py`` (the HER2 model of
``dbc3063``, 45 nodes, 2,000 trajectories, 2 chunks, the four phenotype nodes read out), taken
from a run of :class:`~her2lab.boolnet.StochasticSimulator` on the perturbed files that commit
writes. Each kernel runs the nine on one thread, alternately (``--rounds`` rounds), on fresh
copies of the arguments; reported: the best CPU time of the calling thread, in ms per condition
and ns per transition. First it checks that both make the same transitions and the same
accumulators, bit for bit.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from pathway_against import PHENOTYPES, PROFILES, REGIMENS, _Old, _overrides  # noqa: E402


def _kernel_from(source: str, name: str, workdir: Path):
    from numba import njit

    path = workdir / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return njit(nogil=True, error_model="numpy")(mod._chunks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="55c24b1", help="the earlier commit (default: 55c24b1)")
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args()
    from her2lab.boolnet import StochasticSimulator, _abi, parse_maboss
    from her2lab.boolnet import stochastic as sto

    old_src = subprocess.run(["git", "-C", str(ROOT), "show",
                              f"{a.rev}:src/her2lab/boolnet/_kernel.py"],
                             check=True, capture_output=True, text=True).stdout
    new_src = (ROOT / "src/her2lab/boolnet/_kernel.py").read_text()
    pairs = [[p, r] for p in PROFILES for r in REGIMENS]
    with tempfile.TemporaryDirectory() as tmp:
        old = _Old("dbc3063", Path(tmp), 2000, pairs)
        try:
            models = [parse_maboss((old.files / f"{i}.bnd").read_text(),
                                   (old.files / f"{i}.cfg").read_text())
                      for i in range(len(pairs))]
        finally:
            old.close()
        kernels = {a.rev: _kernel_from(old_src, "kernel_old", Path(tmp)),
                   "today": _kernel_from(new_src, "kernel_new", Path(tmp))}
    base = models[0]
    outs = [n for n in PHENOTYPES if n in base]
    sim = StochasticSimulator(base, samples=2000, max_time=40.0, time_tick=1.0, threads=1,
                              chunks=2, outputs=outs, nodes=outs, keep_final_states=False)
    captured = []
    real = sto._run_kernel

    def capture(args, scratch, total_chunks, threads):
        captured.append((args, scratch, total_chunks))
        real(args, scratch, total_chunks, threads)

    sto._run_kernel = capture
    try:
        for m in models:
            sim.run(seed=1, overrides=_overrides(base, m))
    finally:
        sto._run_kernel = real

    spec = _abi.ARGS
    i_acc = [s[0] for s in spec].index("state_acc")
    i_events = [s[0] for s in spec].index("n_events")

    def fresh(args, scratch):
        out = []
        for (_, dtype, ndim), v in zip(spec, args, strict=False):
            if ndim:
                out.append(v.copy())
            else:
                out.append(np.uint64(v) if dtype == "uint64" else v)
        return out + sto._scratch_space(scratch)

    signatures = {}
    for name, fn in kernels.items():
        sig = []
        for args, scratch, tc in captured:
            call = fresh(args, scratch)
            fn(0, tc, *call)
            sig.append((call[i_acc].copy(), int(call[i_events].sum())))
        signatures[name] = sig
    first, second = signatures.values()
    same = all(np.array_equal(x[0], y[0]) and x[1] == y[1] for x, y in
               zip(first, second, strict=True))
    transitions = sum(e for _, e in second)
    best = dict.fromkeys(kernels, float("inf"))
    for _ in range(a.rounds):
        for name, fn in kernels.items():
            calls = [(fresh(args, scratch), tc) for args, scratch, tc in captured]
            t = time.thread_time()
            for call, tc in calls:
                fn(0, tc, *call)
            best[name] = min(best[name], time.thread_time() - t)
    print(f"kernel of {a.rev} against today's: the nine conditions of bench/pathway_against.py "
          f"({transitions:,} transitions), 1 thread, best of {a.rounds} alternating rounds")
    for name, s in best.items():
        print(f"{name:>10}: {1e3 * s / len(captured):7.2f} ms per condition  "
              f"{1e9 * s / transitions:6.1f} ns per transition")
    print(f"today / {a.rev}: {best['today'] / best[a.rev]:.3f}; "
          f"{'the same transitions and accumulators' if same else 'DIFFERENT results'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
