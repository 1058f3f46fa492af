"""Writing the registers and their checks: each write validates everything first, then
writes its rows, its files and its audit row in one transaction.

Errors are raised as ``ValidationError`` keyed by the form field they concern,
in Chinese, so that the page can show each next to its field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.codes import registry
from jindu.inspections.images import MAX_PHOTOS, CheckedFile
from jindu.inspections.models import (
    COURIER_RULES,
    CourierInspection,
    CourierOutlet,
    InspectionRules,
    Patrol,
    Photo,
    ResponsibilityLetter,
    Venue,
    VenueInspection,
)
from jindu.inspections.storage import private_storage
from jindu.orgs.division import Level

Errors = dict[str, list[str]]

# Venues, outlets and patrols belong to a township or a unit below it.
RECORD_LEVELS = (Level.TOWNSHIP, Level.VILLAGE, Level.GRID)
# A rough box around China's territory: a point outside it was typed wrongly.
LATITUDE_RANGE = (Decimal("3.8"), Decimal("53.6"))
LONGITUDE_RANGE = (Decimal("73.5"), Decimal("135.1"))
MAX_SAMPLE = 100_000
MAX_DISTANCE_KM = Decimal("500")
MAX_AREA_MU = Decimal("1000000")
MAX_PLANTS = 10_000_000

RULE_LIMITS = {
    "letter_warning_days": (1, 365),
    "patrol_first_month": (1, 12),
    "patrol_last_month": (1, 12),
    "patrol_minimum": (1, 100),
}
RULE_FIELDS = ("venue_period_months", *RULE_LIMITS)
VENUE_FIELDS = (
    "name",
    "kind",
    "address",
    "operator_name",
    "operator_phone",
    "licence_number",
    "department",
    "registered_on",
    "closed_on",
    "notes",
    "org_unit",
)
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


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def _today() -> date:
    return timezone.localdate()


def _check_date(
    errors: Errors, field: str, value: date | None, label: str, *, required: bool = True
) -> None:
    if value is None:
        if required:
            _add(errors, field, _("请填写%(label)s") % {"label": label})
        return
    if value > _today():
        _add(errors, field, _("%(label)s不能晚于今天") % {"label": label})


def _check_text(
    errors: Errors, field: str, value: str, label: str, *, limit: int, required: bool = True
) -> str:
    value = (value or "").strip()
    if required and not value:
        _add(errors, field, _("请填写%(label)s") % {"label": label})
    elif len(value) > limit:
        _add(errors, field, _("%(label)s不能超过%(n)d个字") % {"label": label, "n": limit})
    return value


def _check_code(
    errors: Errors, field: str, list_key: str, code: str, label: str, *, current: str = ""
) -> None:
    if not code:
        _add(errors, field, _("请选择%(label)s") % {"label": label})
    elif code != current and not registry.is_valid(list_key, code):
        _add(errors, field, _("“%(code)s”不是有效的%(label)s") % {"code": code, "label": label})


def _check_unit(errors: Errors, actor: Any, unit: Any) -> None:
    if unit is None:
        _add(errors, "org_unit", _("请选择所在村（社区）或乡镇"))
        return
    if unit.level not in RECORD_LEVELS:
        _add(errors, "org_unit", _("请选择乡镇、村（社区）或网格，不能直接选县"))
    elif actor is not None and not unit.path.startswith(actor.scope_path):
        _add(errors, "org_unit", _("所选单位不在您的管辖范围内"))


def _check_phone(errors: Errors, field: str, phone: str) -> str:
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 13):
        _add(errors, field, _("请填写有效的电话号码（7至13位数字）"))
    return phone


@contextmanager
def _files_removed_on_error() -> Iterator[list[str]]:
    """Files written inside the block are deleted again if the block fails, so that a
    refused write leaves no photo behind."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        storage = private_storage()
        for name in written:
            storage.delete(name)
        raise


def _attach_photos(
    photos: Sequence[CheckedFile], *, actor: Any, written: list[str], **parent: Any
) -> int:
    owner = next(iter(parent.values()))
    for checked in photos:
        photo = Photo(
            content_type=checked.content_type,
            width=checked.width,
            height=checked.height,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            **parent,
        )
        photo.set_org_unit(owner.org_unit)
        photo.file.save(f"photo.{checked.extension}", ContentFile(checked.data), save=False)
        written.append(photo.file.name)
        photo.save()
    return len(photos)


def _actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


# ------------------------------------------------------------------ rules


@transaction.atomic
def update_inspection_rules(*, actor: Any, **changes: Any) -> InspectionRules:
    """Change the county's check rules; audited with before and after."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    InspectionRules.current()
    rules = InspectionRules.objects.select_for_update().get(pk=1)
    before = snapshot(rules, RULE_FIELDS)
    values = {**before, **changes}
    errors: Errors = {}
    if values["venue_period_months"] not in InspectionRules.VenuePeriod.values:
        _add(errors, "venue_period_months", _("检查周期只能是每月、每季度、每半年或每年"))
    for name, (low, high) in RULE_LIMITS.items():
        value = values[name]
        if not isinstance(value, int) or not low <= value <= high:
            _add(errors, name, _("请填写%(low)d至%(high)d之间的整数") % {"low": low, "high": high})
    if (
        "patrol_first_month" not in errors
        and "patrol_last_month" not in errors
        and values["patrol_first_month"] > values["patrol_last_month"]
    ):
        _add(errors, "patrol_last_month", _("截止月份不能早于起始月份"))
    _raise(errors)
    for key in RULE_FIELDS:
        setattr(rules, key, values[key])
    rules.save()
    after = snapshot(rules, RULE_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=rules, before=before, after=after
        )
    return rules


# ------------------------------------------------------------------ venues


def _venue_errors(actor: Any, values: Mapping[str, Any], current: Venue | None) -> Errors:
    errors: Errors = {}
    _check_text(errors, "name", values["name"], _("场所名称"), limit=100)
    _check_code(
        errors,
        "kind",
        "venue_kind",
        values["kind"],
        _("场所类别"),
        current=current.kind if current else "",
    )
    _check_text(errors, "address", values["address"], _("经营地址"), limit=200)
    _check_text(errors, "operator_name", values["operator_name"], _("经营业主/负责人"), limit=50)
    _check_text(
        errors,
        "licence_number",
        values["licence_number"],
        _("营业执照/许可证号"),
        limit=60,
        required=False,
    )
    _check_unit(errors, actor, values["org_unit"])
    _check_date(errors, "registered_on", values["registered_on"], _("登记日期"))
    closed = values.get("closed_on")
    if closed is not None:
        _check_date(errors, "closed_on", closed, _("停业日期"))
        if values["registered_on"] and closed < values["registered_on"]:
            _add(errors, "closed_on", _("停业日期不能早于登记日期"))
        if current is not None and current.inspections.filter(inspected_on__gt=closed).exists():
            _add(errors, "closed_on", _("停业日期之后还有检查记录，请核实停业日期"))
    if current is not None and values["registered_on"]:
        first = current.inspections.order_by("inspected_on").values_list("inspected_on", flat=True)
        if first and first[0] < values["registered_on"]:
            _add(
                errors,
                "registered_on",
                _("登记日期不能晚于第一次检查日期（%(day)s）") % {"day": f"{first[0]:%Y-%m-%d}"},
            )
    return errors


@transaction.atomic
def register_venue(
    *,
    actor: Any,
    org_unit: Any,
    name: str,
    kind: str,
    address: str,
    operator_name: str,
    operator_phone: str = "",
    licence_number: str = "",
    department: Any = None,
    registered_on: date | None = None,
    notes: str = "",
) -> Venue:
    values = {
        "org_unit": org_unit,
        "name": (name or "").strip(),
        "kind": kind,
        "address": (address or "").strip(),
        "operator_name": (operator_name or "").strip(),
        "licence_number": (licence_number or "").strip(),
        "registered_on": registered_on or _today(),
        "closed_on": None,
    }
    errors = _venue_errors(actor, values, None)
    phone = _check_phone(errors, "operator_phone", operator_phone)
    _raise(errors)
    venue = Venue(
        **{k: v for k, v in values.items() if k != "org_unit"},
        operator_phone=phone,
        department=department,
        notes=(notes or "").strip(),
    )
    venue.set_org_unit(org_unit)
    venue.save()
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=venue, after=snapshot(venue, VENUE_FIELDS)
    )
    return venue


def _move_children(record: Any, related: Iterable[Any]) -> None:
    """Records copied from a venue or outlet follow it when it moves to another unit."""
    for qs in related:
        qs.update(org_unit=record.org_unit, org_path=record.org_path)


@transaction.atomic
def update_venue(*, actor: Any, venue: Venue, **changes: Any) -> Venue:
    """Change a venue's facts; an empty ``operator_phone`` keeps the number on file."""
    unknown = set(changes) - set(VENUE_FIELDS)
    if unknown:
        raise TypeError(f"unknown venue fields: {sorted(unknown)}")
    venue = Venue.objects.select_for_update().get(pk=venue.pk)
    before = snapshot(venue, VENUE_FIELDS)
    if not changes.get("operator_phone"):
        changes.pop("operator_phone", None)
    values = {**before, **changes}
    for key in ("name", "address", "operator_name", "licence_number", "notes"):
        values[key] = (values[key] or "").strip()
    errors = _venue_errors(actor, values, venue)
    if "operator_phone" in changes:
        values["operator_phone"] = _check_phone(errors, "operator_phone", changes["operator_phone"])
    _raise(errors)
    moved = values["org_unit"].pk != venue.org_unit_id
    for key in VENUE_FIELDS:
        if key != "org_unit":
            setattr(venue, key, values[key])
    venue.set_org_unit(values["org_unit"])
    venue.save()
    if moved:
        _move_children(
            venue,
            [
                venue.letters.all(),
                venue.inspections.all(),
                Photo.objects.filter(venue_inspection__venue=venue),
            ],
        )
    after = snapshot(venue, VENUE_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=venue, before=before, after=after
        )
    return venue


@transaction.atomic
def sign_letter(
    *,
    actor: Any,
    venue: Venue,
    signed_on: date | None,
    term_end: date | None,
    signed_by: str = "",
    scan: CheckedFile | None = None,
    notes: str = "",
) -> ResponsibilityLetter:
    """Record a signed responsibility letter, with its scan if one was given."""
    errors: Errors = {}
    _check_date(errors, "signed_on", signed_on, _("签订日期"))
    if term_end is None:
        _add(errors, "term_end", _("请填写责任期限"))
    elif signed_on is not None and term_end < signed_on:
        _add(errors, "term_end", _("责任期限不能早于签订日期"))
    elif signed_on is not None and (term_end - signed_on).days > 366 * 5:
        _add(errors, "term_end", _("责任期限不能超过五年"))
    signed_by = _check_text(errors, "signed_by", signed_by, _("签订人"), limit=50, required=False)
    notes = _check_text(errors, "notes", notes, _("备注"), limit=200, required=False)
    _raise(errors)
    letter = ResponsibilityLetter(
        venue=venue,
        signed_on=signed_on,
        term_end=term_end,
        signed_by=signed_by,
        notes=notes,
        recorded_by=_actor_or_none(actor),
    )
    letter.set_org_unit(venue.org_unit)
    with _files_removed_on_error() as written:
        if scan is not None:
            letter.scan_type = scan.content_type
            letter.scan.save(f"scan.{scan.extension}", ContentFile(scan.data), save=False)
            written.append(letter.scan.name)
        letter.save()
        record_change(
            actor=actor,
            action=Action.RECORD_CREATED,
            obj=letter,
            after=snapshot(letter, ("signed_on", "term_end", "signed_by")),
            extra={"venue": venue.pk, "scan": bool(scan)},
        )
    return letter


Results = Mapping[str, tuple[bool, str]]


def _inspection_errors(
    venue: Venue,
    *,
    inspected_on: date | None,
    mode: str,
    inspectors: str,
    results: Results,
    fix_deadline: date | None,
    photos: Sequence[CheckedFile],
) -> Errors:
    errors: Errors = {}
    _check_date(errors, "inspected_on", inspected_on, _("检查日期"))
    if inspected_on is not None:
        if inspected_on < venue.registered_on:
            _add(
                errors,
                "inspected_on",
                _("检查日期早于该场所的登记日期（%(day)s）")
                % {"day": f"{venue.registered_on:%Y-%m-%d}"},
            )
        if venue.closed_on is not None and inspected_on > venue.closed_on:
            _add(
                errors,
                "inspected_on",
                _("该场所已于%(day)s停业") % {"day": f"{venue.closed_on:%Y-%m-%d}"},
            )
    if mode not in VenueInspection.Mode.values:
        _add(errors, "mode", _("请选择检查方式（明察或暗访）"))
    _check_text(errors, "inspectors", inspectors, _("检查人员"), limit=200)
    if not results:
        _add(errors, "results", _("请至少填写一个检查项目的结果"))
    known = registry.labels("venue_check_item")
    for code, (ok, problem) in results.items():
        if code not in known:
            _add(errors, "results", _("未知的检查项目：%(code)s") % {"code": code})
        elif not ok and not (problem or "").strip():
            _add(errors, f"problem_{code}", _("请写明“%(item)s”存在的问题") % {"item": known[code]})
        elif len((problem or "").strip()) > 300:
            _add(errors, f"problem_{code}", _("问题描述不能超过300个字"))
    failed = any(not ok for ok, _problem in results.values())
    if failed:
        if fix_deadline is None:
            _add(errors, "fix_deadline", _("检查不合格时请填写整改期限"))
        elif inspected_on is not None and fix_deadline < inspected_on:
            _add(errors, "fix_deadline", _("整改期限不能早于检查日期"))
    if len(photos) > MAX_PHOTOS:
        _add(errors, "photos", _("一次最多上传%(n)d张照片") % {"n": MAX_PHOTOS})
    return errors


@transaction.atomic
def record_venue_inspection(
    *,
    actor: Any,
    venue: Venue,
    inspected_on: date | None,
    mode: str,
    inspectors: str,
    results: Results,
    fix_deadline: date | None = None,
    notes: str = "",
    photos: Sequence[CheckedFile] = (),
) -> VenueInspection:
    """Record an inspection with its photos.

    A passing inspection that checked every item an earlier one failed is the
    re-inspection (复查) that closes those failures, as of its date.
    """
    venue = Venue.objects.select_for_update().get(pk=venue.pk)
    errors = _inspection_errors(
        venue,
        inspected_on=inspected_on,
        mode=mode,
        inspectors=inspectors,
        results=results,
        fix_deadline=fix_deadline,
        photos=photos,
    )
    _raise(errors)
    passed = all(ok for ok, _problem in results.values())
    inspection = VenueInspection(
        venue=venue,
        inspected_on=inspected_on,
        mode=mode,
        inspectors=inspectors.strip(),
        results={
            code: {"ok": bool(ok), "problem": "" if ok else problem.strip()}
            for code, (ok, problem) in results.items()
        },
        passed=passed,
        fix_deadline=None if passed else fix_deadline,
        notes=(notes or "").strip(),
        recorded_by=_actor_or_none(actor),
    )
    inspection.set_org_unit(venue.org_unit)
    with _files_removed_on_error() as written:
        inspection.save()
        closed = _close_by_reinspection(actor, inspection) if passed else []
        count = _attach_photos(photos, actor=actor, written=written, venue_inspection=inspection)
        record_change(
            actor=actor,
            action=Action.RECORD_CREATED,
            obj=inspection,
            after=snapshot(inspection, ("inspected_on", "mode", "passed", "fix_deadline")),
            extra={
                "venue": venue.pk,
                "failed_items": sorted(inspection.failed_items()),
                "photos": count,
                "closes": [i.pk for i in closed],
            },
        )
    return inspection


def _close_by_reinspection(actor: Any, inspection: VenueInspection) -> list[VenueInspection]:
    checked = set(inspection.results)
    open_failures = VenueInspection.objects.filter(
        venue=inspection.venue,
        passed=False,
        fixed_on__isnull=True,
        inspected_on__lte=inspection.inspected_on,
    ).exclude(pk=inspection.pk)
    closed = []
    for failure in open_failures:
        if not set(failure.failed_items()) <= checked:
            continue
        failure.fixed_on = inspection.inspected_on
        failure.fixed_by_inspection = inspection
        failure.fix_note = _("复查合格")
        failure.save(update_fields=["fixed_on", "fixed_by_inspection", "fix_note"])
        record_change(
            actor=actor,
            action=Action.RECORD_UPDATED,
            obj=failure,
            before={"fixed_on": None},
            after={"fixed_on": failure.fixed_on},
            extra={"by_inspection": inspection.pk},
        )
        closed.append(failure)
    return closed


@transaction.atomic
def record_fix(
    *, actor: Any, inspection: VenueInspection, fixed_on: date | None, fix_note: str
) -> VenueInspection:
    """Record that a failed inspection's problems were fixed (整改完成)."""
    inspection = VenueInspection.objects.select_for_update().get(pk=inspection.pk)
    errors: Errors = {}
    if inspection.passed:
        _add(errors, "fixed_on", _("该次检查合格，无需整改"))
    elif inspection.fixed_on is not None:
        _add(
            errors,
            "fixed_on",
            _("该次检查的问题已于%(day)s整改") % {"day": f"{inspection.fixed_on:%Y-%m-%d}"},
        )
    _check_date(errors, "fixed_on", fixed_on, _("整改完成日期"))
    if fixed_on is not None and fixed_on < inspection.inspected_on:
        _add(errors, "fixed_on", _("整改完成日期不能早于检查日期"))
    fix_note = _check_text(errors, "fix_note", fix_note, _("整改情况"), limit=300)
    _raise(errors)
    inspection.fixed_on = fixed_on
    inspection.fix_note = fix_note
    inspection.save(update_fields=["fixed_on", "fix_note"])
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=inspection,
        before={"fixed_on": None, "fix_note": ""},
        after={"fixed_on": fixed_on, "fix_note": fix_note},
    )
    return inspection


# ------------------------------------------------------------------ courier outlets


def _outlet_errors(actor: Any, values: Mapping[str, Any], current: CourierOutlet | None) -> Errors:
    errors: Errors = {}
    _check_text(errors, "name", values["name"], _("网点名称"), limit=100)
    _check_code(
        errors,
        "kind",
        "courier_kind",
        values["kind"],
        _("网点类别"),
        current=current.kind if current else "",
    )
    _check_text(errors, "company", values["company"], _("所属企业/品牌"), limit=60)
    _check_text(errors, "address", values["address"], _("地址"), limit=200)
    _check_text(
        errors, "contact_name", values["contact_name"], _("负责人"), limit=50, required=False
    )
    _check_unit(errors, actor, values["org_unit"])
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
    phone = _check_phone(errors, "contact_phone", contact_phone)
    _raise(errors)
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
        values["contact_phone"] = _check_phone(errors, "contact_phone", changes["contact_phone"])
    _raise(errors)
    moved = values["org_unit"].pk != outlet.org_unit_id
    for key in OUTLET_FIELDS:
        if key != "org_unit":
            setattr(outlet, key, values[key])
    outlet.set_org_unit(values["org_unit"])
    outlet.save()
    if moved:
        _move_children(outlet, [outlet.inspections.all()])
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
                _add(errors, field, _("请填写整数件数"))
                bad = True
            elif value < 0:
                _add(errors, field, _("件数不能为负数"))
                bad = True
            elif value > MAX_SAMPLE:
                _add(errors, field, _("件数不能超过%(n)d") % {"n": MAX_SAMPLE})
                bad = True
        if bad:
            continue
        sampled, complied = sampled or 0, complied or 0
        if complied > sampled:
            _add(
                errors,
                f"{rule}_complied",
                _("%(rule)s合规件数（%(c)d）不能多于抽查件数（%(s)d）")
                % {"rule": label, "c": complied, "s": sampled},
            )
        any_sampled = any_sampled or sampled > 0
    if not errors and not any_sampled:
        _add(errors, "real_name_sampled", _("请至少填写一项规定的抽查件数"))
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
    _check_date(errors, "inspected_on", inspected_on, _("检查日期"))
    inspectors = _check_text(errors, "inspectors", inspectors, _("检查人员"), limit=200)
    _raise(errors)
    inspection = CourierInspection(
        outlet=outlet,
        inspected_on=inspected_on,
        inspectors=inspectors,
        problems=(problems or "").strip(),
        recorded_by=_actor_or_none(actor),
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


# ------------------------------------------------------------------ patrols


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def patrol_errors(values: Mapping[str, Any], actor: Any) -> Errors:
    errors: Errors = {}
    _check_unit(errors, actor, values["org_unit"])
    _check_date(errors, "patrolled_on", values["patrolled_on"], _("踏查日期"))
    if values["check_level"] not in Patrol.CheckLevel.values:
        _add(errors, "check_level", _("请选择踏查/核查层级"))
    _check_code(errors, "land_kind", "land_kind", values["land_kind"], _("地类"))
    _check_text(errors, "team", values["team"], _("踏查人员"), limit=300)
    _check_text(errors, "place", values["place"], _("踏查地点"), limit=200, required=False)
    distance, area = values["distance_km"], values["area_mu"]
    if distance is None and area is None:
        _add(errors, "distance_km", _("请填写踏查里程或踏查面积（至少一项）"))
    if distance is not None and not Decimal(0) < distance <= MAX_DISTANCE_KM:
        _add(errors, "distance_km", _("踏查里程应大于0且不超过%(n)s公里") % {"n": MAX_DISTANCE_KM})
    if area is not None and not Decimal(0) < area <= MAX_AREA_MU:
        _add(errors, "area_mu", _("踏查面积应大于0且不超过%(n)s亩") % {"n": MAX_AREA_MU})
    found, destroyed = values["plants_found"], values["plants_destroyed"]
    for field, value in (("plants_found", found), ("plants_destroyed", destroyed)):
        if not isinstance(value, int) or value < 0:
            _add(errors, field, _("株数不能为负数"))
        elif value > MAX_PLANTS:
            _add(errors, field, _("株数过大，请核实"))
    if "plants_found" not in errors and "plants_destroyed" not in errors and destroyed > found:
        _add(errors, "plants_destroyed", _("铲除株数不能多于发现株数"))
    species = values["plant_species"]
    known = registry.labels("illicit_plant")
    if isinstance(found, int) and found > 0 and not species:
        _add(errors, "plant_species", _("发现毒品原植物时请选择植物种类"))
    for code in species:
        if code not in known:
            _add(errors, "plant_species", _("未知的植物种类：%(code)s") % {"code": code})
    lat, lon = values["latitude"], values["longitude"]
    if (lat is None) != (lon is None):
        _add(
            errors, "latitude" if lat is None else "longitude", _("请同时填写纬度和经度，或都不填")
        )
    else:
        if lat is not None and not LATITUDE_RANGE[0] <= lat <= LATITUDE_RANGE[1]:
            _add(
                errors,
                "latitude",
                _("纬度应在%(a)s至%(b)s之间（中国境内）")
                % {"a": LATITUDE_RANGE[0], "b": LATITUDE_RANGE[1]},
            )
        if lon is not None and not LONGITUDE_RANGE[0] <= lon <= LONGITUDE_RANGE[1]:
            _add(
                errors,
                "longitude",
                _("经度应在%(a)s至%(b)s之间（中国境内）")
                % {"a": LONGITUDE_RANGE[0], "b": LONGITUDE_RANGE[1]},
            )
    return errors


PATROL_FIELDS = (
    "patrolled_on",
    "check_level",
    "land_kind",
    "place",
    "team",
    "distance_km",
    "area_mu",
    "plants_found",
    "plants_destroyed",
    "plant_species",
    "latitude",
    "longitude",
)


@transaction.atomic
def record_patrol(
    *,
    actor: Any,
    org_unit: Any,
    patrolled_on: date | None,
    land_kind: str,
    team: str,
    check_level: str = "",
    place: str = "",
    distance_km: Any = None,
    area_mu: Any = None,
    plants_found: int = 0,
    plants_destroyed: int = 0,
    plant_species: Sequence[str] = (),
    latitude: Any = None,
    longitude: Any = None,
    notes: str = "",
    photos: Sequence[CheckedFile] = (),
) -> Patrol:
    """Record a patrol, or a higher level's check, with its photos and GPS point."""
    values = {
        "org_unit": org_unit,
        "patrolled_on": patrolled_on,
        "check_level": check_level or "",
        "land_kind": land_kind,
        "place": (place or "").strip(),
        "team": (team or "").strip(),
        "distance_km": _decimal(distance_km),
        "area_mu": _decimal(area_mu),
        "plants_found": plants_found if plants_found is not None else 0,
        "plants_destroyed": plants_destroyed if plants_destroyed is not None else 0,
        "plant_species": list(dict.fromkeys(plant_species or ())),
        "latitude": _decimal(latitude),
        "longitude": _decimal(longitude),
    }
    errors = patrol_errors(values, actor)
    if len(photos) > MAX_PHOTOS:
        _add(errors, "photos", _("一次最多上传%(n)d张照片") % {"n": MAX_PHOTOS})
    _raise(errors)
    patrol = Patrol(
        **{k: v for k, v in values.items() if k != "org_unit"},
        notes=(notes or "").strip(),
        recorded_by=_actor_or_none(actor),
    )
    patrol.set_org_unit(org_unit)
    with _files_removed_on_error() as written:
        patrol.save()
        count = _attach_photos(photos, actor=actor, written=written, patrol=patrol)
        record_change(
            actor=actor,
            action=Action.RECORD_CREATED,
            obj=patrol,
            after=snapshot(patrol, PATROL_FIELDS),
            extra={"photos": count},
        )
    return patrol
