"""Background jobs: long work (a 100,000-row import, a report) run outside the web
request by ``jindu worker``, backed by the database, with its progress shown.
A broker comes only when a measurement asks for one.

A *task* is a function registered under a kind (``@task("imports.validate")``).
``enqueue`` writes a ``Job`` row for it in the caller's transaction, so that a
worker sees the job only once the caller has committed. The worker claims the
oldest queued job (``claim``: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
conditional update inside SQLite's immediate transaction, so that several workers
never take the same job), runs it (``run``) and records how it ended.

A task reports its progress through the ``Progress`` it is handed:
``progress(stage, done, total)``. At most two writes a second reach the database,
each a short write of its own, and none while the task is inside a transaction
(an import's write holds SQLite's write lock for seconds: a progress write then
would wait for that lock, or become part of the import); the latest value is
kept and written once the transaction is over.

``params`` and ``result`` hold keys and counts, never personal data (an import's
sheet stays in the encrypted stash, named by its token). A task that cannot do its
work raises ``JobFailed`` with the Chinese message its user reads; any other
exception fails the job with the task's own general message and is logged by its
type and place only. A job whose worker died (no progress heard for
``STALE_AFTER``) is failed the same way; finished jobs are purged after
``KEEP_DAYS``.

With the ``JOBS_INLINE`` setting (the tests) or inside ``inline()`` (the command
line) a job runs in the process that queued it, right after that process's
transaction commits.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.core import context
from jindu.core.memory import collector_paused
from jindu.core.models import Job

logger = logging.getLogger("jindu.jobs")

Status = Job.Status

# A running job whose progress has not been heard of for this long has lost its worker.
STALE_AFTER = timedelta(minutes=5)
# Finished jobs are kept this many days (their pages read them), then purged.
KEEP_DAYS = 7
# Seconds between two progress writes at most.
PROGRESS_INTERVAL = 0.5

_DIGIT = re.compile(r"\d")

DEFAULT_FAILURE = gettext_lazy("后台任务中断，请重试；如果再次出现，请联系系统管理员")


class JobFailed(Exception):
    """A task could not do its work: the message is what its user reads (Chinese,
    no personal data, no traceback)."""


TaskFunction = Callable[[Job, "Progress"], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Task:
    kind: str
    function: TaskFunction
    # What the user reads when the job failed on an unexpected error or its worker died.
    failure: Any


TASKS: dict[str, Task] = {}


def task(kind: str, *, failure: Any = None) -> Callable[[TaskFunction], TaskFunction]:
    """Register ``function(job, progress) -> result`` as the task run for jobs of ``kind``.

    The result is a small dict of counts (stored on the job), or None."""

    def register(function: TaskFunction) -> TaskFunction:
        TASKS[kind] = Task(kind, function, failure or DEFAULT_FAILURE)
        return function

    return register


def load_tasks() -> None:
    """Import every module that registers tasks: the apps' ``jobs`` modules, the
    tallies, and the URLconf (the import pages register theirs beside their views)."""
    from django.utils.module_loading import autodiscover_modules

    import_module("jindu.core.tallies")
    autodiscover_modules("jobs")
    import_module(settings.ROOT_URLCONF)


def _task(kind: str) -> Task | None:
    if kind not in TASKS:
        load_tasks()
    return TASKS.get(kind)


# ------------------------------------------------------------------ running in the caller

_inline: ContextVar[bool | None] = ContextVar("jindu_jobs_inline", default=None)


@contextmanager
def inline() -> Iterator[None]:
    """Jobs queued inside this block run in this process, right after its transaction
    commits (the command line: ``jindu import`` counts its people before it returns)."""
    token = _inline.set(True)
    try:
        yield
    finally:
        _inline.reset(token)


def runs_inline() -> bool:
    forced = _inline.get()
    return bool(getattr(settings, "JOBS_INLINE", False)) if forced is None else forced


def in_transaction() -> bool:
    """Whether this connection is inside a transaction of the caller's. A test case's
    own wrapping transaction does not count, as it does not for Django's durable blocks."""
    return connection.in_atomic_block and any(
        not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
    )


# ------------------------------------------------------------------ queueing


def enqueue(
    *,
    actor: Any,
    kind: str,
    params: dict[str, Any] | None = None,
    org_path: str | None = None,
    client_address: str | None = None,
) -> Job:
    """Queue a job of ``kind`` for ``actor`` (None: the system) in the caller's
    transaction; a worker sees it once that commits.

    ``org_path`` defaults to the actor's unit ("/" for the system); a user's job
    keeps the current request's ``client_address`` for the audit rows it writes.
    Inline (tests, ``inline()``), the job runs right after the commit, or at once
    outside a transaction, and the job returned is as it ended.
    """
    if _task(kind) is None:
        raise LookupError(f"no task is registered as {kind!r}")
    if org_path is None:
        unit = getattr(actor, "org_unit", None) if actor is not None else None
        org_path = unit.path if unit is not None else "/"
    if client_address is None:
        info = context.current() if actor is not None else None
        client_address = info.client_address if info else ""
    job = Job.objects.create(
        kind=kind,
        actor=actor,
        org_path=org_path,
        client_address=client_address[:64],
        params=params or {},
        stage=_in_chinese(gettext_lazy("排队等候")),
    )
    if runs_inline():
        pk = job.pk
        if in_transaction():
            transaction.on_commit(lambda: run_now(pk))
        else:
            run_now(pk)
            job.refresh_from_db()
    return job


def run_now(pk: int) -> Job | None:
    """Claim and run this one job here (if no worker has taken it meanwhile)."""
    job = _claim(Job.objects.filter(pk=pk), worker_name())
    return run(job) if job is not None else None


# ------------------------------------------------------------------ claiming


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def claim(worker: str = "") -> Job | None:
    """Take the oldest queued job for this worker (None when nothing waits).

    Safe with several workers: on PostgreSQL the row is locked ``FOR UPDATE SKIP
    LOCKED``, so another worker passes on to the next job instead of waiting; on
    SQLite the transaction is immediate (it holds the write lock from its start).
    On both the job changes from queued to running only on that condition.
    """
    return _claim(Job.objects.all(), worker)


def _claim(candidates: Any, worker: str) -> Job | None:
    now = timezone.now()
    queued = candidates.filter(status=Status.QUEUED).order_by("pk")
    if not queued.exists():
        # An idle worker looks without a transaction (on SQLite: without the write lock).
        return None
    if connection.features.has_select_for_update_skip_locked:
        queued = queued.select_for_update(skip_locked=True)
    with transaction.atomic():
        for _attempt in range(10):
            pk = queued.values_list("pk", flat=True).first()
            if pk is None:
                return None
            taken = Job.objects.filter(pk=pk, status=Status.QUEUED).update(
                status=Status.RUNNING,
                worker=worker[:100],
                stage=_in_chinese(gettext_lazy("开始处理")),
                started_at=now,
                heartbeat_at=now,
                attempts=F("attempts") + 1,
            )
            if taken:
                break
        else:
            return None
    return Job.objects.select_related("actor").get(pk=pk)


# ------------------------------------------------------------------ running


class Progress:
    """What a task calls to say how far it is: ``progress(stage, done, total)``.

    ``stage`` is a short Chinese text for its user ("检查第 40,000 / 100,000 行");
    ``done`` and ``total`` are optional counts. Written in a short write of its own
    at most every ``PROGRESS_INTERVAL`` seconds, except that a new step (the text
    before any digit changes: "写入数据库" after "核对每一行") is written at once, and
    never inside a transaction: then the latest value waits in memory for the next
    call after it (a write that is about to hold the lock for seconds says so first).
    """

    def __init__(self, job: Job, *, interval: float = PROGRESS_INTERVAL) -> None:
        self.job_id = job.pk
        self.stage = job.stage
        self.done = job.done
        self.total = job.total
        self.interval = interval
        self.writes = 0
        self._written_at: float | None = None
        self._written_step = _step(job.stage)
        self._pending = False
        self._held: list[Any] = []

    def hold(self, *objects: Any) -> None:
        """Keep what a task is done with until its job has recorded its end: freeing a
        100,000-row sheet's million objects takes a tenth of a second that its user
        need not wait for."""
        self._held.extend(objects)

    def release(self) -> None:
        self._held.clear()

    def __call__(self, stage: Any, done: int | None = None, total: int | None = None) -> None:
        self.stage = str(stage)[:120]
        if total is not None:
            self.total = int(total)
        if done is not None:
            self.done = int(done)
        self._pending = True
        if (
            self._written_at is None
            or time.monotonic() - self._written_at >= self.interval
            or _step(self.stage) != self._written_step
        ):
            self.flush()

    def flush(self) -> bool:
        """Write the latest progress now, unless there is none new or a transaction is open."""
        if not self._pending or in_transaction():
            return False
        Job.objects.filter(pk=self.job_id).update(
            stage=self.stage, done=self.done, total=self.total, heartbeat_at=timezone.now()
        )
        self._pending = False
        self._written_at = time.monotonic()
        self._written_step = _step(self.stage)
        self.writes += 1
        return True


def _step(stage: str) -> str:
    """A stage's step: its text up to the first digit ("检查第 5,000 / 9,000 行" → "检查第 ")."""
    return _DIGIT.split(stage, maxsplit=1)[0]


def _where(exc: BaseException) -> str:
    """The innermost frame of an exception as file:line (function): never its message,
    which may quote a value."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    code = tb.tb_frame.f_code
    return f"{os.path.basename(code.co_filename)}:{tb.tb_lineno} ({code.co_name})"


def run(job: Job) -> Job:
    """Run a claimed job and record how it ended; returns it as it ended.

    A task's ``JobFailed`` becomes the job's error; any other exception fails it with
    the task's general message (logged by type and place only, never its text). The
    stages and errors are stored in the site's language (Chinese), whichever language
    the request that queued the job had; the pages translate those they can.
    """
    # The cycle collector is paused for the job (a large import's million objects
    # would be walked again and again, all alive); what the job held is freed by
    # reference counting once it has recorded its end, before the collector resumes.
    with translation.override(settings.LANGUAGE_CODE), collector_paused():
        return _run(job)


def _in_chinese(text: Any) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def _run(job: Job) -> Job:
    spec = _task(job.kind)
    progress = Progress(job)
    started = time.monotonic()
    # The audit rows the job writes name the address its request came from.
    token = (
        context.set_current(context.RequestInfo(client_address=job.client_address))
        if job.client_address
        else None
    )
    result: dict[str, Any] = {}
    try:
        if spec is None:
            raise JobFailed(_("系统中没有这种后台任务，请联系系统管理员"))
        result = dict(spec.function(job, progress) or {})
    except JobFailed as exc:
        status, error = Status.FAILED, str(exc)
    except Exception as exc:  # noqa: BLE001 — the job fails; its worker goes on
        status, error = Status.FAILED, str(spec.failure if spec else DEFAULT_FAILURE)
        logger.error(
            "job %s (%s) failed: %s at %s", job.pk, job.kind, type(exc).__name__, _where(exc)
        )
    except BaseException:
        # Stopped from outside (Ctrl+C): whatever it wrote in a transaction is rolled back.
        try:
            failure = str(spec.failure if spec else DEFAULT_FAILURE)
            _finish(job, progress, Status.FAILED, failure, {})
        except Exception:  # noqa: BLE001 — left running; the stale check fails it later
            logger.warning("job %s (%s): stopped, and could not be marked failed", job.pk, job.kind)
        raise
    else:
        status, error = Status.DONE, ""
    finally:
        if token is not None:
            context.reset(token)
    _finish(job, progress, status, error, result)
    logger.info("job %s (%s) %s in %.2f s", job.pk, job.kind, status, time.monotonic() - started)
    progress.release()
    return job


def _finish(job: Job, progress: Progress, status: str, error: str, result: dict[str, Any]) -> None:
    now = timezone.now()
    done = progress.total if status == Status.DONE and progress.total else progress.done
    fields = {
        "status": status,
        "stage": _("已完成") if status == Status.DONE else _("未完成"),
        "done": done,
        "total": progress.total,
        "error": error[:500],
        "result": result,
        "finished_at": now,
        "heartbeat_at": now,
    }
    Job.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


# ------------------------------------------------------------------ upkeep


def fail_stale(*, now: datetime | None = None) -> int:
    """Fail the running jobs whose worker died (no progress heard for ``STALE_AFTER``)
    with their task's message; returns how many."""
    now = now or timezone.now()
    cutoff = now - STALE_AFTER
    failed = 0
    stale = Job.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff)
    for pk, kind in stale.values_list("pk", "kind"):
        spec = _task(kind)
        failed += Job.objects.filter(pk=pk, status=Status.RUNNING, heartbeat_at__lt=cutoff).update(
            status=Status.FAILED,
            stage=_in_chinese(gettext_lazy("未完成")),
            error=_in_chinese(spec.failure if spec else DEFAULT_FAILURE)[:500],
            finished_at=now,
        )
        logger.warning("job %s (%s): its worker stopped; marked failed", pk, kind)
    return failed


def purge(*, now: datetime | None = None, days: int = KEEP_DAYS) -> int:
    """Delete the jobs finished more than ``days`` ago; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _by_model = Job.objects.filter(
        status__in=(Status.DONE, Status.FAILED), finished_at__lt=cutoff
    ).delete()
    return deleted


# ------------------------------------------------------------------ SQLite's checkpoints


def hold_checkpoints() -> None:
    """On SQLite, this connection's commits leave copying the write-ahead log into the
    database file (the checkpoint) to ``checkpoint``, which a worker calls once a job
    has recorded how it ended: a 100,000-row import's pages are then copied after its
    user has the result, not before (a few tenths of a second). Committed data is
    safe in the log either way; the web's connections keep checkpointing themselves."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=0")


def checkpoint() -> None:
    """Copy what the log holds into the database file, waiting for no reader (PASSIVE)."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
