"""Run command-line cases through ``her2lab.cli.main`` in subprocesses, fast.

Used by ``tests/test_hostile_inputs.py``: ``python hostile_runner.py SPEC.json RESULTS.json``.
The runner imports the CLI (and the heavy libraries the commands use) once, then forks one
child process per case: each case runs ``main(argv)`` in its own process, in its own working
directory and environment, with standard output and error sent to files, and is killed when it
runs past its time limit. The results (exit code, output, seconds, timed out) are written as
JSON. Forking after the imports keeps a case's cost to the work it does, not Python's start-up.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback


def _run_child(case: dict, out_path: str, err_path: str) -> None:
    code = 98
    try:
        os.chdir(case["cwd"])
        for key in case.get("unset", []):
            os.environ.pop(key, None)
        os.environ.update(case.get("env", {}))
        for fd, path in ((1, out_path), (2, err_path)):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        from her2lab.cli import main

        try:
            main(case["argv"])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # an exception escaping main() is a failure of the error path
            traceback.print_exc()
            code = 99
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main() -> None:
    spec_path, results_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    os.environ.update(spec.get("env", {}))
    # what the commands import, once, before forking (the cases then pay only for their work)
    import her2lab.cli
    import her2lab.knowledge
    import her2lab.yamlio

    for name in spec.get("preload", []):
        __import__(name)
    her2lab.knowledge.load()  # the shipped knowledge base, compiled into the run's cache

    results = {}
    for case in spec["cases"]:
        out_path = os.path.join(spec["logs"], case["id"] + ".out")
        err_path = os.path.join(spec["logs"], case["id"] + ".err")
        sys.stdout.flush()
        sys.stderr.flush()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _run_child(case, out_path, err_path)
        timed_out = False
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() - start > case["timeout"]:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                timed_out = True
                break
            time.sleep(0.005)
        seconds = time.monotonic() - start
        code = os.waitstatus_to_exitcode(status)
        with open(out_path, "rb") as fh:
            out = fh.read()
        with open(err_path, "rb") as fh:
            err = fh.read()
        results[case["id"]] = {
            "code": code, "timed_out": timed_out, "seconds": seconds,
            "out": out.decode("utf-8", "replace"), "err": err.decode("utf-8", "replace"),
            "out_has_escape": b"\x1b" in out,
        }
    with open(results_path, "w", encoding="utf-8") as fh:
        json.dump(results, fh)


if __name__ == "__main__":
    main()
