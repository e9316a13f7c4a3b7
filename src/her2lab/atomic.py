"""Outputs written whole or not at all: the one writer of every file her2lab writes.

A regular file is written as a temporary file in the target's own directory (so the rename
cannot cross file systems), flushed to disk (``fsync``), then renamed over the target: a
reader (or a later run) never sees half a file. Any failure (a full disk, a file-size limit,
an exception in the caller's block) leaves the old file as it was and no temporary file
behind, and becomes an :class:`~her2lab.errors.OutputError` naming the path.

What the target is decides how it is written:

- a regular file, or a name not yet taken: the temporary file and the rename above;
- a symbolic link to a regular file: the file it points to is replaced (the link stays);
- a FIFO, a character device (``/dev/null``, a terminal) or a link to one (``/dev/stdout``
  on a pipe): the bytes are written *through* it, never replacing it with a regular file
  (there is no old content to keep; the writer still builds the whole file first, so a
  failure before the end writes nothing);
- a directory, a socket or a block device: refused.

>>> from her2lab.atomic import atomic_write_text, atomic_path, atomic_open
>>> atomic_write_text(Path("out/table.csv"), text)            # doctest: +SKIP
>>> with atomic_path(Path("out/heatmap.png")) as tmp:         # doctest: +SKIP
...     figure.savefig(tmp)          # the temporary name keeps the suffix (.png)
>>> with atomic_open(Path("out/rows.csv"), newline="") as fh:  # doctest: +SKIP
...     csv.writer(fh).writerows(rows)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from her2lab.errors import OutputError

__all__ = ["atomic_open", "atomic_path", "atomic_write_bytes", "atomic_write_text",
           "is_temporary"]

#: Marks the temporary files of an atomic write (``.NAME.XXXXXXXX.tmp.SUFFIX``).
TMP_MARK = ".tmp"


def is_temporary(name: str) -> bool:
    """Whether a file name is that of an atomic write's temporary file."""
    return name.startswith(".") and TMP_MARK in name


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fail(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")


def _kind(path: Path) -> tuple[str, Path]:
    """``("regular", where)`` (a file to replace atomically at ``where``, symlinks
    followed) or ``("through", path)`` (a FIFO or character device to write through)."""
    try:
        st = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        if path.is_symlink():  # a dangling link: write the file it names
            return "regular", Path(os.path.realpath(path))
        return "regular", path
    except OSError as exc:
        raise _fail(path, exc) from None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return "regular", Path(os.path.realpath(path)) if path.is_symlink() else path
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return "through", path
    what = ("a directory" if stat.S_ISDIR(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a block device" if stat.S_ISBLK(mode) else "not a regular file")
    raise OutputError(f"cannot write {path}: it is {what}, not a file to write")


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write; it becomes ``path`` when the block succeeds.

    For a regular file the temporary file lies in the target's directory and keeps its suffix
    (``savefig`` and friends infer the format from it); missing parent directories are
    created; an existing file keeps its permissions, a new one gets those a plain ``open``
    would give it. For a FIFO or a character device the finished temporary file (in the
    system's temporary directory) is copied through it. On any exception the temporary file
    is removed and ``path`` is untouched.
    """
    path = Path(path)
    kind, where = _kind(path)
    try:
        if kind == "regular":
            where.parent.mkdir(parents=True, exist_ok=True)
            directory: str | None = str(where.parent)
        else:
            directory = None
        fd, name = tempfile.mkstemp(prefix=f".{where.name}.", suffix=TMP_MARK + where.suffix,
                                    dir=directory)
        os.close(fd)
    except OSError as exc:
        raise _fail(path, exc) from None
    tmp = Path(name)
    try:
        yield tmp
        if kind == "through":
            with open(tmp, "rb") as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            tmp.unlink()
            return
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        try:
            mode = stat.S_IMODE(os.stat(where).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, where)
        _fsync_dir(where.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _fail(path, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO[Any]]:
    """An open file (text ``"w"`` or binary ``"wb"``) that becomes ``path`` when the block
    succeeds (see :func:`atomic_path`)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a new file: mode 'w' or 'wb', not {mode!r}")
    with atomic_path(path) as tmp:
        try:
            if mode == "wb":
                fh = open(tmp, "wb")  # noqa: SIM115 (closed below, before the rename)
            else:
                fh = open(tmp, "w", encoding=encoding, newline=newline)  # noqa: SIM115
        except OSError as exc:
            raise _fail(Path(path), exc) from None
        with fh:
            yield fh


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))
