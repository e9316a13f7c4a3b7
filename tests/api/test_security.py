"""What the server trusts (issue 24, points 5-8 and 15): the body limit on chunked bodies, the
Host allow-list, private jobs and the optional token, the security headers, HEAD and the access
log. The chunked body and the foreign Host go over a real socket to uvicorn (``live_server``),
as a browser or an attacker would send them."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from her2lab.api import MAX_BODY_BYTES, create_app

from .conftest import wait_job

TOKEN = "a-test-token-of-some-length"


def _port(live_server: str) -> int:
    return int(urlsplit(live_server).port)


def _read_response(sock: socket.socket, timeout: float = 30.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_chunked_body_over_the_limit_is_refused_before_the_rest_is_sent(live_server):
    # 1 KiB past the limit in 1-KiB chunks, then the client stops sending and waits: the server
    # must answer 413 while the body is unfinished (a reader that waits for it all hangs)
    with socket.create_connection(("127.0.0.1", _port(live_server))) as sock:
        sock.sendall(b"POST /api/pathway/simulate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"400\r\n" + b" " * 1024 + b"\r\n"
        for _ in range(MAX_BODY_BYTES // 1024 + 1):
            sock.sendall(chunk)
        head = _read_response(sock)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"TooLarge" in head or b"content-length" in head.lower()


def test_a_chunked_body_under_the_limit_is_read(live_server):
    body = b'{"regimen": ["trastuzumab"], "samples": 20}'
    with socket.create_connection(("127.0.0.1", _port(live_server))) as sock:
        sock.sendall(b"POST /api/pathway/simulate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                     b"Connection: close\r\n\r\n"
                     + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        head = _read_response(sock, timeout=120)
    assert head.startswith(b"HTTP/1.1 200"), head[:300]


def test_a_declared_length_over_the_limit_is_413(client):
    r = client.post("/api/pathway/simulate", content=b"{}",
                    headers={"Content-Length": str(MAX_BODY_BYTES + 1),
                             "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "TooLarge"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example",
                                  "localhost.evil.example"])
def test_a_foreign_host_header_is_400_over_a_socket(live_server, host):
    conn = http.client.HTTPConnection("127.0.0.1", _port(live_server), timeout=30)
    conn.putrequest("GET", "/api/kb/summary", skip_host=True)
    conn.putheader("Host", host)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 400 and b"HostNotAllowed" in body


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:8000", "[::1]:8000"])
def test_loopback_names_are_accepted(app, host):
    c = TestClient(app, base_url=f"http://{host}")  # no lifespan: the session's app stays up
    assert c.get("/api/meta").status_code == 200


def test_an_allowed_host_is_added_by_name():
    with TestClient(create_app(allowed_hosts=["lab.example.org"]),
                    base_url="http://lab.example.org") as c:
        assert c.get("/api/meta").status_code == 200
    with TestClient(create_app(), base_url="http://lab.example.org") as c:
        assert c.get("/api/meta").status_code == 400


def test_jobs_are_not_listed_and_a_404_names_no_other_id(client):
    r = client.post("/api/pathway/screen", json={"profiles": ["none"], "regimens": ["none"],
                                                  "samples": 10})
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    wait_job(client, job)
    assert client.get("/api/jobs").status_code == 404
    r = client.get("/api/jobs/" + "x" * len(job))
    assert r.status_code == 404 and job not in r.text and r.json()["valid"] is None
    r = client.get("/api/reports/" + "x" * len(job))
    assert r.status_code == 404 and job not in r.text


def test_job_ids_are_unguessable(client):
    ids = []
    for _ in range(2):
        r = client.post("/api/pathway/screen", json={"profiles": ["none"],
                                                      "regimens": ["none"], "samples": 10})
        assert r.status_code == 202, r.text
        ids.append(wait_job(client, r.json()["id"])["id"])
    for i in ids:  # token_urlsafe(24): 32 characters of 6 bits, 192 bits
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", i), i
    assert ids[0] != ids[1]


def test_jobs_are_listed_only_when_asked():
    with TestClient(create_app(list_jobs=True), base_url="http://localhost") as c:
        assert c.get("/api/jobs").json() == []


def test_with_a_token_every_request_needs_it_and_a_page_sets_a_cookie():
    with TestClient(create_app(token=TOKEN), base_url="http://127.0.0.1") as c:
        assert c.get("/api/meta").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/api/meta", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/meta", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert c.get("/api/meta", headers={"X-Her2lab-Token": TOKEN}).status_code == 200
        assert c.get(f"/api/meta?token={TOKEN}").status_code == 200
        r = c.post(f"/api/pathway/simulate?token={TOKEN}", json={})  # not in a POST's query
        assert r.status_code == 401
        r = c.get(f"/designer?token={TOKEN}&x=1", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/designer?x=1"
        cookie = r.headers["set-cookie"]
        assert f"her2lab_token={TOKEN}" in cookie and "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        # the browser now sends the cookie with every request the page makes
        assert c.get("/api/kb/summary").status_code == 200
        assert c.get("/vendor/plotly.min.js").status_code == 200


def test_the_server_generates_a_token_when_not_on_loopback():
    from her2lab.cli.serve import hosts_for, token_for

    assert token_for("127.0.0.1", None) == (None, False)
    assert token_for("localhost", None) == (None, False)
    token, generated = token_for("0.0.0.0", None)
    assert generated and token is not None and len(token) >= 43  # 256 bits, base64url
    assert token_for("0.0.0.0", TOKEN) == (TOKEN, False)
    assert hosts_for("0.0.0.0", ["lab"]) == ["lab"]
    assert hosts_for("192.168.1.5", []) == ["192.168.1.5"]


@pytest.mark.parametrize("path", ["/", "/designer", "/api/meta", "/static/app.css",
                                  "/api/kb/trials/nope"])
def test_every_response_has_the_security_headers(client, path):
    r = client.get(path)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert not re.search(r"https?:|\*", csp), csp  # no other origin
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_a_report_page_is_sandboxed_and_framed_only_by_this_server():
    from her2lab.api.guard import REPORT_CSP

    # the report route itself needs a finished report (test_api_report.py builds one); the
    # guard's rule is by path, so an unknown report's 404 already carries the report policy
    with TestClient(create_app(), base_url="http://127.0.0.1") as c:
        r = c.get("/api/reports/unknown/html")
    assert r.status_code == 404
    assert r.headers["content-security-policy"] == REPORT_CSP
    assert REPORT_CSP.startswith("sandbox;") and "script" not in REPORT_CSP
    assert r.headers["x-frame-options"] == "SAMEORIGIN"


def test_head_of_a_page_is_200_without_a_body(client):
    r = client.head("/")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) == len(client.get("/").content)
    assert client.head("/api/meta").status_code == 200


def test_serve_logs_each_request(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HER2LAB_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        server = subprocess.Popen(
            [sys.executable, "-c", "from her2lab.cli import main; main()", "serve", "--port",
             str(port)], env=env, cwd=tmp_path, stdout=err, stderr=subprocess.STDOUT)
        try:
            end = time.monotonic() + 90
            status = 0
            while status != 200 and time.monotonic() < end and server.poll() is None:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.request("GET", "/api/meta")
                    status = conn.getresponse().status
                    conn.close()
                except OSError:
                    time.sleep(0.2)
            assert status == 200, log.read_text()
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert re.search(r'"GET /api/meta HTTP/1\.1" 200', log.read_text()), log.read_text()
