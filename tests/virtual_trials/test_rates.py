"""The adapter to the pathway layer: the contract's rates when given, else read from the
phenotypes; memoised; micrometastatic disease without angiogenesis."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import her2lab.pathway as pathway
from her2lab.virtual_trials.rates import RatesModel, angiogenic_only, micrometastatic


def _phenotypes(regimen):
    chemo = "docetaxel" in regimen
    return {"proliferation": 0.8, "angiogenesis": 0.6, "immune_kill": 0.3,
            "apoptosis": 0.6 if chemo else 0.4}


def test_the_contracts_rates_are_used_as_given(monkeypatch):
    rates = SimpleNamespace(growth=0.7, kill={"targeted": 0.2, "immune": 0.1, "cytotoxic": 0.3})
    monkeypatch.setattr(pathway, "simulate", lambda *a, **k: SimpleNamespace(rates=rates))
    rm = RatesModel(samples=10)
    rm._graded = True
    r = rm.rates({"pten_loss": 0.6}, ["trastuzumab", "docetaxel"])
    assert r.growth == 0.7 and r.total_kill == pytest.approx(0.6)


def test_without_rates_the_phenotypes_are_read_as_the_response_reads_them(monkeypatch):
    calls = []

    def fake(profile, regimen, **kw):
        calls.append(tuple(regimen))
        return SimpleNamespace(phenotypes=_phenotypes(regimen))

    monkeypatch.setattr(pathway, "simulate", fake)
    rm = RatesModel(samples=10)
    rm._graded = False
    r = rm.rates({}, ["trastuzumab", "docetaxel"])
    # growth = P(prolif) (1 - a + a P(angio)), a the pathway's angiogenesis weight
    from her2lab.pathway.response import ANGIOGENESIS_WEIGHT as a

    assert r.growth == pytest.approx(0.8 * (1 - a + a * 0.6))
    assert r.get("cytotoxic") == pytest.approx(0.2)  # apoptosis the chemotherapy adds
    assert r.get("targeted") == pytest.approx(0.4) and r.get("immune") == pytest.approx(0.3)
    rm.rates({}, ["docetaxel", "trastuzumab"])  # same drugs, another order: memoised
    assert len(calls) == 2  # the regimen, and the regimen without its cytotoxic


def test_micrometastatic_disease_leaves_out_angiogenesis():
    prof, drugs = micrometastatic({"vegf_high": 0.5, "pten_loss": 1.0},
                                  ["bevacizumab", "trastuzumab", "sorafenib"])
    assert prof == {"pten_loss": 1.0}
    assert drugs == ("trastuzumab", "sorafenib")  # sorafenib also inhibits ERK
    assert angiogenic_only("bevacizumab") and not angiogenic_only("trastuzumab")
