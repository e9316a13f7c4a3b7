"""boolnet: a stochastic logical (Boolean) network engine with MaBoSS semantics.

Generic: it knows nothing of HER2. Read a model (bnet, MaBoSS, SBML-qual), perturb it, simulate
it (continuous-time stochastic, or discrete synchronous/asynchronous), find its attractors::

    from her2lab.boolnet import StochasticSimulator, read_model

    model = read_model("model.bnd")                      # or .bnet, .sbml
    drugged = model.perturbed(knock_out=["MYC"], up_factor={"AKT1": 0.3})
    result = StochasticSimulator(drugged, samples=10_000, max_time=50, time_tick=0.5,
                                 threads=2).run(seed=1)
    result.final                                         # P(node ON), last time window

See ``docs/boolnet.md``.
"""

from typing import TYPE_CHECKING, Any

# eager: the function `attractors` must win over the submodule of the same name
from her2lab.boolnet.attractors import Attractor, attractors

if TYPE_CHECKING:
    from her2lab.boolnet.discrete import DiscreteResult, DiscreteSimulator
    from her2lab.boolnet.expr import parse_expr
    from her2lab.boolnet.formats import (
        format_bnet,
        format_maboss,
        format_sbmlqual,
        parse_bnet,
        parse_maboss,
        parse_sbmlqual,
        read_bnet,
        read_maboss,
        read_model,
        read_sbmlqual,
        write_bnet,
        write_maboss,
        write_model,
        write_sbmlqual,
    )
    from her2lab.boolnet.model import JointInitial, Model, Node
    from her2lab.boolnet.stochastic import Overrides, SimulationResult, StochasticSimulator

# Names are imported on first use (PEP 562), so that ``from her2lab.boolnet import
# StochasticSimulator`` loads neither SciPy, pandas nor libsbml
# (SBML-qual), nor numba for a conversion.
_WHERE = {
    "DiscreteResult": "discrete", "DiscreteSimulator": "discrete",
    "parse_expr": "expr",
    "JointInitial": "model", "Model": "model", "Node": "model",
    "Overrides": "stochastic", "SimulationResult": "stochastic",
    "StochasticSimulator": "stochastic",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _WHERE:
        module = importlib.import_module(f"her2lab.boolnet.{_WHERE[name]}")
    elif name.startswith(("format_", "parse_", "read_", "write_")):
        module = importlib.import_module("her2lab.boolnet.formats")
    else:
        raise AttributeError(f"module 'her2lab.boolnet' has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


__all__ = [
    "Attractor",
    "DiscreteResult",
    "DiscreteSimulator",
    "JointInitial",
    "Model",
    "Node",
    "Overrides",
    "SimulationResult",
    "StochasticSimulator",
    "attractors",
    "format_bnet",
    "format_maboss",
    "format_sbmlqual",
    "parse_bnet",
    "parse_expr",
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
