"""Background jobs and compute slots are bounded: one more than allowed is refused with 429."""

from __future__ import annotations

import threading

import pytest

from her2lab.api.errors import ApiError
from her2lab.api.jobs import JobPool


def test_the_job_pool_refuses_a_job_beyond_its_bound_and_reports_progress():
    release = threading.Event()
    pool = JobPool(workers=1, max_active=2)

    def work(job):
        job.report("waiting", 1, 2)
        release.wait(10)
        return {"value": float("nan")}

    try:
        first = pool.submit("test", work)
        pool.submit("test", work)
        with pytest.raises(ApiError) as exc:
            pool.submit("test", work)
        assert exc.value.status == 429
        release.set()
        pool._executor.shutdown(wait=True)
        assert first.status == "done"
        assert first.result == {"value": None}  # NaN is not JSON: it becomes null
        # finished: at its total, in the stage "done"
        assert (first.progress.stage, first.progress.done, first.progress.total) == (
            "done", 2, 2)
    finally:
        release.set()
        pool.shutdown()


def test_a_failing_job_keeps_its_error():
    pool = JobPool(workers=1, max_active=1)

    def boom(job):
        raise ValueError("bad things")

    job = pool.submit("test", boom)
    pool._executor.shutdown(wait=True)
    assert job.status == "failed" and job.error.message == "bad things"


def test_a_full_pool_answers_429_through_the_api():
    from fastapi.testclient import TestClient

    from her2lab.api import create_app

    with TestClient(create_app(max_jobs=0), base_url="http://localhost") as c:
        r = c.post("/api/pathway/screen", json={"profiles": ["none"], "regimens": ["none"]})
        assert r.status_code == 429
        assert r.headers["retry-after"] == "5"
        assert r.json()["error"] == "Busy"


def test_jobs_are_not_listed_and_unknown_jobs_are_404(client):
    assert client.get("/api/jobs").status_code == 404  # no listing: see test_security.py
    r = client.get("/api/jobs/nope")
    assert r.status_code == 404 and r.json()["error"] == "UnknownIdError"


def test_meta_says_which_parts_are_installed(client):
    import importlib.util

    m = client.get("/api/meta").json()
    assert m["features"]["synthesis"] == (importlib.util.find_spec("her2lab.synthesis") is not None)
    assert m["features"]["report"] == (importlib.util.find_spec("her2lab.report") is not None)
    assert "not medical advice" in m["notice"]
