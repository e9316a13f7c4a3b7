"""The seed's statements (data/claims.yaml) run as tests, each with a margin from its sample
count (see her2lab.pathway.claims: the margin is 3 times the summed standard-error bounds of
the conditions of its contrast). Every condition is simulated once per session."""

from __future__ import annotations

import pytest

from her2lab.errors import ValidationError
from her2lab.pathway.claims import (
    K_SIGMA,
    _status,
    batch_runner,
    coverage,
    evaluate,
    load_claims,
    parse_claims,
)
from her2lab.pathway.mechanisms import MECHANISMS
from her2lab.pathway.simulate import DEFAULT_SEED

CLAIMS = load_claims()


@pytest.fixture(scope="session")
def runner(cache):
    """Every condition of every claim simulated up front, one batch per sample count."""
    return batch_runner(CLAIMS, seed=DEFAULT_SEED, cache=cache)


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_the_claim_has_the_status_recorded_in_claims_yaml(claim, runner):
    out = evaluate(claim, runner)
    if claim.expected == "pass":
        assert out.status == "pass", (
            f"{claim.id}: contrast {out.value:+.3f}, margin {out.margin:.3f} ({out.status}); "
            f"{claim.statement}"
        )
    else:
        assert out.status != "pass", (
            f"{claim.id} now passes (contrast {out.value:+.3f} beyond margin {out.margin:.3f}): "
            "set expected: pass in claims.yaml and drop its note"
        )


def test_there_are_at_least_fifteen_claims_and_their_ids_are_unique():
    assert len(CLAIMS) >= 15
    assert len({c.id for c in CLAIMS}) == len(CLAIMS)


def test_the_claims_cover_every_mechanism():
    assert coverage(CLAIMS)["mechanisms"] == set(MECHANISMS)


def test_the_claims_cover_every_drug_class_of_the_knowledge_base():
    from her2lab.knowledge import load

    kb = load()
    classes = {d.drug_class for d in kb.drugs}
    covered = {kb.drug(d).drug_class for d in coverage(CLAIMS)["drugs"]}
    assert covered == classes


def test_every_expected_miss_is_explained():
    for c in CLAIMS:
        if c.expected == "miss":
            assert len(c.note) > 80, c.id


def test_margins_follow_the_sample_count(runner):
    """Quadrupling the samples halves the margin (standard errors go as 1/sqrt(n))."""
    claim = next(c for c in CLAIMS if c.id == "trastuzumab_recruits_immune_killing")
    small = evaluate(claim, lambda cond, n: runner(cond, 500))
    large = evaluate(claim, lambda cond, n: runner(cond, 2000))
    assert large.margin == pytest.approx(small.margin / 2, rel=0.25)


@pytest.mark.parametrize(("direction", "value", "margin", "tol", "status"), [
    ("greater", 0.2, 0.1, 0, "pass"),
    ("greater", 0.05, 0.1, 0, "inconclusive"),
    ("greater", -0.2, 0.1, 0, "contradicted"),
    ("less", -0.2, 0.1, 0, "pass"),
    ("less", 0.2, 0.1, 0, "contradicted"),
    ("similar", 0.01, 0.02, 0.05, "pass"),
    ("similar", 0.04, 0.02, 0.05, "inconclusive"),
    ("similar", 0.2, 0.02, 0.05, "contradicted"),
])
def test_the_status_rule(direction, value, margin, tol, status):
    assert _status(direction, value, margin, tol) == status


def test_k_sigma_is_three():
    assert K_SIGMA == 3.0


def test_broken_claim_records_are_all_reported_at_once():
    records = [
        {"id": "a", "statement": "x", "locator": "Intro", "readout": "happiness",
         "plus": ["none | trastuzumab"], "minus": ["none | none"], "direction": "greater"},
        {"id": "b", "statement": "a statement", "locator": "Intro", "readout": "response",
         "plus": ["none | aspirin"], "minus": ["none"], "direction": "up"},
        {"id": "c", "statement": "a statement", "locator": "Intro", "readout": "response",
         "plus": ["none | trastuzumab"], "minus": ["none | none"], "direction": "similar",
         "expected": "miss"},
        {"id": "d", "statement": "a statement", "locator": "Intro", "readout": "node:NOPE",
         "plus": ["none | trastuzumab"], "minus": ["none | none"], "direction": "less"},
    ]
    with pytest.raises(ValidationError) as info:
        parse_claims(records, "broken.yaml")
    fields = {p.field for p in info.value.problems}
    assert {"a.statement", "a.readout", "b.plus", "b.minus", "b.direction", "c.tolerance",
            "c.note", "d.readout"} <= fields


def test_a_condition_reads_graded_mechanisms_and_hr_status():
    from her2lab.pathway.claims import Condition

    cond = Condition.parse("pten_loss=0.5,hr_positive | trastuzumab+T-DM1")
    assert cond.profile.degree("pten_loss") == 0.5 and cond.profile.hr_positive == 1.0
    assert cond.regimen == ("trastuzumab", "trastuzumab_emtansine")
    assert str(cond) == "pten_loss=0.5,hr_positive | trastuzumab+trastuzumab_emtansine"
