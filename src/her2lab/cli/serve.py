"""``her2lab serve``: the REST API and the web UI (uvicorn, loopback by default)."""

from __future__ import annotations

from pathlib import Path

import typer


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by "
                             "default; 0.0.0.0 exposes it to the network)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    calibration: list[Path] = typer.Option(
        [], "--calibration", help="A calibration JSON (her2lab trials calibrate) to offer as a "
        "named calibration (repeatable). out/virtual_trials/calibration.json is offered when "
        "it exists."),
) -> None:
    """Serve the web UI and the REST API: open http://HOST:PORT/ in a browser."""
    import uvicorn

    from her2lab.api import create_app

    files = list(calibration)
    default = Path("out") / "virtual_trials" / "calibration.json"
    if not files and default.is_file():
        files.append(default)
    app = create_app(calibration_files=files)
    typer.echo(f"her2lab: open http://{host}:{port}/ (API docs at /docs). Research use, not "
               "medical advice. Ctrl-C stops it.", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
