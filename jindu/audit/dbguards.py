"""Database triggers that make the audit table append-only below the application.

The application refuses updates and deletes itself; these triggers refuse them
for anyone else who connects with the application's credentials, and allow only
the purge of rows older than the 180-day legal minimum. A DBA who drops them can
still edit the table, and ``jindu audit verify`` catches what they changed.
"""

from __future__ import annotations

SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_young_delete BEFORE DELETE ON audit_event
       WHEN OLD.at > datetime('now', '-180 days')
       BEGIN SELECT RAISE(ABORT, 'audit rows younger than 180 days cannot be deleted'); END""",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_young_delete",
]

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
]
PG_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_guard_row ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_guard_truncate ON audit_event",
]


def _run(connection, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install(connection) -> None:
    _run(connection, PG_INSTALL if connection.vendor == "postgresql" else SQLITE_INSTALL)


def remove(connection) -> None:
    _run(connection, PG_REMOVE if connection.vendor == "postgresql" else SQLITE_REMOVE)
