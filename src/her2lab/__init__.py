"""her2lab: an open in-silico laboratory for HER2-positive breast cancer."""

from her2lab.errors import Her2labError

__version__ = "0.1.0"
__all__ = ["Her2labError", "__version__"]
