"""bnet: reading, writing, round-trips, errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.boolnet import Model, format_bnet, parse_bnet, read_bnet, write_bnet
from her2lab.boolnet.generate import random_model
from her2lab.errors import ModelDefinitionError, ModelSyntaxError

TEXT = """# a small network
targets, factors
A, !B & C
B, A | C   # trailing comment
C, C
"""


def test_bnet_reads_rules_header_and_comments():
    m = parse_bnet(TEXT)
    assert m.node_names == ["A", "B", "C"]
    assert m.inputs == ["C"]
    assert str(m["A"].logic) == "!B & C"
    assert m["A"].initial == 0.5


def test_bnet_round_trips_through_a_file(tmp_path, same_logic):
    m = random_model(15, seed=2)
    path = tmp_path / "m.bnet"
    write_bnet(m, path)
    back = read_bnet(path)
    same_logic(m, back)
    assert back.name == "m"


@settings(max_examples=30, deadline=None, derandomize=True)
@given(n=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_bnet_written_then_read_gives_the_same_rules(n, seed):
    m = random_model(n, seed=seed, joint_initial=False)
    back = parse_bnet(format_bnet(m))
    assert [back[x].logic for x in m.node_names] == [m[x].logic for x in m.node_names]


def test_an_undefined_node_is_an_error_naming_the_line_and_the_fix():
    with pytest.raises(ModelDefinitionError) as info:
        parse_bnet("A, B & X\nB, A\n", source="net.bnet")
    assert "net.bnet:1" in str(info.value)
    assert "'X, X'" in str(info.value)


def test_undefined_nodes_may_be_declared_inputs():
    m = parse_bnet("A, B & X\nB, A\n", undefined="input")
    assert m.inputs == ["X"]


def test_a_syntax_error_carries_line_and_column_of_the_file():
    with pytest.raises(ModelSyntaxError) as info:
        parse_bnet("A, B\nB,  A & | C\nC, C\n", source="net.bnet")
    err = info.value
    assert (err.source, err.line, err.column) == ("net.bnet", 2, 9)


def test_a_node_defined_twice_names_both_lines():
    with pytest.raises(ModelDefinitionError, match=r"net.bnet:3: node 'A' is defined twice.*1"):
        parse_bnet("A, B\nB, A\nA, !B\n", source="net.bnet")


def test_writing_keeps_logic_only_and_reads_back_default_rates():
    m = Model.from_rules({"A": "!A"}, rate_up={"A": "@logic ? 3 : 0"}, initial=0.0)
    back = parse_bnet(format_bnet(m))
    assert back["A"].initial == 0.5
    assert str(back["A"].rate_up) == "@logic ? 1 : 0"
