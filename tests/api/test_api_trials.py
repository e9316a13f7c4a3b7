"""Virtual trials through the API: simulate, predict, design, calibrations; bad specs refused."""

from __future__ import annotations

import copy
import json

import pytest

from her2lab.api.routes.trials import MAX_ARM_N

from .conftest import wait_job

FAST = {"replicates": 2, "samples": 50, "panel": 4}


@pytest.fixture(scope="module")
def spec(client):
    return client.get("/api/virtual-trials/examples").json()["tdm1_anti_pd_l1"]


def test_the_examples_are_the_shipped_specifications(client):
    from her2lab.virtual_trials.spec import example_specs

    assert set(client.get("/api/virtual-trials/examples").json()) == set(example_specs())


def test_a_prediction_is_the_librarys_run_of_the_same_plan(app, client, spec):
    from her2lab.virtual_trials import TrialSpec, resolve_spec
    from her2lab.virtual_trials.defaults import RunSettings
    from her2lab.virtual_trials.trial import TrialPlan, run_trial

    r = client.post("/api/virtual-trials/predict", json={"spec": spec, **FAST})
    assert r.status_code == 200, r.text
    got = r.json()
    plan = TrialPlan.from_spec(resolve_spec(TrialSpec.model_validate(spec)))
    ref = run_trial(plan, app.state.calibrations.obj("default"),
                    settings=RunSettings(replicates=2, samples=50, panel_size=4)).to_dict()
    assert got["effect"]["estimate"] == pytest.approx(ref["effect"]["estimate"], rel=1e-12)
    assert set(got["curves"]) == {a["name"] for a in spec["arms"]}
    assert got["calibration"] == "default" and "not medical advice" in got["notice"]


def test_a_knowledge_base_trial_is_simulated(client):
    r = client.post("/api/virtual-trials/simulate", json={"trial": "NeoSphere", **FAST})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["endpoint"] == "pCR" and not got["curves"]  # binary: rates, no curves
    from her2lab.knowledge import load

    assert {a["name"] for a in got["arms"]} == {a.id for a in load().trial("neosphere").arms}


def _bad(spec, path, value):
    s = copy.deepcopy(spec)
    target = s
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return s


@pytest.mark.parametrize("path, value, field", [
    (("arms", 0, "regimen", 0), "aspirin", "spec.arms[0].regimen[0]"),
    (("arms", 0, "n"), 0, "spec.arms[0].n"),
    (("arms", 0, "n"), MAX_ARM_N + 1, "spec.arms[0].n"),
    (("control",), "nobody", "spec.control"),
    (("endpoint",), "QoL", "spec.endpoint"),
    (("population", "require"), ["not_a_mechanism"], "spec.population.require[0]"),
    (("dropout_per_year",), 1.5, "spec.dropout_per_year"),
])
def test_malformed_specifications_are_422_naming_the_field(client, spec, path, value, field):
    r = client.post("/api/virtual-trials/predict", json={"spec": _bad(spec, path, value), **FAST})
    assert r.status_code == 422, r.text
    fields = [p["field"] for p in r.json()["problems"]]
    assert any(f.endswith(field.removeprefix("spec.")) for f in fields), fields


@pytest.mark.parametrize("body", [
    {"trial": "no_such_trial"}, {"trial": "cleopatra", "calibration": "nope"},
])
def test_unknown_trials_and_calibrations_are_404(client, body):
    r = client.post("/api/virtual-trials/simulate", json=body)
    assert r.status_code == 404
    assert r.json()["valid"]


@pytest.mark.parametrize("settings", [{"replicates": 0}, {"replicates": 21}, {"samples": 10},
                                      {"panel": 1000}])
def test_out_of_range_settings_are_422(client, settings):
    r = client.post("/api/virtual-trials/simulate", json={"trial": "cleopatra", **settings})
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == next(iter(settings))


DESIGN = {"name": "TDM1-VS-CAPECITABINE", "setting": "metastatic_first_line", "endpoint": "PFS",
          "arms": [{"name": "tdm1", "regimen": ["T-DM1"], "n": 100},
                   {"name": "cape", "regimen": ["capecitabine"], "n": 100}], "control": "cape"}


def test_a_design_runs_as_a_job_beside_the_formula(client):
    r = client.post("/api/virtual-trials/design",
                    json={"spec": DESIGN, "replicates": 20, "samples": 50, "panel": 4})
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done", job
    res = job["result"]
    assert res["expected_effect"]["measure"] == "HR"
    assert res["formula"]["hr"] == res["expected_effect"]["estimate"]
    # Schoenfeld's formula and the simulation answer the same question: the same order of size
    assert 0.25 < res["simulation"]["n_per_arm"] / res["formula"]["n_per_arm"] < 4


def test_a_design_needs_two_arms(client, spec):
    three = copy.deepcopy(spec)
    three["arms"].append({"name": "third", "regimen": [], "n": 10})
    r = client.post("/api/virtual-trials/design", json={"spec": three})
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "spec.arms"


def test_calibrations_are_named_resources(client, tmp_path):
    cals = client.get("/api/calibrations").json()
    assert [c["name"] for c in cals][:1] == ["default"]
    from her2lab.virtual_trials.link import LinkParams

    assert client.get("/api/calibrations/default").json()["params"] == LinkParams().to_dict()
    assert client.get("/api/calibrations/nope").status_code == 404


def test_a_calibration_job_adds_a_calibration(client, tmp_path):
    body = {"as_of": "2011-01-01", "name": "test-2011", "panel": 4, "samples": 50}
    r = client.post("/api/calibrations", json=body)
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"], timeout=300)
    assert job["status"] == "done", job
    cal = client.get("/api/calibrations/test-2011").json()
    assert cal["source"] == "job" and cal["as_of"] == "2011-01-01"
    assert cal["detail"]["settings"]["targets"] >= 1
    again = client.post("/api/calibrations", json=body)
    assert again.status_code == 409
    # the same calibration written to a file (as 'her2lab trials calibrate' does) is offered
    # by a server started with it
    from fastapi.testclient import TestClient

    from her2lab.api import create_app

    f = tmp_path / "calibration.json"
    f.write_text(json.dumps(cal["detail"]))
    with TestClient(create_app(calibration_files=[f]), base_url="http://localhost") as c:
        got = c.get("/api/calibrations/as-of-2011-01-01").json()
        assert got["params"] == cal["params"] and got["source"] == "file"
        r = c.post("/api/virtual-trials/simulate",
                   json={"trial": "cleopatra", "calibration": "as-of-2011-01-01", **FAST})
        assert r.status_code == 200, r.text


def test_a_calibration_before_any_result_fails_with_a_message(client):
    r = client.post("/api/calibrations", json={"as_of": "1990-01-01", "name": "too-early"})
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "failed"
    assert "1990-01-01" in job["error"]["message"]
