"""A pathway run of today's engine against the pathway layer of an earlier commit, in one run.

    python bench/pathway_against.py [--rev dbc3063] [--samples 2000] [--repeats 3] [--rounds 5]

Issue 11 measured a (profile, regimen) run of the pathway layer at 2,000 trajectories: a new
.cfg text per condition, parsed, compiled and run (``dbc3063``, the last commit before the
engine's overrides; the HER2 model of that commit, 45 nodes). This bench checks that commit
out into a temporary git worktree and, on the same machine and in the same run:

1. times that commit's ``her2lab.pathway.simulate`` (cache off) on nine conditions (three
   profiles by three regimens), in a subprocess with the old sources first on the path, and
   writes each condition's perturbed model files;
2. times today's engine on the same perturbed models as the pathway layer now runs them: the
   unperturbed model compiled once, each condition an :class:`~her2lab.boolnet.Overrides` of
   the parameters and initial states its .cfg changes (no text, no parse, no compile), the
   same four phenotype nodes read out, on 1 and on 2 threads (fixed chunks: the same result on
   either); the two are timed in interleaved rounds (that commit, then 1 thread, then 2
   threads, ``--rounds`` times, the old layer kept running in its subprocess between rounds),
   so that a change in the machine's load falls on both, and the best of each is reported;
   and the nine as one batch (``run_batch``, as ``simulate_many`` runs the conditions it is
   given: one kernel call, the chunks of all nine shared out over the threads), checked equal
   to the single runs;
3. checks that every override run equals, bit for bit, a fresh simulator on the perturbed
   files, and that both engines' final phenotype probabilities agree within 5 standard errors
   of the difference of two binomial proportions.

Reported: milliseconds per run and the ratio old / new. Today's own pathway model (version 2,
71 nodes, about three times the transitions of a trajectory) is timed by ``bench/pathway.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROFILES = ([], ["pten_loss"], ["p95her2"])
REGIMENS = (["trastuzumab"], ["trastuzumab", "pertuzumab", "docetaxel"],
            ["lapatinib", "capecitabine"])
PHENOTYPES = ("Proliferation", "Apoptosis", "Angiogenesis", "Immune_kill")

_OLD = r'''
import json, sys, time
from pathlib import Path
from her2lab.pathway import simulate
from her2lab.pathway.simulate import model_files
out, samples = Path(sys.argv[1]), int(sys.argv[2])
pairs = json.loads(sys.argv[3])
simulate(*pairs[0], samples=samples, cache=False)  # the kernel loaded once
final = []
for i, (p, r) in enumerate(pairs):
    bnd, cfg = model_files(p, r, samples=samples, seed=1, potency=None, max_time=40.0)
    (out / f"{i}.bnd").write_text(bnd)
    (out / f"{i}.cfg").write_text(cfg)
    final.append(simulate(p, r, samples=samples, seed=1, cache=False).nodes)
print(json.dumps({"final": final}), flush=True)
for line in sys.stdin:  # one timing round per line: the best of its repeats, ms per run
    best = float("inf")
    for _ in range(int(line)):
        t = time.perf_counter()
        for p, r in pairs:
            simulate(p, r, samples=samples, seed=1, cache=False)
        best = min(best, (time.perf_counter() - t) / len(pairs))
    print(json.dumps({"ms": 1e3 * best}), flush=True)
'''


class _Old:
    """The earlier commit's pathway layer in a subprocess (its sources first on the path),
    kept running so that its timing rounds interleave with today's."""

    def __init__(self, rev: str, workdir: Path, samples: int, pairs: list) -> None:
        self.tree = workdir / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(self.tree),
                        rev], check=True, capture_output=True)
        env = {**os.environ, "PYTHONPATH": str(self.tree / "src"),
               "HER2LAB_CACHE": str(workdir / "cache")}
        self.files = workdir / "files"
        self.files.mkdir()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _OLD, str(self.files), str(samples), json.dumps(pairs)],
            env=env, cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.final = self._reply()["final"]
        except BaseException:
            self.close()  # the worktree is removed even when the old layer fails
            raise

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.tree.name} pathway layer exited early")
        return json.loads(line)

    def time(self, repeats: int) -> float:
        self.proc.stdin.write(f"{repeats}\n")
        self.proc.stdin.flush()
        return self._reply()["ms"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                        str(self.tree)], check=False, capture_output=True)


def _overrides(base, perturbed):
    from her2lab.boolnet import Overrides

    params = {k: v for k, v in perturbed.parameters.items() if base.parameters.get(k) != v}
    initial = {n: perturbed[n].initial for n in perturbed.node_names
               if perturbed[n].initial != base[n].initial}
    return Overrides(parameters=params, initial=initial)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="dbc3063", help="the earlier commit (default: dbc3063)")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3, help="runs of the nine per round")
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved rounds (old, 1 thread, 2 threads)")
    a = ap.parse_args()
    from her2lab.boolnet import StochasticSimulator, parse_maboss

    pairs = [[p, r] for p in PROFILES for r in REGIMENS]
    with tempfile.TemporaryDirectory() as tmp:
        old = _Old(a.rev, Path(tmp), a.samples, pairs)
        try:
            files = old.files
            models = [parse_maboss((files / f"{i}.bnd").read_text(),
                                   (files / f"{i}.cfg").read_text())
                      for i in range(len(pairs))]
            # a condition's .cfg changes only parameters and initial states, never the
            # network, so one condition's model compiled once serves as the base and every
            # condition (the first included) is its overrides relative to it
            base = models[0]
            overrides = [_overrides(base, m) for m in models]
            outs = [n for n in PHENOTYPES if n in base]
            max_time = float(base.config.get("max_time", 40))
            tick = float(base.config.get("time_tick", 1))
            sim = StochasticSimulator(base, samples=a.samples, max_time=max_time,
                                      time_tick=tick, threads=2, chunks=2, outputs=outs,
                                      nodes=outs, keep_final_states=False)
            sim.run(seed=1, overrides=overrides[0])  # the kernel loaded once
            # rounds of old, 1 thread, 2 threads one after the other, so that a change in
            # the machine's load falls on all three alike; the best of each over all rounds
            timings = {"old": math.inf, 1: math.inf, 2: math.inf, "batch 1": math.inf,
                       "batch 2": math.inf}
            for _ in range(a.rounds):
                timings["old"] = min(timings["old"], old.time(a.repeats))
                for threads in (1, 2):
                    sim.threads = threads
                    for _ in range(a.repeats):
                        t = time.perf_counter()
                        results = [sim.run(seed=1, overrides=ov) for ov in overrides]
                        timings[threads] = min(timings[threads],
                                               1e3 * (time.perf_counter() - t) / len(pairs))
                    for _ in range(a.repeats):
                        t = time.perf_counter()
                        batched = sim.run_batch(overrides, seed=1)
                        timings[f"batch {threads}"] = min(
                            timings[f"batch {threads}"],
                            1e3 * (time.perf_counter() - t) / len(pairs))
                    assert all(b.final == r.final for b, r in zip(batched, results, strict=True)), \
                        "a batched run differs from the same set run alone"
            old_final = old.final
        finally:
            old.close()
    # checks: overrides equal fresh simulators; both engines agree statistically
    worst = 0.0
    for i, m in enumerate(models):
        fresh = StochasticSimulator(m, samples=a.samples, max_time=max_time, time_tick=tick,
                                    threads=2, chunks=2, outputs=outs, nodes=outs,
                                    keep_final_states=False).run(seed=1)
        assert fresh.final == results[i].final, f"condition {i}: override != fresh simulator"
        for n in outs:
            p, q = results[i].final[n], float(old_final[i][n])
            se = math.sqrt(max(p * (1 - p) + q * (1 - q), 1e-12) / a.samples)
            worst = max(worst, abs(p - q) / se)
    assert worst < 5, f"the engines disagree: {worst:.1f} SE"
    print(f"HER2 model of {a.rev} ({len(base.node_names)} nodes), {a.samples} trajectories, "
          f"{len(pairs)} conditions, best of {a.rounds} interleaved rounds of {a.repeats}")
    ms_old = timings["old"]
    print(f"{a.rev} pathway.simulate (text, parse, compile, run): {ms_old:7.2f} ms per run")
    for threads in (1, 2):
        ms = timings[threads]
        print(f"today's engine, overrides, {threads} thread{'s' if threads > 1 else ' '}:"
              f"          {ms:7.2f} ms per run  ({ms_old / ms:.1f}x)")
    for threads in (1, 2):
        ms = timings[f"batch {threads}"]
        print(f"today's engine, one batch of nine, {threads} thread{'s' if threads > 1 else ' '}:"
              f"   {ms:7.2f} ms per run  ({ms_old / ms:.1f}x)")
    print(f"checks: overrides equal fresh simulators and batched runs bit for bit; "
          f"phenotypes of the two engines within {worst:.1f} SE (limit 5)")


if __name__ == "__main__":
    main()
