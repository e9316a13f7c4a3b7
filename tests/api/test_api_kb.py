"""The knowledge-base endpoints answer what the library answers, with its filters."""

from __future__ import annotations

import datetime as dt

import pytest

from her2lab.knowledge import load, query


def test_the_summary_counts_every_kind_of_record(client):
    kb = load()
    s = client.get("/api/kb/summary").json()
    assert (s["drugs"], s["trials"], s["mechanisms"]) == (len(kb.drugs), len(kb.trials),
                                                          len(kb.mechanisms))
    assert s["outcomes"] == sum(len(t.outcomes) for t in kb.trials)
    assert s["cited_on"] == "2014-08-12"  # the seed review's date


@pytest.mark.parametrize("params", [
    {}, {"drug": "Herceptin"}, {"setting": "metastatic"}, {"mechanism": "pten_loss"},
    {"drug": "T-DM1", "setting": "metastatic_pretreated"},
])
def test_trial_filters_give_the_trials_of_the_library_query(client, params):
    got = [t["id"] for t in client.get("/api/kb/trials", params=params).json()]
    assert got == [t.id for t in query.trials(**params)]


def test_as_of_keeps_only_outcomes_public_by_that_date(client):
    kb = load()
    as_of = dt.date(2012, 12, 31)
    rows = client.get("/api/kb/trials", params={"as_of": as_of.isoformat()}).json()
    assert rows, "some trials reported by the end of 2012"
    for row in rows:
        t = kb.trial(row["id"])
        assert row["outcomes"] == sum(kb.published(t, o) <= as_of for o in t.outcomes) > 0
    everything = client.get("/api/kb/trials").json()
    assert len(rows) < len(everything)


def test_a_trial_has_its_arms_outcomes_and_provenance(client):
    t = client.get("/api/kb/trials/NCT00567190").json()  # CLEOPATRA by its NCT alias
    assert t["id"] == "cleopatra"
    hr = next(o for o in t["outcomes"] if o["id"] == "pfs_hr")
    # seed, Table 1: CLEOPATRA, PFS HR 0.69 (95% CI 0.58-0.81)
    assert (hr["value"], hr["ci"]["low"], hr["ci"]["high"]) == (0.69, 0.58, 0.81)
    assert hr["provenance"]["locator"].startswith("Table 1")


def test_the_trial_detail_has_conflicts_audit_and_references(client):
    d = client.get("/api/kb/trials/nsabp_b41/detail").json()
    assert "b41_pcr_trastuzumab" in [c["id"] for c in d["conflicts"]]
    assert 41 in [r["number"] for r in d["references"]]
    assert set(d["published"]) == {o["id"] for o in d["trial"]["outcomes"]}
    assert all(f["trial"] == "nsabp_b41" for f in d["audit"])


@pytest.mark.parametrize("path", [
    "/api/kb/drugs", "/api/kb/targets", "/api/kb/mechanisms", "/api/kb/biomarkers",
    "/api/kb/references", "/api/kb/conflicts", "/api/kb/audit", "/api/kb/outcomes",
])
def test_every_list_endpoint_answers(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.json()


def test_one_record_by_alias_for_each_kind(client):
    assert client.get("/api/kb/drugs/Herceptin").json()["drug"]["id"] == "trastuzumab"
    assert client.get("/api/kb/targets/HER2").json()["symbol"] == "ERBB2"
    m = client.get("/api/kb/mechanisms/pten_loss").json()
    assert m["mechanism"]["id"] == "pten_loss"
    assert {t["id"] for t in m["trials"]} == {t.id for t in query.trials(mechanism="pten_loss")}
    assert client.get("/api/kb/biomarkers/pten_low").json()["id"] == "pten_low"
    assert client.get("/api/kb/references/62").json()["number"] == 62
    assert all(f["trial"] == "cleopatra"
               for f in client.get("/api/kb/audit", params={"trial": "cleopatra"}).json())


def test_the_graph_links_drugs_targets_mechanisms_and_trials(client):
    kb = load()
    g = client.get("/api/kb/graph").json()
    ids = {n["id"] for n in g["nodes"]}
    assert {f"trial:{t.id}" for t in kb.trials} <= ids
    assert {d.uid for d in kb.drugs} <= ids
    assert all(e["source"] in ids and e["target"] in ids for e in g["edges"])
    assert {"source": "drug:trastuzumab", "target": "target:ERBB2", "kind": "targets"} in g["edges"]
    small = client.get("/api/kb/graph", params={"drug": "everolimus"}).json()
    trials = {n["id"] for n in small["nodes"] if n["kind"] == "trial"}
    assert trials == {f"trial:{t.id}" for t in query.trials(drug="everolimus")}


@pytest.mark.parametrize("path", [
    "/api/kb/trials/no_such_trial", "/api/kb/drugs/aspirin", "/api/kb/mechanisms/nothing",
    "/api/kb/targets/XYZ1", "/api/kb/references/999", "/api/kb/trials/no_such_trial/detail",
])
def test_unknown_ids_are_404_listing_the_valid_ones(client, path):
    r = client.get(path)
    assert r.status_code == 404
    body = r.json()
    assert body["error"] == "UnknownIdError"
    assert body["valid"]
    assert "unknown" in body["message"]


@pytest.mark.parametrize("params, field", [
    ({"drug": "aspirin"}, "drug"), ({"setting": "palliative"}, "setting"),
    ({"as_of": "2014-13-40"}, "as_of"), ({"mechanism": "x" * 101}, "mechanism"),
])
def test_bad_filters_are_4xx_with_the_field(client, params, field):
    r = client.get("/api/kb/trials", params=params)
    assert r.status_code in (404, 422)
    assert field in r.json()["problems"][0]["field"]


def test_a_trial_before_its_first_result_is_404(client):
    r = client.get("/api/kb/trials/cleopatra", params={"as_of": "2000-01-01"})
    assert r.status_code == 404
    assert r.json()["problems"][0]["field"] == "as_of"
