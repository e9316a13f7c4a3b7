"""``her2lab serve``: the REST API and the web UI (uvicorn, loopback by default).

What the server trusts (see :mod:`her2lab.api.guard`): only requests whose ``Host`` names it
(the loopback names, the address given to ``--host`` unless it is a wildcard, and each
``--allowed-host``), and, with ``--token`` or whenever ``--host`` is not loopback, only
requests that carry the token. Each request is logged (uvicorn's access log) unless
``--no-access-log``.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

WILDCARDS = ("0.0.0.0", "::", "")


def hosts_for(host: str, allowed: list[str]) -> list[str]:
    """The ``Host`` names accepted beyond the loopback names: ``--host`` itself (unless a
    wildcard address) and each ``--allowed-host``."""
    extra = [] if host.strip("[]") in WILDCARDS else [host]
    return [*extra, *allowed]


def token_for(host: str, token: str | None) -> tuple[str | None, bool]:
    """The access token, and whether it was generated here: the one given, else a new one when
    ``host`` is not loopback, else none."""
    from her2lab.api.guard import is_loopback, new_token

    if token is not None:
        if len(token) < 16:
            raise typer.BadParameter("a token has at least 16 characters", param_hint="--token")
        return token, False
    if is_loopback(host):
        return None, False
    return new_token(), True


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by "
                             "default; 0.0.0.0 exposes it to the network, and then a token is "
                             "required: --token, or one generated and printed)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    calibration: list[Path] = typer.Option(
        [], "--calibration", help="A calibration JSON (her2lab trials calibrate) to offer as a "
        "named calibration (repeatable). out/virtual_trials/calibration.json is offered when "
        "it exists."),
    allowed_host: list[str] = typer.Option(
        [], "--allowed-host", help="A host name the server answers to, beside localhost, "
        "127.0.0.1, ::1 and --host (repeatable; e.g. the machine's name on the network). "
        "Requests naming another host get 400 (DNS rebinding)."),
    token: str | None = typer.Option(
        None, "--token", envvar="HER2LAB_TOKEN", help="Require this access token on every "
        "request (Authorization: Bearer TOKEN, or open /?token=TOKEN once in a browser). "
        "Generated and printed when --host is not loopback."),
    list_jobs: bool = typer.Option(False, "--list-jobs", help="Offer GET /api/jobs, a list of "
                                   "every job with its result (off: a job is read by its ID)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Background jobs run at once."),
    max_jobs: int = typer.Option(4, "--max-jobs", min=1, max=1000,
                                 help="Jobs queued or running at most (429 beyond)."),
    slots: int = typer.Option(2, "--slots", min=1, max=64,
                              help="Synchronous simulations run at once."),
    queue: int = typer.Option(4, "--queue", min=0, max=1000, help="Synchronous simulations "
                              "waiting for a slot at most (429 at once beyond)."),
    cache_max_mb: float | None = typer.Option(
        None, "--cache-max-mb", min=0.001, max=1e7, help="Cap of the on-disk pathway cache in "
        "megabytes (default $HER2LAB_CACHE_MAX_MB, else 256); the oldest results are evicted."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log",
                                    help="Log each request (on by default)."),
) -> None:
    """Serve the web UI and the REST API: open http://HOST:PORT/ in a browser."""
    import uvicorn

    from her2lab.api import create_app

    files = list(calibration)
    default = Path("out") / "virtual_trials" / "calibration.json"
    if not files and default.is_file():
        files.append(default)
    if cache_max_mb is not None:
        os.environ["HER2LAB_CACHE_MAX_MB"] = repr(cache_max_mb)
    secret, generated = token_for(host, token)
    app = create_app(calibration_files=files, allowed_hosts=hosts_for(host, allowed_host),
                     token=secret, list_jobs=list_jobs, workers=workers, max_jobs=max_jobs,
                     slots=slots, queue=queue)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={secret}" if secret else "")
    typer.echo(f"her2lab: open {url} (API docs at /docs). Research use, not medical advice. "
               "Ctrl-C stops it.", err=True)
    if generated:
        typer.echo("her2lab: --host is not loopback, so every request needs the token above "
                   "(a browser keeps it as a cookie once the address is opened; other clients "
                   "send 'Authorization: Bearer TOKEN'). Give --token to choose it.", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)
