"""Reconciliation of the ledgers, in the manner of the US DEA's ARCOS reports.

Five rules, each one set-based SQL statement over the units in the user's scope
(never a loop over lines in Python, so that a province's year of ledgers takes
seconds):

- balance: each counted stock must equal the stock before it (the previous
  count, or the opening stock, or zero) plus what came in and minus what went
  out since; the difference is the finding's amount (negative: stock missing);
- unmatched sale / unmatched purchase: a sale to a registered unit must appear
  as that unit's purchase of the same item, the quantities within the
  tolerance and the dates within the window, and the other way round;
- late report: a sale of an item whose category has a deadline must be
  reported within it (today counts for a sale not yet reported);
- over allowance: a unit's purchases of an item in a calendar year beyond the
  yearly quantity it may buy.

Every discrepancy becomes a ``Finding`` keyed by its evidence (the count line,
the sale, the unit-item-year), so running again finds the same findings.
Within a day an opening stock stands before the day's movements and a count
after them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.services import record
from jindu.core.indicators import Period
from jindu.regulation.models import (
    INFLOWS,
    OUTFLOWS,
    Allowance,
    EntryKind,
    Finding,
    FindingKind,
    LedgerEntry,
    RegulatedUnit,
    RegulationPolicy,
    Substance,
)

ENTRIES = LedgerEntry._meta.db_table
SUBSTANCES = Substance._meta.db_table
ALLOWANCES = Allowance._meta.db_table
THOUSANDTH = Decimal("0.001")
# Sums of three-decimal quantities; on SQLite they are floating point, so a
# difference below half a thousandth is rounding, not stock.
EPSILON = "0.0005"


@dataclass(frozen=True)
class Discrepancy:
    kind: str
    key: str
    unit_id: int
    substance_id: int
    entry_id: int | None
    amount: Decimal
    period_start: date | None
    period_end: date
    days: int | None = None


@dataclass
class RunResult:
    period: Period
    found: Counter[str] = field(default_factory=Counter)
    created: int = 0
    updated: int = 0

    @property
    def total(self) -> int:
        return sum(self.found.values())


def _quoted(kinds: Sequence[str]) -> str:
    # Only the EntryKind constants are written into the SQL text.
    assert all(k in EntryKind.values for k in kinds)
    return ", ".join(f"'{k}'" for k in sorted(kinds))


def _amount(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(THOUSANDTH, rounding=ROUND_HALF_UP)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _shift(column: str, days: int) -> str:
    """``column`` moved by a whole number of days, in the database's own date arithmetic."""
    days = int(days)
    if connection.vendor == "postgresql":
        return f"({column} + {days})"
    return f"date({column}, '{days:+d} days')"


def _days_between(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _today_param(today: date) -> str:
    return "%s::date" if connection.vendor == "postgresql" else "%s"


def _units_sql(units: QuerySet[RegulatedUnit]) -> tuple[str, tuple[Any, ...]]:
    sql, params = units.order_by().values("id").query.sql_with_params()
    return sql, tuple(params)


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# ------------------------------------------------------------------ the rules


def balance_discrepancies(units: QuerySet[RegulatedUnit], period: Period) -> list[Discrepancy]:
    units_sql, units_params = _units_sql(units)
    inflows, outflows = _quoted(list(INFLOWS)), _quoted(list(OUTFLOWS))
    order = "occurred_on, ord, id"
    expected = "(COALESCE(prev_quantity, 0) + running - COALESCE(prev_running, 0))"
    sql = f"""
        WITH scoped AS (
            SELECT id, unit_id, substance_id, occurred_on, kind, quantity,
                   CASE WHEN kind IN ({inflows}) THEN quantity
                        WHEN kind IN ({outflows}) THEN -quantity
                        ELSE 0 END AS delta,
                   CASE kind WHEN 'opening' THEN 0 WHEN 'count' THEN 2 ELSE 1 END AS ord
            FROM {ENTRIES}
            WHERE voided_at IS NULL AND occurred_on < %s AND unit_id IN ({units_sql})
        ), book AS (
            SELECT id, unit_id, substance_id, occurred_on, kind, quantity, ord,
                   SUM(delta) OVER (PARTITION BY unit_id, substance_id ORDER BY {order}
                                    ROWS UNBOUNDED PRECEDING) AS running
            FROM scoped
        ), anchors AS (
            SELECT id, unit_id, substance_id, occurred_on, kind, quantity, running,
                   LAG(quantity) OVER w AS prev_quantity,
                   LAG(running) OVER w AS prev_running,
                   LAG(occurred_on) OVER w AS prev_on
            FROM book
            WHERE kind IN ('opening', 'count')
            WINDOW w AS (PARTITION BY unit_id, substance_id ORDER BY {order})
        )
        SELECT id, unit_id, substance_id, prev_on, occurred_on, quantity - {expected}
        FROM anchors
        WHERE kind = 'count' AND occurred_on >= %s
          AND ABS(quantity - {expected}) > {EPSILON}
    """  # noqa: S608 (table names and kind constants only)
    rows = _fetch(sql, (period.end, *units_params, period.start))
    return [
        Discrepancy(
            FindingKind.BALANCE,
            f"balance:{entry_id}",
            unit_id,
            substance_id,
            entry_id,
            _amount(diff),
            _day(prev_on),
            _day(counted_on),
        )
        for entry_id, unit_id, substance_id, prev_on, counted_on, diff in rows
    ]


def _unmatched(
    units: QuerySet[RegulatedUnit],
    period: Period,
    policy: RegulationPolicy,
    today: date,
    *,
    kind: str,
    partner_kind: str,
) -> list[Discrepancy]:
    units_sql, units_params = _units_sql(units)
    window = int(policy.match_window_days)
    tolerance = Decimal(policy.match_tolerance_percent) / 100
    # The other side has the window to record its line; younger lines are not judged yet.
    cutoff = today - timedelta(days=window)
    sql = f"""
        SELECT e.id, e.unit_id, e.substance_id, e.occurred_on, e.quantity
        FROM {ENTRIES} e
        WHERE e.kind = '{kind}' AND e.voided_at IS NULL AND e.counterparty_unit_id IS NOT NULL
          AND e.occurred_on >= %s AND e.occurred_on < %s AND e.occurred_on <= %s
          AND e.unit_id IN ({units_sql})
          AND NOT EXISTS (
              SELECT 1 FROM {ENTRIES} p
              WHERE p.unit_id = e.counterparty_unit_id
                AND p.substance_id = e.substance_id
                AND p.occurred_on >= {_shift("e.occurred_on", -window)}
                AND p.occurred_on <= {_shift("e.occurred_on", window)}
                AND p.kind = '{partner_kind}'
                AND p.voided_at IS NULL
                AND p.counterparty_unit_id = e.unit_id
                AND ABS(p.quantity - e.quantity) <= e.quantity * %s
          )
    """  # noqa: S608 (table names, kind constants and whole days only)
    rows = _fetch(sql, (period.start, period.end, cutoff, *units_params, tolerance))
    finding = (
        FindingKind.UNMATCHED_SALE if kind == EntryKind.SALE else FindingKind.UNMATCHED_PURCHASE
    )
    return [
        Discrepancy(
            finding,
            f"{finding}:{entry_id}",
            unit_id,
            substance_id,
            entry_id,
            _amount(quantity),
            _day(day),
            _day(day),
        )
        for entry_id, unit_id, substance_id, day, quantity in rows
    ]


def unmatched_sales(
    units: QuerySet[RegulatedUnit], period: Period, policy: RegulationPolicy, today: date
) -> list[Discrepancy]:
    return _unmatched(
        units, period, policy, today, kind=EntryKind.SALE, partner_kind=EntryKind.PURCHASE
    )


def unmatched_purchases(
    units: QuerySet[RegulatedUnit], period: Period, policy: RegulationPolicy, today: date
) -> list[Discrepancy]:
    return _unmatched(
        units, period, policy, today, kind=EntryKind.PURCHASE, partner_kind=EntryKind.SALE
    )


def late_reports(
    units: QuerySet[RegulatedUnit], period: Period, policy: RegulationPolicy, today: date
) -> list[Discrepancy]:
    deadlines = [(c, int(d)) for c, d in sorted((policy.report_days or {}).items()) if d]
    if not deadlines:
        return []
    units_sql, units_params = _units_sql(units)
    values = ", ".join(["(%s, %s)"] * len(deadlines))
    elapsed = _days_between(f"COALESCE(e.reported_on, {_today_param(today)})", "e.occurred_on")
    sql = f"""
        WITH deadlines(category, days) AS (VALUES {values})
        SELECT e.id, e.unit_id, e.substance_id, e.occurred_on, e.quantity, {elapsed} - d.days
        FROM {ENTRIES} e
        JOIN {SUBSTANCES} s ON s.id = e.substance_id
        JOIN deadlines d ON d.category = s.category
        WHERE e.kind = 'sale' AND e.voided_at IS NULL
          AND e.occurred_on >= %s AND e.occurred_on < %s
          AND e.unit_id IN ({units_sql})
          AND {elapsed} > d.days
    """  # noqa: S608 (table names and placeholders only)
    params = [value for pair in deadlines for value in pair]
    rows = _fetch(sql, (*params, today, period.start, period.end, *units_params, today))
    return [
        Discrepancy(
            FindingKind.LATE_REPORT,
            f"late_report:{entry_id}",
            unit_id,
            substance_id,
            entry_id,
            _amount(quantity),
            _day(day),
            _day(day),
            days=int(late),
        )
        for entry_id, unit_id, substance_id, day, quantity, late in rows
    ]


def over_allowance(units: QuerySet[RegulatedUnit], period: Period) -> list[Discrepancy]:
    """Purchases beyond the yearly quantity, for each calendar year the period touches.

    The whole year's purchases count (lines are never dated in the future), and
    the finding points at the purchase that crossed the limit.
    """
    units_sql, units_params = _units_sql(units)
    found = []
    for year in range(period.start.year, period.last_day.year + 1):
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
        sql = f"""
            SELECT id, unit_id, substance_id, occurred_on, allowed, total FROM (
                SELECT e.id, e.unit_id, e.substance_id, e.occurred_on, e.quantity,
                       a.yearly_quantity AS allowed,
                       SUM(e.quantity) OVER (PARTITION BY e.unit_id, e.substance_id
                                             ORDER BY e.occurred_on, e.id
                                             ROWS UNBOUNDED PRECEDING) AS bought,
                       SUM(e.quantity) OVER (PARTITION BY e.unit_id, e.substance_id) AS total
                FROM {ENTRIES} e
                JOIN {ALLOWANCES} a ON a.unit_id = e.unit_id AND a.substance_id = e.substance_id
                WHERE e.kind = 'purchase' AND e.voided_at IS NULL
                  AND e.occurred_on >= %s AND e.occurred_on < %s
                  AND a.yearly_quantity IS NOT NULL
                  AND e.unit_id IN ({units_sql})
            ) purchases
            WHERE bought > allowed + {EPSILON} AND bought - quantity <= allowed + {EPSILON}
        """  # noqa: S608 (table names only)
        for entry_id, unit_id, substance_id, day, allowed, total in _fetch(
            sql, (start, end, *units_params)
        ):
            found.append(
                Discrepancy(
                    FindingKind.OVER_ALLOWANCE,
                    f"over_allowance:{unit_id}:{substance_id}:{year}",
                    unit_id,
                    substance_id,
                    entry_id,
                    _amount(Decimal(str(total)) - Decimal(str(allowed))),
                    start,
                    _day(day),
                )
            )
    return found


def discrepancies(
    units: QuerySet[RegulatedUnit],
    period: Period,
    *,
    policy: RegulationPolicy | None = None,
    today: date | None = None,
) -> list[Discrepancy]:
    """Every discrepancy of the units' ledgers in the period; nothing is written."""
    policy = policy or RegulationPolicy.current()
    today = today or timezone.localdate()
    return [
        *balance_discrepancies(units, period),
        *unmatched_sales(units, period, policy, today),
        *unmatched_purchases(units, period, policy, today),
        *late_reports(units, period, policy, today),
        *over_allowance(units, period),
    ]


# ------------------------------------------------------------------ findings

_CHUNK = 2000


def _store(found: list[Discrepancy], actor: Any, today: date) -> tuple[int, int]:
    """Create the findings not yet known and refresh the amounts of the open ones."""
    existing: dict[str, Finding] = {}
    keys = [d.key for d in found]
    for start in range(0, len(keys), _CHUNK):
        for finding in Finding.objects.filter(key__in=keys[start : start + _CHUNK]).only(
            "id", "key", "amount", "days", "closed_on"
        ):
            existing[finding.key] = finding
    new = [d for d in found if d.key not in existing]
    places = {}
    unit_ids = sorted({d.unit_id for d in new})
    for start in range(0, len(unit_ids), _CHUNK):
        for pk, org_unit_id, org_path, registered_on in RegulatedUnit.objects.filter(
            pk__in=unit_ids[start : start + _CHUNK]
        ).values_list("pk", "org_unit_id", "org_path", "registered_on"):
            places[pk] = (org_unit_id, org_path, registered_on)
    found_by = actor if getattr(actor, "is_authenticated", False) else None
    rows = []
    for d in new:
        org_unit_id, org_path, registered_on = places[d.unit_id]
        rows.append(
            Finding(
                key=d.key,
                kind=d.kind,
                unit_id=d.unit_id,
                substance_id=d.substance_id,
                entry_id=d.entry_id,
                amount=d.amount,
                days=d.days,
                period_start=d.period_start or registered_on,
                period_end=d.period_end,
                found_on=today,
                found_by=found_by,
                org_unit_id=org_unit_id,
                org_path=org_path,
            )
        )
    # A second run at the same moment may have written some of them already.
    Finding.objects.bulk_create(rows, batch_size=_CHUNK, ignore_conflicts=True)
    changed = []
    for d in found:
        finding = existing.get(d.key)
        if finding is None or finding.closed_on is not None:
            continue
        if finding.amount != d.amount or finding.days != d.days:
            finding.amount, finding.days = d.amount, d.days
            changed.append(finding)
    Finding.objects.bulk_update(changed, ["amount", "days"], batch_size=_CHUNK)
    return len(rows), len(changed)


@transaction.atomic
def run(*, actor: Any, units: QuerySet[RegulatedUnit], period: Period) -> RunResult:
    """Reconcile the units' ledgers for the period and keep what is found as findings.

    ``units`` is the user's scope (``RegulatedUnit.objects.for_user(user)``).
    """
    today = timezone.localdate()
    policy = RegulationPolicy.current()
    found = discrepancies(units, period, policy=policy, today=today)
    created, updated = _store(found, actor, today)
    result = RunResult(period, Counter(d.kind for d in found), created, updated)
    record(
        actor=actor,
        action=Action.RECORD_CREATED,
        object_type="regulation.finding",
        object_repr=f"台账核对 {period.label}",
        detail={
            "period": [period.start.isoformat(), period.last_day.isoformat()],
            "found": dict(result.found),
            "created": created,
            "updated": updated,
        },
    )
    return result
