"""Long work in the API (issue 24, points 11 and 14): simulations waiting for a slot hold no
thread, so reads are answered while they wait; a full slot queue answers 429 at once; jobs
report real progress and end at their total."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fastapi.testclient import TestClient

from her2lab.api import create_app
from her2lab.api.errors import ApiError
from her2lab.api.jobs import JobPool, Slots

from .conftest import wait_job


def test_a_full_slot_queue_answers_429_without_waiting():
    slots = Slots(1, 0)
    release = threading.Event()

    async def main() -> float:
        busy = asyncio.ensure_future(slots.run(lambda: release.wait(60)))
        await asyncio.sleep(0.05)
        t0 = time.monotonic()
        with pytest.raises(ApiError) as e:
            await slots.run(lambda: None)
        waited = time.monotonic() - t0
        release.set()
        await busy
        assert e.value.status == 429
        return waited

    try:
        # refused, not queued: it returns while the slot is still taken (the old slots waited
        # 30 s for one); the bound is far above a refusal's cost and far below any wait
        assert asyncio.run(main()) < 5.0
    finally:
        release.set()
        slots.shutdown()
    assert slots._admitted == 0  # every place given back


def test_reads_are_answered_while_45_simulations_wait_for_a_slot():
    app = create_app(slots=1, queue=45)
    release = threading.Event()
    with TestClient(app, base_url="http://127.0.0.1") as c:
        blocker = c.portal.start_task_soon(app.state.slots.run, lambda: release.wait(120))
        statuses: list[int] = []

        def simulate(seed: int) -> None:
            r = c.post("/api/pathway/simulate", json={"samples": 5, "seed": seed})
            statuses.append(r.status_code)

        waiting = [threading.Thread(target=simulate, args=(i,)) for i in range(45)]
        try:
            for t in waiting:
                t.start()
            end = time.monotonic() + 60
            while app.state.slots._admitted < 46 and time.monotonic() < end:
                time.sleep(0.05)
            assert app.state.slots._admitted == 46  # the blocker and 45 waiting
            # every simulation is waiting and the slot is taken: a read must still be answered
            # (with waiting requests holding the server's threads it would wait for them)
            answered: list[int] = []
            reader = threading.Thread(target=lambda: answered.append(
                c.get("/api/kb/summary").status_code))
            reader.start()
            reader.join(timeout=60)
            assert answered == [200] and not release.is_set()
            r = c.post("/api/pathway/simulate", json={"samples": 5})
            assert r.status_code == 429 and r.json()["error"] == "Busy"
        finally:
            release.set()
            for t in waiting:
                t.join(timeout=120)
            blocker.result(timeout=30)
    assert statuses == [200] * 45


def test_a_finished_job_ends_at_its_total():
    """An optimiser that converges early reports steps of its iteration limit ("fit 81/1600",
    as the calibration did); the finished job is at its total."""
    pool = JobPool(workers=1, max_active=2)

    def work(job):
        job.report("fit", 81, 1600)
        return {"ok": True}

    try:
        job = pool.submit("calibration", work)
        end = time.monotonic() + 30
        while job.status not in ("done", "failed") and time.monotonic() < end:
            time.sleep(0.01)
    finally:
        pool.shutdown()
    assert job.status == "done"
    assert (job.progress.stage, job.progress.done, job.progress.total) == ("done", 1600, 1600)


def test_a_design_reports_the_sizes_it_simulates_and_predict_takes_its_answer(client):
    spec = client.get("/api/virtual-trials/examples").json()["everolimus_pten_loss"]
    r = client.post("/api/virtual-trials/design", json={
        "spec": spec, "replicates": 20, "samples": 50, "panel": 4})
    assert r.status_code == 202, r.text
    seen: set[tuple[str, int, int]] = set()
    end = time.monotonic() + 300
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{r.json()['id']}").json()
        p = job["progress"]
        seen.add((p["stage"], p["done"], p["total"]))
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.02)
    assert job["status"] == "done", job
    sizes = [s for s in seen if s[0].startswith("simulated power at")]
    # steps within a size: replicates done of the 20 of each size, seen part way
    assert sizes and all(t == 20 and 0 < d <= 20 for _, d, t in sizes)
    assert any(d < t for _, d, t in sizes)
    n = job["result"]["simulation"]["n_per_arm"]
    assert any(f"at {n} patients per arm" in s for s, _, _ in sizes)
    assert (p["stage"], p["done"], p["total"]) == ("done", p["total"], p["total"])
    # point 3: the size a design answers is one predict accepts
    for arm in spec["arms"]:
        arm["n"] = n
    r = client.post("/api/virtual-trials/predict", json={"spec": spec, "replicates": 1,
                                                         "samples": 50, "panel": 4})
    assert r.status_code == 200, r.text


def test_a_report_reports_its_regimens(client):
    r = client.post("/api/reports", json={"profile": "pten_loss", "setting":
                                          "metastatic_pretreated", "in_silico": False})
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"], timeout=300)
    assert job["status"] == "done", job
    ranked = len(job["result"]["ranked"])
    assert job["progress"] == {"stage": "done", "done": ranked, "total": ranked}


def test_strategy_report_calls_progress_once_per_regimen():
    from her2lab.report import strategy_report

    calls: list[tuple[str, int, int]] = []
    rep = strategy_report("pten_loss", "metastatic_pretreated", in_silico=False,
                          progress=lambda *a: calls.append(a))
    n = len(rep.ranked)
    assert [c[1:] for c in calls] == [(i, n) for i in range(n + 1)]
