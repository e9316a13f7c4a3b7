"""The pathway endpoints return what her2lab.pathway computes, and refuse bad input with 4xx."""

from __future__ import annotations

import io
import zipfile

import pytest

from her2lab.boolnet import parse_bnet, parse_sbmlqual
from her2lab.pathway import DRUGS, MECHANISMS, model_files, simulate
from her2lab.seeds import DEFAULT_SEED

from .conftest import wait_job


def test_options_list_the_models_mechanisms_and_drugs(client):
    o = client.get("/api/pathway/options").json()
    assert [m["id"] for m in o["mechanisms"]] == list(MECHANISMS)
    assert [d["id"] for d in o["drugs"]] == list(DRUGS)
    assert o["phenotypes"] == ["proliferation", "apoptosis", "angiogenesis", "immune_kill"]


def test_the_pages_seed_field_starts_at_the_default_seed_the_api_gives(client):
    # pathway, network and lab pages set their seed input from /api/pathway/options
    assert client.get("/api/pathway/options").json()["default_seed"] == DEFAULT_SEED
    for page, script, field in (("pathway", "pathway", "seed"), ("network", "network", "seed"),
                                ("lab", "lab", "screen-seed")):
        html = client.get(f"/{page}").text
        assert f'id="{field}"' in html and str(DEFAULT_SEED) not in html
        js = client.get(f"/static/{script}.js").text
        assert f'getElementById("{field}").value = ' in js and "default_seed" in js


def test_a_simulation_is_the_librarys_simulation(client):
    body = {"profile": ["PTEN loss"], "regimen": ["Herceptin", "everolimus"], "samples": 400,
            "seed": 7}
    r = client.post("/api/pathway/simulate", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    ref = simulate(["pten_loss"], ["trastuzumab", "everolimus"], samples=400, seed=7)
    assert got["response"] == pytest.approx(ref.response, abs=1e-12)
    assert got["phenotypes"] == pytest.approx(ref.phenotypes, abs=1e-12)
    assert got["regimen"] == list(ref.regimen)
    assert "not a treatment recommendation" in got["notice"]


@pytest.mark.parametrize("body, status, field", [
    ({"profile": ["no_such_mechanism"]}, 404, "mechanism"),
    ({"regimen": ["aspirin"]}, 404, "drug"),
    ({"samples": 0}, 422, "samples"),
    ({"samples": 10_001}, 422, "samples"),
    ({"profile": {"pten_loss": 1.5}}, 422, "profile"),
    ({"potency": {"trastuzumab": -0.1}}, 422, "potency"),
    ({"regimen": "trastuzumab", "extra": 1}, 422, "extra"),
])
def test_bad_simulation_requests_are_4xx_naming_the_field(client, body, status, field):
    r = client.post("/api/pathway/simulate", json=body)
    assert r.status_code == status, r.text
    problems = r.json()["problems"]
    assert any(field in p["field"] for p in problems), problems


def test_a_body_that_is_not_json_is_422(client):
    r = client.post("/api/pathway/simulate", content=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"] == "ValidationError"


def test_a_body_over_the_limit_is_413_before_it_is_read(client):
    from her2lab.api import MAX_BODY_BYTES

    r = client.post("/api/pathway/simulate", content=b" " * (MAX_BODY_BYTES + 1),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == "TooLarge"


def test_model_downloads_in_each_format_read_back(client):
    params = {"profile": "pten_loss", "regimen": "trastuzumab+everolimus"}
    bnd, cfg = model_files(["pten_loss"], ["trastuzumab", "everolimus"])
    z = client.get("/api/pathway/model", params={**params, "format": "maboss"})
    assert z.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        assert zf.read("her2.bnd").decode() == bnd
        assert zf.read("her2.cfg").decode() == cfg
    assert client.get("/api/pathway/model", params={**params, "format": "cfg"}).text == cfg
    bnet = client.get("/api/pathway/model", params={**params, "format": "bnet"})
    assert "attachment" in bnet.headers["content-disposition"]
    sbml = client.get("/api/pathway/model", params={**params, "format": "sbml"})
    nodes_bnet = set(parse_bnet(bnet.text).nodes)
    assert nodes_bnet == set(parse_sbmlqual(sbml.text).nodes)
    assert {"PTEN", "Proliferation", "Apoptosis"} <= nodes_bnet


@pytest.mark.parametrize("params", [
    {"format": "gif"}, {"profile": "pten_loss:2"}, {"profile": "pten_loss:x"},
    {"profile": "nothing"}, {"regimen": "aspirin"},
])
def test_bad_model_downloads_are_4xx(client, params):
    r = client.get("/api/pathway/model", params=params)
    assert 400 <= r.status_code < 500
    assert r.json()["message"]


def test_a_screen_runs_as_a_job_and_gives_the_response_matrix(client):
    body = {"profiles": ["none", "pten_loss"], "regimens": ["trastuzumab"], "samples": 200}
    r = client.post("/api/pathway/screen", json=body)
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done", job
    res = job["result"]
    assert res["profiles"] == ["none", "pten_loss"] and res["regimens"] == ["trastuzumab"]
    ref = simulate(["pten_loss"], ["trastuzumab"], samples=200)
    assert res["response"][1][0] == pytest.approx(ref.response, abs=1e-12)
    assert job["progress"] == {"stage": "done", "done": 2, "total": 2}


def test_a_screen_over_the_cell_limit_is_refused(client):
    r = client.post("/api/pathway/screen", json={"profiles": "all", "regimens": "all-pairs"})
    assert r.status_code == 422
    assert "cells" in r.json()["problems"][0]["expected"]
