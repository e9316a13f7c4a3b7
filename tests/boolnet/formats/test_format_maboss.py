"""MaBoSS .bnd/.cfg: reading, writing, round-trips (same model, same simulation), errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.boolnet import (
    StochasticSimulator,
    format_maboss,
    parse_maboss,
    read_maboss,
    write_maboss,
)
from her2lab.boolnet.generate import random_model
from her2lab.errors import ModelDefinitionError, ModelSyntaxError

BND = """// a MaBoSS network
Node A {
  logic = !B;
  rate_up = @logic ? $ka : 0.0;
  rate_down = @logic ? 0.0 : 1.0;
}
node B {
  description = "a target";
  logic = A AND C; /* block
  comment */
}
Node C { rate_up = 0; rate_down = 0; }
"""
CFG = """$ka = 2 * $base;
$base = 1.5;
[A].istate = 0.2 [1], 0.8 [0];
B.istate = 1;
C.istate = -1;
B.is_internal = 1;
sample_count = 500; max_time = 5; time_tick = 0.5;
"""


def test_maboss_reads_rules_rates_parameters_initial_states_and_settings():
    m = parse_maboss(BND, CFG)
    assert m.node_names == ["A", "B", "C"]
    assert m.parameters == {"base": 1.5, "ka": 3.0}
    assert m["A"].initial == pytest.approx(0.2)
    assert (m["B"].initial, m["C"].initial) == (1.0, 0.5)
    assert m["B"].internal and m["B"].description == "a target"
    assert m.inputs == ["C"]
    assert m.config["sample_count"] == "500"
    assert str(m["A"].rate_up) == "@logic ? $ka : 0"


def test_maboss_round_trip_gives_the_same_model_and_the_same_simulation(tmp_path):
    m = random_model(14, seed=6, n_mutations=2)
    m.parameters["k"] = 0.75
    write_maboss(m, tmp_path / "m.bnd")
    back = read_maboss(tmp_path / "m.bnd")  # finds m.cfg beside it
    # perturbations are written baked in: the read-back model has none, yet runs the same
    kw = dict(samples=2000, max_time=4, time_tick=0.5)
    a = StochasticSimulator(m, **kw).run(seed=5)
    b = StochasticSimulator(back, **kw).run(seed=5)
    assert np.array_equal(a.final_states, b.final_states)
    np.testing.assert_allclose(a.node_probabilities, b.node_probabilities, atol=1e-12)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(n=st.integers(1, 10), seed=st.integers(0, 10_000))
def test_maboss_written_then_read_gives_the_same_definition(n, seed):
    m = random_model(n, seed=seed)
    back = parse_maboss(*format_maboss(m))
    assert back.fingerprint() == m.fingerprint()


def test_settings_passed_to_the_writer_override_the_models_config():
    m = parse_maboss(BND, CFG)
    _, cfg = format_maboss(m, sample_count=10)
    assert "sample_count = 10;" in cfg and "max_time = 5;" in cfg


@pytest.mark.parametrize(
    ("bnd", "cfg", "error", "fragment"),
    [
        ("Node A { logic = B &; }", "", ModelSyntaxError, "unexpected end"),
        ("Node A { logic = A }", "", ModelSyntaxError, "expected ';'"),
        ("Node A { logic = A; ", "", ModelSyntaxError, "not closed"),
        ("Nod A { logic = A; }", "", ModelSyntaxError, "expected 'Node NAME"),
        ("Node A { logic = A; }\nNode A { logic = !A; }", "", ModelDefinitionError,
         "defined twice"),
        ("Node A { logic = A; }", "Z.istate = 1;", ModelDefinitionError, "unknown node 'Z'"),
        ("Node A { logic = A; rate_up = $k; }", "", ModelDefinitionError, "parameter $k"),
        ("Node A { logic = A; }", "[A].istate = 0.7 [1], 0.7 [0];", ModelDefinitionError,
         "sum to 1"),
        ("Node A { logic = A; }", "A.foo = 1;", ModelSyntaxError, "unknown node attribute"),
        ("Node A { logic = A; }", "frobnicate = 2;", ModelSyntaxError, "unknown statement"),
    ],
)
def test_broken_maboss_files_give_clear_errors(bnd, cfg, error, fragment):
    with pytest.raises(error, match=fragment.replace("$", r"\$")):
        parse_maboss(bnd, cfg)


def test_a_syntax_error_in_a_rule_points_into_the_file():
    bnd = "Node A {\n  logic = A;\n}\nNode B {\n  logic = A & & B;\n}\n"
    with pytest.raises(ModelSyntaxError) as info:
        parse_maboss(bnd, bnd_source="net.bnd")
    assert (info.value.source, info.value.line, info.value.column) == ("net.bnd", 5, 15)
