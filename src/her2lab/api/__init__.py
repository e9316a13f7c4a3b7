"""The REST API and the web UI of her2lab (FastAPI), built on the library with no logic of its
own.

>>> from her2lab.api import create_app
>>> app = create_app()          # serve with: her2lab serve [--host 127.0.0.1] [--port 8000]

Endpoints are documented in the OpenAPI schema (``/openapi.json``, ``/docs``) and in
``docs/api.md``. Importing this package needs FastAPI; ``import her2lab`` does not.
"""

from her2lab.api.app import MAX_BODY_BYTES, create_app

__all__ = ["MAX_BODY_BYTES", "create_app"]
