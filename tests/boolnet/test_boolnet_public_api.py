"""The public surface of her2lab.boolnet changes only on purpose: this test pins it."""

from __future__ import annotations

import inspect

import her2lab.boolnet as boolnet


def test_the_boolnet_exports_are_pinned():
    assert sorted(boolnet.__all__) == sorted([
        "Attractor", "DiscreteResult", "DiscreteSimulator", "JointInitial", "Model", "Node",
        "Overrides", "SimulationResult", "StochasticSimulator", "attractors",
        "format_bnet", "format_maboss", "format_sbmlqual",
        "parse_bnet", "parse_expr", "parse_maboss", "parse_sbmlqual",
        "read_bnet", "read_maboss", "read_model", "read_sbmlqual",
        "write_bnet", "write_maboss", "write_model", "write_sbmlqual",
    ])
    for name in boolnet.__all__:
        assert getattr(boolnet, name) is not None


def test_simulators_take_configuration_keyword_only_after_the_model():
    for cls in (boolnet.StochasticSimulator, boolnet.DiscreteSimulator):
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        assert params[0].name == "model"
        assert all(p.kind is p.KEYWORD_ONLY for p in params[1:])


def test_formats_come_in_read_write_pairs():
    for fmt in ("bnet", "maboss", "sbmlqual", "model"):
        assert hasattr(boolnet, f"read_{fmt}") and hasattr(boolnet, f"write_{fmt}")
