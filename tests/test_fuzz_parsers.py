"""Fuzzing every parser of user files: whatever the text, only her2lab errors escape.

Each parser gets random text and, more usefully, mutations of a valid file (characters
deleted, inserted, replaced; lines duplicated or cut), which keep most of the structure and
so reach deep into the parser. A parse either succeeds or raises a
:class:`~her2lab.errors.Her2labError`; a ``RecursionError``, ``UnicodeError``, ``KeyError``,
``ValueError`` or a library's own exception is a failure. The YAML readers must also come back
quickly: no input expands beyond the bounds of :mod:`her2lab.yamlio`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from her2lab.boolnet import Model
from her2lab.boolnet.formats.bnet import format_bnet, parse_bnet
from her2lab.boolnet.formats.maboss import format_maboss, parse_maboss
from her2lab.boolnet.formats.sbmlqual import format_sbmlqual, parse_sbmlqual
from her2lab.errors import Her2labError
from her2lab.knowledge.schema import Trial
from her2lab.yamlio import problems_from_pydantic, read_yaml_document

HERE = Path(__file__).resolve().parent
TRIAL_YAML = (HERE / "data" / "kb_minimal" / "trials" / "cleopatra.yaml").read_text()
SPEC_YAML = (HERE.parent / "src" / "her2lab" / "virtual_trials" / "examples"
             / "neoadjuvant_dual_blockade.yaml").read_text()

MODEL = Model.from_rules({"EGF": "EGF", "ERBB2": "EGF & !TZB", "TZB": "TZB",
                          "AKT": "ERBB2 | (PI3K & !PTEN)", "PI3K": "ERBB2 ^ AKT",
                          "PTEN": "!AKT", "PROLIF": "AKT & !(PTEN | TZB)"})
BNET = format_bnet(MODEL)
BND, CFG = format_maboss(MODEL)
SBML = format_sbmlqual(MODEL)

FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SPECIALS = "()[]{}!&|^?:;=,$@#\"'\\\n\t <>/*-+.0123456789&&||"


@st.composite
def mutated(draw, text: str) -> str:
    """``text`` with a few random edits: a structure mostly kept, broken somewhere."""
    chars = list(text)
    for _ in range(draw(st.integers(1, 6))):
        if not chars:
            break
        i = draw(st.integers(0, len(chars) - 1))
        op = draw(st.sampled_from(["delete", "insert", "replace", "cut", "repeat"]))
        if op == "delete":
            del chars[i:i + draw(st.integers(1, 12))]
        elif op == "insert":
            chars[i:i] = draw(st.text(alphabet=SPECIALS + "abcAZ_\u00e9\u2603", max_size=8))
        elif op == "replace":
            chars[i] = draw(st.sampled_from(SPECIALS + "\x00\ufeff\u00a0x"))
        elif op == "cut":
            chars = chars[:i]
        else:
            j = min(len(chars), i + draw(st.integers(1, 20)))
            chars[i:i] = chars[i:j] * draw(st.integers(2, 20))
    return "".join(chars)


def _parses_or_raises_ours(fn, *args, **kwargs) -> None:
    with contextlib.suppress(Her2labError):
        fn(*args, **kwargs)


def _text(seed: str):
    return st.one_of(mutated(seed), st.text(alphabet=SPECIALS + "ABCab_", max_size=200))


@FUZZ
@given(_text(BNET))
def test_bnet(text: str):
    _parses_or_raises_ours(parse_bnet, text, source="fuzz.bnet")


@FUZZ
@given(_text(BND), st.one_of(st.just(CFG), mutated(CFG)))
def test_maboss(bnd: str, cfg: str):
    _parses_or_raises_ours(parse_maboss, bnd, cfg, bnd_source="fuzz.bnd", cfg_source="fuzz.cfg")


@FUZZ
@given(_text(SBML))
def test_sbml_qual(text: str):
    _parses_or_raises_ours(parse_sbmlqual, text, source="fuzz.sbml")


@FUZZ
@given(st.one_of(mutated(TRIAL_YAML), st.text(alphabet=SPECIALS + "ab:-&*!", max_size=200)))
def test_knowledge_base_yaml(tmp_path_factory, text: str):
    path = tmp_path_factory.mktemp("kb") / "trial.yaml"
    path.write_text(text, encoding="utf-8")
    problems: list = []
    doc = read_yaml_document(path, None, problems)
    if doc is None or not isinstance(doc.data, dict):
        return
    try:
        Trial.model_validate(doc.data)
    except Exception as exc:  # pydantic's error, translated without raising
        import pydantic

        assert isinstance(exc, pydantic.ValidationError), exc
        for p in problems_from_pydantic(exc, Trial, doc):
            assert p.file == str(path) and p.field and p.expected


@pytest.fixture(scope="module")
def kb():
    from her2lab.knowledge import load

    return load()


@FUZZ
@given(text=st.one_of(mutated(SPEC_YAML), st.text(alphabet=SPECIALS + "ab:-[]", max_size=200)))
def test_trial_specifications(tmp_path_factory, kb, text: str):
    from her2lab.virtual_trials.spec import load_spec

    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    _parses_or_raises_ours(load_spec, path, kb)
