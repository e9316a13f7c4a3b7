"""The API package's public surface is pinned; ``her2lab serve`` serves the app on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import her2lab.api


def test_the_api_exports_are_pinned():
    assert sorted(her2lab.api.__all__) == ["MAX_BODY_BYTES", "create_app"]


def test_importing_her2lab_does_not_import_fastapi():
    code = "import sys, her2lab, her2lab.cli; print('fastapi' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_ui_is_shipped_as_package_data_and_needs_no_network():
    static = her2lab.api.app.STATIC
    pages = sorted(p.name for p in static.glob("*.html"))
    assert pages == ["apidocs.html", "designer.html", "lab.html", "landscape.html",
                     "network.html", "pathway.html", "report.html", "trial.html", "trials.html"]
    for f in [*static.glob("*.html"), *static.glob("*.js"), *static.glob("*.css")]:
        text = f.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text, f"{f.name} refers to the network"
    assert her2lab.api.app._plotly_js().is_file()


def test_serve_listens_on_loopback_and_serves_the_ui(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "COLUMNS": "40"}
    proc = subprocess.Popen([sys.executable, "-c", "from her2lab.cli import main; main()",
                             "serve", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    html = r.read().decode()
                break
            except OSError:
                if time.monotonic() > end or proc.poll() is not None:
                    raise AssertionError(proc.communicate(timeout=5)) from None
                time.sleep(0.2)
        assert "The HER2 landscape" in html
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in err
