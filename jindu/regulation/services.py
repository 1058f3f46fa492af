"""Writes to the register of regulated units: the units, their licences, the items
and yearly quantities they may handle, their contact people, and the policy.

Each function takes the acting user (or None for the system: the demo, a
console import), checks the user's scope and department, runs in one
transaction and audits inside it.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.codes import registry
from jindu.orgs.division import Level
from jindu.orgs.models import Department, OrgUnit
from jindu.regulation.models import (
    Allowance,
    CampaignTarget,
    Contact,
    Finding,
    LedgerEntry,
    Licence,
    RegulatedUnit,
    RegulationPolicy,
    Substance,
    UnitCheck,
)

UNIT_FIELDS = (
    "name",
    "credit_code",
    "kind",
    "department_id",
    "org_unit_id",
    "address",
    "registered_on",
    "closed_on",
    "notes",
)
LICENCE_FIELDS = ("kind", "number", "issuer", "valid_from", "valid_until", "notes")
LOCATION_LEVELS = frozenset({Level.TOWNSHIP, Level.VILLAGE})
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
PHONE = re.compile(r"^[0-9-]{7,20}$")
MAX_QUANTITY = Decimal("9999999999")


def is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _check_location(actor: Any, org_unit: OrgUnit | None) -> None:
    if org_unit is None:
        raise ValidationError({"org_unit": [_("请选择所在乡镇或村（社区）")]})
    if org_unit.level not in LOCATION_LEVELS:
        raise ValidationError({"org_unit": [_("所在地须为乡镇（街道）或村（社区）")]})
    if is_user(actor) and not org_unit.path.startswith(actor.scope_path):
        raise ValidationError({"org_unit": [_("所在地不在您的管辖范围内")]})


def _check_department(actor: Any, department: Department | None, org_unit: OrgUnit) -> None:
    if department is None:
        raise ValidationError({"department": [_("请选择监管部门")]})
    if not department.active:
        raise ValidationError({"department": [_("该成员单位已停用")]})
    if not org_unit.path.startswith(department.org_path):
        raise ValidationError({"department": [_("监管部门须为单位所在县（区）的成员单位")]})
    if is_user(actor) and actor.scoped_to_department and actor.department_id != department.pk:
        raise ValidationError({"department": [_("您只能登记本部门监管的单位")]})


def _unit_values(values: dict[str, Any], today: date) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = dict(values)
    for key in ("name", "credit_code", "address", "notes", "kind"):
        if key in clean:
            clean[key] = str(clean[key] or "").strip()
    if "name" in clean:
        if not clean["name"]:
            errors["name"] = [_("请填写单位名称")]
        elif len(clean["name"]) > 100:
            errors["name"] = [_("单位名称不能超过100个字")]
    if clean.get("credit_code"):
        clean["credit_code"] = clean["credit_code"].upper()
        if not CREDIT_CODE.match(clean["credit_code"]):
            errors["credit_code"] = [_("统一社会信用代码应为18位数字或大写字母")]
    if "kind" in clean and not registry.is_valid("regulated_unit_kind", clean["kind"]):
        errors["kind"] = [_("请选择单位类别")]
    registered = clean.get("registered_on")
    if "registered_on" in clean:
        if registered is None:
            errors["registered_on"] = [_("请填写登记日期")]
        elif registered > today:
            errors["registered_on"] = [_("登记日期不能晚于今天")]
    closed = clean.get("closed_on")
    if closed is not None:
        if closed > today:
            errors["closed_on"] = [_("停业日期不能晚于今天")]
        elif registered is not None and closed < registered:
            errors["closed_on"] = [_("停业日期不能早于登记日期")]
    if errors:
        raise ValidationError(errors)
    return clean


def _check_credit_code(code: str, exclude_pk: int | None = None) -> None:
    if code and RegulatedUnit.objects.filter(credit_code=code).exclude(pk=exclude_pk).exists():
        raise ValidationError({"credit_code": [_("该统一社会信用代码已登记")]})


@transaction.atomic
def register_unit(
    *,
    actor: Any,
    name: str,
    kind: str,
    department: Department,
    org_unit: OrgUnit,
    registered_on: date,
    credit_code: str = "",
    address: str = "",
    notes: str = "",
) -> RegulatedUnit:
    """Put a unit on the register."""
    values = _unit_values(
        {
            "name": name,
            "kind": kind,
            "registered_on": registered_on,
            "credit_code": credit_code,
            "address": address,
            "notes": notes,
        },
        timezone.localdate(),
    )
    _check_location(actor, org_unit)
    _check_department(actor, department, org_unit)
    _check_credit_code(values["credit_code"])
    unit = RegulatedUnit(department=department, **values)
    unit.set_org_unit(org_unit)
    unit.save()
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=unit, after=snapshot(unit, UNIT_FIELDS)
    )
    return unit


# Tables whose rows copy a unit's org path, rewritten when the unit moves.
_COPIES = (Licence, LedgerEntry, Finding, CampaignTarget, UnitCheck)


@transaction.atomic
def update_unit(*, actor: Any, unit: RegulatedUnit, **changes: Any) -> RegulatedUnit:
    """Change a unit's particulars. Moving it to another place moves its records' paths too."""
    unit = RegulatedUnit.objects.select_for_update().get(pk=unit.pk)
    allowed = {
        "name",
        "credit_code",
        "kind",
        "department",
        "org_unit",
        "address",
        "registered_on",
        "closed_on",
        "notes",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown unit fields: {sorted(unknown)}")
    before = snapshot(unit, UNIT_FIELDS)
    org_unit = changes.pop("org_unit", None) or unit.org_unit
    department = changes.pop("department", None) or unit.department
    merged = {
        "registered_on": unit.registered_on,
        "closed_on": unit.closed_on,
        **changes,
    }
    values = _unit_values(merged, timezone.localdate())
    if values.get("registered_on") and values["registered_on"] != unit.registered_on:
        first = (
            LedgerEntry.objects.filter(unit=unit, voided_at__isnull=True)
            .order_by("occurred_on")
            .values_list("occurred_on", flat=True)
            .first()
        )
        if first is not None and values["registered_on"] > first:
            raise ValidationError(
                {"registered_on": [_("已有%(day)s的台账记录，登记日期不能晚于它") % {"day": first}]}
            )
    _check_location(actor, org_unit)
    _check_department(actor, department, org_unit)
    _check_credit_code(values.get("credit_code", unit.credit_code), exclude_pk=unit.pk)
    for key, value in values.items():
        setattr(unit, key, value)
    unit.department = department
    moved = org_unit.pk != unit.org_unit_id
    unit.set_org_unit(org_unit)
    unit.save()
    if moved:
        for model in _COPIES:
            model.objects.filter(unit=unit).update(org_unit=org_unit, org_path=org_unit.path)
    after = snapshot(unit, UNIT_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=unit, before=before, after=after
        )
    return unit


# ------------------------------------------------------------------ licences


def _licence_values(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = dict(values)
    for key in ("kind", "number", "issuer", "notes"):
        clean[key] = str(clean.get(key) or "").strip()
    if not registry.is_valid("licence_kind", clean["kind"]):
        errors["kind"] = [_("请选择证件种类")]
    if not clean["number"]:
        errors["number"] = [_("请填写证件编号")]
    if clean.get("valid_from") is None:
        errors["valid_from"] = [_("请填写有效期起始日期")]
    if clean.get("valid_until") is None:
        errors["valid_until"] = [_("请填写有效期截止日期")]
    elif clean.get("valid_from") and clean["valid_until"] < clean["valid_from"]:
        errors["valid_until"] = [_("有效期截止日期不能早于起始日期")]
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def add_licence(
    *,
    actor: Any,
    unit: RegulatedUnit,
    kind: str,
    number: str,
    valid_from: date | None,
    valid_until: date | None,
    issuer: str = "",
    notes: str = "",
) -> Licence:
    values = _licence_values(
        {
            "kind": kind,
            "number": number,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "issuer": issuer,
            "notes": notes,
        }
    )
    if Licence.objects.filter(unit=unit, kind=values["kind"], number=values["number"]).exists():
        raise ValidationError({"number": [_("该单位已登记此证件")]})
    licence = Licence(unit=unit, **values)
    licence.set_org_unit(unit.org_unit)
    licence.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=licence,
        after=snapshot(licence, LICENCE_FIELDS),
        extra={"unit": unit.pk},
    )
    return licence


@transaction.atomic
def update_licence(*, actor: Any, licence: Licence, **changes: Any) -> Licence:
    """Correct a licence or record its renewal (a new validity)."""
    licence = Licence.objects.select_for_update().get(pk=licence.pk)
    unknown = set(changes) - set(LICENCE_FIELDS)
    if unknown:
        raise TypeError(f"unknown licence fields: {sorted(unknown)}")
    before = snapshot(licence, LICENCE_FIELDS)
    values = _licence_values({**before, **changes})
    for key, value in values.items():
        setattr(licence, key, value)
    licence.save()
    after = snapshot(licence, LICENCE_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=licence, before=before, after=after
        )
    return licence


# ------------------------------------------------------------------ allowed items


def parse_quantity(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """A quantity from a form or a sheet: a number, not negative, at most three decimals."""
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: [_("数量应为数字")]}) from exc
    if not quantity.is_finite():
        raise ValidationError({field: [_("数量应为数字")]})
    if quantity < 0:
        raise ValidationError({field: [_("数量不能为负数")]})
    if quantity == 0 and not allow_zero:
        raise ValidationError({field: [_("数量须大于0")]})
    if quantity > MAX_QUANTITY:
        raise ValidationError({field: [_("数量过大，请检查")]})
    if quantity != quantity.quantize(Decimal("0.001")):
        raise ValidationError({field: [_("数量最多保留三位小数")]})
    return quantity


@transaction.atomic
def set_allowance(
    *,
    actor: Any,
    unit: RegulatedUnit,
    substance: Substance,
    yearly_quantity: Decimal | None = None,
    licence: Licence | None = None,
) -> Allowance:
    """Let a unit handle an item, with the quantity it may buy in a year (empty: not limited)."""
    if yearly_quantity is not None:
        yearly_quantity = parse_quantity(yearly_quantity, "yearly_quantity")
    if licence is not None and licence.unit_id != unit.pk:
        raise ValidationError({"licence": [_("依据证件须为本单位的证件")]})
    allowance = Allowance.objects.filter(unit=unit, substance=substance).first()
    if allowance is None:
        if not substance.active:
            raise ValidationError({"substance": [_("该品种已停用")]})
        allowance = Allowance.objects.create(
            unit=unit, substance=substance, yearly_quantity=yearly_quantity, licence=licence
        )
        record_change(
            actor=actor,
            action=Action.RECORD_CREATED,
            obj=allowance,
            after={"substance": substance.code, "yearly_quantity": yearly_quantity},
        )
        return allowance
    before = {"yearly_quantity": allowance.yearly_quantity, "licence_id": allowance.licence_id}
    allowance.yearly_quantity, allowance.licence = yearly_quantity, licence
    allowance.save()
    after = {"yearly_quantity": allowance.yearly_quantity, "licence_id": allowance.licence_id}
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=allowance, before=before, after=after
        )
    return allowance


@transaction.atomic
def remove_allowance(*, actor: Any, allowance: Allowance) -> None:
    """Stop a unit handling an item; its ledger lines stay, new ones are refused."""
    record_change(
        actor=actor,
        action=Action.RECORD_DELETED,
        obj=allowance,
        before={"substance": allowance.substance_id, "yearly_quantity": allowance.yearly_quantity},
    )
    allowance.delete()


# ------------------------------------------------------------------ contacts


@transaction.atomic
def add_contact(
    *, actor: Any, unit: RegulatedUnit, name: str, phone: str, title: str = ""
) -> Contact:
    name, title = (name or "").strip(), (title or "").strip()
    phone = re.sub(r"\s+", "", phone or "")
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("请填写联系人姓名")]
    elif len(name) > 50:
        errors["name"] = [_("姓名不能超过50个字")]
    if not PHONE.match(phone):
        errors["phone"] = [_("联系电话格式不正确（只能包含数字和“-”，7至20位）")]
    if len(title) > 50:
        errors["title"] = [_("职务不能超过50个字")]
    if errors:
        raise ValidationError(errors)
    contact = Contact.objects.create(unit=unit, name=name, title=title, phone=phone)
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=contact,
        after=snapshot(contact, ("name", "title", "phone")),
    )
    return contact


@transaction.atomic
def remove_contact(*, actor: Any, contact: Contact) -> None:
    record_change(
        actor=actor,
        action=Action.RECORD_DELETED,
        obj=contact,
        before=snapshot(contact, ("name", "title", "phone")),
    )
    contact.delete()


# ------------------------------------------------------------------ policy

POLICY_FIELDS = (
    "licence_warning_days",
    "report_days",
    "match_window_days",
    "match_tolerance_percent",
)


@transaction.atomic
def update_policy(*, actor: Any, **changes: Any) -> RegulationPolicy:
    policy = RegulationPolicy.current()
    policy = RegulationPolicy.objects.select_for_update().get(pk=policy.pk)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    days = changes.get("licence_warning_days", policy.licence_warning_days)
    if not 1 <= int(days) <= 365:
        errors["licence_warning_days"] = [_("提前提醒天数应在1到365之间")]
    window = changes.get("match_window_days", policy.match_window_days)
    if not 0 <= int(window) <= 90:
        errors["match_window_days"] = [_("日期相差天数应在0到90之间")]
    tolerance = Decimal(str(changes.get("match_tolerance_percent", policy.match_tolerance_percent)))
    if not Decimal(0) <= tolerance <= Decimal(50):
        errors["match_tolerance_percent"] = [_("允许误差应在0到50之间")]
    report_days = changes.get("report_days", policy.report_days) or {}
    for value in report_days.values():
        if value is not None and not 1 <= int(value) <= 365:
            errors["report_days"] = [_("报告期限应在1到365天之间")]
    if errors:
        raise ValidationError(errors)
    before = snapshot(policy, POLICY_FIELDS)
    policy.licence_warning_days = int(days)
    policy.match_window_days = int(window)
    policy.match_tolerance_percent = tolerance
    policy.report_days = {k: int(v) for k, v in report_days.items() if v is not None}
    policy.save()
    after = snapshot(policy, POLICY_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=policy, before=before, after=after
        )
    return policy
