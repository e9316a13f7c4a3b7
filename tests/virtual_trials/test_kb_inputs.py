"""What the virtual trials take from the knowledge base goes through its typed queries: arm
sizes through ``Trial.arm_size``, outcomes through ``kb.outcomes`` (superseded ones left out),
endpoints from its one vocabulary."""

from __future__ import annotations

import pytest

from her2lab.knowledge import ASSUMED_ARM_SIZE, BINARY, TIME_TO_EVENT, Endpoint, load, outcome_key
from her2lab.virtual_trials.plan import TrialPlan
from her2lab.virtual_trials.spec import SpecEndpoint, TrialSpec
from her2lab.virtual_trials.targets import targets_from_kb


@pytest.fixture(scope="module")
def kb():
    return load()


def test_a_plan_sizes_its_arms_as_the_knowledge_base_does(kb):
    # every trial a plan can be made of, whether its arms, only the trial or nothing records n
    for t in kb.trials:
        if len(t.arms) < 2 or t.primary_endpoint is None or not (
                t.primary_endpoint.is_time_to_event or t.primary_endpoint.is_binary):
            continue
        plan = TrialPlan.from_kb(t, kb)
        assert {a.name: a.n for a in plan.arms} == {
            a.id: t.arm_size(a, ASSUMED_ARM_SIZE) for a in t.arms}, t.id


def test_a_trial_without_any_recorded_size_is_planned_at_the_assumed_arm_size(kb):
    # BETH records neither its arms' sizes nor its own (knowledge/data/trials/beth.yaml)
    beth = kb.trial("beth")
    assert beth.n is None and all(a.n is None for a in beth.arms)
    plan = TrialPlan.from_kb(beth, kb)
    assert [a.n for a in plan.arms] == [ASSUMED_ARM_SIZE] * len(beth.arms)


def test_a_trial_size_is_shared_among_arms_that_record_none(kb):
    # ALTTO records n = 8381 for its four arms and none per arm: 8381 // 4
    altto = kb.trial("altto")
    assert altto.n == 8381 and all(a.n is None for a in altto.arms)
    assert [a.n for a in TrialPlan.from_kb(altto, kb).arms] == [8381 // 4] * 4


def test_no_target_is_an_outcome_a_recorded_conflict_supersedes(kb):
    superseded = kb.superseded()
    assert superseded  # the curated conflicts name preferred values (B-41, EGF100151, ...)
    keys = {outcome_key(t.trial, t.outcome) for t in targets_from_kb(kb)}
    assert keys and not keys & set(superseded)
    # and every target is an outcome the knowledge base's query returns
    assert keys <= {r.key for r in kb.outcomes()}


def test_a_specification_names_the_modelled_endpoints_of_the_one_vocabulary():
    assert [e.value for e in SpecEndpoint] == [
        e.value for e in Endpoint if e.value in TIME_TO_EVENT | BINARY]
    base = {"name": "x", "setting": "neoadjuvant", "control": "a",
            "arms": [{"name": "a", "regimen": [], "n": 10}, {"name": "b", "regimen": [], "n": 10}]}
    for e in SpecEndpoint:
        assert TrialSpec.model_validate({**base, "endpoint": e.value}).is_binary == (
            Endpoint(e.value).is_binary)
