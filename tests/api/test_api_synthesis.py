"""Synthesis through the API: a meta-analysis of given studies, and the knowledge base's pooled
analyses with their forest plots where the installed synthesis has them."""

from __future__ import annotations

import importlib
import importlib.util

import pytest

if importlib.util.find_spec("her2lab.synthesis") is None:  # pragma: no cover
    pytest.skip("her2lab.synthesis is not installed", allow_module_level=True)

POOLED = hasattr(importlib.import_module("her2lab.synthesis"), "pool_kb")
needs_pooled = pytest.mark.skipif(not POOLED, reason="this her2lab.synthesis has no pool_kb")

STUDIES = [{"label": "A", "estimate": 0.70, "ci_low": 0.55, "ci_high": 0.89},
           {"label": "B", "estimate": 0.80, "ci_low": 0.62, "ci_high": 1.03}]


def test_a_meta_analysis_is_the_librarys(client):
    from her2lab.synthesis import meta_analysis

    r = client.post("/api/synthesis/meta-analysis", json={"studies": STUDIES, "method": "REML"})
    assert r.status_code == 200, r.text
    got = r.json()
    ref = meta_analysis(["A", "B"], [0.70, 0.80], [0.55, 0.62], [0.89, 1.03], measure="HR",
                        method="REML").to_dict()
    assert got["estimate"] == pytest.approx(ref["estimate"], rel=1e-12)
    assert round(got["estimate"], 3) == 0.746  # her2lab.synthesis's own worked example


@pytest.mark.parametrize("body, field", [
    ({"studies": []}, "studies"),
    ({"studies": STUDIES, "method": "ML"}, "method"),
    ({"studies": [{**STUDIES[0], "estimate": "x"}]}, "studies[0].estimate"),
    ({"studies": STUDIES * 101}, "studies"),
])
def test_bad_meta_analyses_are_422(client, body, field):
    r = client.post("/api/synthesis/meta-analysis", json=body)
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == field


@needs_pooled
def test_the_pooled_analyses_that_include_a_trial(client):
    from her2lab.synthesis import kb_questions, pool_kb

    qs = client.get("/api/synthesis/questions").json()
    assert [q["id"] for q in qs] == [q.id for q in kb_questions()]
    found = client.get("/api/synthesis/pooled", params={"trial": "NeoSphere"}).json()
    assert found and all("neosphere" in [s["trial"] for s in a["studies"]] for a in found)
    one = found[0]
    ref = pool_kb(one["question"]).to_dict()
    assert [s["trial"] for s in one["studies"]] == [s["trial"] for s in ref["studies"]]
    svg = client.get(one["forest_svg"])
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text


@needs_pooled
def test_unknown_questions_and_trials_are_404(client):
    assert client.get("/api/synthesis/pooled/no_such_question").status_code == 404
    assert client.get("/api/synthesis/pooled", params={"trial": "nope"}).status_code == 404
