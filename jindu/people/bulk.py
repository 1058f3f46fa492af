"""The bulk path into the register: many rows per statement, facts computed in Python.

Imports of legacy sheets, ``jindu seed`` and the demo county write people by the
thousand. ``BulkWriter`` inserts rows by ``COPY`` on PostgreSQL and
``executemany`` on SQLite inside the caller's transaction, never one ``save()``
at a time; callers encrypt personal fields with ``crypto.encrypt`` and compute
blind indexes as the models would.

The dated facts on ``Person`` follow ``services.refresh_facts``'s rule;
``person_facts`` applies that rule to plain values, so that a bulk write needs
no refresh per person, and ``refresh_facts_many`` recomputes many people's
facts in a few queries.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import chain
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

from jindu.people.schedule import COMMUNITY_KINDS

# ------------------------------------------------------------------ bulk writes


def db_datetime(moment: datetime, postgres: bool) -> str:
    """A timestamp as Django stores it: UTC, naive text on SQLite, with offset on PostgreSQL."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    text = utc.isoformat(sep=" ")
    return text + "+00:00" if postgres else text


def _db_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _literal(value: Any) -> str:
    """A default value as SQL text (the values come from model defaults, never from users)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _same(value: Any) -> Any:
    return value


def bind_directly() -> None:
    """Let SQLite's driver bind None, booleans and bytes without a search.

    CPython's ``sqlite3`` binds an int, float, str or bytearray as it is, but looks
    any other value up in its adapter registry first; for None, a boolean or bytes
    the search misses and ends in attribute lookups that raise inside: 0.4–0.8 µs a
    value, measured, as much as SQLite's own work on a row of a bulk insert, and a
    row of the register holds a dozen such values. Registered here, each is found at
    once and bound as before (NULL, 0 or 1, a blob). Process-wide and idempotent;
    what any query binds is unchanged."""
    sqlite3.register_adapter(type(None), _same)
    sqlite3.register_adapter(bool, int)
    sqlite3.register_adapter(bytes, _same)


# Rows a SQLite statement inserts at most, and SQLite's limits on its parameters and length.
_ROWS_PER_STATEMENT = 1000
_VARIABLES = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
_SQL_LENGTH = sqlite3.SQLITE_LIMIT_SQL_LENGTH


@dataclass
class _Table:
    name: str
    columns: list[str]
    # Values of the columns a caller does not give (defaults), appended to each row.
    tail: tuple[Any, ...]
    # On SQLite: the statement for one row, the one for a block of rows, and how many
    # rows a block holds (written once per table and fields, on first use).
    sqlite: tuple[str, str, int] | None = None


class BulkWriter:
    """Inserts rows by the thousand on the default connection, inside the caller's transaction.

    Rows are tuples of database-ready values in the order of the field names
    given: dates as ISO text, JSON as text, encrypted fields as the bytes of
    ``crypto.encrypt``. Fields not given get their model default.
    """

    def __init__(self) -> None:
        connection.ensure_connection()
        # The wrapper of this thread's connection, kept so that a pipeline's thread
        # writes through it too.
        self.db = connections[DEFAULT_DB_ALIAS]
        self.postgres = connection.vendor == "postgresql"
        if not self.postgres:
            bind_directly()
            # SQLite's default page cache (2 MB) makes every insert into a large
            # index read pages back; a bulk write gets a cache big enough for its
            # indexes, on this connection only.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size=-262144")
        self.now = db_datetime(timezone.now(), self.postgres)
        self._tables: dict[tuple[type[models.Model], tuple[str, ...]], _Table] = {}
        self._next_id: dict[str, int] = {}
        self.rows = 0

    def stamp(self, day: date) -> str:
        """The creation time of a row written on ``day`` (09:00 in China)."""
        return f"{day.isoformat()} 01:00:00" + ("+00:00" if self.postgres else "")

    def _table(self, model: type[models.Model], fields: tuple[str, ...]) -> _Table:
        key = (model, fields)
        table = self._tables.get(key)
        if table is None:
            opts = model._meta
            given = set(fields)
            extra, tail = [], []
            for f in opts.concrete_fields:
                if f.attname in given or f.primary_key:
                    continue
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    value: Any = self.now
                elif f.has_default():
                    value = _db_value(f.get_default())
                elif f.null:
                    value = None
                elif f.empty_strings_allowed:
                    value = ""
                else:
                    raise ValueError(f"{model.__name__}.{f.attname} needs a value")
                extra.append(f.column)
                tail.append(value)
            columns = [opts.get_field(name).column for name in fields] + extra
            table = _Table(opts.db_table, columns, tuple(tail))
            self._tables[key] = table
        return table

    def reserve_ids(self, model: type[models.Model], count: int) -> Sequence[int]:
        """Primary keys for rows about to be inserted, so that other rows can refer to them.

        On SQLite the write lock is held from ``BEGIN IMMEDIATE`` to the commit, so
        nobody else can take these numbers: the highest key is read once per
        transaction and counted on from there (no query while a pipeline runs).
        Call ``forget_ids`` at the start of each transaction, and insert nothing
        into these tables by other means in between.
        """
        if count <= 0:
            return []
        table = model._meta.db_table
        if self.postgres:
            with connection.cursor() as cursor:
                # The sequence named once: ``pg_get_serial_sequence`` inside the select
                # would be looked up again for every key (eight times the work).
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
                )
                return [row[0] for row in cursor.fetchall()]
        start = self._next_id.get(table)
        if start is None:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
                start = cursor.fetchone()[0] + 1
        self._next_id[table] = start + count
        return range(start, start + count)

    def forget_ids(self) -> None:
        """A new transaction: keys are read from the tables again."""
        self._next_id.clear()

    def insert(self, model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> int:
        if not rows:
            return 0
        table = self._table(model, tuple(fields))
        tail = table.tail
        columns = ", ".join(f'"{c}"' for c in table.columns)
        db = self.db
        raw = db.connection
        if self.postgres:
            copy_sql = f'COPY "{table.name}" ({columns}) FROM STDIN'
            # Django's own exception types (IntegrityError …), as its cursors raise them.
            with db.wrap_database_errors, raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                write = copy.write_row
                if tail:
                    for row in rows:
                        write(row + tail)
                else:
                    for row in rows:
                        write(row)
        else:
            if table.sqlite is None:
                table.sqlite = self._sqlite_statements(table, columns, raw)
            one, block, per = table.sqlite
            given = len(table.columns) - len(tail)
            whole = len(rows) - len(rows) % per
            with db.wrap_database_errors:
                for start in range(0, whole, per):
                    chunk = rows[start : start + per]
                    # A row too short or too long would shift every value after it.
                    if set(map(len, chunk)) != {given}:
                        raise ValueError(f"{table.name}: every row must hold {given} values")
                    raw.execute(block, list(chain.from_iterable(chunk)))
                if whole < len(rows):
                    raw.executemany(one, rows[whole:])
        self.rows += len(rows)
        return len(rows)

    @staticmethod
    def _sqlite_statements(table: _Table, columns: str, raw: Any) -> tuple[str, str, int]:
        """SQLite's statements for ``table``: one row, a block of rows, the rows in a block."""
        # The defaults go into the statement as literals: binding a parameter
        # costs about as much as SQLite's own work on it, row after row.
        given = len(table.columns) - len(table.tail)
        marks = "(" + ", ".join(["?"] * given + [_literal(v) for v in table.tail]) + ")"
        insert = f'INSERT INTO "{table.name}" ({columns}) VALUES '  # noqa: S608
        # Many rows to a statement: SQLite then starts and ends one statement per
        # block instead of per row (a quarter of its work on a row of the register),
        # within its limits on a statement's parameters and length.
        per = max(1, min(
            _ROWS_PER_STATEMENT,
            raw.getlimit(_VARIABLES) // max(given, 1),
            (raw.getlimit(_SQL_LENGTH) - len(insert.encode())) // (len(marks.encode()) + 2),
        ))  # fmt: skip
        return insert + marks, insert + ", ".join([marks] * per), per

    @contextmanager
    def pipeline(
        self,
    ) -> Iterator[Callable[[type[models.Model], Sequence[str], list[tuple]], None]]:
        """Inserts handed over while the caller prepares the next rows.

        They run in a second thread, which lets go of the GIL while the database
        works (SQLite in this process, PostgreSQL in its own), so that building
        rows and writing them overlap on two cores. The caller must not use the
        connection inside the block (on PostgreSQL a query would wait its turn;
        on SQLite it must not happen at all).
        """
        work: queue.Queue[tuple | None] = queue.Queue(maxsize=4)
        errors: list[BaseException] = []

        def run() -> None:
            while (item := work.get()) is not None:
                if not errors:
                    try:
                        self.insert(*item)
                    except BaseException as exc:  # handed to the caller's thread below
                        errors.append(exc)

        thread = threading.Thread(target=run, name="bulk-insert", daemon=True)
        thread.start()
        try:
            yield lambda model, fields, rows: work.put((model, fields, rows))
        finally:
            work.put(None)
            thread.join()
        if errors:
            raise errors[0]

    def update(self, model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> int:
        """``UPDATE … SET fields WHERE id``: each row is (*values, pk)."""
        if not rows:
            return 0
        opts = model._meta
        sets = ", ".join(f'"{opts.get_field(name).column}" = %s' for name in fields)
        with connection.cursor() as cursor:
            cursor.executemany(f'UPDATE "{opts.db_table}" SET {sets} WHERE id = %s', rows)  # noqa: S608
        return len(rows)


# ------------------------------------------------------------------ facts


@dataclass(frozen=True)
class MeasureDates:
    kind: str
    decision: date
    report_in: date | None
    start: date | None
    planned_end: date | None
    ended_on: date | None

    @classmethod
    def of(cls, m: Any) -> MeasureDates:
        """The dates of a ``Measure``."""
        return cls(
            m.kind, m.decision_date, m.report_in_date, m.start_date, m.planned_end, m.ended_on
        )


# The dated facts ``person_facts`` gives, in its order: the columns of ``Person`` it fills.
FACT_FIELDS = (
    "measure_kind", "measure_anchor", "measure_until", "last_contact_on", "clean_since",
    "awaiting_report_since",
)  # fmt: skip


def person_facts(
    *,
    first_found_on: date | None,
    latest: MeasureDates | None,
    last_met: date | None,
    last_visit: date | None,
    last_positive: date | None,
) -> tuple[str, date | None, date | None, date | None, date | None, date | None]:
    """The rule of a person's dated facts (``FACT_FIELDS``), on plain values.

    Returns (measure_kind, measure_anchor, measure_until, last_contact_on,
    clean_since, awaiting_report_since). ``latest`` is the measure with the latest
    decision (ties: the later one written); ``last_met`` the latest test that was not
    evaded. ``awaiting_report_since`` is the latest measure's decision day while it is
    a community measure neither reported in to nor ended: the day the report-in
    period runs from (``rules.flags_for`` flags it once the period is over).
    """
    kind, anchor, until, awaiting = "", None, None, None
    candidates = [first_found_on] if first_found_on else []
    if latest is not None:
        kind = latest.kind
        if kind in COMMUNITY_KINDS:
            anchor = latest.report_in or latest.start
            if latest.report_in is None and latest.ended_on is None:
                awaiting = latest.decision
        else:
            anchor = latest.start or latest.decision
        # Decided but not yet reported in: under the measure from its decision.
        anchor = anchor or latest.decision
        until = latest.ended_on or latest.planned_end
        candidates.append(until or date.max)
    if last_positive:
        candidates.append(last_positive)
    # An evaded test is the absence of contact; every other result is a meeting.
    contact = max((d for d in (last_met, last_visit) if d), default=None)
    # Abstinence runs from the latest of: the end of the last measure, a positive test,
    # a new finding. A measure still running means no abstinence yet.
    clean = max(candidates, default=None)
    return kind, anchor, until, contact, None if clean in (None, date.max) else clean, awaiting


def refresh_facts_many(person_ids: Sequence[int], *, chunk: int = 2000) -> int:
    """Recompute the dated facts of many people in a few queries per chunk of people."""
    from jindu.people.models import DrugTest, Measure, Person, Visit

    evaded, positive = DrugTest.Result.EVADED, DrugTest.Result.POSITIVE
    writer = BulkWriter()
    done = 0
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        latest: dict[int, MeasureDates] = {}
        for m in Measure.objects.filter(person_id__in=part).order_by("decision_date", "id"):
            latest[m.person_id] = MeasureDates.of(m)
        met: dict[int, date] = {}
        pos: dict[int, date] = {}
        for pid, day, result in DrugTest.objects.filter(person_id__in=part).values_list(
            "person_id", "tested_on", "result"
        ):
            if result != evaded and day > met.get(pid, date.min):
                met[pid] = day
            if result == positive and day > pos.get(pid, date.min):
                pos[pid] = day
        visits = dict(
            Visit.objects.filter(person_id__in=part)
            .values("person_id")
            .annotate(last=models.Max("visited_on"))
            .values_list("person_id", "last")
        )
        rows = []
        for pid, found in Person.objects.filter(pk__in=part).values_list("pk", "first_found_on"):
            facts = person_facts(
                first_found_on=found,
                latest=latest.get(pid),
                last_met=met.get(pid),
                last_visit=visits.get(pid),
                last_positive=pos.get(pid),
            )
            rows.append((*facts, pid))
        done += writer.update(Person, FACT_FIELDS, rows)
    return done


def pragma_fast_sqlite() -> Callable[[], None]:
    """SQLite without fsync for the seeding connection only; returns the undo."""
    # Inside a transaction (a test, a caller's atomic block) SQLite refuses the change,
    # and durability is the caller's to decide.
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous=OFF")

    def undo() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={int(previous)}")

    return undo
