"""Long jobs (pull now, publish later) and the one channel that reports their progress.

A :class:`Job` runs as an asyncio task on the server's event loop. It has items (one per
file), each with bytes done / total and a state; the job adds them up into overall
progress, keeps a short log of messages, and can be cancelled. The UI polls
``GET /mesh-zenodo/jobs/<id>``; ``DELETE`` cancels. No tornado or HTTP codes here.

A job says what it works on in structured fields, so that no one parses its title:
``source`` (for a pull, the Zenodo record: ``{"type": "zenodo-record", "record_id",
"title", "doi", "version", "base_url"}``) and ``destination`` (for a pull, the folder:
``{"type": "folder", "path"}``).

Job JSON (``Job.to_json()``)::

    {"id": "9f1c...", "kind": "pull", "title": "...", "state": "running",
     "source": {...}, "destination": {...},
     "created": "2026-...Z", "finished": null,
     "progress": {"bytes_done": 0, "bytes_total": 0, "items_done": 0, "items_total": 3, "fraction": 0.0},
     "items": [{"id": "data.csv", "name": "data.csv", "state": "pending", "bytes_done": 0,
                "bytes_total": 1234, "message": null, "result": null}],
     "messages": [{"time": "...", "level": "info", "text": "..."}],
     "result": null, "error": null}

Job states: ``running`` → ``done`` | ``failed`` | ``cancelled``. Item states: ``pending``,
``running``, ``done``, ``skipped``, ``conflict``, ``failed``, ``cancelled``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"

PENDING = "pending"
SKIPPED = "skipped"
CONFLICT = "conflict"

ITEM_FINAL = {DONE, SKIPPED, CONFLICT, FAILED, CANCELLED}

#: finished jobs are forgotten after this many seconds, or when there are too many
KEEP_SECONDS = 24 * 3600
KEEP_FINISHED = 200
#: messages kept per job (the oldest are dropped)
MAX_MESSAGES = 200


def iso_time(moment: float) -> str:
    """A POSIX time as ISO 8601 in UTC, ``Z``-suffixed (as the REST API shows times)."""
    return datetime.fromtimestamp(moment, tz=timezone.utc).isoformat().replace("+00:00", "Z")


class JobItem:
    """One unit of a job (a file)."""

    def __init__(self, item_id: str, name: str, bytes_total: int = 0) -> None:
        self.id = item_id
        self.name = name
        self.bytes_total = bytes_total
        self.bytes_done = 0
        self.state = PENDING
        self.message: str | None = None
        self.result: dict[str, Any] | None = None

    def finish(self, state: str, message: str | None = None, **result: Any) -> None:
        self.state = state
        self.message = message
        if result:
            self.result = result

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "message": self.message,
            "result": self.result,
        }


class Job:
    def __init__(
        self,
        kind: str,
        title: str,
        items: list[JobItem] | None = None,
        *,
        source: dict[str, Any] | None = None,
        destination: dict[str, Any] | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.kind = kind
        self.title = title
        self.source = source
        self.destination = destination
        self.items: list[JobItem] = list(items or [])
        self.state = RUNNING
        self.created = time.time()
        self.finished: float | None = None
        self.messages: list[dict[str, str]] = []
        self.result: dict[str, Any] | None = None
        self.error: dict[str, str] | None = None
        self._task: asyncio.Task | None = None

    # ------------------------------------------------------------------ reporting

    def item(self, item_id: str) -> JobItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def log(self, level: str, text: str) -> None:
        self.messages.append({"time": iso_time(time.time()), "level": level, "text": text})
        del self.messages[:-MAX_MESSAGES]

    @property
    def progress(self) -> dict[str, Any]:
        counted = [i for i in self.items if i.state not in (SKIPPED, CONFLICT)]
        bytes_total = sum(i.bytes_total for i in counted)
        bytes_done = sum(min(i.bytes_done, i.bytes_total) if i.bytes_total else i.bytes_done for i in counted)
        done = sum(1 for i in self.items if i.state in ITEM_FINAL)
        if bytes_total:
            fraction = bytes_done / bytes_total
        else:
            fraction = done / len(self.items) if self.items else (1.0 if self.state != RUNNING else 0.0)
        if self.state == DONE:
            fraction = 1.0
        return {
            "bytes_done": bytes_done,
            "bytes_total": bytes_total,
            "items_done": done,
            "items_total": len(self.items),
            "fraction": round(min(1.0, fraction), 4),
        }

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "source": self.source,
            "destination": self.destination,
            "state": self.state,
            "created": iso_time(self.created),
            "finished": iso_time(self.finished) if self.finished else None,
            "progress": self.progress,
            "items": [i.to_json() for i in self.items],
            "messages": list(self.messages),
            "result": self.result,
            "error": self.error,
        }


Work = Callable[[Job], Awaitable[None]]


class JobRegistry:
    """The server's jobs: start, look up, cancel; finished jobs are kept for a while."""

    def __init__(self, log: logging.Logger | None = None) -> None:
        self.log = log or logging.getLogger("mesh_zenodo.jobs")
        self._jobs: dict[str, Job] = {}

    def start(self, job: Job, work: Work) -> Job:
        """Run ``work(job)`` as a task. When it returns, the job is ``done`` unless an
        item failed or conflicted (``failed``); an exception fails the job; cancelling
        the task (:meth:`cancel`) makes it ``cancelled``."""
        self._forget_old()
        self._jobs[job.id] = job
        job._task = asyncio.create_task(self._run(job, work), name=f"mesh-zenodo {job.kind} {job.id}")
        return job

    async def _run(self, job: Job, work: Work) -> None:
        try:
            await work(job)
        except asyncio.CancelledError:
            job.state = CANCELLED
            for item in job.items:
                if item.state not in ITEM_FINAL:
                    item.finish(CANCELLED, "cancelled")
            job.log("info", "cancelled")
        except Exception as err:  # a job must end in a state the UI can show, never vanish
            job.state = FAILED
            message = getattr(err, "message", None)
            if not isinstance(message, str):
                self.log.exception("mesh-zenodo: %s job %s failed", job.kind, job.id)
                message = f"internal error ({type(err).__name__}); see the server log"
            job.error = {"message": message, "reason": type(err).__name__}
            details = err.details() if callable(getattr(err, "details", None)) else {}
            if isinstance(details, dict):
                job.error.update({k: v for k, v in details.items() if k not in job.error})
            for item in job.items:
                if item.state not in ITEM_FINAL:
                    item.finish(FAILED, message)
            job.log("error", message)
        else:
            bad = [i for i in job.items if i.state in (FAILED, CONFLICT, CANCELLED)]
            job.state = FAILED if bad else DONE
            if bad and job.error is None:
                job.error = {
                    "message": f"{len(bad)} of {len(job.items)} items did not complete",
                    "reason": "ItemsFailed",
                }
        finally:
            job.finished = time.time()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def list(self, kind: str | None = None) -> list[Job]:
        jobs = [j for j in self._jobs.values() if kind is None or j.kind == kind]
        return sorted(jobs, key=lambda j: j.created, reverse=True)

    async def cancel(self, job_id: str, wait: float = 30.0) -> Job | None:
        """Cancel a running job and wait (up to ``wait`` seconds) for its clean-up."""
        job = self._jobs.get(job_id)
        if job is None:
            return None
        task = job._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=wait)
        return job

    async def close(self) -> None:
        """Cancel every running job (server shutdown)."""
        tasks = [j._task for j in self._jobs.values() if j._task is not None and not j._task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=30)

    def _forget_old(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        finished = sorted((j for j in self._jobs.values() if not j.running), key=lambda j: j.created)
        excess = len(finished) - KEEP_FINISHED
        for i, job in enumerate(finished):
            if i < excess or (job.finished or 0) < cutoff:
                del self._jobs[job.id]
