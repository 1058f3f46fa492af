"""Hand-written SQL beside the ORM, for the few paths where Django's building and
compiling of a query would cost more than the database's own work on it (the
regulators' reconciliation, the worklists).

The rows such SQL reads are still chosen by a queryset, scoped the usual way and
compiled here once (``compiled``), which the SQL selects by; every value goes in as
a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import QuerySet


def compiled(queryset: QuerySet) -> tuple[str, tuple[Any, ...]]:
    """The queryset's SQL and parameters, as it would run them itself.

    Raises ``django.core.exceptions.EmptyResultSet`` for a selection that is empty
    as written (``none()``, ``pk__in=[]``).
    """
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` (``%s`` placeholders) on the default connection."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def as_date(value: Any) -> date | None:
    """A date the database returned: SQLite gives an expression's date (``MAX``, a
    ``CASE``) as text, where a column's comes back as a date."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
