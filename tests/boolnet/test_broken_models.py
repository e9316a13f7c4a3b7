"""The broken-model corpus (tests/data/boolnet/broken): every file fails with the error class,
position and message that expected.json records for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from her2lab import errors
from her2lab.boolnet import read_model
from her2lab.boolnet._compile import compile_model

BROKEN = Path(__file__).resolve().parents[1] / "data" / "boolnet" / "broken"
EXPECTED = {k: v for k, v in json.loads((BROKEN / "expected.json").read_text()).items()
            if not k.startswith("_")}


def test_every_broken_model_has_an_expectation_and_vice_versa():
    files = {p.name for p in BROKEN.iterdir() if p.suffix in (".bnet", ".bnd", ".sbml")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_broken_model_gets_a_clear_error(name):
    spec = EXPECTED[name]
    error = getattr(errors, spec["error"])
    with pytest.raises(error) as info:
        compile_model(read_model(BROKEN / name))  # compiling checks rates in every state
    message = str(info.value)
    for fragment in spec["fragments"]:
        assert fragment in message
    if "line" in spec:
        assert info.value.line == spec["line"]
    if "column" in spec:
        assert info.value.column == spec["column"]
