"""Writing the courier outlets and their checks of the three 100 % rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.inspections.checks import (
    Errors,
    actor_or_none,
    add_error,
    check_code,
    check_date,
    check_phone,
    check_text,
    check_unit,
    move_children,
    raise_errors,
)
from jindu.inspections.models import COURIER_RULES, CourierInspection, CourierOutlet

MAX_SAMPLE = 100_000
OUTLET_FIELDS = (
    "name",
    "kind",
    "company",
    "address",
    "contact_name",
    "contact_phone",
    "department",
    "notes",
    "org_unit",
)


def _outlet_errors(actor: Any, values: Mapping[str, Any], current: CourierOutlet | None) -> Errors:
    errors: Errors = {}
    check_text(errors, "name", values["name"], _("网点名称"), limit=100)
    check_code(
        errors,
        "kind",
        "courier_kind",
        values["kind"],
        _("网点类别"),
        current=current.kind if current else "",
    )
    check_text(errors, "company", values["company"], _("所属企业/品牌"), limit=60)
    check_text(errors, "address", values["address"], _("地址"), limit=200)
    check_text(
        errors, "contact_name", values["contact_name"], _("负责人"), limit=50, required=False
    )
    check_unit(errors, actor, values["org_unit"])
    return errors


@transaction.atomic
def register_outlet(
    *,
    actor: Any,
    org_unit: Any,
    name: str,
    kind: str,
    company: str,
    address: str,
    contact_name: str = "",
    contact_phone: str = "",
    department: Any = None,
    notes: str = "",
) -> CourierOutlet:
    values = {
        "org_unit": org_unit,
        "name": (name or "").strip(),
        "kind": kind,
        "company": (company or "").strip(),
        "address": (address or "").strip(),
        "contact_name": (contact_name or "").strip(),
    }
    errors = _outlet_errors(actor, values, None)
    phone = check_phone(errors, "contact_phone", contact_phone)
    raise_errors(errors)
    outlet = CourierOutlet(
        **{k: v for k, v in values.items() if k != "org_unit"},
        contact_phone=phone,
        department=department,
        notes=(notes or "").strip(),
    )
    outlet.set_org_unit(org_unit)
    outlet.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=outlet,
        after=snapshot(outlet, OUTLET_FIELDS),
    )
    return outlet


@transaction.atomic
def update_outlet(*, actor: Any, outlet: CourierOutlet, **changes: Any) -> CourierOutlet:
    unknown = set(changes) - set(OUTLET_FIELDS)
    if unknown:
        raise TypeError(f"unknown outlet fields: {sorted(unknown)}")
    outlet = CourierOutlet.objects.select_for_update().get(pk=outlet.pk)
    before = snapshot(outlet, OUTLET_FIELDS)
    if not changes.get("contact_phone"):
        changes.pop("contact_phone", None)
    values = {**before, **changes}
    for key in ("name", "company", "address", "contact_name", "notes"):
        values[key] = (values[key] or "").strip()
    errors = _outlet_errors(actor, values, outlet)
    if "contact_phone" in changes:
        values["contact_phone"] = check_phone(errors, "contact_phone", changes["contact_phone"])
    raise_errors(errors)
    moved = values["org_unit"].pk != outlet.org_unit_id
    for key in OUTLET_FIELDS:
        if key != "org_unit":
            setattr(outlet, key, values[key])
    outlet.set_org_unit(values["org_unit"])
    outlet.save()
    if moved:
        move_children(outlet, [outlet.inspections.all()])
    after = snapshot(outlet, OUTLET_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=outlet, before=before, after=after
        )
    return outlet


Counts = Mapping[str, tuple[Any, Any]]


def courier_count_errors(counts: Counts) -> Errors:
    """Each rule's sample and compliance: whole numbers, not negative, complied ≤ sampled."""
    errors: Errors = {}
    any_sampled = False
    for rule, label in COURIER_RULES:
        sampled, complied = counts.get(rule, (0, 0))
        bad = False
        for field, value in ((f"{rule}_sampled", sampled), (f"{rule}_complied", complied)):
            if value is None:
                value = 0
            if not isinstance(value, int) or isinstance(value, bool):
                add_error(errors, field, _("请填写整数件数"))
                bad = True
            elif value < 0:
                add_error(errors, field, _("件数不能为负数"))
                bad = True
            elif value > MAX_SAMPLE:
                add_error(errors, field, _("件数不能超过%(n)d") % {"n": MAX_SAMPLE})
                bad = True
        if bad:
            continue
        sampled, complied = sampled or 0, complied or 0
        if complied > sampled:
            add_error(
                errors,
                f"{rule}_complied",
                _("%(rule)s合规件数（%(c)d）不能多于抽查件数（%(s)d）")
                % {"rule": label, "c": complied, "s": sampled},
            )
        any_sampled = any_sampled or sampled > 0
    if not errors and not any_sampled:
        add_error(errors, "real_name_sampled", _("请至少填写一项规定的抽查件数"))
    return errors


@transaction.atomic
def record_courier_inspection(
    *,
    actor: Any,
    outlet: CourierOutlet,
    inspected_on: date | None,
    inspectors: str,
    counts: Counts,
    problems: str = "",
) -> CourierInspection:
    """Record a check of the three 100 % rules at an outlet."""
    errors = courier_count_errors(counts)
    check_date(errors, "inspected_on", inspected_on, _("检查日期"))
    inspectors = check_text(errors, "inspectors", inspectors, _("检查人员"), limit=200)
    raise_errors(errors)
    inspection = CourierInspection(
        outlet=outlet,
        inspected_on=inspected_on,
        inspectors=inspectors,
        problems=(problems or "").strip(),
        recorded_by=actor_or_none(actor),
    )
    for rule, _label in COURIER_RULES:
        sampled, complied = counts.get(rule, (0, 0))
        setattr(inspection, f"{rule}_sampled", sampled or 0)
        setattr(inspection, f"{rule}_complied", complied or 0)
    inspection.set_org_unit(outlet.org_unit)
    inspection.save()
    fields = [f"{rule}_{part}" for rule, _l in COURIER_RULES for part in ("sampled", "complied")]
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=inspection,
        after=snapshot(inspection, ["inspected_on", *fields]),
        extra={"outlet": outlet.pk},
    )
    return inspection
