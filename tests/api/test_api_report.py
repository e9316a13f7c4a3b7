"""The strategy report through the API: a job, then its JSON and HTML; bad input refused."""

from __future__ import annotations

import pytest

from .conftest import wait_job

BODY = {"profile": "pten_loss,trastuzumab_pretreated", "setting": "metastatic_pretreated",
        "in_silico": False}


@pytest.fixture(scope="module")
def report(client):
    r = client.post("/api/reports", json=BODY)
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"], timeout=300)
    assert job["status"] == "done", job
    return job["result"]


def test_a_report_ranks_the_regimens_of_the_library(client, report):
    from her2lab.report import strategy_report

    ref = strategy_report(BODY["profile"], BODY["setting"], in_silico=False)
    assert [r["label"] for r in report["ranked"]] == [r.label for r in ref.ranked]
    assert report["disclaimer"] == "Research output, not medical advice"
    again = client.get(f"/api/reports/{report['id']}").json()
    assert again["ranked"] == report["ranked"]


def test_the_report_is_served_as_html(client, report):
    r = client.get(report["html"])
    assert r.headers["content-type"].startswith("text/html")
    assert "not medical advice" in r.text
    assert report["ranked"][0]["label"] in r.text


@pytest.mark.parametrize("body, field", [
    ({**BODY, "profile": "/etc/secret.yaml"}, "profile"),
    ({**BODY, "profile": "no_such_thing"}, "no_such_thing"),
    ({**BODY, "setting": "palliative"}, "setting"),
    ({**BODY, "samples": 10}, "samples"),
    ({**BODY, "calibration": "nope"}, "calibration"),
])
def test_bad_report_requests_are_4xx_naming_the_field(client, body, field):
    r = client.post("/api/reports", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert any(field in p["field"] for p in r.json()["problems"]), r.json()


def test_an_unknown_report_is_404(client):
    for path in ("/api/reports/nope", "/api/reports/nope/html", "/api/reports/nope/pdf"):
        assert client.get(path).status_code == 404
