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
    """Read a model whatever its format, chosen by extension.

    ``.bnet`` (``undefined="input"`` adds nodes read but not defined as inputs), ``.bnd``
    (with ``cfg``, or the ``.cfg`` beside it) or SBML-qual (``.sbml``, ``.xml``). Returns a
    :class:`~her2lab.boolnet.model.Model`.
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
    """Write ``model`` in the format chosen by the extension of ``path`` (``.bnet``, ``.bnd``
    with ``cfg`` or a ``.cfg`` beside it, ``.sbml``/``.xml``). Returns the paths written."""
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


