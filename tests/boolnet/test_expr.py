"""The rule parser: grammar, precedence, errors with line and column, printing round-trips."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2lab.boolnet.expr import (
    And,
    BinOp,
    Cond,
    Const,
    Logic,
    Not,
    Or,
    Param,
    Var,
    Xor,
    evaluate,
    parse_expr,
    to_bnet,
    to_maboss,
)
from her2lab.errors import ModelSyntaxError


def truth_table(expr, names):
    rows = []
    for bits in itertools.product((0.0, 1.0), repeat=len(names)):
        rows.append(evaluate(expr, dict(zip(names, bits, strict=True))))
    return rows


def test_and_binds_tighter_than_or():
    assert parse_expr("A | B & C") == Or((Var("A"), And((Var("B"), Var("C")))))


def test_word_operators_mean_the_same_as_symbols():
    assert parse_expr("A AND NOT B OR C") == parse_expr("A & !B | C")
    assert parse_expr("A && B || C") == parse_expr("A & B | C")


def test_constants_true_and_false_are_one_and_zero():
    assert parse_expr("TRUE") == Const(1.0)
    assert parse_expr("false") == Const(0.0)


def test_rate_expressions_parse_conditionals_parameters_and_arithmetic():
    e = parse_expr("@logic ? $k * 2 : (A ? 0.5 : 0)", boolean=False)
    assert e == Cond(Logic(), BinOp("*", Param("k"), Const(2.0)),
                     Cond(Var("A"), Const(0.5), Const(0.0)))
    assert evaluate(e, {"A": 1.0}, parameters={"k": 3.0}, logic=1.0) == 6.0
    assert evaluate(e, {"A": 1.0}, parameters={"k": 3.0}, logic=0.0) == 0.5


def test_xor_is_true_when_exactly_one_side_is():
    assert truth_table(parse_expr("A ^ B"), ["A", "B"]) == [0.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("A & ", 5, "unexpected end"),
        ("A & (B | C", 11, "expected ')'"),
        ("A # B", 3, "unexpected character"),
        ("A B", 3, "after a complete expression"),
        ("A & 2", 5, "only 0 or 1"),
        ("A ? B : C", 3, "not allowed in a logic rule"),
        ("$k & A", 1, "parameter"),
        ("", 1, "empty expression"),
    ],
)
def test_syntax_errors_point_at_the_offending_column(text, column, fragment):
    with pytest.raises(ModelSyntaxError) as info:
        parse_expr(text, source="f.bnet", line=7, column=1)
    err = info.value
    assert (err.source, err.line, err.column) == ("f.bnet", 7, column)
    assert fragment in str(err)


def test_column_offset_places_a_rule_inside_its_line():
    with pytest.raises(ModelSyntaxError) as info:
        parse_expr("A & )", line=3, column=10)
    assert (info.value.line, info.value.column) == (3, 14)


def test_bnet_printing_expands_xor_into_and_or():
    e = parse_expr("A ^ !B")
    printed = to_bnet(e)
    assert "^" not in printed
    assert truth_table(parse_expr(printed), ["A", "B"]) == truth_table(e, ["A", "B"])


def test_bnet_printing_refuses_a_rate_expression():
    with pytest.raises(ValueError, match="only a logic expression"):
        to_bnet(parse_expr("$k * 2", boolean=False))


# ------------------------------------------------------------------ hypothesis

NAMES = ["A", "B", "C", "D"]


def logic_exprs():
    leaves = st.one_of(st.sampled_from([Var(n) for n in NAMES]),
                       st.sampled_from([Const(0.0), Const(1.0)]))

    def extend(children):
        return st.one_of(
            children.map(Not),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
            st.tuples(children, children).map(lambda ab: Xor(*ab)),
        )

    return st.recursive(leaves, extend, max_leaves=12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(logic_exprs())
def test_maboss_printing_round_trips_to_the_same_tree(expr):
    assert parse_expr(to_maboss(expr)) == expr


@settings(max_examples=200, deadline=None, derandomize=True)
@given(logic_exprs())
def test_bnet_printing_round_trips_to_the_same_function(expr):
    back = parse_expr(to_bnet(expr))
    assert truth_table(back, NAMES) == truth_table(expr, NAMES)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(logic_exprs())
def test_logic_values_are_zero_or_one_on_arrays_and_scalars(expr):
    idx = np.arange(16)
    values = {n: ((idx >> k) & 1).astype(float) for k, n in enumerate(NAMES)}
    vec = np.broadcast_to(evaluate(expr, values), idx.shape)
    assert set(np.unique(vec)) <= {0.0, 1.0}
    assert list(vec) == truth_table(expr, list(reversed(NAMES)))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet="AB_1 0!&|^()?:$@+-*/.\n\t", max_size=30))
def test_arbitrary_text_parses_or_raises_a_syntax_error_with_a_position(text):
    for boolean in (True, False):
        try:
            parse_expr(text, boolean=boolean)
        except ModelSyntaxError as err:
            assert err.line is not None and err.column is not None and err.column >= 1


@settings(max_examples=100, deadline=None, derandomize=True)
@given(logic_exprs(), st.sampled_from([" ", "  ", "\t"]), st.booleans())
def test_spacing_and_word_operators_do_not_change_the_parse(expr, space, words):
    text = to_maboss(expr)
    if words:
        text = text.replace("&", "AND").replace("|", "OR").replace("!", "NOT ")
    text = text.replace(" ", space)
    assert parse_expr(text) == expr
