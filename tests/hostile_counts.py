"""Count the hostile cases of ``test_hostile_inputs.py`` by exit class, and which pass.

``PYTHONPATH=SRC python tests/hostile_counts.py [--json FILE]`` runs every case once (at 40
columns, from a long path, as the test's first fixture does) against the her2lab that
``PYTHONPATH`` names (this checkout's ``src``, or another commit's extracted with ``git
archive COMMIT src | tar -x -C DIR``), then prints how many cases ended in each exit class
(0 success, 1 problems listed, 2 error, 64 usage, 70 internal error, timed out), and how many
meet their expectation. The
cases, their expectations and their preparation are the test's own: nothing is duplicated.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_hostile_inputs as hostile  # the test module beside this script

CLASSES = {0: "0 success", 1: "1 problems listed", 2: "2 error", 64: "64 usage",
           70: "70 internal error (a bug)"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="also write the per-case results here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for part in ("a-rather-long-directory-name-" * 2, "that-keeps-going-" * 3,
                     "and-going"):
            root = root / part
        run = hostile._run(root, 40)
    by_class: collections.Counter[str] = collections.Counter()
    verdict: dict[str, str] = {}
    for case in hostile.CASES:
        r = run["results"][case.id]
        key = "timed out" if r["timed_out"] else CLASSES.get(r["code"], f"{r['code']} other")
        by_class[key] += 1
        try:
            hostile._check(run, case)
            verdict[case.id] = "pass"
        except pytest.skip.Exception:
            verdict[case.id] = "skipped"
        except AssertionError:
            verdict[case.id] = "fail"
    print(f"{len(hostile.CASES)} cases")
    for key in [*CLASSES.values(), "timed out"]:
        print(f"  exit {key}: {by_class.pop(key, 0)}")
    for key, n in sorted(by_class.items()):
        print(f"  exit {key}: {n}")
    tally = collections.Counter(verdict.values())
    print(f"expectation met: {tally['pass']}, not met: {tally['fail']}, "
          f"skipped: {tally['skipped']}")
    for cid, v in verdict.items():
        if v == "fail":
            r = run["results"][cid]
            print(f"  not met: {cid} (exit {r['code']}{', timed out' if r['timed_out'] else ''})")
    if args.json:
        args.json.write_text(json.dumps({c: {"code": run["results"][c]["code"],
                                             "timed_out": run["results"][c]["timed_out"],
                                             "verdict": verdict[c]} for c in verdict},
                                        indent=1))


if __name__ == "__main__":
    main()
