"""Run many independent tasks serially, on local processes, or on a Dask cluster.

Screens, calibrations, validations and design sweeps are maps of one function over many
items. :func:`executor` gives one of three back-ends behind one method, :meth:`Executor.map`::

    from her2lab.executor import executor
    from her2lab.seeds import DEFAULT_SEED

    with executor("processes", workers=4) as ex:          # or "serial", or "dask"
        results = ex.map(fn, items, seed=DEFAULT_SEED)      # fn(item, task_seed) per item

``"dask"`` starts a ``dask.distributed`` LocalCluster of ``workers`` processes, or connects to
a running scheduler when given its address (``scheduler="tcp://host:8786"``, or the
environment variable ``HER2LAB_DASK_SCHEDULER``), so a sweep runs on a cluster unchanged.

What every back-end guarantees:

* results come back in the order of ``items``, whatever the order tasks finish in;
* with ``seed``, item ``k`` gets its own seed, ``SeedSequence(seed).spawn(n)[k]`` (as a
  64-bit integer), so the results do not depend on how items are batched or scheduled: a
  map on 100 workers equals the serial one;
* items are sent in batches sized so that a task lasts about ``batch_seconds`` (default
  0.1 s: the first wave is of 2 items per worker, and their in-worker times, the first of
  each worker being its warm-up, set the batch size), so scheduling overhead stays small;
* ``progress(done, total)`` is called as items complete (the CLI shows a rich progress bar).

Functions must be importable (module-level) and their items and results picklable. The
numba kernels live in importable modules compiled with ``cache=True``, so every worker
loads them from the on-disk cache instead of compiling them again.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from her2lab.errors import Her2labError

__all__ = ["KINDS", "Executor", "ExecutorError", "MapStats", "executor", "task_seeds"]

Kind = Literal["serial", "processes", "dask"]
KINDS: tuple[str, ...] = ("serial", "processes", "dask")
SCHEDULER_ENV = "HER2LAB_DASK_SCHEDULER"


class ExecutorError(Her2labError):
    """An executor could not be set up (bad kind, workers, or an unreachable scheduler)."""


def task_seeds(seed: int, n: int) -> list[int]:
    """The seed of each of ``n`` tasks: the first 64-bit word of each child of
    ``numpy.random.SeedSequence(seed).spawn(n)``; it depends on the task's index only."""
    import numpy as np

    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]


def _run_batch(fn: Callable[..., Any], items: Sequence[Any],
               seeds: Sequence[int] | None) -> tuple[list[Any], list[float]]:
    """Run ``fn`` on a batch of items in a worker; return results and per-item seconds."""
    out, times = [], []
    for k, item in enumerate(items):
        t0 = time.perf_counter()
        out.append(fn(item) if seeds is None else fn(item, seeds[k]))
        times.append(time.perf_counter() - t0)
    return out, times


class MapStats:
    """What the last :meth:`Executor.map` measured: items, tasks (batches) sent, the wall
    time, the summed in-worker time of the items, and the batch size chosen."""

    def __init__(self) -> None:
        self.items = 0
        self.tasks = 0
        self.wall_s = 0.0
        self.busy_s = 0.0
        self.batch = 1

    def as_dict(self) -> dict[str, float]:
        return {"items": self.items, "tasks": self.tasks, "wall_s": self.wall_s,
                "busy_s": self.busy_s, "batch": self.batch}


class Executor:
    """One back-end; use :func:`executor` to make one, and close it (or use ``with``)."""

    def __init__(self, kind: Kind, workers: int, scheduler: str | None = None,
                 processes: bool = True, timeout: float = 20.0) -> None:
        self.kind = kind
        self.workers = workers
        self.scheduler = scheduler
        self.stats = MapStats()
        self._pool: Any = None
        self._client: Any = None
        self._cluster: Any = None
        if kind == "processes":
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: forking a process whose numba threads are running is unsafe
            self._pool = ProcessPoolExecutor(max_workers=workers,
                                             mp_context=multiprocessing.get_context("spawn"))
        elif kind == "dask":
            try:
                from dask.distributed import Client, LocalCluster
            except ImportError as exc:  # pragma: no cover - a dependency of the package
                raise ExecutorError(
                    "the dask executor needs dask.distributed: pip install 'dask[distributed]'"
                ) from exc
            try:
                if scheduler:
                    self._client = Client(scheduler, timeout=f"{timeout}s")
                    self.workers = max(1, len(self._client.scheduler_info()["workers"]))
                else:
                    self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                                 processes=processes, dashboard_address=None)
                    self._client = Client(self._cluster)
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(
                    f"cannot reach the Dask scheduler at {scheduler!r}: {exc}. Start one "
                    "(dask scheduler; dask worker ADDRESS) or leave --scheduler out for a "
                    "local cluster"
                ) from exc

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f", scheduler={self.scheduler!r}" if self.scheduler else ""
        return f"<Executor {self.kind}: {self.workers} workers{where}>"

    # ------------------------------------------------------------------ map
    def map(
        self,
        fn: Callable[..., Any],
        items: Iterable[Any],
        *,
        seed: int | None = None,
        batch_seconds: float = 0.1,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Any]:
        """``[fn(item) for item in items]`` (``fn(item, task_seed)`` with ``seed``), in the
        order of ``items``, on this executor's workers."""
        items = list(items)
        n = len(items)
        seeds = task_seeds(seed, n) if seed is not None else None
        self.stats = stats = MapStats()
        stats.items = n
        t0 = time.perf_counter()
        if self.kind == "serial" or n == 0:
            out: list[Any] = []
            for k, item in enumerate(items):
                t1 = time.perf_counter()
                out.append(fn(item) if seeds is None else fn(item, seeds[k]))
                stats.busy_s += time.perf_counter() - t1
                if progress is not None:
                    progress(k + 1, n)
            stats.tasks = n
            stats.wall_s = time.perf_counter() - t0
            return out
        results: list[Any] = [None] * n
        done = 0
        next_item = 0
        pending: dict[Any, tuple[int, int]] = {}  # future -> (first item, count)
        warm: list[float] = []  # in-worker times of items after each task's first
        batch = 0  # decided once the first wave is back

        def submit(start: int, count: int) -> None:
            chunk = items[start:start + count]
            cseeds = seeds[start:start + count] if seeds is not None else None
            fut = self._submit(_run_batch, fn, chunk, cseeds)
            pending[fut] = (start, count)
            stats.tasks += 1

        # first wave: 2 items per worker (the first of each task pays the worker's warm-up)
        for _ in range(self.workers):
            if next_item >= n:
                break
            count = min(2, n - next_item)
            submit(next_item, count)
            next_item += count
        while pending:
            finished = self._wait_any(list(pending))
            for fut in finished:
                start, count = pending.pop(fut)
                out_chunk, times = fut.result()
                results[start:start + count] = out_chunk
                stats.busy_s += sum(times)
                warm.extend(times[1:] or times)
                done += count
                if progress is not None:
                    progress(done, n)
            # refill: keep two tasks per worker in flight
            while next_item < n and len(pending) < 2 * self.workers:
                if not batch:
                    per_item = sorted(warm)[len(warm) // 2] if warm else batch_seconds
                    batch = max(1, math.ceil(batch_seconds / max(per_item, 1e-6)))
                    stats.batch = batch
                left = n - next_item
                # never fewer tasks than workers at the end: balance beats batching there
                count = max(1, min(batch, math.ceil(left / self.workers)))
                submit(next_item, count)
                next_item += count
        stats.wall_s = time.perf_counter() - t0
        return results

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.kind == "processes":
            return self._pool.submit(fn, *args)
        return self._client.submit(fn, *args, pure=False)

    def _wait_any(self, futures: list[Any]) -> list[Any]:
        if self.kind == "processes":
            from concurrent.futures import FIRST_COMPLETED, wait

            return list(wait(futures, return_when=FIRST_COMPLETED).done)
        from dask.distributed import wait as dwait

        return list(dwait(futures, return_when="FIRST_COMPLETED").done)


def executor(kind: str = "serial", *, workers: int | None = None,
             scheduler: str | None = None, processes: bool = True,
             timeout: float = 20.0) -> Executor:
    """An :class:`Executor` of ``kind`` ``"serial"``, ``"processes"`` or ``"dask"``.

    ``workers`` defaults to the number of CPUs (1 for serial). For Dask, ``scheduler`` (or
    the environment variable ``HER2LAB_DASK_SCHEDULER``) is the address of a running
    scheduler; without one a LocalCluster of ``workers`` worker processes is started
    (``processes=False``: threads in this process, for tests). ``timeout``: seconds to
    wait for a scheduler to answer.
    """
    if kind not in KINDS:
        raise ExecutorError(f"executor kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ExecutorError(f"workers must be an int >= 1; got {workers!r}")
    if scheduler is not None and kind != "dask":
        raise ExecutorError(f"a scheduler address is for the dask executor, not {kind!r}")
    if kind == "serial":
        return Executor("serial", 1)
    n = workers or os.cpu_count() or 1
    if kind == "dask":
        scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    return Executor(kind, n, scheduler=scheduler, processes=processes,  # type: ignore[arg-type]
                    timeout=timeout)
