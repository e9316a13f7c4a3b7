"""Model file formats, one module per format with matched ``read_``/``write_`` pairs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from her2lab.boolnet.formats.bnet import format_bnet, parse_bnet, read_bnet, write_bnet
from her2lab.boolnet.formats.maboss import format_maboss, parse_maboss, read_maboss, write_maboss
from her2lab.boolnet.model import Model
from her2lab.errors import ModelDefinitionError, ModelError

if TYPE_CHECKING:
    from her2lab.boolnet.formats.sbmlqual import (
        format_sbmlqual,
        parse_sbmlqual,
        read_sbmlqual,
        write_sbmlqual,
    )

_SBML = ("format_sbmlqual", "parse_sbmlqual", "read_sbmlqual", "write_sbmlqual")


def __getattr__(name: str) -> Any:
    # SBML-qual goes through python-libsbml (~0.2 s to import): loaded on first use only
    if name in _SBML:
        from her2lab.boolnet.formats import sbmlqual

        return getattr(sbmlqual, name)
    raise AttributeError(f"module 'her2lab.boolnet.formats' has no attribute {name!r}")

__all__ = [
    "format_bnet",
    "format_maboss",
    "format_sbmlqual",
    "parse_bnet",
    "parse_maboss",
    "parse_sbmlqual",
    "read_bnet",
    "read_maboss",
    "read_model",
    "read_sbmlqual",
    "write_bnet",
    "write_maboss",
    "write_model",
    "write_sbmlqual",
]


def read_model(
    path: str | Path, cfg: str | Path | None = None, *, undefined: str = "error"
) -> Model:
    """Read a model whatever its format, chosen by the file's extension.

    Parameters
    ----------
    path : str or Path
        ``.bnet``, ``.bnd`` (MaBoSS) or ``.sbml``/``.xml`` (SBML-qual).
    cfg : str or Path, optional
        For a ``.bnd``, its configuration file (default: the ``.cfg`` beside it, if any).
    undefined : {"error", "input"}, optional
        For a ``.bnet``, ``"input"`` adds nodes read but not defined as inputs; ``"error"``
        (default) rejects them.

    Returns
    -------
    Model
        The model read.

    Raises
    ------
    ModelError
        If the file does not exist or its extension is none of the above.
    ModelSyntaxError
        If the file does not parse.
    ModelDefinitionError
        If the model is invalid (the message names the file).
    """
    path = Path(path)
    if not path.exists():
        raise ModelError(f"model file {str(path)!r} does not exist")
    try:
        return _read_model(path, cfg, undefined)
    except ModelDefinitionError as exc:  # name the file when the message does not
        if str(path) in str(exc):
            raise
        raise ModelDefinitionError(f"{path}: {exc}") from None


def _read_model(path: Path, cfg: str | Path | None, undefined: str) -> Model:
    suffix = path.suffix.lower()
    if suffix == ".bnet":
        return read_bnet(path, undefined=undefined)
    if suffix == ".bnd":
        return read_maboss(path, cfg)
    if suffix in (".sbml", ".xml"):
        from her2lab.boolnet.formats.sbmlqual import read_sbmlqual

        return read_sbmlqual(path)
    raise ModelError(
        f"cannot tell the format of {str(path)!r} from its extension {suffix!r}; expected "
        ".bnet, .bnd (+ .cfg), .sbml or .xml"
    )


def write_model(model: Model, path: str | Path, cfg: str | Path | None = None) -> list[Path]:
    """Write a model in the format chosen by the extension of ``path``.

    Parameters
    ----------
    model : Model
        The model to write.
    path : str or Path
        ``.bnet``, ``.bnd`` (with a ``.cfg``) or ``.sbml``/``.xml``.
    cfg : str or Path, optional
        For a ``.bnd``, the configuration file (default: a ``.cfg`` beside it).

    Returns
    -------
    list of Path
        The paths written (two for MaBoSS).

    Raises
    ------
    ModelError
        If the extension is none of the above.
    OutputError
        If a file cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bnet":
        write_bnet(model, path)
        return [path]
    if suffix == ".bnd":
        cfg_path = Path(cfg) if cfg is not None else path.with_suffix(".cfg")
        write_maboss(model, path, cfg_path)
        return [path, cfg_path]
    if suffix in (".sbml", ".xml"):
        from her2lab.boolnet.formats.sbmlqual import write_sbmlqual

        write_sbmlqual(model, path)
        return [path]
    raise ModelError(
        f"cannot tell the format to write from the extension {suffix!r} of {str(path)!r}; "
        "expected .bnet, .bnd, .sbml or .xml"
    )


