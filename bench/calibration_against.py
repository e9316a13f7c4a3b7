"""A cold calibration of an earlier commit against today's, alternating, in one run.

    python bench/calibration_against.py [--rev 086c2ad] [--rounds 1] [--as-of 2014-08-12]

Each round runs ``her2lab trials calibrate --as-of AS_OF`` at the command line's defaults
(panel 32, 5,000 trajectories, the default seed) first with the earlier commit's sources
(``git archive REV src``, unpacked into a temporary directory and put first on
``PYTHONPATH``), then with today's, each in a fresh subprocess with a fresh, empty
``HER2LAB_CACHE`` (no pathway run and no compiled knowledge base is reused): the wall time of
a new user's first calibration. The two alternate so that a change in the machine's load (other
programs share its cores) falls on both; each round's times are printed, and the ratio of the
best of each. The parameters each writes are printed too (the earlier commit's link is not
today's, so they differ). Performance is reported as a ratio here and never asserted in a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sources(rev: str, into: Path) -> Path:
    """The earlier commit's ``src`` tree, unpacked (read-only use of the repository)."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "src"],
                          check=True, capture_output=True).stdout
    into.mkdir(parents=True, exist_ok=True)
    tar = into / "src.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")
    return into / "src"


def _calibrate(src: Path, as_of: str, scratch: Path) -> tuple[float, dict]:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
    out = scratch / f"cal-{time.time_ns()}.json"
    env = {**os.environ, "PYTHONPATH": str(src), "HER2LAB_CACHE": str(cache),
           "COLUMNS": "100"}
    cli = Path(sys.executable).with_name("her2lab")
    cmd = ([str(cli)] if cli.exists() else [sys.executable, "-m", "her2lab.cli"]) + [
        "trials", "calibrate", "--as-of", as_of, "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return wall, json.loads(out.read_text()).get("params", {})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rev", default="086c2ad", help="the earlier commit (default: 086c2ad)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--as-of", default="2014-08-12")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        old = _sources(args.rev, scratch / "old")
        new = ROOT / "src"
        best = {"old": float("inf"), "new": float("inf")}
        for r in range(args.rounds):
            for name, src in (("old", old), ("new", new)):
                wall, params = _calibrate(src, args.as_of, scratch)
                best[name] = min(best[name], wall)
                shown = {k: round(v, 3) for k, v in params.items()
                         if isinstance(v, float)}
                print(f"round {r + 1} {name} ({args.rev if name == 'old' else 'today'}): "
                      f"cold calibration {wall:.1f} s; {shown}", flush=True)
        print(f"best: {args.rev} {best['old']:.1f} s, today {best['new']:.1f} s, "
              f"ratio {best['old'] / best['new']:.2f}")


if __name__ == "__main__":
    main()
