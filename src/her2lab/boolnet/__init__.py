"""boolnet: a stochastic logical (Boolean) network engine with MaBoSS semantics.

Generic: it knows nothing of HER2. Read a model (bnet, MaBoSS, SBML-qual), perturb it, simulate
it (continuous-time stochastic, or discrete synchronous/asynchronous), find its attractors.
See ``docs/boolnet.md``.
"""

from her2lab.boolnet.expr import parse_expr
from her2lab.boolnet.formats import (
    format_bnet,
    format_maboss,
    parse_bnet,
    parse_maboss,
    read_bnet,
    read_maboss,
    write_bnet,
    write_maboss,
)
from her2lab.boolnet.model import JointInitial, Model, Node
from her2lab.boolnet.stochastic import SimulationResult, StochasticSimulator

__all__ = [
    "JointInitial",
    "Model",
    "Node",
    "SimulationResult",
    "StochasticSimulator",
    "format_bnet",
    "format_maboss",
    "parse_bnet",
    "parse_expr",
    "parse_maboss",
    "read_bnet",
    "read_maboss",
    "write_bnet",
    "write_maboss",
]
