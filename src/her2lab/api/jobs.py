"""Long work (a calibration, a large screen, a design by simulation) as bounded background jobs.

A :class:`JobPool` runs at most ``workers`` jobs at once in threads and accepts at most
``max_active`` jobs queued or running; one more is refused with 429 (:class:`~.errors.ApiError`)
rather than queued without end. Finished jobs are kept (the newest ``keep``) so their results
can be read; each reports ``progress`` as ``done`` of ``total`` in a named ``stage`` (the steps
known so far), and a finished job is at its total in the stage ``done``.

Compute slots (:class:`Slots`) bound the synchronous endpoints that simulate: at most ``n``
run at once, in the slots' own threads, and at most ``queue`` more wait for one; a request
beyond that is refused with 429 at once. A waiting request holds no thread, so the threads
that answer every other endpoint are never taken by simulations waiting their turn.

A job's ID is :func:`secrets.token_urlsafe` of 24 bytes (192 bits): knowing it is what lets
one read the job's result, and there is no list of them unless the server is started so.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from her2lab.api.errors import ApiError, ErrorOut, clean_json, her2lab_error_response
from her2lab.errors import Her2labError

__all__ = ["Job", "JobPool", "Progress", "Slots"]

T = TypeVar("T")

Status = Literal["queued", "running", "done", "failed"]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class Progress:
    stage: str = ""
    done: int = 0
    total: int = 0


@dataclass
class Job:
    id: str
    kind: str
    status: Status = "queued"
    progress: Progress = field(default_factory=Progress)
    result: Any = None
    error: ErrorOut | None = None
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None

    def report(self, stage: str, done: int, total: int) -> None:
        self.progress = Progress(stage, int(done), int(total))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "status": self.status,
            "progress": {"stage": self.progress.stage, "done": self.progress.done,
                         "total": self.progress.total},
            "result": self.result, "error": None if self.error is None else
            self.error.model_dump(), "created": self.created, "started": self.started,
            "finished": self.finished,
        }


class JobPool:
    """At most ``workers`` jobs run at once; at most ``max_active`` queued or running."""

    def __init__(self, workers: int = 1, max_active: int = 4, keep: int = 32) -> None:
        self.workers = workers
        self.max_active = max_active
        self.keep = keep
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="her2lab-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def active(self) -> int:
        return sum(j.status in ("queued", "running") for j in self._jobs.values())

    def submit(self, kind: str, fn: Callable[[Job], Any],
               on_done: Callable[[Job], None] | None = None) -> Job:
        """Queue ``fn(job)``; its return value (JSON data) becomes ``job.result``."""
        with self._lock:
            if self.active() >= self.max_active:
                raise ApiError(429, f"the job pool is full ({self.max_active} jobs queued or "
                                    "running); try again when one has finished", error="Busy")
            job = Job(id=secrets.token_urlsafe(24), kind=kind)
            self._jobs[job.id] = job
            self._evict()
        self._executor.submit(self._run, job, fn, on_done)
        return job

    def _evict(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.status in ("done", "failed")]
        for k in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[k]

    def _run(self, job: Job, fn: Callable[[Job], Any], on_done) -> None:
        job.status = "running"
        job.started = _now()
        try:
            job.result = clean_json(fn(job))
            # a finished job is at its total (an optimiser that converges before its
            # iteration limit reported steps of an upper bound)
            total = max(job.progress.total, job.progress.done, 1)
            job.progress = Progress("done", total, total)
            job.status = "done"
            if on_done is not None:
                on_done(job)
        except Her2labError as exc:
            job.error = ErrorOut.model_validate(json.loads(her2lab_error_response(exc).body))
            job.status = "failed"
        except Exception as exc:  # a job's failure is reported, never lost in a thread
            job.error = ErrorOut(error=type(exc).__name__, message=str(exc))
            job.status = "failed"
        finally:
            job.finished = _now()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        return list(self._jobs.values())

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class Slots:
    """At most ``n`` synchronous simulations at once, at most ``queue`` more waiting."""

    def __init__(self, n: int = 2, queue: int = 4) -> None:
        self.n = n
        self.queue = queue
        self._executor: ThreadPoolExecutor | None = None
        self._admitted = 0
        self._lock = threading.Lock()

    def _admit(self) -> None:
        with self._lock:
            if self._admitted >= self.n + self.queue:
                raise ApiError(429, f"all {self.n} simulation slots are busy and {self.queue} "
                               "more requests wait for one; try again shortly, or start it as "
                               "a job", error="Busy")
            self._admitted += 1

    def _threads(self) -> ThreadPoolExecutor:
        """The slots' threads, started on first use (and again after a shutdown: an
        application's lifespan may run more than once, as under a test client)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=max(1, self.n),
                                                    thread_name_prefix="her2lab-compute")
            return self._executor

    def _leave(self) -> None:
        with self._lock:
            self._admitted -= 1

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` in a slot's thread; 429 at once when every slot and queue place is taken.
        The place is given back when ``fn`` has finished (or was cancelled before it began)."""
        self._admit()
        try:
            future = self._threads().submit(fn)
        except BaseException:
            self._leave()
            raise
        future.add_done_callback(lambda _: self._leave())
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
