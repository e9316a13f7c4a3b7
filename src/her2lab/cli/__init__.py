"""The ``her2lab`` command line: a Typer app whose subcommands are thin calls into packages.

Each command group lives in its own module (``kb``, ``boolnet``, ...) and is mounted here.
Errors of the :class:`her2lab.errors.Her2labError` family become a red message and exit 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from her2lab.errors import Her2labError

app = typer.Typer(
    name="her2lab",
    help="An open in-silico laboratory for HER2-positive breast cancer and trastuzumab resistance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)


def _mount() -> None:
    from her2lab.cli import boolnet, kb, pathway, reproduce, serve, trials

    app.add_typer(kb.app, name="kb", help="The curated knowledge base: export, audit, query.")
    app.add_typer(boolnet.app, name="boolnet", help="The stochastic logical network engine.")
    app.add_typer(trials.app, name="trials", help="Virtual clinical trials: calibrate, simulate.")
    app.command(name="reproduce")(reproduce.reproduce)
    app.command(name="simulate")(pathway.simulate)
    app.command(name="screen")(pathway.screen)
    app.command(name="serve")(serve.serve)


_mount()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except Her2labError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click usage errors carry their own exit codes
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(rv, int) and rv:
        sys.exit(rv)
