"""What every command shares: the ``--format`` option, plain and machine output, output paths.

- :func:`format_option` is the one ``--format`` type: a choice among the formats a command
  supports, checked by the parser before any work (``--format xml`` is a usage error).
- :func:`write_json` / :func:`write_csv` / :func:`echo` write plain bytes: no colour, no markup,
  no wrapping, whatever the terminal or ``FORCE_COLOR`` says.
- :func:`console` gives a rich console for tables: on a terminal it follows the terminal; written
  to a file or a pipe it is wide enough never to truncate or fold a cell.
- :func:`note` writes a plain line to standard error (``wrote out/x.csv``); text from a user
  (a file called ``model[draft].bnet``) is never read as markup.
- :func:`check_output_file` / :func:`check_output_dir` fail before work starts when an output
  cannot be written; :func:`atomic_write_text` writes a file whole or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import typer

from her2lab.atomic import atomic_write_text
from her2lab.errors import OutputError

__all__ = [
    "LazyConsole",
    "atomic_write_text",
    "check_not_input",
    "check_output_dir",
    "check_output_file",
    "console",
    "echo",
    "format_option",
    "input_file",
    "kb_data_dir",
    "note",
    "printable",
    "write_csv",
    "write_json",
]

#: Width of a console that writes to a file or pipe: wide enough for any table we print.
FILE_WIDTH = 10_000


def format_option(*choices: str, default: str | None = None, help: str | None = None) -> Any:
    """The ``--format`` option (alias ``-f``) accepting exactly ``choices`` (the first is the
    default unless ``default`` says otherwise), case-insensitively.

    Checked by the parser, before any work: anything else is a usage error naming the
    choices (``typer.BadParameter``, public in every typer release we support).
    """
    allowed = tuple(c.lower() for c in choices)

    def check(value):
        key = str(value).strip().lower()
        if key not in allowed:
            raise typer.BadParameter(
                f"expected one of {', '.join(allowed)}; got {value!r}")
        return key

    return typer.Option(
        default or allowed[0], "--format", "-f", callback=check,
        metavar="[" + "|".join(allowed) + "]",
        help=help or "Output format: " + ", ".join(allowed) + ".",
    )


def echo(text: str = "", *, err: bool = False) -> None:
    """Write ``text`` and a newline, as is (no markup, no colour, no wrapping)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def note(text: str) -> None:
    """A plain line on standard error (progress and 'wrote ...' messages)."""
    echo(text, err=True)


def finite_json(data: Any) -> Any:
    """``data`` with every float that is not finite (NaN, infinity) replaced by None: JSON
    has no such numbers (``json.dumps`` would write ``NaN``/``Infinity``, which no strict
    parser reads)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite_json(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite_json(v) for v in data]
    return data


def write_json(data: Any, out: Path | None = None, *, indent: int | None = 1) -> None:
    """``data`` as JSON on standard output (or atomically into ``out``); byte-clean, and
    valid JSON: a number that is not finite is written as ``null``."""
    text = json.dumps(finite_json(data), indent=indent, ensure_ascii=False,
                      allow_nan=False) + "\n"
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(out, text)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue()


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]],
              out: Path | None = None) -> None:
    """A CSV table on standard output (or atomically into ``out``); byte-clean."""
    text = csv_text(columns, rows)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(out, text)


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with its control characters (an ESC of a name, a carriage return) shown as
    ``\\x1b`` instead of acting on the terminal; newlines and tabs kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class _Printable:
    """A text stream that shows control characters instead of writing them (see
    :func:`printable`): what a console writes to a file or a pipe, where rich itself writes
    no escape sequence, so that none comes from a user's text either."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(printable(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def console(*, stderr: bool = False) -> Any:
    """A rich console for tables and panels that never reads text as markup.

    Markup and emoji codes are off: a study called ``[/bold]`` or ``:x:`` prints as itself
    (the few styled words pass :class:`rich.text.Text` objects). On a terminal it follows the
    terminal's width; written to a file or a pipe it is :data:`FILE_WIDTH` wide so that no
    table is truncated (``…``) or folded, whatever ``COLUMNS`` says, and writes no escape
    sequence at all (``FORCE_COLOR`` notwithstanding; control characters of a user's text are
    shown as ``\\x1b``).
    """
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = hasattr(stream, "isatty") and stream.isatty()
    if tty:
        return Console(file=stream, highlight=False, soft_wrap=False, markup=False,
                       emoji=False)
    return Console(file=_Printable(stream), highlight=False, soft_wrap=False, markup=False,
                   emoji=False, width=FILE_WIDTH, color_system=None, force_terminal=False,
                   force_interactive=False)


class LazyConsole:
    """A module-level stand-in for :func:`console`: each use asks for a fresh console, so that
    it writes to the standard streams of the moment (a test runner swaps them)."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr

    def __getattr__(self, name: str) -> Any:
        return getattr(console(stderr=self._stderr), name)


# --------------------------------------------------------------------------- output paths


def check_output_file(path: Path, *, option: str = "-o") -> Path:
    """Fail now (an :class:`~her2lab.errors.OutputError`) when ``path`` cannot be written.

    The file need not exist; its directory must exist (or be creatable) and be writable, and
    ``path`` must not be a directory.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{option} {path}: expected a file to write; found a directory")
    if _special(path):  # a FIFO, a terminal, /dev/null, /dev/stdout: written through
        if not os.access(path, os.W_OK):
            raise OutputError(f"{option} {path}: cannot be written (no write permission)")
        return path
    parent = path.parent if str(path.parent) else Path(".")
    _check_dir(parent, f"{option} {path}")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{option} {path}: the file exists and cannot be overwritten "
                          "(no write permission)")
    return path


def check_output_dir(path: Path, *, option: str = "-o") -> Path:
    """Fail now when ``path`` cannot be used as an output directory (it is a file, or it or
    its nearest existing parent is not writable)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path}: expected a directory for the outputs; "
                          "found a file")
    _check_dir(path, f"{option} {path}")
    return path


def _special(path: Path) -> bool:
    """Whether ``path`` (links followed) is a FIFO or a character device."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _same(a: Path, b: Path) -> bool:
    if _real(a) == _real(b):
        return True
    try:  # hard links, bind mounts
        return os.path.samefile(a, b)
    except OSError:
        return False


def _within(path: Path, directory: Path) -> bool:
    rp, rd = _real(path), _real(directory)
    return rp == rd or rd in rp.parents


def check_not_input(outputs: Iterable[Path | str], inputs: Iterable[Path | str | None], *,
                    option: str = "-o") -> None:
    """Fail now (an :class:`~her2lab.errors.OutputError`) when an output would overwrite an
    input: an output file that is (after symbolic links, or as a hard link) one of the
    ``inputs``, or lies inside an input directory (a knowledge base's data directory), or an
    output directory inside which an input directory lies.

    A FIFO or a character device (``/dev/stdout``) is written through, never replaced, so it
    is never "an input overwritten"."""
    ins = [Path(p) for p in inputs if p is not None]
    for out in (Path(p) for p in outputs):
        if _special(out):
            continue
        for inp in ins:
            if inp.is_dir():
                if _within(out, inp) or (out.is_dir() and _within(inp, out)):
                    raise OutputError(
                        f"{option} {out}: refusing to write into the input directory {inp} "
                        "(it would change the data being read); choose an output outside it")
            elif _real(out) == _real(inp) or (inp.exists() and out.exists() and _same(out, inp)):
                raise OutputError(
                    f"{option} {out}: this is the input {inp}; writing it would destroy the "
                    "input. Choose another output path")


def input_file(value: str | Path | None) -> Path | None:
    """``value`` as a path when it names an existing file (an option that takes a file or
    a word, such as ``--profile pten_loss`` or ``--profile profile.yaml``), else None."""
    if value is None:
        return None
    p = Path(value)
    return p if p.is_file() else None


def kb_data_dir(data_dir: Path | None = None) -> Path:
    """The knowledge base's data directory a command reads (``data_dir`` or the shipped
    one), an input no output may be written into."""
    from her2lab.knowledge.layout import DATA_DIR

    return Path(data_dir) if data_dir is not None else DATA_DIR


def _check_dir(path: Path, what: str) -> None:
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"{what}: {probe} is a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{what}: the directory {probe} is not writable")
    try:  # permissions can pass (root) on a file system that refuses files (read-only, /proc)
        fd, name = tempfile.mkstemp(prefix=".her2lab-probe-", dir=probe)
    except OSError as exc:
        raise OutputError(f"{what}: cannot create files in {probe} "
                          f"({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(name)


def as_of_date(text: str) -> dt.date:
    """The date of an ``--as-of`` option (``YYYY-MM-DD``), or a :class:`DataError` naming it."""
    from her2lab.errors import DataError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DataError(f"--as-of must be a date YYYY-MM-DD; got {text!r}") from None
