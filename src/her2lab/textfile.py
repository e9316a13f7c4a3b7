"""Reading a text file a person gave us, with a clear error instead of an OS or codec one.

:func:`read_text` refuses directories, missing files, files over a size limit, files that are
not UTF-8 and files with NUL bytes (binary files), each with a message naming the file (and the
line of the first bad byte); the error class is the caller's (``ModelSyntaxError`` for a model,
``DataError`` for data).
"""

from __future__ import annotations

from pathlib import Path

from her2lab.errors import DataError, Her2labError, ModelSyntaxError

__all__ = ["MAX_TEXT_BYTES", "read_text"]

#: Largest text file read (bytes): models and data files are far smaller.
MAX_TEXT_BYTES = 64 * 1024 * 1024


def read_text(
    path: str | Path, *, what: str = "file", error: type[Her2labError] = DataError,
    max_bytes: int = MAX_TEXT_BYTES,
) -> str:
    """The UTF-8 text of ``path`` (a ``what``, e.g. ``"bnet model"``), or ``error`` saying why
    it cannot be read."""
    path = Path(path)

    def fail(message: str, line: int | None = None) -> Her2labError:
        if issubclass(error, ModelSyntaxError):
            return error(message, source=str(path), line=line)
        where = str(path) if line is None else f"{path}:{line}"
        return error(f"{where}: {message}")

    try:
        if path.is_dir():
            raise fail(f"expected a {what}; found a directory")
        if not path.exists():
            raise fail(f"expected a {what}; no such file")
        size = path.stat().st_size
        if size > max_bytes:
            raise fail(f"expected a {what} of at most {max_bytes} bytes; found {size}")
        raw = path.read_bytes()[: max_bytes + 1]
    except OSError as exc:
        raise fail(f"cannot read the {what}: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise fail(f"expected a {what} of at most {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise fail(f"expected a UTF-8 text {what}; found byte 0x{raw[exc.start]:02x}, which is "
                   "not UTF-8 (a binary or differently encoded file)", line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise fail(f"expected a text {what}; found a NUL byte (a binary file)", line)
    return text
