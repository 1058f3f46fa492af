"""Reads that the regulation pages share: a unit's ledger as a book with running
balances, the unit list with its licence flags, findings summed by kind, and
the campaigns a user may see with their coverage by township."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.http import Http404

from jindu.codes import registry
from jindu.core.paths import ancestor_paths
from jindu.orgs.division import Level
from jindu.orgs.models import OrgUnit
from jindu.regulation.models import (
    ANCHORS,
    INFLOWS,
    OUTFLOWS,
    Allowance,
    Campaign,
    CampaignTarget,
    EntryKind,
    Finding,
    FindingKind,
    LedgerEntry,
    RegulatedUnit,
    Substance,
    UnitCheck,
    day_order,
)

ZERO = Decimal("0.000")
PAGE_SIZE = 50


# ------------------------------------------------------------------ the ledger as a book


@dataclass(slots=True)
class BookEntry:
    """A ledger line as the book reads it: the columns the page and the export show.

    Read with one plain query rather than as model instances: a busy unit's year
    is hundreds of lines, and the page must answer within 50 ms.
    """

    pk: int
    substance_id: int
    kind: str
    occurred_on: date
    quantity: Decimal
    entered_quantity: Decimal
    entered_unit: str
    counterparty_name: str
    document_no: str
    reported_on: date | None
    notes: str
    voided: bool
    void_reason: str

    @property
    def delta(self) -> Decimal:
        if self.kind in INFLOWS:
            return self.quantity
        if self.kind in OUTFLOWS:
            return -self.quantity
        return ZERO

    def sort_key(self) -> tuple[date, int, int]:
        return (self.occurred_on, day_order(self.kind), self.pk)


@dataclass
class BookLine:
    entry: BookEntry
    # The book stock after the line (for a count: the counted stock); None if voided.
    balance: Decimal | None
    # For a count: the book stock before it and the difference (counted − book).
    expected: Decimal | None = None
    difference: Decimal | None = None


@dataclass
class BookMonth:
    month: date
    opening: Decimal
    closing: Decimal = ZERO
    inflow: Decimal = ZERO
    outflow: Decimal = ZERO
    lines: list[BookLine] = field(default_factory=list)


@dataclass
class ItemBook:
    substance: Substance
    unit_label: str
    carried: Decimal
    months: list[BookMonth]
    closing: Decimal
    differences: int = 0


ENTRIES = LedgerEntry._meta.db_table
_THOUSANDTH = Decimal("0.001")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    # SQLite hands back floats (or ints); three decimals is what was stored.
    return (
        Decimal(repr(value)).quantize(_THOUSANDTH) if isinstance(value, float) else Decimal(value)
    )


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _in(ids: list[int]) -> str:
    return ", ".join(["%s"] * len(ids))


def carried_in(unit: RegulatedUnit, start: date, substance_ids: list[int]) -> dict[int, Decimal]:
    """Each item's book stock at the start of ``start``: the last opening or count
    before it, plus the movements since. One query reads only the lines from each
    item's last stated stock on, however long the ledger."""
    if not substance_ids:
        return {}
    sql = f"""
        WITH last AS (
            SELECT substance_id, MAX(occurred_on) AS day FROM {ENTRIES}
            WHERE unit_id = %s AND voided_at IS NULL AND occurred_on < %s
              AND kind IN ('opening', 'count') AND substance_id IN ({_in(substance_ids)})
            GROUP BY substance_id
        )
        SELECT e.id, e.substance_id, e.kind, e.occurred_on, e.quantity
        FROM {ENTRIES} e LEFT JOIN last ON last.substance_id = e.substance_id
        WHERE e.unit_id = %s AND e.voided_at IS NULL AND e.occurred_on < %s
          AND e.substance_id IN ({_in(substance_ids)})
          AND (last.day IS NULL OR e.occurred_on >= last.day)
    """  # noqa: S608 (table name and placeholders only)
    params = [unit.pk, start, *substance_ids, unit.pk, start, *substance_ids]
    rows = sorted(
        (
            (substance_id, _date(day), day_order(kind), pk, kind, _decimal(quantity))
            for pk, substance_id, kind, day, quantity in _rows(sql, params)
        ),
        key=lambda row: row[:4],
    )
    balance = dict.fromkeys(substance_ids, ZERO)
    for substance_id, _day, _order, _pk, kind, quantity in rows:
        if kind in ANCHORS:
            balance[substance_id] = quantity
        elif kind in INFLOWS:
            balance[substance_id] += quantity
        elif kind in OUTFLOWS:
            balance[substance_id] -= quantity
    return balance


def year_lines(
    unit: RegulatedUnit, substance_ids: list[int], start: date, end: date
) -> list[BookEntry]:
    if not substance_ids:
        return []
    sql = f"""
        SELECT id, substance_id, kind, occurred_on, quantity, entered_quantity, entered_unit,
               counterparty_name, document_no, reported_on, notes, voided_at, void_reason
        FROM {ENTRIES}
        WHERE unit_id = %s AND occurred_on >= %s AND occurred_on < %s
          AND substance_id IN ({_in(substance_ids)})
    """  # noqa: S608 (table name and placeholders only)
    return [
        BookEntry(
            pk,
            substance_id,
            kind,
            _date(day),
            _decimal(quantity),
            _decimal(entered),
            entered_unit,
            party,
            doc,
            _date(reported),
            notes,
            voided_at is not None,
            void_reason,
        )
        for (
            pk,
            substance_id,
            kind,
            day,
            quantity,
            entered,
            entered_unit,
            party,
            doc,
            reported,
            notes,
            voided_at,
            void_reason,
        ) in _rows(sql, [unit.pk, start, end, *substance_ids])
    ]


def walk(
    substance: Substance, unit_label: str, carried: Decimal, lines: list[BookEntry]
) -> ItemBook:
    """Lines in book order into months with running balances; counts checked on the way."""
    balance = carried
    months: list[BookMonth] = []
    differences = 0
    for entry in lines:
        month_start = entry.occurred_on.replace(day=1)
        if not months or months[-1].month != month_start:
            if months:
                months[-1].closing = balance
            months.append(BookMonth(month_start, balance))
        month = months[-1]
        if entry.voided:
            month.lines.append(BookLine(entry, None))
            continue
        if entry.kind == EntryKind.OPENING:
            balance = entry.quantity
            month.lines.append(BookLine(entry, balance))
        elif entry.kind == EntryKind.COUNT:
            difference = entry.quantity - balance
            differences += int(difference != 0)
            month.lines.append(BookLine(entry, entry.quantity, balance, difference))
            balance = entry.quantity
        else:
            balance += entry.delta
            if entry.kind in INFLOWS:
                month.inflow += entry.quantity
            else:
                month.outflow += entry.quantity
            month.lines.append(BookLine(entry, balance))
    if months:
        months[-1].closing = balance
    return ItemBook(substance, unit_label, carried, months, balance, differences)


def book(
    unit: RegulatedUnit,
    year: int,
    substance_id: int | None = None,
    *,
    items: list[Substance] | None = None,
) -> list[ItemBook]:
    """The unit's ledger for a year, item by item (or one item), with running balances."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    items = items_of(unit) if items is None else items
    if substance_id is not None:
        items = [s for s in items if s.pk == substance_id]
    ids = [s.pk for s in items]
    carried = carried_in(unit, start, ids)
    lines: dict[int, list[BookEntry]] = defaultdict(list)
    for entry in year_lines(unit, ids, start, end):
        lines[entry.substance_id].append(entry)
    labels = registry.labels("measure_unit")
    return [
        walk(
            substance,
            labels.get(substance.unit, substance.unit),
            carried[substance.pk],
            sorted(lines[substance.pk], key=BookEntry.sort_key),
        )
        for substance in items
    ]


def items_of(unit: RegulatedUnit) -> list[Substance]:
    """The items a unit may handle, and any it has lines for (an item no longer allowed)."""
    allowed = Allowance.objects.filter(unit=unit).values("substance_id")
    used = LedgerEntry.objects.filter(unit=unit).order_by().values("substance_id").distinct()
    return list(Substance.objects.filter(Q(pk__in=allowed) | Q(pk__in=used)).order_by("code"))


def ledger_years(unit: RegulatedUnit, today: date) -> list[int]:
    first = unit.registered_on.year
    return list(range(today.year, first - 1, -1))


# ------------------------------------------------------------------ units


@dataclass
class UnitFilter:
    place: OrgUnit | None = None
    kind: str = ""
    department_id: int | None = None
    licence: str = ""  # "expiring", "expired" or ""
    name: str = ""
    substance_category: str = ""


def units_for(
    user: Any, filters: UnitFilter, today: date, warning_days: int
) -> QuerySet[RegulatedUnit]:
    qs = RegulatedUnit.objects.for_user(user).select_related("org_unit", "department")
    if filters.place is not None:
        qs = qs.within(filters.place.path)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    if filters.name:
        qs = qs.filter(Q(name__contains=filters.name) | Q(credit_code=filters.name.upper()))
    if filters.substance_category:
        qs = qs.filter(
            Exists(
                Allowance.objects.filter(
                    unit=OuterRef("pk"), substance__category=filters.substance_category
                )
            )
        )
    qs = qs.annotate(
        soonest_until=Min("licences__valid_until", filter=Q(licences__valid_until__gte=today)),
        latest_until=Max("licences__valid_until"),
    )
    if filters.licence == "expiring":
        qs = qs.filter(soonest_until__lte=today + timedelta(days=warning_days))
    elif filters.licence == "expired":
        qs = qs.filter(Q(latest_until__lt=today) | Q(latest_until__isnull=True))
    return qs.order_by("org_path", "name", "id")


def licence_flag(unit: RegulatedUnit, today: date, warning_days: int) -> str:
    """ "expired" (no licence valid now), "expiring" (one ends within the warning days) or ""."""
    latest = getattr(unit, "latest_until", None)
    soonest = getattr(unit, "soonest_until", None)
    if latest is None or latest < today:
        return "expired"
    if soonest is not None and soonest <= today + timedelta(days=warning_days):
        return "expiring"
    return ""


# ------------------------------------------------------------------ findings


def findings_in(user: Any, period_start: date, period_end: date) -> QuerySet[Finding]:
    """Findings in the user's scope whose evidence is dated in [start, end)."""
    return Finding.objects.for_user(user).filter(
        period_end__gte=period_start, period_end__lt=period_end
    )


@dataclass
class KindSummary:
    kind: str
    label: str
    count: int = 0
    open: int = 0
    # Totals by unit of measure label; for a balance, stock missing and in excess apart.
    totals: list[tuple[str, Decimal]] = field(default_factory=list)
    missing: list[tuple[str, Decimal]] = field(default_factory=list)


def summary_by_kind(findings: QuerySet[Finding]) -> list[KindSummary]:
    labels = registry.labels("measure_unit")
    rows = (
        findings.values("kind", "substance__unit")
        .annotate(
            n=Count("id"),
            still_open=Count("id", filter=Q(closed_on__isnull=True)),
            total=Sum("amount"),
            short=Sum("amount", filter=Q(amount__lt=0)),
            excess=Sum("amount", filter=Q(amount__gt=0)),
        )
        .order_by()
    )
    by_kind = {kind: KindSummary(kind, label) for kind, label in FindingKind.choices}
    for row in rows:
        summary = by_kind[row["kind"]]
        summary.count += row["n"]
        summary.open += row["still_open"]
        label = labels.get(row["substance__unit"], row["substance__unit"])
        if row["kind"] == FindingKind.BALANCE:
            if row["short"]:
                summary.missing.append((label, -row["short"]))
            if row["excess"]:
                summary.totals.append((label, row["excess"]))
        else:
            summary.totals.append((label, row["total"] or ZERO))
    return list(by_kind.values())


# ------------------------------------------------------------------ campaigns


def campaigns_for(user: Any) -> QuerySet[Campaign]:
    """Campaigns run in the user's subtree or above it (a county campaign reaches each
    township, which sees its own part of it)."""
    scope = getattr(user, "scope_path", "") if getattr(user, "is_authenticated", False) else ""
    if not scope or not user.is_active or user.is_administrator:
        return Campaign.objects.none()
    return Campaign.objects.filter(
        Q(org_path__subtree=scope) | Q(org_path__in=ancestor_paths(scope))
    )


def campaign_or_404(user: Any, pk: Any) -> Campaign:
    try:
        return campaigns_for(user).select_related("org_unit").get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("不存在或无权访问") from exc


@dataclass
class Coverage:
    name: str
    path: str
    listed: int = 0
    checked: int = 0

    @property
    def rate(self) -> Decimal | None:
        if not self.listed:
            return None
        return Decimal(self.checked * 100) / Decimal(self.listed)


def targets_for(user: Any, campaign: Campaign) -> QuerySet[CampaignTarget]:
    return (
        CampaignTarget.objects.for_user(user)
        .filter(campaign=campaign)
        .annotate(
            checked=Exists(UnitCheck.objects.filter(target=OuterRef("pk"))),
            last_checked=Max("checks__checked_on"),
        )
        .select_related("unit", "unit__org_unit", "unit__department")
    )


def coverage(user: Any, campaign: Campaign) -> tuple[Coverage, list[Coverage]]:
    """Checked / listed over the user's part of the campaign, and per township."""
    rows = list(targets_for(user, campaign).values_list("org_path", "checked"))
    scope = user.scope_path
    root = campaign.org_path if campaign.org_path.startswith(scope) else scope
    townships = {
        u.path: Coverage(u.name, u.path)
        for u in OrgUnit.objects.filter(level=Level.TOWNSHIP)
        .within(root)
        .order_by("sort_order", "path")
    }
    total = Coverage("合计", root)
    for path, checked in rows:
        total.listed += 1
        total.checked += int(bool(checked))
        for candidate in ancestor_paths(path):
            township = townships.get(candidate)
            if township is not None:
                township.listed += 1
                township.checked += int(bool(checked))
                break
    return total, [c for c in townships.values() if c.listed]
