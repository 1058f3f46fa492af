"""Writing the county's check rules and the key venues: venues, their responsibility
letters, inspections with photos and fixes. Each write validates everything
first, then writes its rows, its files and its audit row in one transaction.

Errors are raised as ``ValidationError`` keyed by the form field they concern,
in Chinese, so that the page can show each next to its field. Courier outlets
and patrols are written by ``courier_services`` and ``patrol_services``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.codes import registry
from jindu.inspections.checks import (
    Errors,
    actor_or_none,
    add_error,
    attach_photos,
    check_code,
    check_date,
    check_phone,
    check_text,
    check_unit,
    files_removed_on_error,
    move_children,
    raise_errors,
    today,
)
from jindu.inspections.images import MAX_PHOTOS, CheckedFile
from jindu.inspections.models import (
    InspectionRules,
    Photo,
    ResponsibilityLetter,
    Venue,
    VenueInspection,
)

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
        add_error(errors, "venue_period_months", _("检查周期只能是每月、每季度、每半年或每年"))
    for name, (low, high) in RULE_LIMITS.items():
        value = values[name]
        if not isinstance(value, int) or not low <= value <= high:
            add_error(
                errors, name, _("请填写%(low)d至%(high)d之间的整数") % {"low": low, "high": high}
            )
    if (
        "patrol_first_month" not in errors
        and "patrol_last_month" not in errors
        and values["patrol_first_month"] > values["patrol_last_month"]
    ):
        add_error(errors, "patrol_last_month", _("截止月份不能早于起始月份"))
    raise_errors(errors)
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
    check_text(errors, "name", values["name"], _("场所名称"), limit=100)
    check_code(
        errors,
        "kind",
        "venue_kind",
        values["kind"],
        _("场所类别"),
        current=current.kind if current else "",
    )
    check_text(errors, "address", values["address"], _("经营地址"), limit=200)
    check_text(errors, "operator_name", values["operator_name"], _("经营业主/负责人"), limit=50)
    check_text(
        errors,
        "licence_number",
        values["licence_number"],
        _("营业执照/许可证号"),
        limit=60,
        required=False,
    )
    check_unit(errors, actor, values["org_unit"])
    check_date(errors, "registered_on", values["registered_on"], _("登记日期"))
    closed = values.get("closed_on")
    if closed is not None:
        check_date(errors, "closed_on", closed, _("停业日期"))
        if values["registered_on"] and closed < values["registered_on"]:
            add_error(errors, "closed_on", _("停业日期不能早于登记日期"))
        if current is not None and current.inspections.filter(inspected_on__gt=closed).exists():
            add_error(errors, "closed_on", _("停业日期之后还有检查记录，请核实停业日期"))
    if current is not None and values["registered_on"]:
        first = current.inspections.order_by("inspected_on").values_list("inspected_on", flat=True)
        if first and first[0] < values["registered_on"]:
            add_error(
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
        "registered_on": registered_on or today(),
        "closed_on": None,
    }
    errors = _venue_errors(actor, values, None)
    phone = check_phone(errors, "operator_phone", operator_phone)
    raise_errors(errors)
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
        values["operator_phone"] = check_phone(errors, "operator_phone", changes["operator_phone"])
    raise_errors(errors)
    moved = values["org_unit"].pk != venue.org_unit_id
    for key in VENUE_FIELDS:
        if key != "org_unit":
            setattr(venue, key, values[key])
    venue.set_org_unit(values["org_unit"])
    venue.save()
    if moved:
        move_children(
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
    check_date(errors, "signed_on", signed_on, _("签订日期"))
    if term_end is None:
        add_error(errors, "term_end", _("请填写责任期限"))
    elif signed_on is not None and term_end < signed_on:
        add_error(errors, "term_end", _("责任期限不能早于签订日期"))
    elif signed_on is not None and (term_end - signed_on).days > 366 * 5:
        add_error(errors, "term_end", _("责任期限不能超过五年"))
    signed_by = check_text(errors, "signed_by", signed_by, _("签订人"), limit=50, required=False)
    notes = check_text(errors, "notes", notes, _("备注"), limit=200, required=False)
    raise_errors(errors)
    letter = ResponsibilityLetter(
        venue=venue,
        signed_on=signed_on,
        term_end=term_end,
        signed_by=signed_by,
        notes=notes,
        recorded_by=actor_or_none(actor),
    )
    letter.set_org_unit(venue.org_unit)
    with files_removed_on_error() as written:
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
    check_date(errors, "inspected_on", inspected_on, _("检查日期"))
    if inspected_on is not None:
        if inspected_on < venue.registered_on:
            add_error(
                errors,
                "inspected_on",
                _("检查日期早于该场所的登记日期（%(day)s）")
                % {"day": f"{venue.registered_on:%Y-%m-%d}"},
            )
        if venue.closed_on is not None and inspected_on > venue.closed_on:
            add_error(
                errors,
                "inspected_on",
                _("该场所已于%(day)s停业") % {"day": f"{venue.closed_on:%Y-%m-%d}"},
            )
    if mode not in VenueInspection.Mode.values:
        add_error(errors, "mode", _("请选择检查方式（明察或暗访）"))
    check_text(errors, "inspectors", inspectors, _("检查人员"), limit=200)
    if not results:
        add_error(errors, "results", _("请至少填写一个检查项目的结果"))
    known = registry.labels("venue_check_item")
    for code, (ok, problem) in results.items():
        if code not in known:
            add_error(errors, "results", _("未知的检查项目：%(code)s") % {"code": code})
        elif not ok and not (problem or "").strip():
            add_error(
                errors, f"problem_{code}", _("请写明“%(item)s”存在的问题") % {"item": known[code]}
            )
        elif len((problem or "").strip()) > 300:
            add_error(errors, f"problem_{code}", _("问题描述不能超过300个字"))
    failed = any(not ok for ok, _problem in results.values())
    if failed:
        if fix_deadline is None:
            add_error(errors, "fix_deadline", _("检查不合格时请填写整改期限"))
        elif inspected_on is not None and fix_deadline < inspected_on:
            add_error(errors, "fix_deadline", _("整改期限不能早于检查日期"))
    if len(photos) > MAX_PHOTOS:
        add_error(errors, "photos", _("一次最多上传%(n)d张照片") % {"n": MAX_PHOTOS})
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
    raise_errors(errors)
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
        recorded_by=actor_or_none(actor),
    )
    inspection.set_org_unit(venue.org_unit)
    with files_removed_on_error() as written:
        inspection.save()
        closed = _close_by_reinspection(actor, inspection) if passed else []
        count = attach_photos(photos, actor=actor, written=written, venue_inspection=inspection)
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
        add_error(errors, "fixed_on", _("该次检查合格，无需整改"))
    elif inspection.fixed_on is not None:
        add_error(
            errors,
            "fixed_on",
            _("该次检查的问题已于%(day)s整改") % {"day": f"{inspection.fixed_on:%Y-%m-%d}"},
        )
    check_date(errors, "fixed_on", fixed_on, _("整改完成日期"))
    if fixed_on is not None and fixed_on < inspection.inspected_on:
        add_error(errors, "fixed_on", _("整改完成日期不能早于检查日期"))
    fix_note = check_text(errors, "fix_note", fix_note, _("整改情况"), limit=300)
    raise_errors(errors)
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
