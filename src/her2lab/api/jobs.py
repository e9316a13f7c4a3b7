"""Long work (a calibration, a large screen, a design by simulation) as bounded background jobs.

A :class:`JobPool` runs at most ``workers`` jobs at once in threads and accepts at most
``max_active`` jobs queued or running; one more is refused with 429 (:class:`~.errors.ApiError`)
rather than queued without end. Finished jobs are kept (the newest ``keep``) so their results
can be read; each reports ``progress`` as ``done`` of ``total`` in a named ``stage``.

Compute slots (:class:`Slots`) bound the synchronous endpoints that simulate: a request waits a
little for a free slot and is refused with 429 when none frees up.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from her2lab.api.errors import ApiError, ErrorOut, clean_json, her2lab_error_response
from her2lab.errors import Her2labError

__all__ = ["Job", "JobPool", "Progress", "Slots"]

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
            job = Job(id=uuid.uuid4().hex[:12], kind=kind)
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
    """At most ``n`` synchronous simulations at once; a request waits ``wait_s`` for a slot."""

    def __init__(self, n: int = 2, wait_s: float = 30.0) -> None:
        self.n = n
        self.wait_s = wait_s
        self._sem = threading.BoundedSemaphore(n)

    @contextmanager
    def acquire(self) -> Iterator[None]:
        if not self._sem.acquire(timeout=self.wait_s):
            raise ApiError(429, f"all {self.n} simulation slots are busy; try again shortly",
                           error="Busy")
        try:
            yield
        finally:
            self._sem.release()
