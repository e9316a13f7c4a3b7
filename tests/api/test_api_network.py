"""``/api/pathway/network``: the pathway model as a graph (read from the rules) and a
simulation's node activities, checked against the model file and ``pathway.simulate``."""

from __future__ import annotations

import re

import pytest


@pytest.fixture(scope="module")
def network(client):
    r = client.get("/api/pathway/network")
    assert r.status_code == 200
    return r.json()


def test_every_node_of_the_model_is_in_the_graph_with_its_rule(network):
    from her2lab.pathway.model import load_model

    model = load_model()
    assert [n["id"] for n in network["nodes"]] == list(model.nodes)
    for n in network["nodes"]:
        assert n["rule"] == model.rules[n["id"]]


def _polarities(rule: str) -> dict[str, set[bool]]:
    """Regulator -> polarities in a MaBoSS rule, from its text: a '!' flips the name or the
    parenthesised group after it (the rules use only !, &, | and parentheses)."""
    assert not re.search(r"[\^?:]", rule), rule  # no XOR or conditional to read here
    out: dict[str, set[bool]] = {}
    stack, pending = [True], False
    for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_]*|[!()]", rule):
        if tok == "!":
            pending = not pending
        elif tok == "(":
            stack.append(stack[-1] != pending)
            pending = False
        elif tok == ")":
            stack.pop()
        else:
            out.setdefault(tok, set()).add(stack[-1] != pending)
            pending = False
    return out


def test_each_edge_sign_is_what_the_rule_text_says(network):
    """A second reading of the rules, from their MaBoSS text (the endpoint reads the parsed
    expressions): un-negated regulators activate, negated ones inhibit."""
    rules = {n["id"]: n["rule"] for n in network["nodes"]}
    profile = {n["id"] for n in network["nodes"] if n["kind"] == "profile"}
    expected = set()
    for target, rule in rules.items():
        for src, pol in _polarities(rule).items():
            if src == target and target in profile:
                continue
            sign = "both" if len(pol) == 2 else "activation" if True in pol else "inhibition"
            expected.add((src, target, sign))
    got = {(e["source"], e["target"], e["sign"]) for e in network["edges"]}
    assert got == expected
    assert ("PD1", "Tcell", "inhibition") in got  # Tcell: TIL & !(PD1 & PDL1) & !CD73
    assert ("TIL", "Tcell", "activation") in got


def test_drugs_and_mechanisms_point_at_nodes_of_the_model(network):
    from her2lab.pathway import DRUGS, MECHANISMS

    nodes = {n["id"] for n in network["nodes"]}
    assert [d["id"] for d in network["drugs"]] == list(DRUGS)
    assert all(e["node"] in nodes for d in network["drugs"] for e in d["effects"])
    assert {m["id"]: m["node"] for m in network["mechanisms"]} == {
        k: v.node for k, v in MECHANISMS.items()}
    marked = {n["id"]: n["mechanism"] for n in network["nodes"] if n["mechanism"]}
    assert marked == {v.node: k for k, v in MECHANISMS.items()}


def test_the_activities_are_the_simulators_node_activities(client):
    from her2lab.pathway import simulate

    body = {"profile": ["pten_loss"], "regimen": ["trastuzumab"], "samples": 100,
            "seed": 7, "nodes": ["AKT", "Proliferation"]}
    r = client.post("/api/pathway/network/activity", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    ref = simulate(["pten_loss"], ["trastuzumab"], samples=100, seed=7, cache=False)
    assert got["activity"] == pytest.approx(ref.nodes, abs=1e-12)
    assert set(got["trajectories"]) == {"AKT", "Proliferation"}
    assert all(len(v) == len(got["times"]) for v in got["trajectories"].values())
    assert all(0.0 <= x <= 1.0 for v in got["trajectories"].values() for x in v)


def test_an_unknown_node_is_refused_with_its_field(client):
    r = client.post("/api/pathway/network/activity",
                    json={"samples": 10, "nodes": ["AKT", "NOPE"]})
    assert r.status_code == 422
    body = r.json()
    assert "NOPE" in body["message"]
    assert body["problems"][0]["field"] == "nodes[1]"
