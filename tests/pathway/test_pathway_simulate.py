"""Simulating a (profile, regimen): shape of the result, reproducibility, graded drugs, cache."""

from __future__ import annotations

import math

import pytest

from her2lab.errors import SimulationError
from her2lab.pathway import PHENOTYPES, model_files, simulate
from her2lab.pathway.cache import ResultCache, cache_dir


def _margin(a, b, k=4.0):
    """k standard errors of the difference of two independent response estimates."""
    return k * math.hypot(a.response_se, b.response_se)


def test_a_result_has_the_documented_json_shape(sim):
    d = sim("none", "trastuzumab").to_dict()
    assert d["profile"] == [] and d["regimen"] == ["trastuzumab"]
    assert set(d["phenotypes"]) == set(PHENOTYPES)
    assert all(0 <= v <= 1 for v in d["phenotypes"].values())
    assert 0 <= d["response"] <= 1


def test_the_untreated_sensitive_tumor_grows(sim):
    r = sim("none", "none")
    assert r.phenotypes["proliferation"] > 0.7
    assert r.phenotypes["apoptosis"] < 0.05 and r.phenotypes["immune_kill"] < 0.05
    assert r.response < 0.25


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others(cache):
    a = simulate("pten_loss", "trastuzumab+everolimus", samples=500, seed=11, cache=False)
    b = simulate("pten_loss", "trastuzumab+everolimus", samples=500, seed=11, cache=False)
    c = simulate("pten_loss", "trastuzumab+everolimus", samples=500, seed=12, cache=False)
    assert a.nodes == b.nodes
    assert a.nodes != c.nodes
    assert abs(a.response - c.response) < _margin(a, c)


def test_trastuzumab_potency_grades_the_response(sim):
    """Response rises with potency 0 -> 0.45 -> 0.9, each step beyond 4 standard errors."""
    r0 = sim("none", "trastuzumab", potency=(("trastuzumab", 0.0),))
    r1 = sim("none", "trastuzumab", potency=(("trastuzumab", 0.45),))
    r2 = sim("none", "trastuzumab", potency=(("trastuzumab", 0.9),))
    assert r1.response - r0.response > _margin(r0, r1)
    assert r2.response - r1.response > _margin(r1, r2)
    untreated = sim("none", "none")
    assert abs(r0.response - untreated.response) < _margin(r0, untreated)


def test_a_second_call_comes_from_the_cache_with_identical_numbers(tmp_path):
    store = ResultCache(tmp_path)
    a = simulate("p95her2", "lapatinib", samples=300, seed=2, cache=store)
    b = simulate("p95her2", "lapatinib", samples=300, seed=2, cache=store)
    assert not a.cached and b.cached
    assert a.nodes == b.nodes and len(store) == 1


def test_the_cache_key_covers_seed_samples_potency_and_backend(tmp_path):
    store = ResultCache(tmp_path)
    simulate("none", "lapatinib", samples=300, seed=2, cache=store)
    simulate("none", "lapatinib", samples=300, seed=3, cache=store)
    simulate("none", "lapatinib", samples=301, seed=2, cache=store)
    simulate("none", "lapatinib", samples=300, seed=2, cache=store, potency={"lapatinib": 0.5})
    assert len(store) == 4
    store.clear()
    assert len(store) == 0


def test_the_cache_directory_follows_her2lab_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HER2LAB_CACHE", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"
    simulate("none", "none", samples=50, seed=1)
    assert (tmp_path / "elsewhere" / "pathway.sqlite").is_file()


def test_bad_settings_are_reported():
    with pytest.raises(SimulationError, match="samples must be a positive integer"):
        simulate("none", "none", samples=0)
    with pytest.raises(SimulationError, match="backend must be one of"):
        simulate("none", "none", samples=10, backend="nope", cache=False)  # type: ignore[arg-type]


def test_model_files_bake_the_regimen_into_the_configuration():
    _bnd, cfg = model_files("muc4_masking", "trastuzumab", samples=123, seed=9)
    assert "$u_TZ = 0.9;" in cfg and "$u_MUC4 = 1;" in cfg
    assert "sample_count = 123;" in cfg and "seed_pseudorandom = 9;" in cfg


def test_the_engine_adapter_gives_what_the_engine_gives_on_the_full_files():
    """The adapter reads the .cfg of a known network with regular expressions; the numbers
    must be those of the engine's own parser, exactly (same seed, same model)."""
    from her2lab.boolnet import StochasticSimulator, parse_maboss
    from her2lab.pathway.engine import final_probabilities

    bnd, cfg = model_files("p95her2,pd_l1_high", "trastuzumab+anti_pd1+everolimus",
                           samples=300, seed=3)
    final_probabilities(bnd, model_files(samples=300, seed=3)[1])  # the network is now known
    fast = final_probabilities(bnd, cfg)
    sim = StochasticSimulator(parse_maboss(bnd, cfg), samples=300, max_time=40.0,
                              time_tick=1.0, threads=1,
                              outputs=["Proliferation", "Apoptosis", "Angiogenesis",
                                       "Immune_kill"], keep_final_states=False)
    assert fast == sim.run(seed=3).final
