"""The one exception hierarchy of her2lab.

Every error the package raises on purpose is a :class:`Her2labError`, so a caller can catch
them all in one clause and the CLI can turn them into a clear message and a non-zero exit::

    Her2labError
    ├── DataError                 curated data or a user's data file is wrong
    │   ├── ValidationError       one or more records break the schema or a cross-reference;
    │   │                         ``.problems`` lists every one (file, line, field, expected, found)
    │   └── UnknownIdError        an ID or alias that the knowledge base does not have;
    │                             ``.valid`` lists the IDs that would have been accepted
    ├── ModelError                a logical model is wrong
    │   ├── ModelSyntaxError      a rule or model file does not parse (file, line, column)
    │   └── ModelDefinitionError  it parses but is inconsistent (undefined node, duplicate
    │                             definition, negative rate, probability outside [0, 1])
    ├── SimulationError           a simulation was asked for with settings it cannot honour
    ├── OutputError               an output file or directory cannot be written
    └── ReferenceToolError        a reference tool (MaBoSS, mpbn) is missing or failed

Messages follow one shape: what was wrong, where (file, line, field), what was expected and
what was found, so that the person reading it can fix the input without reading our code.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DataError",
    "Her2labError",
    "ModelDefinitionError",
    "ModelError",
    "ModelSyntaxError",
    "OutputError",
    "Problem",
    "ReferenceToolError",
    "SimulationError",
    "UnknownIdError",
    "ValidationError",
]


class Her2labError(Exception):
    """Base class of every error her2lab raises on purpose."""


class DataError(Her2labError):
    """Curated data, or a data file given by a user, is wrong."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a data file: where it is and what was expected."""

    file: str
    field: str
    expected: str
    found: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: field '{self.field}': expected {self.expected}; found {self.found}"


class ValidationError(DataError):
    """One or more records are invalid; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem], summary: str | None = None) -> None:
        self.problems = list(problems)
        head = summary or f"{len(self.problems)} problem(s) found in the data"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class UnknownIdError(DataError, KeyError):
    """An identifier or alias that is not in the knowledge base (or model)."""

    def __init__(self, kind: str, given: str, valid: list[str]) -> None:
        self.kind = kind
        self.given = given
        self.valid = sorted(valid)
        shown = ", ".join(self.valid)
        super().__init__(f"unknown {kind} {given!r}; expected one of: {shown}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class ModelError(Her2labError):
    """A logical model is wrong."""


class ModelSyntaxError(ModelError):
    """A rule or a model file does not parse. Carries file, line and column."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
        text: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.text = text
        where = source or "<rule>"
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        full = f"{where}: {message}"
        if text is not None:
            shown, col = _window(text, column)
            caret = "" if col is None else "\n    " + " " * (col - 1) + "^"
            full += f"\n    {shown}{caret}"
        super().__init__(full)


#: Longest quoted source line in a message; longer lines are cut around the column.
_QUOTE_WIDTH = 100


def _window(text: str, column: int | None) -> tuple[str, int | None]:
    """``text`` cut to at most about :data:`_QUOTE_WIDTH` characters around ``column``."""
    if len(text) <= _QUOTE_WIDTH:
        return text, column
    col = 1 if column is None else max(1, min(column, len(text) + 1))
    start = max(0, col - 1 - _QUOTE_WIDTH // 2)
    end = min(len(text), start + _QUOTE_WIDTH)
    start = max(0, end - _QUOTE_WIDTH)
    head = "..." if start > 0 else ""
    tail = "..." if end < len(text) else ""
    shown = head + text[start:end] + tail
    return shown, None if column is None else col - start + len(head)


class ModelDefinitionError(ModelError):
    """A model parses but is inconsistent (undefined node, duplicate, bad rate or probability)."""


class SimulationError(Her2labError):
    """A simulation was asked for with settings it cannot honour."""


class OutputError(Her2labError):
    """An output file or directory cannot be written (checked before the work starts)."""


class ReferenceToolError(Her2labError):
    """A reference tool we check against (MaBoSS via cmaboss, mpbn) is missing or failed."""
