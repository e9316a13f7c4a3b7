"""The executor: every back-end returns the serial results, in order, with per-item seeds that
depend on the item's index only (not on batching or scheduling)."""

from __future__ import annotations

import operator

import numpy as np
import pytest

from her2lab.executor import ExecutorError, executor, task_seeds


def test_task_seeds_come_from_seedsequence_spawn():
    seeds = task_seeds(7, 5)
    children = np.random.SeedSequence(7).spawn(5)
    assert seeds == [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]
    assert len(set(seeds)) == 5
    assert task_seeds(7, 8)[:5] == seeds  # a seed depends on its index, not on the count


def test_serial_map_keeps_order_reports_progress_and_passes_seeds():
    seen = []
    with executor("serial") as ex:
        out = ex.map(operator.neg, range(5), progress=lambda d, t: seen.append((d, t)))
        assert out == [0, -1, -2, -3, -4]
        assert seen[-1] == (5, 5)
        assert ex.map(operator.add, [10, 20], seed=3) == [
            i + s for i, s in zip([10, 20], task_seeds(3, 2), strict=True)]
        assert ex.map(operator.neg, []) == []


@pytest.mark.slow
def test_local_processes_equal_serial_whatever_the_batching():
    items = list(range(37))
    serial = executor("serial").map(operator.add, items, seed=11)
    with executor("processes", workers=2) as ex:
        # tiny items: the batch size grows to fill ~0.1 s, and order must survive it
        assert ex.map(operator.add, items, seed=11) == serial
        assert ex.stats.items == 37 and ex.stats.batch > 1 and ex.stats.tasks < 37


@pytest.mark.slow
def test_dask_on_a_two_worker_local_cluster_equals_serial():
    # processes=False (worker threads in this process) keeps the test to about a second; the
    # processes=True path runs the same code in bench/engine.py
    items = list(range(23))
    serial = executor("serial").map(operator.add, items, seed=5)
    with executor("dask", workers=2, processes=False) as ex:
        assert ex.workers == 2
        done = []
        assert ex.map(operator.add, items, seed=5,
                      progress=lambda d, t: done.append(d)) == serial
        assert done[-1] == 23


def test_bad_settings_are_refused_clearly(monkeypatch):
    with pytest.raises(ExecutorError, match="one of serial, processes, dask"):
        executor("mpi")
    with pytest.raises(ExecutorError, match="workers must be an int >= 1"):
        executor("processes", workers=0)
    with pytest.raises(ExecutorError, match="scheduler address is for the dask executor"):
        executor("processes", scheduler="tcp://127.0.0.1:1")
    monkeypatch.setenv("HER2LAB_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler at 'tcp://127"):
        executor("dask", timeout=1.0)


@pytest.mark.slow
def test_a_screen_on_dask_equals_the_serial_screen():
    from her2lab.pathway.screen import screen

    kw = dict(samples=300, seed=4, cache=False)
    profiles, regimens = ["none", "pten_loss"], ["none", "trastuzumab", "lapatinib"]
    serial = screen(profiles, regimens, **kw)
    with executor("dask", workers=2, processes=False) as ex:
        done = []
        dask = screen(profiles, regimens, executor=ex, progress=lambda d, t: done.append(d), **kw)
    assert dask.rows() == serial.rows()
    assert done[-1] == 6
