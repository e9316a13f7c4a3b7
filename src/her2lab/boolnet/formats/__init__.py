"""Model file formats, one module per format with matched ``read_``/``write_`` pairs."""

from her2lab.boolnet.formats.bnet import format_bnet, parse_bnet, read_bnet, write_bnet
from her2lab.boolnet.formats.maboss import format_maboss, parse_maboss, read_maboss, write_maboss
from her2lab.boolnet.formats.sbmlqual import (
    format_sbmlqual,
    parse_sbmlqual,
    read_sbmlqual,
    write_sbmlqual,
)

__all__ = [
    "format_bnet",
    "format_maboss",
    "format_sbmlqual",
    "parse_bnet",
    "parse_maboss",
    "parse_sbmlqual",
    "read_bnet",
    "read_maboss",
    "read_sbmlqual",
    "write_bnet",
    "write_maboss",
    "write_sbmlqual",
]
