"""The Model: construction, validation, and perturbations that never leak."""

from __future__ import annotations

import pytest

from her2lab.boolnet import Model, Node
from her2lab.boolnet.model import JointInitial
from her2lab.errors import ModelDefinitionError, UnknownIdError


@pytest.fixture
def model() -> Model:
    return Model.from_rules({"A": "!B", "B": "A & C", "C": "C"}, initial={"C": 1.0})


def test_from_rules_sets_maboss_default_rates_and_initial_states(model):
    assert model.node_names == ["A", "B", "C"]
    assert model["A"].initial == 0.5
    assert model["C"].initial == 1.0
    assert model.inputs == ["C"]


def test_perturbed_returns_a_copy_and_leaves_the_model_unchanged(model):
    ko = model.perturbed(knock_out=["B"], up_factor={"A": 0.25})
    assert ko.fixed == {"B": False}
    assert ko.rate_factors("A") == (0.25, 1.0)
    assert model.fixed == {}
    assert model.rate_factors("A") == (1.0, 1.0)
    assert ko.fingerprint() != model.fingerprint()


def test_perturb_context_is_undone_on_exit_even_after_an_exception(model):
    before = model.fingerprint()
    with pytest.raises(RuntimeError), model.perturb(knock_in=["A"], down_factor={"C": 0.0}):
        assert model.fixed == {"A": True}
        assert model.rate_factors("C") == (1.0, 0.0)
        raise RuntimeError("boom")
    assert model.fixed == {}
    assert model.fingerprint() == before


def test_rate_factors_compose_by_multiplication(model):
    twice = model.perturbed(up_factor={"A": 0.5}).perturbed(up_factor={"A": 0.5})
    assert twice.rate_factors("A") == (0.25, 1.0)


def test_an_invalid_perturbation_changes_nothing(model):
    with pytest.raises(ModelDefinitionError, match="finite number >= 0"):
        model.perturbed(knock_out=["A"], up_factor={"B": -1.0})
    with pytest.raises(UnknownIdError, match="unknown node 'Z'"), model.perturb(
        knock_out=["Z"]
    ):
        pass
    assert model.fixed == {}


def test_fixed_accepts_on_off_words(model):
    m = model.perturbed(fixed={"A": "ON", "B": "off", "C": 0})
    assert m.fixed == {"A": True, "B": False, "C": False}
    with pytest.raises(ModelDefinitionError, match="must be ON or OFF"):
        model.perturbed(fixed={"A": "maybe"})


def test_knock_out_takes_a_list_not_a_string(model):
    with pytest.raises(TypeError, match="list of node names"):
        model.perturbed(knock_out="A")


def test_validation_lists_every_problem():
    m = Model(
        [
            Node("A", "B & X", initial=1.5),
            Node("B", "A", rate_up="$k"),
            Node("C", "C", rate_down="-1"),
        ],
        joint_initial=[JointInitial(("A", "Q"), ((0.5, (1, 0)), (0.6, (0, 1))))],
    )
    with pytest.raises(ModelDefinitionError) as info:
        m.validate()
    msg = str(info.value)
    for fragment in (
        "reads undefined node 'X'",
        "undefined parameter $k",
        "must be in [0, 1]; got 1.5",
        "names undefined node 'Q'",
        "must sum to 1",
    ):
        assert fragment in msg
    # a negative rate given as an expression is caught when the rates are tabulated
    from her2lab.boolnet._compile import compile_model

    with pytest.raises(ModelDefinitionError, match=r"rate of node 'C' must be .* >= 0"):
        compile_model(Model([Node("C", "C", rate_down="-1")]))


def test_a_node_defined_twice_is_rejected():
    with pytest.raises(ModelDefinitionError, match="defined twice"):
        Model([Node("A", "A"), Node("A", "1")])


def test_with_initial_replaces_initial_probabilities(model):
    m = model.with_initial({"A": 0.0})
    assert m["A"].initial == 0.0
    assert model["A"].initial == 0.5
