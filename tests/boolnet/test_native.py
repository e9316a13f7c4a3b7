"""The kernel's two builds (the shared library of _native, numba's own) and its threads."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import her2lab.boolnet.stochastic as stochastic
from her2lab.boolnet import Node, Overrides, StochasticSimulator, _native
from her2lab.boolnet.generate import random_model


def _same(a, b) -> None:
    assert a.n_transitions == b.n_transitions
    assert np.array_equal(a.node_probabilities, b.node_probabilities)
    assert np.array_equal(a.state_keys, b.state_keys)
    assert np.array_equal(a.state_probabilities, b.state_probabilities)
    assert np.array_equal(a.final_states, b.final_states)


def _model():
    # tables, a program node (its rate reads a parameter) and a joint group of two nodes
    model = random_model(20, seed=5, n_mutations=1)
    model.parameters["k"] = 1.5
    model.set_node(Node("N0", "N1 & !N2 | N3", rate_up="@logic ? $k * (N5 ? 2 : 0.5) : 0",
                        rate_down="@logic ? 0 : 1 + N6 / 2"))
    return model


@pytest.fixture
def native():
    fn = _native.load()
    if fn is None:
        pytest.skip("the kernel's shared library could not be built here (no C compiler?)")
    return fn


def test_the_shared_library_gives_bit_for_bit_numbas_results(native, monkeypatch):
    from her2lab.boolnet._kernel import simulate_chunks

    model = _model()
    sets = [None, Overrides(parameters={"k": 0.2}), Overrides(fixed={"N4": True})]
    got = {}
    for kind, fn in (("native", native), ("numba", simulate_chunks)):
        monkeypatch.setattr(stochastic, "_runner", (kind, fn))
        sim = StochasticSimulator(model, samples=700, max_time=6, time_tick=0.5, threads=3)
        discrete = StochasticSimulator(model, samples=300, max_time=6, time_tick=0.5,
                                       threads=1, discrete_time=True)
        got[kind] = [*sim.run_batch(sets, seed=11), discrete.run(seed=2)]
    for a, b in zip(got["native"], got["numba"], strict=True):
        _same(a, b)


@pytest.mark.parametrize("cpus", [1, 2, 8])
def test_a_result_depends_on_the_chunks_not_on_the_threads_that_ran_them(cpus, monkeypatch):
    model = _model()
    sim = StochasticSimulator(model, samples=900, max_time=5, time_tick=0.5, threads=4)
    before = sim.run(seed=4)
    batch_before = sim.run_batch([None, Overrides(up_factor={"N3": 0.5})], seed=4)
    monkeypatch.setattr(stochastic.os, "cpu_count", lambda: cpus)
    _same(sim.run(seed=4), before)
    for a, b in zip(sim.run_batch([None, Overrides(up_factor={"N3": 0.5})], seed=4),
                    batch_before, strict=True):
        _same(a, b)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_with_chunks_given_a_result_does_not_depend_on_the_threads(threads):
    model = _model()
    kw = dict(samples=900, max_time=5, time_tick=0.5, chunks=3)
    ref = StochasticSimulator(model, threads=1, **kw).run(seed=7)
    _same(StochasticSimulator(model, threads=threads, **kw).run(seed=7), ref)
    # chunks default to threads: the same chunking gives the same result
    _same(StochasticSimulator(model, threads=3, samples=900, max_time=5,
                              time_tick=0.5).run(seed=7), ref)


def test_chunks_handed_out_several_at_a_time_give_the_one_thread_result(monkeypatch):
    # 12 sets x 4 chunks = 48 chunks on 2 threads: handed out 3 at a time (48 // 16); a chunk
    # skipped would leave its rows at zero and a chunk run twice would count its trajectories
    # twice, either of which changes every probability
    monkeypatch.setattr(stochastic.os, "cpu_count", lambda: 2)
    model = _model()
    sets = [None] + [Overrides(up_factor={"N3": 0.1 * k}) for k in range(1, 12)]
    kw = dict(samples=400, max_time=5, time_tick=0.5, chunks=4)
    ref = StochasticSimulator(model, threads=1, **kw).run_batch(sets, seed=11)
    got = StochasticSimulator(model, threads=2, **kw).run_batch(sets, seed=11)
    for a, b in zip(got, ref, strict=True):
        _same(a, b)


def test_chunks_must_be_none_or_a_positive_int():
    from her2lab.errors import SimulationError

    with pytest.raises(SimulationError, match="chunks"):
        StochasticSimulator(_model(), chunks=0).run()


def test_a_failed_build_leaves_the_numba_kernel_and_is_not_tried_again(monkeypatch, tmp_path):
    calls = []

    def fail(target, cc):
        calls.append(target)
        raise OSError("no linker")

    monkeypatch.setattr(_native, "_cache_dirs", lambda: [tmp_path / "a"])
    monkeypatch.setattr(_native, "_build", fail)
    monkeypatch.setattr(_native.shutil, "which", lambda cc: "/usr/bin/cc")
    assert _native.load() is None
    assert len(calls) == 1
    assert "no linker" in next((tmp_path / "a").glob("*.failed")).read_text()
    assert _native.load() is None
    assert len(calls) == 1  # the failure is remembered for this source and CPU
    monkeypatch.setattr(_native.shutil, "which", lambda cc: None)
    monkeypatch.setattr(_native, "_cache_dirs", lambda: [tmp_path / "b"])
    assert _native.load() is None  # no C compiler: not even tried
    assert len(calls) == 1
    monkeypatch.setenv("HER2LAB_NATIVE", "0")
    assert _native.load() is None


def test_a_run_with_the_library_built_does_not_import_numba(native):
    code = (
        "import sys\n"
        "from her2lab.boolnet import StochasticSimulator\n"
        "from her2lab.boolnet.generate import random_model\n"
        "m = random_model(10, seed=1)\n"
        "r = StochasticSimulator(m, samples=200, max_time=2, threads=2).run(seed=1)\n"
        "print(r.n_transitions > 0, 'numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    assert out == ["True", "False"]
