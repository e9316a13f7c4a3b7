"""Model file formats, one module per format with matched ``read_``/``write_`` pairs."""

from her2lab.boolnet.formats.bnet import format_bnet, parse_bnet, read_bnet, write_bnet
from her2lab.boolnet.formats.maboss import format_maboss, parse_maboss, read_maboss, write_maboss

__all__ = [
    "format_bnet",
    "format_maboss",
    "parse_bnet",
    "parse_maboss",
    "read_bnet",
    "read_maboss",
    "write_bnet",
    "write_maboss",
]
