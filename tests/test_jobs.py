"""Background jobs (``jindu.core.jobs``) and ``jindu worker``: queueing in the caller's
transaction, claiming, running, progress that never writes inside a transaction,
failures in Chinese without personal data, workers that died, purging, two
workers never taking the same job, and a worker that leaves with its parent."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from jindu.core import jobs
from jindu.core.models import Job, TallyPending

REPO = Path(__file__).resolve().parents[1]
ID_NUMBER = "11010519491231002X"  # the standard's own example

# Tasks of these tests. A worker process running them defines them the same way.
napped: list[int] = []


@jobs.task("tests.nap")
def _nap(job, progress):
    progress("小睡", 0, 1)
    time.sleep(job.params.get("seconds", 0))
    napped.append(job.pk)
    return {"pid": os.getpid()}


@jobs.task("tests.refuse", failure="测试任务中断")
def _refuse(job, progress):
    raise jobs.JobFailed("表格是空的")


@jobs.task("tests.crash", failure="测试任务中断，未写入任何数据")
def _crash(job, progress):
    # An unexpected error whose text quotes personal data: never shown, never logged.
    raise ValueError(f"bad value {ID_NUMBER}")


@jobs.task("tests.count")
def _count(job, progress):
    for done in range(0, 30001, 5000):
        progress(f"检查第 {done:,} / 30,000 行", done, 30000)
    return {"rows": 30000}


class _Sheet:
    """Stands for a large sheet's rows (a weak reference can watch it go)."""


watched: list = []


@jobs.task("tests.hold")
def _hold(job, progress):
    import gc
    import weakref

    sheet = _Sheet()
    watched.append((gc.isenabled(), weakref.ref(sheet)))
    progress.hold(sheet)
    return {"held": 1}


@pytest.fixture
def queued(settings):
    """Jobs wait for a worker, as in production."""
    settings.JOBS_INLINE = False


# ------------------------------------------------------------------ queueing


def test_a_job_is_queued_with_its_actor_scope_and_no_worker_yet(personas, queued):
    job = jobs.enqueue(actor=personas.cadre_a, kind="tests.nap", params={"seconds": 0})
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.stage == "排队等候"
    assert job.actor == personas.cadre_a
    assert job.org_path == personas.territory.township_a.path
    system = jobs.enqueue(actor=None, kind="tests.nap")
    assert system.org_path == "/"


def test_an_unknown_kind_is_refused(db):
    with pytest.raises(LookupError):
        jobs.enqueue(actor=None, kind="tests.nothing")


def test_inline_a_job_queued_in_a_transaction_runs_after_the_commit(
    db, django_capture_on_commit_callbacks
):
    napped.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        job = jobs.enqueue(actor=None, kind="tests.nap")
        assert napped == [], "not inside the caller's transaction"
    assert napped == [] and len(callbacks) == 1
    callbacks[0]()
    assert napped == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.result == {"pid": os.getpid()}


def test_inline_outside_a_transaction_the_job_has_run_when_enqueue_returns(db):
    job = jobs.enqueue(actor=None, kind="tests.count")
    assert job.status == Job.Status.DONE
    assert (job.done, job.total, job.result) == (30000, 30000, {"rows": 30000})
    assert job.stage == "已完成" and job.finished_at and job.attempts == 1


def test_the_inline_block_runs_jobs_even_where_the_setting_says_not(
    db, queued, django_capture_on_commit_callbacks
):
    with jobs.inline():
        job = jobs.enqueue(actor=None, kind="tests.nap")
    assert job.status == Job.Status.DONE
    with django_capture_on_commit_callbacks(execute=True), jobs.inline(), transaction.atomic():
        later = jobs.enqueue(actor=None, kind="tests.nap")
    later.refresh_from_db()
    assert later.status == Job.Status.DONE
    assert jobs.enqueue(actor=None, kind="tests.nap").status == Job.Status.QUEUED


# ------------------------------------------------------------------ claiming and running


def test_claims_take_the_oldest_queued_job_once(db, queued):
    first = jobs.enqueue(actor=None, kind="tests.nap")
    second = jobs.enqueue(actor=None, kind="tests.nap")
    taken = jobs.claim("w1")
    assert taken.pk == first.pk and taken.status == Job.Status.RUNNING
    assert taken.worker == "w1" and taken.attempts == 1 and taken.heartbeat_at
    assert jobs.claim("w2").pk == second.pk
    assert jobs.claim("w3") is None
    assert Job.objects.get(pk=first.pk).worker == "w1"


def test_a_refused_job_fails_with_its_message_and_a_crash_with_the_tasks_own(db, queued, caplog):
    refused = jobs.enqueue(actor=None, kind="tests.refuse")
    crashed = jobs.enqueue(actor=None, kind="tests.crash")
    with caplog.at_level(logging.INFO, logger="jindu.jobs"):
        jobs.run(jobs.claim("w"))
        jobs.run(jobs.claim("w"))
    refused.refresh_from_db()
    crashed.refresh_from_db()
    assert (refused.status, refused.error) == (Job.Status.FAILED, "表格是空的")
    assert (crashed.status, crashed.error) == (Job.Status.FAILED, "测试任务中断，未写入任何数据")
    assert crashed.stage == "未完成" and crashed.result == {}
    logged = caplog.text
    assert f"job {crashed.pk} (tests.crash) failed: ValueError at test_jobs.py" in logged
    assert ID_NUMBER not in logged and "bad value" not in logged
    assert "Traceback" not in logged


def test_a_job_of_a_kind_no_longer_known_fails_in_chinese(db, queued):
    job = jobs.enqueue(actor=None, kind="tests.nap")
    Job.objects.filter(pk=job.pk).update(kind="tests.gone")
    ended = jobs.run(jobs.claim("w"))
    assert ended.status == Job.Status.FAILED and "没有这种后台任务" in ended.error


# ------------------------------------------------------------------ progress


def _stored(job):
    return Job.objects.values_list("stage", "done", "total").get(pk=job.pk)


def test_progress_is_throttled_but_a_new_step_is_written_at_once(db, queued):
    job = jobs.enqueue(actor=None, kind="tests.nap")
    progress = jobs.Progress(job, interval=60)
    progress("检查第 0 / 30,000 行", 0, 30000)
    assert _stored(job) == ("检查第 0 / 30,000 行", 0, 30000)
    progress("检查第 5,000 / 30,000 行", 5000, 30000)
    progress("检查第 10,000 / 30,000 行", 10000, 30000)
    assert progress.writes == 1, "the same step within the interval waits"
    assert _stored(job) == ("检查第 0 / 30,000 行", 0, 30000)
    progress("查询已有数据")
    assert progress.writes == 2
    assert _stored(job) == ("查询已有数据", 10000, 30000)


def test_progress_never_writes_inside_a_transaction_and_catches_up_after(db, queued):
    job = jobs.enqueue(actor=None, kind="tests.nap")
    progress = jobs.Progress(job, interval=0)
    progress("核对每一行", 10, 10)
    with transaction.atomic():
        progress("写入数据库", 0, 10)
        progress("写入数据库", 5, 10)
        assert progress.writes == 1
        assert not progress.flush()
    assert _stored(job) == ("核对每一行", 10, 10)
    assert progress.flush(), "the latest value is written once the transaction is over"
    assert _stored(job) == ("写入数据库", 5, 10)


def test_a_running_job_shows_its_progress(db, queued):
    job = jobs.enqueue(actor=None, kind="tests.count")
    seen = []
    original = jobs.Progress.flush

    def watching(self):
        written = original(self)
        if written:
            seen.append(_stored(job))
        return written

    jobs.Progress.flush = watching
    try:
        jobs.run(jobs.claim("w"))
    finally:
        jobs.Progress.flush = original
    assert seen[0] == ("检查第 0 / 30,000 行", 0, 30000)
    assert Job.objects.get(pk=job.pk).stage == "已完成"


# ------------------------------------------------------------------ upkeep


def test_a_job_whose_worker_died_is_failed_with_its_tasks_message(personas, queued):
    from jindu.orgs.views_import import COMMIT_JOB

    now = timezone.now()
    dead = jobs.enqueue(actor=personas.cadre_a, kind=COMMIT_JOB, params={"token": "x"})
    alive = jobs.enqueue(actor=None, kind="tests.nap")
    Job.objects.filter(pk=dead.pk).update(
        status=Job.Status.RUNNING, heartbeat_at=now - timedelta(minutes=6)
    )
    Job.objects.filter(pk=alive.pk).update(
        status=Job.Status.RUNNING, heartbeat_at=now - timedelta(minutes=1)
    )
    assert jobs.fail_stale(now=now) == 1
    dead.refresh_from_db()
    assert dead.status == Job.Status.FAILED
    assert dead.error == "后台任务中断，未写入任何数据，请重新导入"
    assert Job.objects.get(pk=alive.pk).status == Job.Status.RUNNING


def test_finished_jobs_are_purged_after_some_days(db, queued):
    now = timezone.now()
    old, recent, running = (jobs.enqueue(actor=None, kind="tests.nap") for _ in range(3))
    Job.objects.filter(pk=old.pk).update(
        status=Job.Status.DONE, finished_at=now - timedelta(days=jobs.KEEP_DAYS + 1)
    )
    Job.objects.filter(pk=recent.pk).update(
        status=Job.Status.FAILED, finished_at=now - timedelta(days=1)
    )
    Job.objects.filter(pk=running.pk).update(
        status=Job.Status.RUNNING, heartbeat_at=now, started_at=now - timedelta(days=30)
    )
    assert jobs.purge(now=now) == 1
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}


# ------------------------------------------------------------------ the worker command


def test_worker_once_runs_what_is_queued_and_logs_no_data(db, queued):
    napped.clear()
    queued_jobs = [
        jobs.enqueue(actor=None, kind="tests.nap", params={"token": "secret-token"})
        for _ in range(3)
    ]
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert napped == [j.pk for j in queued_jobs]
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.DONE}
    lines = out.getvalue().splitlines()
    assert any(line.startswith(f"任务 {queued_jobs[0].pk}\ttests.nap\tdone\t") for line in lines)
    assert "secret-token" not in out.getvalue()


def test_the_worker_copies_sqlites_log_after_each_job_has_recorded_its_end(db, queued, monkeypatch):
    """A job's pages are checkpointed once it is recorded done (jobs.hold_checkpoints)."""
    seen: list[tuple[str, int]] = []
    monkeypatch.setattr(
        jobs,
        "checkpoint",
        lambda: seen.append(("checkpoint", Job.objects.filter(status="done").count())),
    )
    first = jobs.enqueue(actor=None, kind="tests.nap")
    second = jobs.enqueue(actor=None, kind="tests.nap")
    call_command("worker", "--once", stdout=io.StringIO())
    assert seen == [("checkpoint", 1), ("checkpoint", 2)], "after each job, once it is done"
    assert {first.pk, second.pk} == set(
        Job.objects.filter(status="done").values_list("pk", flat=True)
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            assert cursor.fetchone()[0] == 0
            cursor.execute("PRAGMA wal_autocheckpoint=1000")


def test_a_job_runs_with_the_collector_paused_and_what_it_held_goes_after_its_end(
    db, queued, monkeypatch
):
    import gc

    watched.clear()
    ended: list[tuple[str, bool]] = []
    finish = jobs._finish

    def recording_finish(job, progress, status, error, result):
        finish(job, progress, status, error, result)
        ended.append((status, watched[0][1]() is not None))

    monkeypatch.setattr(jobs, "_finish", recording_finish)
    job = jobs.enqueue(actor=None, kind="tests.hold")
    assert gc.isenabled()
    jobs.run(jobs.claim("test"))
    collector_was_on, sheet = watched[0]
    assert collector_was_on is False
    assert ended == [("done", True)], "still held when the job recorded its end"
    assert sheet() is None, "freed right after"
    assert gc.isenabled()
    assert Job.objects.get(pk=job.pk).result == {"held": 1}


def test_checkpoint_and_hold_are_harmless_on_any_database(db):
    jobs.hold_checkpoints()
    jobs.checkpoint()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=1000")


def test_worker_first_fails_the_jobs_of_workers_that_died(db, queued):
    stale = jobs.enqueue(actor=None, kind="tests.nap")
    Job.objects.filter(pk=stale.pk).update(
        status=Job.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    call_command("worker", "--once", stdout=io.StringIO())
    assert Job.objects.get(pk=stale.pk).status == Job.Status.FAILED


def test_a_bulk_load_queues_the_counting_as_a_system_job(personas, queued):
    from jindu.core import tallies
    from tests.test_people_import import ID_A, row, run, sheet

    run(personas.county_officer, sheet([row(1, id_number=ID_A)]))
    assert TallyPending.objects.count() == 1
    settle = Job.objects.get(kind="tallies.settle")
    assert settle.actor is None and settle.org_path == "/" and settle.params == {}
    call_command("worker", "--once", stdout=io.StringIO())
    settle.refresh_from_db()
    assert settle.status == Job.Status.DONE and settle.result == {"counted": 1}
    assert not TallyPending.objects.exists()
    assert tallies.verify() == []


def test_the_import_command_counts_its_people_before_it_returns(
    personas, queued, tmp_path, django_capture_on_commit_callbacks
):
    from tests.test_people_import import ID_A, row, sheet

    path = tmp_path / "名册.xlsx"
    path.write_bytes(sheet([row(1, id_number=ID_A)]))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import", "persons", str(path), stdout=io.StringIO())
    assert not TallyPending.objects.exists()
    assert Job.objects.get(kind="tallies.settle").status == Job.Status.DONE


# ------------------------------------------------------------------ real worker processes


@pytest.fixture
def worker_database(tmp_path):
    """An environment in which worker processes see this test's database, and a reader
    of the jobs as they leave them. SQLite's test database lives in memory, so the
    workers get a copy of it in a file; PostgreSQL's is shared as it is."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JINDU_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="jindu.settings",
        JINDU_VAR_DIR=str(tmp_path / "var"),
        JINDU_SECRET_KEY="worker-test-secret-key-0123456789-abcdefghijklmnop",
        JINDU_DATA_KEY="test-only-data-key-0123456789",
    )
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "jobs.sqlite3"

        def share() -> None:
            connection.ensure_connection()
            target = sqlite3.connect(path)
            connection.connection.backup(target)
            target.close()

        def rows() -> list[tuple]:
            with sqlite3.connect(path) as copy:
                found = copy.execute(
                    "SELECT id, status, attempts, worker, result FROM core_job ORDER BY id"
                ).fetchall()
            return [(*r[:4], json.loads(r[4])) for r in found]

        env["JINDU_DATABASE_URL"] = f"sqlite:///{path}"
    else:

        def share() -> None:
            pass

        def rows() -> list[tuple]:
            return list(
                Job.objects.order_by("pk").values_list(
                    "pk", "status", "attempts", "worker", "result"
                )
            )

        user = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
        env["JINDU_DATABASE_URL"] = f"postgres://{user}@{host}/{db['NAME']}"
    return env, share, rows


WORKER = r"""
import os, sys, time
import django
django.setup()
from django.core.management import call_command
from jindu.core import jobs

@jobs.task("tests.nap")
def nap(job, progress):
    progress("小睡", 0, 1)
    time.sleep(job.params.get("seconds", 0))
    return {"pid": os.getpid()}

while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
call_command("worker", "--once", verbosity=0)
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_take_the_same_job(worker_database, tmp_path, settings):
    settings.JOBS_INLINE = False
    env, share, rows = worker_database
    for _ in range(40):
        jobs.enqueue(actor=None, kind="tests.nap", params={"seconds": 0.05})
    share()
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(go)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(0.5)
    go.touch()
    for worker in workers:
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    found = rows()
    assert len(found) == 40
    assert {status for _pk, status, _a, _w, _r in found} == {"done"}
    assert {attempts for _pk, _s, attempts, _w, _r in found} == {1}, "no job was taken twice"
    ran_in = {result["pid"] for *_rest, result in found}
    assert ran_in == {w.pid for w in workers}, "both workers took jobs"
    assert {name.rsplit(":", 1)[1] for _pk, _s, _a, name, _r in found} == {
        str(w.pid) for w in workers
    }


PARENT = r"""
import subprocess, sys, time
log = open(sys.argv[1], "w")
worker = subprocess.Popen(
    [sys.executable, "-m", "jindu.cli", "worker", "--exit-with-parent", "--poll", "0.2"],
    stdout=log, stderr=subprocess.STDOUT,
)
print(worker.pid, flush=True)
time.sleep(300)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return True
    return state in "ZX"  # a zombie nobody has reaped yet has exited too


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.django_db(transaction=True)
def test_a_worker_started_with_exit_with_parent_leaves_with_its_parent(worker_database, tmp_path):
    env, share, _rows = worker_database
    share()
    log = tmp_path / "worker.log"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(log)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    worker_pid = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 60
        while "已启动" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "the worker did not start"
            assert not _gone(worker_pid), log.read_text()
            time.sleep(0.1)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while not _gone(worker_pid):
            assert time.monotonic() < deadline, "the worker outlived its parent"
            time.sleep(0.1)
        assert "启动它的进程已结束" in log.read_text()
    finally:
        if parent.poll() is None:
            parent.kill()
        if not _gone(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)
        parent.stdout.close()
