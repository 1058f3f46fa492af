"""Building the demo database: guards, reset, migrate, static files and the steps.

The guards come first and look at the database before anything is written to
it: demo data goes only into an empty database or one already marked as demo,
and never into PostgreSQL unless the operator says it is a throw-away one.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from jindu.demo.models import DemoMarker
from jindu.demo.steps import DemoAccount, DemoContext, registered_steps

DEFAULT_SEED = 2019
DEFAULT_TOWNSHIPS = 15
DEFAULT_VILLAGES = 200

# Tables whose rows mean the database holds a county's work.
DATA_TABLES = ("orgs_orgunit", "accounts_user", "audit_event")


class DemoRefused(Exception):
    """The database is not one demo data may be written into."""


@dataclass
class DatabaseState:
    has_data: bool
    marker: DemoMarker | None


def database_state() -> DatabaseState:
    """What is in the database now, read before any migration touches it."""
    tables = set(connection.introspection.table_names())
    has_data = False
    with connection.cursor() as cursor:
        for table in DATA_TABLES:
            if table in tables:
                cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
                has_data = has_data or cursor.fetchone() is not None
    marker = None
    if DemoMarker._meta.db_table in tables:
        marker = DemoMarker.objects.order_by("pk").first()
    return DatabaseState(has_data=has_data, marker=marker)


def check_target(*, allow_postgres: bool) -> DatabaseState:
    """Refuse PostgreSQL (unless allowed) and any database with real data in it."""
    if connection.vendor == "postgresql" and not allow_postgres:
        raise DemoRefused(
            "JINDU_DATABASE_URL 指向 PostgreSQL：演示数据只写入 var/ 下的 SQLite 文件。"
            "如确为可丢弃的测试库，请加 --allow-postgres。"
        )
    if connection.vendor not in {"sqlite", "postgresql"}:
        raise DemoRefused(f"不支持的数据库：{connection.vendor}")
    state = database_state()
    if state.has_data and state.marker is None:
        raise DemoRefused(
            "该数据库已有数据且没有演示数据标记，拒绝写入演示数据（演示数据不得混入正式数据）。"
            f"数据库：{database_label()}"
        )
    return state


def database_label() -> str:
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return str(db["NAME"])
    return f"{connection.vendor}://{db.get('HOST') or 'localhost'}/{db.get('NAME')}"


def reset_database() -> None:
    """Remove the demo database. Callers have checked it is a demo one (or empty)."""
    if connection.vendor == "sqlite":
        path = Path(settings.DATABASES["default"]["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")
        cursor.execute("DROP FUNCTION IF EXISTS audit_event_guard() CASCADE")


def prepare_database(log: TextIO) -> None:
    """Migrate and collect static files; their chatter goes to the log, not stdout."""
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0, stdout=log, stderr=log)
    log.write(f"  迁移数据库：{time.perf_counter() - started:.1f} 秒\n")
    started = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())
    log.write(f"  收集静态文件：{time.perf_counter() - started:.1f} 秒\n")


def generate(*, seed: int, townships: int, villages: int, log: TextIO) -> list[DemoAccount]:
    """Run every registered step in one transaction, then mark the database as demo.

    One transaction keeps a failed build from leaving half a county behind, and
    spares SQLite a sync per row.
    """
    ctx = DemoContext(
        seed=seed, townships_wanted=townships, villages_wanted=villages, log_stream=log
    )
    steps = registered_steps()
    with transaction.atomic():
        for step in steps:
            started = time.perf_counter()
            step.func(ctx)
            ctx.log(f"  步骤 {step.name}：{time.perf_counter() - started:.1f} 秒")
        DemoMarker.objects.create(
            seed=seed,
            townships=townships,
            villages=villages,
            steps=[step.name for step in steps],
            accounts=[account.__dict__ for account in ctx.accounts],
        )
    return ctx.accounts


def stored_accounts(marker: DemoMarker) -> list[DemoAccount]:
    return [DemoAccount(**fields) for fields in marker.accounts]


def missing_steps(marker: DemoMarker) -> list[str]:
    return [step.name for step in registered_steps() if step.name not in marker.steps]
