"""``jindu worker``: run the background jobs (imports, counting) queued in the database.

The loop claims the oldest queued job, runs it and records how it ended, then
looks for the next; with nothing queued it waits ``--poll`` seconds. Now and then
it fails the jobs whose worker died and purges old finished ones. Any number of
workers may run side by side (``jindu.core.jobs.claim``). It logs each job's id,
kind, outcome and duration, never its data.

A first SIGTERM or Ctrl+C lets the job at hand finish, then the worker stops; a
second one stops it at once (the job's transaction is rolled back).
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection, connections

from jindu.core import jobs

# Seconds between two rounds of upkeep (stale jobs, old jobs).
UPKEEP_EVERY = 60.0


class Command(BaseCommand):
    help = "运行后台任务（导入、统计等）：领取数据库中排队的任务并逐个执行"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="执行完已排队的任务后退出")
        parser.add_argument(
            "--poll", type=float, default=1.0, help="没有任务时每隔几秒查看一次（默认 1）"
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="启动它的进程结束时随之退出（jindu demo 用）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        poll = max(0.05, options["poll"])
        parent = os.getppid() if options["exit_with_parent"] else None
        jobs.load_tasks()
        name = jobs.worker_name()
        self.stopping = False
        previous = self._catch_signals()
        self._say(f"后台任务进程 {name} 已启动")
        upkeep_at = 0.0
        try:
            while not self.stopping:
                _fresh_connection()
                if time.monotonic() - upkeep_at >= UPKEEP_EVERY:
                    self._upkeep()
                    upkeep_at = time.monotonic()
                job = jobs.claim(name)
                if job is not None:
                    self._run(job)
                    continue
                if options["once"]:
                    break
                self._wait(poll, parent)
                if parent is not None and os.getppid() != parent:
                    self._say("启动它的进程已结束，后台任务进程退出")
                    break
        finally:
            self._restore_signals(previous)
            if not connection.in_atomic_block:
                connections.close_all()
        self._say(f"后台任务进程 {name} 已退出")

    def _run(self, job: Any) -> None:
        started = time.monotonic()
        # The job's commits leave SQLite's checkpoint to the one after it (below).
        jobs.hold_checkpoints()
        jobs.run(job)
        # The job has recorded how it ended: now its writes are copied from SQLite's
        # log into the database file (jobs.hold_checkpoints).
        jobs.checkpoint()
        _fresh_connection()
        self._say(f"任务 {job.pk}\t{job.kind}\t{job.status}\t{time.monotonic() - started:.2f} 秒")

    def _upkeep(self) -> None:
        stale = jobs.fail_stale()
        if stale:
            self._say(f"{stale} 个任务的执行进程已中断，已标记为未完成")
        purged = jobs.purge()
        if purged:
            self._say(f"已清理 {purged} 个 {jobs.KEEP_DAYS} 天前结束的任务")

    def _wait(self, seconds: float, parent: int | None) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            if parent is not None and os.getppid() != parent:
                return
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def _say(self, line: str) -> None:
        if self.verbosity > 0:
            self.stdout.write(line)
            self.stdout.flush()

    # -- signals: the first asks to stop after the job at hand, the second stops now

    def _catch_signals(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        try:
            for number in (signal.SIGINT, signal.SIGTERM):
                previous[number] = signal.signal(number, self._on_signal)
        except ValueError:  # not the main thread (a test calling the command from one)
            pass
        return previous

    def _restore_signals(self, previous: dict[int, Any]) -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    def _on_signal(self, number: int, frame: Any) -> None:
        if self.stopping:
            raise KeyboardInterrupt
        self.stopping = True
        self._say("收到停止信号：当前任务完成后退出（再次发送则立即退出）")


def _fresh_connection() -> None:
    """Between jobs, a connection that broke or grew old is closed (the next query opens
    another), as Django does between requests. Never inside a transaction (a test's)."""
    if not connection.in_atomic_block:
        close_old_connections()
