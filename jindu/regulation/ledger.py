"""Ledger lines (台账): the rules a line must keep, and writing, voiding and reporting them.

``LedgerRules`` loads, once, what the checks need for a set of units (their
registration, licences, allowed items, opening stocks, the counterparties
named), so that a sheet of 100,000 lines is checked without a query per line;
the entry form uses the same rules for one line. Nothing is written unless
every line passes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record, record_change
from jindu.regulation.catalogue import ConversionError, convert, measure_units
from jindu.regulation.models import (
    LICENSED,
    WITH_COUNTERPARTY,
    Allowance,
    EntryKind,
    LedgerEntry,
    Licence,
    RegulatedUnit,
    Substance,
)
from jindu.regulation.services import is_user, parse_quantity

ENTRY_FIELDS = (
    "unit_id",
    "substance_id",
    "kind",
    "occurred_on",
    "quantity",
    "entered_quantity",
    "entered_unit",
    "counterparty_unit_id",
    "counterparty_name",
    "document_no",
    "reported_on",
    "notes",
)


@dataclass
class LineInput:
    """One line as entered: on a form or in a row of a sheet."""

    unit: RegulatedUnit
    substance: Substance | None
    kind: str
    occurred_on: date | None
    quantity: Any
    measure_unit: str
    counterparty: str = ""
    document_no: str = ""
    reported_on: date | None = None
    notes: str = ""


def _errors(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


class LedgerRules:
    """The checks on ledger lines of a known set of units, with their lookups loaded once."""

    def __init__(self, units: Iterable[RegulatedUnit], counterparties: Iterable[str] = ()) -> None:
        self.today = timezone.localdate()
        self.units = {u.pk: u for u in units}
        ids = list(self.units)
        self.measure_units = measure_units()
        self.allowances: dict[tuple[int, int], Allowance] = {
            (a.unit_id, a.substance_id): a for a in Allowance.objects.filter(unit_id__in=ids)
        }
        self.licences: dict[int, list[Licence]] = defaultdict(list)
        for licence in Licence.objects.filter(unit_id__in=ids).order_by("valid_from"):
            self.licences[licence.unit_id].append(licence)
        # The opening line (if any) and the earliest line of each unit and item, as
        # stored, and then as this batch adds them.
        self.openings: dict[tuple[int, int], date] = {}
        self.first_line: dict[tuple[int, int], date] = {}
        live = LedgerEntry.objects.filter(unit_id__in=ids, voided_at__isnull=True)
        for row in live.values("unit_id", "substance_id").annotate(first=Min("occurred_on")):
            self.first_line[(row["unit_id"], row["substance_id"])] = row["first"]
        for unit_id, substance_id, day in live.filter(kind=EntryKind.OPENING).values_list(
            "unit_id", "substance_id", "occurred_on"
        ):
            self.openings[(unit_id, substance_id)] = day
        self.registered = resolve_counterparties(counterparties)

    def counterparty(self, text: str) -> RegulatedUnit | None:
        return self.registered.get(text.strip())

    def check(self, line: LineInput) -> dict[str, Any]:
        """The line's values as stored, or a ``ValidationError`` keyed by field."""
        errors: dict[str, list[str]] = {}
        unit, substance, kind, day = line.unit, line.substance, line.kind, line.occurred_on
        if kind not in EntryKind.values:
            _errors(errors, "kind", _("请选择类型"))
        if substance is None:
            _errors(errors, "substance", _("请选择品种"))
        if day is None:
            _errors(errors, "occurred_on", _("请填写日期"))
        elif day > self.today:
            _errors(errors, "occurred_on", _("日期不能晚于今天"))
        elif day < unit.registered_on:
            _errors(
                errors,
                "occurred_on",
                _("日期早于该单位的登记日期（%(day)s）") % {"day": unit.registered_on},
            )
        elif unit.closed_on and day > unit.closed_on:
            _errors(
                errors, "occurred_on", _("该单位已于%(day)s停业或注销") % {"day": unit.closed_on}
            )
        quantity = None
        try:
            quantity = parse_quantity(
                line.quantity, "quantity", allow_zero=kind in (EntryKind.OPENING, EntryKind.COUNT)
            )
        except ValidationError as exc:
            for message in exc.message_dict["quantity"]:
                _errors(errors, "quantity", message)
        allowance = None
        if substance is not None:
            allowance = self.allowances.get((unit.pk, substance.pk))
            if allowance is None:
                _errors(
                    errors,
                    "substance",
                    _("该单位未核定经营或使用“%(name)s”，请先在单位信息中添加核定品种")
                    % {"name": substance.name},
                )
        converted = None
        if substance is not None and quantity is not None:
            try:
                converted = convert(quantity, line.measure_unit, substance, self.measure_units)
            except ConversionError as exc:
                _errors(errors, "measure_unit", str(exc))
        if kind in LICENSED and day is not None and allowance is not None:
            message = self._licence_problem(unit, allowance, kind, day)
            if message:
                _errors(errors, "occurred_on", message)
        counterparty_unit = None
        counterparty = (line.counterparty or "").strip()
        if kind in WITH_COUNTERPARTY and not counterparty:
            _errors(errors, "counterparty", _("请填写往来单位"))
        if counterparty:
            if len(counterparty) > 100:
                _errors(errors, "counterparty", _("往来单位不能超过100个字"))
            counterparty_unit = self.counterparty(counterparty)
            if counterparty_unit is not None and counterparty_unit.pk == unit.pk:
                _errors(errors, "counterparty", _("往来单位不能是本单位"))
        if line.reported_on is not None:
            if line.reported_on > self.today:
                _errors(errors, "reported_on", _("报告日期不能晚于今天"))
            elif day is not None and line.reported_on < day:
                _errors(errors, "reported_on", _("报告日期不能早于业务日期"))
        if substance is not None and day is not None and kind in EntryKind.values:
            self._check_opening(errors, unit, substance, kind, day)
        for field, value, limit in (
            ("document_no", line.document_no, 60),
            ("notes", line.notes, 200),
        ):
            if len(value or "") > limit:
                _errors(errors, field, _("不能超过%(n)d个字") % {"n": limit})
        if errors:
            raise ValidationError(errors)
        assert substance is not None and day is not None and converted is not None
        return {
            "unit": unit,
            "substance": substance,
            "kind": kind,
            "occurred_on": day,
            "quantity": converted,
            "entered_quantity": quantity,
            "entered_unit": line.measure_unit,
            "counterparty_unit": counterparty_unit,
            "counterparty_name": counterparty_unit.name if counterparty_unit else counterparty,
            "document_no": (line.document_no or "").strip(),
            "reported_on": line.reported_on,
            "notes": (line.notes or "").strip(),
        }

    def _licence_problem(
        self, unit: RegulatedUnit, allowance: Allowance, kind: str, day: date
    ) -> str:
        action = EntryKind(kind).label
        if allowance.licence_id:
            licences = [lic for lic in self.licences[unit.pk] if lic.pk == allowance.licence_id]
        else:
            licences = self.licences[unit.pk]
        if any(lic.valid_on(day) for lic in licences):
            return ""
        lapsed = [lic for lic in licences if lic.valid_until < day]
        if lapsed:
            latest = max(lapsed, key=lambda lic: lic.valid_until)
            return _("证件%(number)s已于%(until)s到期，不能登记该日的%(action)s") % {
                "number": latest.number,
                "until": latest.valid_until,
                "action": action,
            }
        if licences:
            earliest = min(licences, key=lambda lic: lic.valid_from)
            return _("证件%(number)s自%(start)s起有效，不能登记该日的%(action)s") % {
                "number": earliest.number,
                "start": earliest.valid_from,
                "action": action,
            }
        return _("该单位没有有效的许可证或备案证明，不能登记%(action)s") % {"action": action}

    def _check_opening(
        self,
        errors: dict[str, list[str]],
        unit: RegulatedUnit,
        substance: Substance,
        kind: str,
        day: date,
    ) -> None:
        key = (unit.pk, substance.pk)
        opening = self.openings.get(key)
        if kind == EntryKind.OPENING:
            first = self.first_line.get(key)
            if opening is not None:
                _errors(errors, "kind", _("该品种已有%(day)s的期初结存") % {"day": opening})
            elif first is not None and first < day:
                _errors(
                    errors,
                    "occurred_on",
                    _("期初结存须不晚于该品种最早的台账记录（%(day)s）") % {"day": first},
                )
        elif opening is not None and day < opening:
            _errors(
                errors,
                "occurred_on",
                _("日期早于该品种的期初结存日期（%(day)s）") % {"day": opening},
            )

    def accept(self, values: dict[str, Any]) -> None:
        """Remember a checked line, so that the next lines of a batch see it."""
        key = (values["unit"].pk, values["substance"].pk)
        day = values["occurred_on"]
        if values["kind"] == EntryKind.OPENING:
            self.openings[key] = day
        first = self.first_line.get(key)
        if first is None or day < first:
            self.first_line[key] = day


def resolve_counterparties(texts: Iterable[str]) -> dict[str, RegulatedUnit]:
    """Registered units named by their exact name or credit code, found in one query.

    A counterparty may lie outside the user's scope (a buyer in another
    township); only the one that matches what the user typed is returned.
    """
    wanted = {t.strip() for t in texts if t and t.strip()}
    if not wanted:
        return {}
    found: dict[str, RegulatedUnit] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 500):
        part = ordered[start : start + 500]
        query = Q(name__in=part) | Q(credit_code__in=[p.upper() for p in part if len(p) == 18])
        for unit in RegulatedUnit.objects.filter(query).order_by("pk"):
            for key in (unit.name, unit.credit_code):
                if key:
                    found.setdefault(key, unit)
    return {
        text: found.get(text) or found[text.upper()]
        for text in wanted
        if text in found or text.upper() in found
    }


def _check_actor(actor: Any, unit: RegulatedUnit) -> None:
    if not is_user(actor):
        return
    if not unit.org_path.startswith(actor.scope_path) or (
        actor.scoped_to_department and actor.department_id != unit.department_id
    ):
        raise ValidationError(_("该单位不在您的管辖范围内"))


def _entry(values: dict[str, Any], actor: Any) -> LedgerEntry:
    unit = values["unit"]
    entry = LedgerEntry(created_by=actor if is_user(actor) else None, **values)
    entry.org_unit_id, entry.org_path = unit.org_unit_id, unit.org_path
    return entry


@transaction.atomic
def record_entry(*, actor: Any, line: LineInput) -> LedgerEntry:
    """Write one ledger line, or refuse it with errors next to its fields."""
    _check_actor(actor, line.unit)
    rules = LedgerRules([line.unit], [line.counterparty])
    values = rules.check(line)
    entry = _entry(values, actor)
    entry.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=entry,
        after={name: getattr(entry, name) for name in ENTRY_FIELDS},
    )
    return entry


@transaction.atomic
def record_entries(
    *, actor: Any, rows: Sequence[dict[str, Any]], source: str = ""
) -> list[LedgerEntry]:
    """Write checked lines in bulk (an import, the demo) with one audit row for the batch.

    ``rows`` are values as ``LedgerRules.check`` returns them.
    """
    entries = []
    for values in rows:
        _check_actor(actor, values["unit"])
        entries.append(_entry(values, actor))
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)
    record(
        actor=actor,
        action=Action.RECORD_CREATED,
        object_type="regulation.ledgerentry",
        object_repr=_("台账记录 %(n)d 条") % {"n": len(entries)},
        detail={
            "rows": len(entries),
            "units": len({e.unit_id for e in entries}),
            "source": source,
        },
    )
    return entries


@transaction.atomic
def void_entry(*, actor: Any, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Void a wrong line (it stays in the ledger, struck through, and out of every sum)."""
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    reason = (reason or "").strip()
    if entry.voided_at is not None:
        raise ValidationError(_("该记录已作废"))
    if not reason:
        raise ValidationError({"reason": [_("请填写作废原因")]})
    if len(reason) > 200:
        raise ValidationError({"reason": [_("作废原因不能超过200个字")]})
    if entry.kind == EntryKind.OPENING and (
        LedgerEntry.objects.filter(
            unit_id=entry.unit_id, substance_id=entry.substance_id, voided_at__isnull=True
        )
        .exclude(pk=entry.pk)
        .exists()
    ):
        raise ValidationError(_("该品种已有其他台账记录，期初结存不能作废"))
    entry.voided_at = timezone.now()
    entry.voided_by = actor if is_user(actor) else None
    entry.void_reason = reason
    entry.save(update_fields=["voided_at", "voided_by", "void_reason"])
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=entry,
        before={"voided": False},
        after={"voided": True, "void_reason": reason},
    )
    return entry


@transaction.atomic
def set_reported(*, actor: Any, entry: LedgerEntry, reported_on: date | None) -> LedgerEntry:
    """Record when a sale was reported (流向报告), if it was not known when entered."""
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if reported_on is None:
        raise ValidationError({"reported_on": [_("请填写报告日期")]})
    if reported_on > timezone.localdate():
        raise ValidationError({"reported_on": [_("报告日期不能晚于今天")]})
    if reported_on < entry.occurred_on:
        raise ValidationError({"reported_on": [_("报告日期不能早于业务日期")]})
    before = {"reported_on": entry.reported_on}
    entry.reported_on = reported_on
    entry.save(update_fields=["reported_on"])
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=entry,
        before=before,
        after={"reported_on": reported_on},
    )
    return entry
