"""The project's one default seed, at the bottom of the layers so that every package can use it.

Every random path defaults to :data:`DEFAULT_SEED`: the pathway simulations
(:mod:`her2lab.pathway.simulate`), the virtual trials' run settings and profile panels
(:mod:`her2lab.virtual_trials.defaults`), the command line's and the API's ``seed``, and
``her2lab reproduce``; the web pages take it from the API (``/api/pathway/options``). The
literal is written here only (``tests/test_seeds.py`` checks).
"""

from __future__ import annotations

__all__ = ["DEFAULT_SEED"]

DEFAULT_SEED = 20140812
"""The one default seed of every random path: the seed review's publication date, 12 Aug 2014."""
