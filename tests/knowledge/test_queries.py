"""Typed queries over the knowledge base's records: kb.outcomes, kb.superseded, Trial.arm_size,
the endpoint vocabulary."""

from __future__ import annotations

import datetime as dt

import pytest

from her2lab.errors import UnknownIdError
from her2lab.knowledge import (
    ANY,
    ASSUMED_ARM_SIZE,
    BINARY,
    TIME_TO_EVENT,
    Endpoint,
    OutcomeRef,
    load,
    outcome_key,
)


@pytest.fixture(scope="module")
def kb():
    return load()


def _all(kb):
    return [(t, o) for t in kb.trials for o in t.outcomes]


def test_an_outcome_key_is_the_trial_and_outcome_ids(kb):
    t = kb.trial("cleopatra")
    o = t.outcomes[0]
    assert outcome_key(t, o) == f"cleopatra/{o.id}" == outcome_key("cleopatra", o.id)
    assert OutcomeRef(t, o).key == outcome_key(t, o)


def test_superseded_outcomes_are_the_non_preferred_values_of_resolved_conflicts(kb):
    sup = kb.superseded()
    assert sup, "the shipped data records resolved conflicts"
    keys = {outcome_key(t, o) for t, o in _all(kb)}
    for key, cid in sup.items():
        c = next(c for c in kb.conflicts if c.id == cid)
        assert c.preferred is not None and key != c.preferred
        assert key in {v.outcome for v in c.values}
        assert key in keys  # the crossref check makes every conflict value an outcome
    for c in kb.conflicts:
        if c.preferred is None:
            assert not {v.outcome for v in c.values} & set(sup)
        else:
            assert c.preferred not in sup


def test_outcomes_without_filters_are_every_outcome_not_superseded(kb):
    everything = kb.outcomes(superseded=True)
    assert [(r.trial.id, r.outcome.id) for r in everything] == [
        (t.id, o.id) for t, o in _all(kb)]
    kept = kb.outcomes()
    assert len(kept) == len(everything) - len(kb.superseded())
    assert not {r.key for r in kept} & set(kb.superseded())


@pytest.mark.parametrize("filters", [
    {"endpoint": "pCR"}, {"endpoint": Endpoint.PFS, "kind": "effect"},
    {"kind": ["median", "rate"]}, {"subgroup": None}, {"trial": "CLEOPATRA"},
    {"endpoint": {"OS", "PFS"}, "subgroup": None, "kind": "effect"},
])
def test_every_outcome_returned_matches_its_filters_and_none_is_missed(kb, filters):
    got = kb.outcomes(**filters)
    endpoint = filters.get("endpoint")
    eps = None if endpoint is None else ({endpoint} if isinstance(endpoint, str) else
                                         {str(e) for e in endpoint})
    kind = filters.get("kind")
    kinds = None if kind is None else ({kind} if isinstance(kind, str) else set(kind))
    sub = filters.get("subgroup", ANY)
    trial = filters.get("trial")
    expected = [
        outcome_key(t, o) for t, o in _all(kb)
        if (eps is None or o.endpoint.value in eps) and (kinds is None or o.kind in kinds)
        and (sub is ANY or o.subgroup == sub)
        and (trial is None or t.id == kb.trial(trial).id)
        and outcome_key(t, o) not in kb.superseded()]
    assert [r.key for r in got] == expected
    assert expected, f"the shipped data has outcomes for {filters}"


def test_the_arm_filter_matches_an_arms_own_figures_and_the_effects_that_compare_it(kb):
    t = kb.trial("neosphere")
    arm = t.arms[0].id
    got = kb.outcomes(trial=t, arm=arm)
    assert got and all(r.outcome.arm == arm or arm in r.outcome.arms for r in got)
    assert {r.key for r in got} == {
        outcome_key(t, o) for o in t.outcomes if (o.arm == arm or arm in o.arms)
        and outcome_key(t, o) not in kb.superseded()}


def test_as_of_keeps_only_what_was_public_by_then(kb):
    day = dt.date(2012, 12, 31)
    early = kb.outcomes(as_of=day)
    assert early and all(kb.published(r.trial, r.outcome) <= day for r in early)
    later = {r.key for r in kb.outcomes()} - {r.key for r in early}
    assert later, "the shipped data has results after 2012"
    assert all(kb.published(r.trial, r.outcome) > day for r in kb.outcomes()
               if r.key in later)


def test_an_unknown_trial_is_an_unknown_id_error(kb):
    with pytest.raises(UnknownIdError, match="no_such_trial"):
        kb.outcomes(trial="no_such_trial")


def test_an_arm_size_is_its_own_else_an_even_share_of_the_trial_else_the_default(kb):
    t = kb.trial("cleopatra")
    a = t.arms[0]
    sized = a.model_copy(update={"n": 37})
    unsized = a.model_copy(update={"n": None})
    t2 = t.model_copy(update={"arms": [sized, unsized], "n": 101})
    assert t2.arm_size(sized) == 37
    assert t2.arm_size(unsized) == 50  # 101 // 2
    t3 = t2.model_copy(update={"n": None})
    assert t3.arm_size(unsized) is None
    assert t3.arm_size(unsized, ASSUMED_ARM_SIZE) == ASSUMED_ARM_SIZE
    assert t.arm_size(a.id) == t.arm_size(a)
    with pytest.raises(UnknownIdError, match="nope"):
        t.arm_size("nope")


def test_every_shipped_arm_size_is_its_n_when_recorded(kb):
    for t in kb.trials:
        for a in t.arms:
            if a.n is not None:
                assert t.arm_size(a) == a.n
            elif t.n is not None:
                assert t.arm_size(a) * len(t.arms) <= t.n


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_an_endpoint_is_time_to_event_or_binary_as_the_one_vocabulary_says(endpoint):
    assert endpoint.is_time_to_event == (endpoint.value in TIME_TO_EVENT)
    assert endpoint.is_binary == (endpoint.value in BINARY)
    assert not (endpoint.is_time_to_event and endpoint.is_binary)


def test_the_vocabulary_names_only_endpoints_of_the_schema():
    assert {e.value for e in Endpoint} >= TIME_TO_EVENT | BINARY
