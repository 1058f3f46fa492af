"""Database triggers that make the audit table append-only below the application.

The application refuses updates and deletes itself; these triggers refuse them
for anyone else who connects with the application's credentials, and allow only
the purge of rows older than the 180-day legal minimum. The chain head may only
move forward, so that the last rows cannot be cut off by rewinding it. A DBA who
drops the triggers can still edit the tables, and ``jindu audit verify`` catches
what they changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_young_delete BEFORE DELETE ON audit_event
       WHEN OLD.at > datetime('now', '-180 days')
       BEGIN SELECT RAISE(ABORT, 'audit rows younger than 180 days cannot be deleted'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_chain_head_forward BEFORE UPDATE ON audit_chain_head
       WHEN NEW.seq < OLD.seq OR NEW.anchor_seq < OLD.anchor_seq OR NEW.id <> OLD.id
       BEGIN SELECT RAISE(ABORT, 'audit chain head cannot move backwards'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
       BEGIN SELECT RAISE(ABORT, 'audit chain head cannot be deleted'); END""",
]
SQLITE_TRIGGERS = (
    "audit_event_no_update",
    "audit_event_no_young_delete",
    "audit_chain_head_forward",
    "audit_chain_head_no_delete",
)
SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]

PG_INSTALL = [
    """CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' THEN
           RAISE EXCEPTION 'audit log is append-only';
         END IF;
         IF TG_OP = 'TRUNCATE' THEN
           RAISE EXCEPTION 'audit log cannot be truncated';
         END IF;
         IF OLD.at > now() - interval '180 days' THEN
           RAISE EXCEPTION 'audit rows younger than 180 days cannot be deleted';
         END IF;
         RETURN OLD;
       END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_event_guard_row ON audit_event",
    """CREATE TRIGGER audit_event_guard_row BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_guard()""",
    "DROP TRIGGER IF EXISTS audit_event_guard_truncate ON audit_event",
    """CREATE TRIGGER audit_event_guard_truncate BEFORE TRUNCATE ON audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_guard()""",
    """CREATE OR REPLACE FUNCTION audit_chain_head_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' THEN
           IF NEW.seq < OLD.seq OR NEW.anchor_seq < OLD.anchor_seq OR NEW.id <> OLD.id THEN
             RAISE EXCEPTION 'audit chain head cannot move backwards';
           END IF;
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit chain head cannot be deleted';
       END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_chain_head_guard_row ON audit_chain_head",
    """CREATE TRIGGER audit_chain_head_guard_row BEFORE UPDATE OR DELETE ON audit_chain_head
       FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard()""",
    "DROP TRIGGER IF EXISTS audit_chain_head_guard_truncate ON audit_chain_head",
    """CREATE TRIGGER audit_chain_head_guard_truncate BEFORE TRUNCATE ON audit_chain_head
       FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard()""",
]
PG_TRIGGERS = (
    ("audit_event", "audit_event_guard_row"),
    ("audit_event", "audit_event_guard_truncate"),
    ("audit_chain_head", "audit_chain_head_guard_row"),
    ("audit_chain_head", "audit_chain_head_guard_truncate"),
)
PG_REMOVE = [f"DROP TRIGGER IF EXISTS {trigger} ON {table}" for table, trigger in PG_TRIGGERS]


def _run(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install(connection: Any) -> None:
    _run(connection, PG_INSTALL if connection.vendor == "postgresql" else SQLITE_INSTALL)


def remove(connection: Any) -> None:
    _run(connection, PG_REMOVE if connection.vendor == "postgresql" else SQLITE_REMOVE)


def missing(connection: Any) -> list[str]:
    """The guard triggers that are not installed (empty when all are in force)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                " AND tgrelid IN ('audit_event'::regclass, 'audit_chain_head'::regclass)"
            )
            present = {name for (name,) in cursor.fetchall()}
            expected = [trigger for _table, trigger in PG_TRIGGERS]
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {name for (name,) in cursor.fetchall()}
            expected = list(SQLITE_TRIGGERS)
    return [name for name in expected if name not in present]


@contextmanager
def lifted(connection: Any) -> Iterator[None]:
    """Remove the guards for the duration of the block and put them back after.

    For maintenance that must rewrite the tables wholesale (a test run's flush);
    the guards are reinstalled even when the block fails.
    """
    remove(connection)
    try:
        yield
    finally:
        install(connection)
