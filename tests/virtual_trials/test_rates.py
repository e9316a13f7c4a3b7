"""The adapter to the pathway layer: the pathway model's rates as it gives them, graded
profiles, memoised; micrometastatic disease without angiogenesis."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import her2lab.pathway as pathway
from her2lab.pathway import Rates
from her2lab.virtual_trials.rates import RatesModel, angiogenic_only, micrometastatic


def test_the_pathway_models_rates_are_used_as_given_for_a_graded_profile(monkeypatch):
    rates = Rates(0.7, {"targeted": 0.2, "immune": 0.1, "cytotoxic": 0.3, "payload": 0.0})
    calls = []

    def fake(profile, regimen, **kw):
        calls.append((profile, tuple(regimen)))
        return SimpleNamespace(rates=rates)  # a result: only its rates are read

    monkeypatch.setattr(pathway, "simulate", fake)
    rm = RatesModel(samples=10)
    r = rm.rates({"pten_loss": 0.6, "vegf_high": 0.0}, ["trastuzumab", "docetaxel"],
                 hr_positive=True)
    assert r is rates and r.total_kill == pytest.approx(0.6)
    # the degrees as given (a mechanism of degree 0 is absent), HR status as the attribute
    assert calls == [({"pten_loss": 0.6, "hr_positive": 1.0}, ("docetaxel", "trastuzumab"))]
    rm.rates({"pten_loss": 0.6}, ["docetaxel", "trastuzumab"], hr_positive=True)
    assert len(calls) == 1 and rm.calls == 1  # same drugs, another order: memoised


def test_a_prefetched_rate_equals_the_one_asked_for_alone():
    # the pathway model itself, on few trajectories: simulate_many's batch and simulate agree
    one, batch = RatesModel(samples=16, seed=3), RatesModel(samples=16, seed=3)
    prof, drugs = {"pten_loss": 0.5}, ("trastuzumab",)
    batch.prefetch([(prof, drugs, {}, False), (prof, drugs, {}, True)])
    assert batch.calls == 2
    for hr in (False, True):
        assert batch.rates(prof, drugs, hr_positive=hr) == one.rates(prof, drugs, hr_positive=hr)
    assert batch.calls == 2  # both memoised by the prefetch


def test_micrometastatic_disease_leaves_out_angiogenesis():
    prof, drugs = micrometastatic({"vegf_high": 0.5, "pten_loss": 1.0},
                                  ["bevacizumab", "trastuzumab", "sorafenib"])
    assert prof == {"pten_loss": 1.0}
    assert drugs == ("trastuzumab", "sorafenib")  # sorafenib also inhibits ERK
    assert angiogenic_only("bevacizumab") and not angiogenic_only("trastuzumab")
