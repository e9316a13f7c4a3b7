"""Fixtures of the API tests: one application and one test client for the session, and a live
server (uvicorn in a thread, loopback, a free port) for the browser tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def app():
    from her2lab.api import create_app

    return create_app(workers=1, max_jobs=2)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:  # a loopback Host (see guard.py)
        yield c


def wait_job(client, job_id: str, timeout: float = 120.0) -> dict:
    """Poll a job until it is done or failed (bounded by ``timeout``)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish within {timeout} s")


@contextlib.contextmanager
def loopback_server(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on 127.0.0.1 and a free port; yields its base
    URL and stops the server on exit (start bounded to 30 s)."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > end or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server():
    """Base URL of the app served by uvicorn on 127.0.0.1 for the session."""
    from her2lab.api import create_app

    with loopback_server(create_app(workers=1, max_jobs=2)) as url:
        yield url
