"""Strict types, finite bounds and exact IDs in the API (issue 24, points 3, 9, 10 and 13):
what the issue reproduced, each refused (or, for the harmless cases, answered as the library
answers them)."""

from __future__ import annotations

import copy

import pytest

from her2lab.api.routes.trials import MAX_ARM_N

FAST = {"replicates": 2, "samples": 50, "panel": 4}


@pytest.fixture(scope="module")
def examples(client):
    return client.get("/api/virtual-trials/examples").json()


# --- point 3: one bound on patients per arm --------------------------------------------------

def test_the_designers_default_example_is_predicted(client, examples):
    spec = examples["adjuvant_dual_blockade"]
    assert {a["n"] for a in spec["arms"]} == {2400}  # the shipped example's own size
    r = client.post("/api/virtual-trials/predict", json={"spec": spec, **FAST})
    assert r.status_code == 200, r.text


def test_the_bound_is_stated_once_and_holds_in_predict_and_design(client, examples):
    assert client.get("/api/meta").json()["limits"]["arm_patients"] == MAX_ARM_N
    spec = copy.deepcopy(examples["adjuvant_dual_blockade"])
    spec["arms"][0]["n"] = MAX_ARM_N + 1
    for path, extra in (("predict", FAST), ("design", {})):
        r = client.post(f"/api/virtual-trials/{path}", json={"spec": spec, **extra})
        assert r.status_code == 422, r.text
        assert r.json()["problems"][0]["field"] == "spec.arms[0].n"
        assert f"at most {MAX_ARM_N}" in r.json()["message"]


def test_a_design_searches_no_further_than_predict_accepts(monkeypatch):
    """The design job passes the same bound to the search (so it never answers a size that
    predict refuses)."""
    import her2lab.virtual_trials as vt

    seen = {}

    def fake_design(plan, params, **kw):
        seen.update(kw)
        raise RuntimeError("stop here")

    from fastapi.testclient import TestClient

    from her2lab.api import create_app

    monkeypatch.setattr(vt, "design", fake_design)
    from .conftest import wait_job

    with TestClient(create_app(), base_url="http://localhost") as c:
        spec = c.get("/api/virtual-trials/examples").json()["adjuvant_dual_blockade"]
        job = c.post("/api/virtual-trials/design", json={"spec": spec}).json()
        assert wait_job(c, job["id"])["status"] == "failed"
    assert seen["n_max"] == MAX_ARM_N


# --- point 10: strict types, finite bounds ---------------------------------------------------

@pytest.mark.parametrize("value", [1e308, 601.0, "Infinity", "NaN"])
def test_a_control_median_must_be_finite_and_bounded(client, examples, value):
    spec = copy.deepcopy(examples["tdm1_anti_pd_l1"])
    spec["control_median_months"] = value
    if isinstance(value, str):  # the JSON parser takes Infinity and NaN literally
        body = ('{"spec": ' + _json(spec).replace(f'"{value}"', value) + ', "replicates": 2, '
                '"samples": 50, "panel": 4}')
        r = client.post("/api/virtual-trials/predict", content=body,
                        headers={"Content-Type": "application/json"})
    else:
        r = client.post("/api/virtual-trials/predict", json={"spec": spec, **FAST})
    assert r.status_code == 422, r.text
    assert "control_median_months" in r.text


def _json(x) -> str:
    import json

    return json.dumps(x)


@pytest.mark.parametrize("body,field", [
    ({"samples": True}, "samples"),
    ({"seed": 1.5}, "seed"),
    ({"samples": "300"}, "samples"),
    ({"hr_positive": "yes"}, "hr_positive"),
    ({"hr_positive": 1.5}, "hr_positive"),
    ({"profile": {"pten_loss": True}}, "profile"),
    ({"regimen": ["trastuzumab"], "potency": {"everolimus": 0.5}}, "potency.everolimus"),
])
def test_pathway_inputs_are_strict(client, body, field):
    r = client.post("/api/pathway/simulate", json=body)
    assert r.status_code == 422, r.text
    assert any(p["field"].startswith(field) for p in r.json()["problems"]), r.json()


def test_a_potency_of_a_drug_in_the_regimen_is_taken(client):
    body = {"regimen": ["Herceptin"], "potency": {"trastuzumab": 0.2}, "samples": 50}
    assert client.post("/api/pathway/simulate", json=body).status_code == 200


def test_a_trial_spec_is_strict_too(client, examples):
    spec = copy.deepcopy(examples["tdm1_anti_pd_l1"])
    spec["arms"][0]["n"] = True
    r = client.post("/api/virtual-trials/predict", json={"spec": spec, **FAST})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "spec.arms[0].n"
    r = client.post("/api/virtual-trials/simulate", json={"trial": "cleopatra",
                                                          **FAST, "samples": True})
    assert r.status_code == 422


@pytest.mark.parametrize("alpha,power", [(0.999, 0.8), (0.5, 0.8), (0.05, 0.01), (0.05, 1.0)])
def test_design_alpha_and_power_are_sane(client, examples, alpha, power):
    r = client.post("/api/virtual-trials/design", json={
        "spec": examples["adjuvant_dual_blockade"], "alpha": alpha, "power": power})
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("study", [
    {"label": "a", "estimate": 0.9, "ci_low": 0.6, "ci_high": 0.82},   # outside its interval
    {"label": "a", "estimate": 0.7, "ci_low": 0.82, "ci_high": 0.6},   # interval reversed
    {"label": "a", "estimate": 0.7, "ci_low": -0.1, "ci_high": 0.82},  # a negative HR
    {"label": "a", "estimate": True, "ci_low": 0.6, "ci_high": 0.82},
])
def test_a_study_must_lie_inside_its_own_interval(client, study):
    r = client.post("/api/synthesis/meta-analysis", json={"studies": [study]})
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("path", ["/api/kb/references/-1", "/api/kb/references/01",
                                  "/api/kb/drugs/trast-uzumab", "/api/kb/trials/cleo-patra",
                                  "/api/kb/trials/cleopatra!/detail"])
def test_id_lookups_are_exact(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/api/kb/references/1", "/api/kb/drugs/Herceptin",
                                  "/api/kb/drugs/T-DM1", "/api/kb/drugs/TRASTUZUMAB",
                                  "/api/kb/trials/CLEOPATRA", "/api/kb/trials/NCT00567190",
                                  "/api/kb/trials/trial:cleopatra/detail"])
def test_ids_names_and_aliases_stay_case_insensitive(client, path):
    assert client.get(path).status_code == 200, path


# --- point 9: harmless numeric warnings ------------------------------------------------------

def test_two_identical_studies_pool_as_on_the_command_line(client):
    from her2lab.synthesis import meta_analysis

    study = {"label": "a", "estimate": 0.7, "ci_low": 0.6, "ci_high": 0.82}
    r = client.post("/api/synthesis/meta-analysis",
                    json={"studies": [study, {**study, "label": "b"}]})
    assert r.status_code == 200, r.text
    got = r.json()
    # two identical studies: the pooled HR is theirs, with no heterogeneity
    assert got["estimate"] == pytest.approx(0.7, rel=1e-9)
    assert got["i2"] == 0.0 and got["tau2"] == 0.0
    import warnings

    with warnings.catch_warnings():  # the library's own run, as the command line makes it
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = meta_analysis(["a", "b"], [0.7, 0.7], [0.6, 0.6], [0.82, 0.82],
                            measure="HR").to_dict()
    assert got["ci_low"] == pytest.approx(ref["ci_low"], rel=1e-12)


# --- point 13: the documented download URL ---------------------------------------------------

@pytest.mark.parametrize("query", ["regimen=trastuzumab+everolimus",
                                   "regimen=trastuzumab%2Beverolimus",
                                   "regimen=Herceptin+everolimus"])
def test_the_documented_model_url_works(client, query):
    r = client.get(f"/api/pathway/model?format=bnet&profile=pten_loss&{query}")
    assert r.status_code == 200, r.text
    from her2lab.boolnet import format_bnet, parse_maboss
    from her2lab.pathway import model_files

    bnd, cfg = model_files(["pten_loss"], ["trastuzumab", "everolimus"])
    assert r.text == format_bnet(parse_maboss(bnd, cfg, bnd_source="her2.bnd",
                                              cfg_source="her2.cfg", name="her2"))


def test_a_model_url_with_an_unknown_drug_is_404(client):
    r = client.get("/api/pathway/model?format=bnet&regimen=trastuzumab+nodrug")
    assert r.status_code == 404 and "nodrug" in r.text
