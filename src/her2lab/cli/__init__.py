"""The ``her2lab`` command line: a Typer app whose subcommands are thin calls into packages.

Each command group lives in its own module (``kb``, ``boolnet``, ...) and is mounted here.

Every failure ends the same way: one plain-text message on standard error (never read as
markup, never wrapped at the terminal's width, no traceback) and an exit code by class:

====  =====================================================================================
code  meaning
====  =====================================================================================
0     success
1     ``kb validate`` ran and found problems in the data (it lists every one)
2     an her2lab error: the input is invalid (the file, line and field are named where there
      is one), an ID is unknown, an output cannot be written, or the work cannot be done as
      asked
64    a usage error (``EX_USAGE``): unknown command or option, a missing argument, a value of
      the wrong type or out of range (``--samples 0``, ``--format xml``)
70    an internal error, a bug (``EX_SOFTWARE``): the message names the exception; run again
      with ``--debug`` (or ``HER2LAB_DEBUG=1``) for the traceback to put in a bug report
130   interrupted (Ctrl-C)
====  =====================================================================================
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import typer

from her2lab.errors import Her2labError

#: Exit codes, by class of outcome (see the table above).
EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2
EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 64, 70, 130

app = typer.Typer(
    name="her2lab",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback of an error (or set HER2LAB_DEBUG=1)."),
) -> None:
    """An open in-silico laboratory for HER2-positive breast cancer and trastuzumab resistance.

    Exit codes: 0 success; 1 kb validate found problems; 2 invalid input or a run that
    cannot be done (the message names the file, line and field); 64 a usage error; 70 an
    internal error (run again with --debug for the traceback); 130 interrupted.
    """


def _mount() -> None:
    from her2lab.cli import boolnet, kb, pathway, report, reproduce, serve, synth, trials

    app.add_typer(kb.app, name="kb", help="The curated knowledge base: export, audit, query.")
    app.add_typer(boolnet.app, name="boolnet", help="The stochastic logical network engine.")
    app.add_typer(trials.app, name="trials", help="Virtual clinical trials: calibrate, simulate.")
    app.add_typer(synth.app, name="synth",
                  help="Evidence synthesis: meta-analysis, network meta-analysis, KB pooling.")
    app.command(name="reproduce")(reproduce.reproduce)
    app.command(name="simulate")(pathway.simulate)
    app.command(name="screen")(pathway.screen)
    app.command(name="report")(report.report)
    app.command(name="serve")(serve.serve)


_mount()


def _debug(args: list[str]) -> bool:
    flag = os.environ.get("HER2LAB_DEBUG", "").strip().lower()
    return flag not in ("", "0", "false", "no", "off") or "--debug" in args


def _click_error(exc: BaseException) -> str | None:
    """``"usage"`` or ``"click"`` for an exception of whichever click typer ships (the
    vendored ``typer._click`` or ``click`` itself), recognised by its classes' names and the
    methods every click exception has; None for anything else."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "ClickException" not in names or not hasattr(exc, "format_message"):
        return None
    return "usage" if "UsageError" in names else "click"


def _fail(message: str, code: int) -> None:
    """One plain message on standard error, then exit ``code``."""
    try:
        sys.stderr.write(message.rstrip("\n") + "\n")
        sys.stderr.flush()
    finally:
        raise SystemExit(code)


def _usage_message(exc: Any) -> str:
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "her2lab"
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        return ctx.get_help()
    message = str(exc.format_message()).strip()
    return f"{path}: usage error: {message} (see '{path} --help')"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the command, turn every failure into one message.

    The message goes to standard error as plain text, and the process exits with the code of
    its class (see the module docstring's table). ``--debug`` is accepted anywhere before
    ``--``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments, without the program name (default: ``sys.argv[1:]``).

    Raises
    ------
    SystemExit
        Always on failure, with 2 for an her2lab error, 64 for a usage error, 70 for an
        internal error and 130 when interrupted; with a command's own non-zero code (1 when
        ``kb validate`` finds problems).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug(args)
    if "--debug" in args:  # accepted anywhere on the line, not only before the command
        cut = args.index("--") if "--" in args else len(args)
        args = [a for a in args[:cut] if a != "--debug"] + args[cut:]
    try:
        rv = app(args=args, prog_name="her2lab", standalone_mode=False)
    except SystemExit:
        raise
    except Her2labError as exc:
        if debug:
            traceback.print_exc()
        _fail(f"error: {exc}", EXIT_ERROR)
    except KeyboardInterrupt:
        _fail("her2lab: interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # the reader went away (``her2lab kb export | head``): not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (silence the flush at exit)
        finally:
            raise SystemExit(EXIT_OK) from None
    except Exception as exc:
        kind = _click_error(exc)
        if type(exc).__name__ == "Abort":
            _fail("her2lab: aborted", EXIT_ERROR)
        if kind == "usage":
            _fail(_usage_message(exc), EXIT_USAGE)
        if kind == "click":
            _fail(f"error: {exc.format_message()}", EXIT_ERROR)  # type: ignore[attr-defined]
        if debug:
            traceback.print_exc()
            _fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_INTERNAL)
        where = traceback.extract_tb(exc.__traceback__)[-1:] or None
        at = f" at {os.path.basename(where[0].filename)}:{where[0].lineno}" if where else ""
        _fail(f"internal error (a bug in her2lab): {type(exc).__name__}: {exc}{at}. Run again "
              "with --debug (or HER2LAB_DEBUG=1) for the traceback, and report it.",
              EXIT_INTERNAL)
    if isinstance(rv, int) and rv:
        if rv == EXIT_INTERRUPTED:
            _fail("her2lab: interrupted", EXIT_INTERRUPTED)
        raise SystemExit(rv)
