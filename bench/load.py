"""A bounded load test of the web API on loopback: many concurrent readers, a few simulators.

Starts ``her2lab serve`` on 127.0.0.1 (a free port) in a child process, then runs, at the same
time, ``--readers`` clients each making ``--reads`` GET requests over the read endpoints
(knowledge base lists, a trial, the graph, options) and ``--simulators`` clients each making
``--simulations`` pathway simulations (distinct seeds, so none comes from the cache). Prints,
per group, requests, errors (any status other than 200, or a failure to connect), p50 and p95
latency and throughput. Nothing leaves the machine; every loop is bounded.

Scenario ``queued`` ("45 queued simulations with readers"): ``--queued`` clients (45) each send
one simulation at the same moment, while the readers read. The server's slots run ``--slots``
at once and hold ``--queue`` more waiting (``her2lab serve --slots --queue``); the rest are
refused with 429 at once (counted apart, as refusals, not errors). The same readers first run
alone ("read alone"), so the table gives the ratio on this machine. The target: the readers'
p95 stays under 100 ms (on an idle machine), since a waiting simulation holds no thread.

    .venv/bin/python bench/load.py [--readers 32] [--reads 50] [--simulators 3] [--simulations 10]
    .venv/bin/python bench/load.py --scenario queued --readers 20 --reads 50 --queue 45
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

READS = ["/api/kb/summary", "/api/kb/trials", "/api/kb/trials?drug=trastuzumab",
         "/api/kb/trials/cleopatra", "/api/kb/trials/cleopatra/detail", "/api/kb/drugs",
         "/api/kb/mechanisms", "/api/kb/graph", "/api/pathway/options", "/api/calibrations",
         "/", "/static/app.css"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes | None) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        status = resp.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return status, time.perf_counter() - t0


def _percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(q / 100 * (len(xs) - 1))))
    return xs[k]


def _summary(name: str, results: list[tuple[int, float]], wall: float) -> dict:
    lat = [t for _, t in results]
    return {"group": name, "requests": len(results),
            "errors": sum(s not in (200, 429) for s, _ in results),
            "refused": sum(s == 429 for s, _ in results),
            "p50_ms": 1000 * _percentile(lat, 50), "p95_ms": 1000 * _percentile(lat, 95),
            "max_ms": 1000 * max(lat, default=float("nan")),
            "mean_ms": 1000 * statistics.fmean(lat) if lat else float("nan"),
            "per_s": len(results) / wall if wall > 0 else float("nan")}


def run(readers: int, reads: int, simulators: int, simulations: int, samples: int, *,
        scenario: str = "mixed", queued: int = 45, slots: int = 2,
        queue: int = 4) -> list[dict]:
    port = _free_port()
    env = {**os.environ, "HER2LAB_CACHE": tempfile.mkdtemp(prefix="her2lab-load-")}
    server = subprocess.Popen(
        [sys.executable, "-c", "from her2lab.cli import main; main()", "serve", "--port",
         str(port), "--slots", str(slots), "--queue", str(queue), "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 60
        while _request(port, "GET", "/api/meta", None)[0] != 200:
            if time.monotonic() > end or server.poll() is not None:
                raise SystemExit("the server did not start: " + (server.stderr.read() or ""))
            time.sleep(0.2)
        # warm-up (not measured): the knowledge base, the audit, the numba kernels
        for path in READS:
            _request(port, "GET", path, None)
        _request(port, "POST", "/api/pathway/simulate",
                 json.dumps({"profile": ["pten_loss"], "samples": 100}).encode())

        out: dict[str, list[tuple[int, float]]] = {"read": [], "simulate": []}
        lock = threading.Lock()
        rows = []

        def reader(i: int) -> None:
            mine = [_request(port, "GET", READS[(i + k) % len(READS)], None)
                    for k in range(reads)]
            with lock:
                out["read"].extend(mine)

        def simulator(i: int) -> None:
            mine = []
            for k in range(simulations):
                body = {"profile": ["pten_loss"], "regimen": ["trastuzumab", "everolimus"],
                        "samples": samples, "seed": 1000 * (i + 1) + k}
                mine.append(_request(port, "POST", "/api/pathway/simulate",
                                     json.dumps(body).encode()))
            with lock:
                out["simulate"].extend(mine)

        def one_simulation(i: int) -> None:
            body = {"profile": ["pten_loss"], "regimen": ["trastuzumab", "everolimus"],
                    "samples": samples, "seed": 500_000 + i}
            res = _request(port, "POST", "/api/pathway/simulate", json.dumps(body).encode())
            with lock:
                out["simulate"].append(res)

        if scenario == "queued":  # the same readers alone first: the ratio on this machine
            alone = [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
            t0 = time.perf_counter()
            for t in alone:
                t.start()
            for t in alone:
                t.join()
            rows.append(_summary("read alone", out["read"], time.perf_counter() - t0))
            out["read"] = []
        threads = [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
        if scenario == "queued":  # all at once, one request each, started before the readers
            threads = [threading.Thread(target=one_simulation, args=(i,))
                       for i in range(queued)] + threads
        else:
            threads += [threading.Thread(target=simulator, args=(i,))
                        for i in range(simulators)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        return [*rows, _summary("read", out["read"], wall),
                _summary("simulate", out["simulate"], wall)]
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readers", type=int, default=32)
    ap.add_argument("--reads", type=int, default=50)
    ap.add_argument("--simulators", type=int, default=3)
    ap.add_argument("--simulations", type=int, default=10)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--scenario", choices=["mixed", "queued"], default="mixed",
                    help="mixed: simulators in loops beside the readers; queued: --queued "
                    "simulations sent at once beside the readers")
    ap.add_argument("--queued", type=int, default=45)
    ap.add_argument("--slots", type=int, default=2, help="her2lab serve --slots")
    ap.add_argument("--queue", type=int, default=4, help="her2lab serve --queue")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    a = ap.parse_args()
    for name, lo, hi in (("readers", 1, 1000), ("reads", 1, 10_000), ("queued", 0, 1000),
                         ("simulators", 0, 100), ("simulations", 0, 10_000)):
        if not lo <= getattr(a, name) <= hi:  # every loop bounded
            ap.error(f"--{name} lies in [{lo}, {hi}]; got {getattr(a, name)}")
    rows = run(a.readers, a.reads, a.simulators, a.simulations, a.samples,
               scenario=a.scenario, queued=a.queued, slots=a.slots, queue=a.queue)
    sims = (f"{a.queued} simulations sent at once" if a.scenario == "queued" else
            f"{a.simulators} simulators x {a.simulations}")
    print(f"load test on loopback ({a.scenario}): {a.readers} readers x {a.reads} GETs, {sims} "
          f"POST /api/pathway/simulate ({a.samples} samples); server --slots {a.slots} "
          f"--queue {a.queue}")
    print(f"{'group':<11}{'requests':>9}{'errors':>8}{'429':>6}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'max ms':>9}{'req/s':>8}")
    for r in rows:
        print(f"{r['group']:<11}{r['requests']:>9}{r['errors']:>8}{r['refused']:>6}"
              f"{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}{r['per_s']:>8.1f}")
    if a.json is not None:
        a.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
