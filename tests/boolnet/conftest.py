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
def _sahin_session() -> Model:
    if not (SAHIN_DIR / "model.bnet").exists():
        pytest.skip(f"the shared Sahin 2009 model is not at {SAHIN_DIR} (../shared is absent)")
    # The published bnet reads the input v_EGF without defining it; its README asks for the
    # self-loop 'v_EGF, v_EGF', which undefined="input" adds.
    return read_bnet(SAHIN_DIR / "model.bnet", undefined="input")


@pytest.fixture
def sahin(_sahin_session: Model) -> Model:
    """The Sahin 2009 ERBB/G1-S model (20 nodes, EGF input); each test gets its own copy."""
    return _sahin_session.copy()
