"""The web UI's pages beyond those of :data:`her2lab.api.app.PAGES`: the API reference
(``/docs`` and ``/redoc``, rendered by this app's own script from ``/openapi.json`` so that
they work offline; no Swagger UI or ReDoc is loaded from the network), the network view of
the pathway model (``/network``) and the lab (``/lab``: calibrations and screens as jobs).

Every page is a static file of ``static/``; its scripts and styles are served by this app.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

PAGES = {
    "/docs": "apidocs.html",
    "/redoc": "apidocs.html",
    "/network": "network.html",
    "/lab": "lab.html",
}

router = APIRouter(include_in_schema=False)


def _page(name: str):
    def serve() -> HTMLResponse:
        return HTMLResponse((STATIC / name).read_text(encoding="utf-8"))

    serve.__name__ = "page_" + name.split(".")[0]
    return serve


for _route, _name in PAGES.items():
    router.add_api_route(_route, _page(_name), methods=["GET"], response_class=HTMLResponse)
