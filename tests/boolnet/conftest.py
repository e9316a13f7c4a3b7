"""Fixtures of the boolnet tests: the shared Sahin 2009 model, loaded once, copied per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2lab.boolnet import Model, read_bnet

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SAHIN_DIR = SHARED / "models" / "sahin2009_erbb_g1s"
DATA = REPO / "tests" / "data" / "boolnet"


@pytest.fixture(scope="session")
def sahin_dir() -> Path:
    """The folder of the shared Sahin 2009 model; the test is skipped when ../shared is absent."""
    if not (SAHIN_DIR / "model.bnet").exists():
        pytest.skip(f"the shared Sahin 2009 model is not at {SAHIN_DIR} (../shared is absent)")
    return SAHIN_DIR


@pytest.fixture(scope="session")
def _sahin_session(sahin_dir: Path) -> Model:
    # The published bnet reads the input v_EGF without defining it; its README asks for the
    # self-loop 'v_EGF, v_EGF', which undefined="input" adds.
    return read_bnet(sahin_dir / "model.bnet", undefined="input")


@pytest.fixture
def sahin(_sahin_session: Model) -> Model:
    """The Sahin 2009 ERBB/G1-S model (20 nodes, EGF input); each test gets its own copy."""
    return _sahin_session.copy()


def logic_truth_table(model: Model, name: str):
    """The truth table of a node's rule over all nodes of its model (for semantic equality)."""
    import itertools

    from her2lab.boolnet.expr import evaluate

    node = model[name]
    names = sorted(node.logic.variables())
    return [
        evaluate(node.logic, dict(zip(names, bits, strict=True)))
        for bits in itertools.product((0.0, 1.0), repeat=len(names))
    ], names


@pytest.fixture
def same_logic():
    """Assert that two models have the same nodes and the same Boolean function per node."""

    def check(a: Model, b: Model) -> None:
        assert a.node_names == b.node_names
        for n in a.node_names:
            assert logic_truth_table(a, n) == logic_truth_table(b, n), n

    return check
