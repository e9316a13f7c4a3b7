"""Simulating (profile, regimen) pairs: result shape, rates, time courses, reproducibility,
batches, graded mechanisms and drugs, the cache."""

from __future__ import annotations

import math

import numpy as np
import pytest

from her2lab.errors import SimulationError
from her2lab.pathway import KILL_SOURCES, PHENOTYPES, model_files, simulate, simulate_many
from her2lab.pathway.cache import ResultCache, cache_dir


def _margin(a, b, k=4.0):
    """k standard errors of the difference of two independent response estimates."""
    return k * math.hypot(a.response_se, b.response_se)


def test_a_result_has_the_documented_json_shape(sim):
    d = sim("none", "trastuzumab").to_dict()
    assert d["profile"] == [] and d["regimen"] == ["trastuzumab"] and d["hr_positive"] == 0
    assert set(d["phenotypes"]) == set(PHENOTYPES)
    assert all(0 <= v <= 1 for v in d["phenotypes"].values())
    assert set(d["rates"]) == {"growth", "kill", "total_kill", "units"}
    assert set(d["rates"]["kill"]) == set(KILL_SOURCES) and d["rates"]["units"] == "per day"
    assert 0 <= d["response"] <= 1


def test_the_response_is_kill_over_kill_plus_growth(sim):
    r = sim("none", "trastuzumab+docetaxel")
    k, g = r.rates.total_kill, r.rates.growth
    assert r.rates.total_kill == pytest.approx(sum(r.rates.kill.values()))
    assert r.response == pytest.approx(k / (k + g))


def test_the_untreated_tumor_grows_faster_than_it_is_killed(sim):
    r = sim("none", "none")
    assert r.phenotypes["proliferation"] > 0.7
    assert r.rates.growth > 2 * r.rates.total_kill
    assert r.rates.kill["payload"] == r.rates.kill["cytotoxic"] == 0.0
    assert r.response < 0.3


def test_time_courses_are_daily_and_death_curves_never_fall(sim):
    r = sim("pten_loss", "trastuzumab_emtansine+docetaxel")
    tc = r.time_course
    assert tc.times[0] == 0 and np.allclose(np.diff(tc.times), 1.0)
    assert set(tc.values) == set(PHENOTYPES)
    for key in ("apoptosis", "immune_kill"):
        assert np.all(np.diff(tc[key]) >= -1e-12), key
    assert tc["apoptosis"][-1] == pytest.approx(r.phenotypes["apoptosis"])


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others():
    a = simulate("pten_loss", "trastuzumab+everolimus", samples=500, seed=11, cache=False)
    b = simulate("pten_loss", "trastuzumab+everolimus", samples=500, seed=11, cache=False)
    c = simulate("pten_loss", "trastuzumab+everolimus", samples=500, seed=12, cache=False)
    assert a.nodes == b.nodes and a.rates == b.rates
    assert a.nodes != c.nodes
    assert abs(a.response - c.response) < _margin(a, c)


def test_simulate_many_gives_what_simulate_gives_in_order():
    pairs = [("none", "trastuzumab"), ({"pten_loss": 0.5}, "everolimus"),
             ("p95her2,hr_positive", "lapatinib+capecitabine"), ("none", "trastuzumab")]
    many = simulate_many(pairs, samples=300, seed=5, cache=False)
    one = [simulate(p, r, samples=300, seed=5, cache=False) for p, r in pairs]
    assert [m.nodes for m in many] == [o.nodes for o in one]
    assert [m.regimen for m in many] == [o.regimen for o in one]


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_a_result_does_not_depend_on_the_threads_that_ran_it(cpus, monkeypatch):
    # a run is split into a fixed number of chunks, run on up to that many threads (no more
    # than the CPUs): the numbers are the same whatever the machine
    import her2lab.boolnet.stochastic as stochastic

    ref = simulate("p95her2", "trastuzumab+pertuzumab+docetaxel", samples=400, seed=3,
                   cache=False)
    monkeypatch.setattr(stochastic.os, "cpu_count", lambda: cpus)
    got = simulate("p95her2", "trastuzumab+pertuzumab+docetaxel", samples=400, seed=3,
                   cache=False)
    assert got.nodes == ref.nodes and got.rates == ref.rates


def test_a_run_through_overrides_equals_a_fresh_simulator_on_the_perturbed_model():
    """The condition is applied to the compiled model; the same numbers come from building the
    perturbed model and a new simulator (the condition's stream seed)."""
    from her2lab.boolnet import StochasticSimulator
    from her2lab.pathway.response import READ_NODES
    from her2lab.pathway.simulate import _condition, condition_model, stream_seed

    cond = _condition({"pik3ca_mutation": 0.7, "hr_positive": True},
                      "trastuzumab+buparlisib+paclitaxel", None)
    fresh = StochasticSimulator(condition_model(cond), samples=300, max_time=30.0,
                                time_tick=1.0, threads=1, outputs=[], chunks=2,
                                keep_final_states=False,
                                integrate=list(READ_NODES)).run(seed=stream_seed(cond, 9))
    ours = simulate(cond.profile, cond.regimen, samples=300, seed=9, cache=False)
    names = list(fresh.node_names)
    assert ours.nodes == pytest.approx(
        {n: float(fresh.node_probabilities[5:, names.index(n)].mean()) for n in names},
        abs=1e-12)


def test_a_mechanism_degree_mixes_the_two_subclones_linearly(sim):
    """Degree d: a share d of the cells carries the mechanism, so every window mean is
    (1 - d) * (without) + d * (with), within Monte Carlo error (4 SE of the difference)."""
    lo, hi = sim("none", "trastuzumab", samples=4000), sim("pten_loss", "trastuzumab",
                                                          samples=4000)
    mid = sim("pten_loss=0.5", "trastuzumab", samples=4000)
    for node in ("Proliferation", "AKT", "S6", "ERK"):
        expected = 0.5 * lo.nodes[node] + 0.5 * hi.nodes[node]
        se = math.sqrt(0.25 / 4000) * 1.5
        assert abs(mid.nodes[node] - expected) < 4 * se, node


def test_trastuzumab_potency_grades_the_response(sim):
    """Response rises with potency 0 -> 0.45 -> 0.9, each step beyond 4 standard errors."""
    r0 = sim("none", "trastuzumab", samples=8000, potency=(("trastuzumab", 0.0),))
    r1 = sim("none", "trastuzumab", samples=8000, potency=(("trastuzumab", 0.45),))
    r2 = sim("none", "trastuzumab", samples=8000, potency=(("trastuzumab", 0.9),))
    assert r1.response - r0.response > _margin(r0, r1)
    assert r2.response - r1.response > _margin(r1, r2)
    untreated = sim("none", "none", samples=8000)
    # the same profile's stream (pathway.simulate.stream_seed), the same trajectories
    assert r0.nodes == untreated.nodes, "potency 0 is no drug at all"


def test_a_second_call_comes_from_the_cache_with_identical_numbers(tmp_path):
    store = ResultCache(tmp_path)
    a = simulate("p95her2", "lapatinib", samples=300, seed=2, cache=store)
    b = simulate("p95her2", "lapatinib", samples=300, seed=2, cache=store)
    assert not a.cached and b.cached
    assert a.nodes == b.nodes and a.rates == b.rates and len(store) == 1
    assert a.time_course == b.time_course


def test_the_cache_key_covers_seed_samples_potency_degree_and_hr(tmp_path):
    store = ResultCache(tmp_path)
    simulate("none", "lapatinib", samples=300, seed=2, cache=store)
    simulate("none", "lapatinib", samples=300, seed=3, cache=store)
    simulate("none", "lapatinib", samples=301, seed=2, cache=store)
    simulate("none", "lapatinib", samples=300, seed=2, cache=store, potency={"lapatinib": 0.5})
    simulate("p95her2=0.5", "lapatinib", samples=300, seed=2, cache=store)
    simulate("none", "lapatinib", samples=300, seed=2, cache=store, hr_positive=True)
    assert len(store) == 6
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


def test_model_files_bake_the_condition_into_the_configuration():
    _bnd, cfg = model_files("muc4_masking=0.4", "trastuzumab", samples=123, seed=9)
    assert "$u_TZ = 0.9;" in cfg
    assert "[M_muc4_masking].istate = 0.4 [1], 0.6 [0];" in cfg
    assert "sample_count = 123;" in cfg and "seed_pseudorandom = 9;" in cfg
