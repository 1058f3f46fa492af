"""Responsibility letters (责任书) and key townships (重点整治乡镇): writes and the
tables the county office reads.

A letter is drafted from the county's template (the latest it uploaded of its
kind, else the default in ``documents``), filled with the unit's parts of the
year's targets, its duties and the signatories; it can be redrafted while it is
a draft, is then issued, and is signed when the signed scan is attached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.core import indicators
from jindu.core.roles import Perm, Role
from jindu.notifications.services import notify
from jindu.orgs.division import Level
from jindu.orgs.models import Department, OrgUnit
from jindu.targets import documents
from jindu.targets.models import (
    KeyTownship,
    LetterKind,
    LetterTemplate,
    RemediationTask,
    ResponsibilityLetter,
    TargetShare,
)

LETTER_FIELDS = (
    "status",
    "duties",
    "county_signatory",
    "unit_signatory",
    "issued_on",
    "signed_on",
    "scan_type",
)
KEY_FIELDS = ("listed_on", "delisted_on", "listed_by", "reason")
TASK_FIELDS = ("task", "deadline", "done_on", "note")
MAX_SCAN_BYTES = 10 * 1024 * 1024
# A township's duties when the office has not written others into its letter.
TOWNSHIP_DUTIES = (
    "落实党政主要负责同志禁毒工作第一责任，乡镇（街道）禁毒工作领导小组每季度至少研究一次禁毒工作。",
    "建立健全乡镇禁毒办和村（社区）禁毒工作站，配齐禁毒专干和社工。",
    "落实吸毒人员网格化服务管理和“4+X”帮教小组，严防社区戒毒社区康复人员脱管失控。",
    "深入开展禁毒宣传“八进”活动，提高群众禁毒知晓率和满意率。",
    "开展禁种铲毒踏查，做到辖区全覆盖；配合开展重点场所清查和外流贩毒整治。",
)


def _is_user(actor: Any) -> bool:
    return getattr(actor, "is_authenticated", False)


def _require_office(actor: Any, unit: OrgUnit) -> None:
    if not _is_user(actor):
        return
    if not actor.has_jindu_perm(Perm.TARGETS_MANAGE) or not unit.path.startswith(
        actor.scope_path or "\0"
    ):
        raise PermissionDenied(_("只有县禁毒办可以办理责任书和重点整治乡镇"))


def county_of(unit: OrgUnit) -> OrgUnit:
    if unit.level == Level.COUNTY:
        return unit
    county = OrgUnit.objects.filter(pk__in=unit.ancestor_ids(), level=Level.COUNTY).first()
    if county is None:
        raise ValidationError({"org_unit": [_("该单位不属于任何县（区）")]})
    return county


# ------------------------------------------------------------------ templates


def template_bytes(county: OrgUnit, kind: str) -> bytes:
    latest = LetterTemplate.objects.filter(org_unit=county, kind=kind).first()
    if latest is not None:
        try:
            with latest.file.open("rb") as handle:
                return handle.read()
        except (FileNotFoundError, ValueError):
            pass
    return documents.default_template(key_township=kind == LetterKind.KEY_TOWNSHIP)


@transaction.atomic
def upload_template(*, actor: Any, county: OrgUnit, kind: str, upload: Any) -> LetterTemplate:
    _require_office(actor, county)
    if kind not in LetterKind.values:
        raise ValidationError({"kind": [_("请选择责任书种类")]})
    data = documents.check_template(upload)
    template = LetterTemplate(
        kind=kind,
        original_name=str(getattr(upload, "name", ""))[:120],
        uploaded_by=actor if _is_user(actor) else None,
    )
    template.set_org_unit(county)
    template.file.save("template.docx", ContentFile(data), save=False)
    template.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=template,
        after={"kind": kind, "original_name": template.original_name},
    )
    return template


# ------------------------------------------------------------------ letters


def _shares(year: int, unit: OrgUnit, department: Department | None) -> list[TargetShare]:
    qs = TargetShare.objects.filter(target__year=year).select_related("target")
    if department is not None:
        qs = qs.filter(department=department)
    else:
        qs = qs.filter(org_unit=unit, department=None)
    order = {key: i for i, key in enumerate(indicators.REGISTRY)}
    return sorted(qs, key=lambda s: order.get(s.target.indicator_key, len(order)))


def amount(value: Decimal) -> str:
    """A target value as people write it: 8, 10.5, 19.988."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def target_table(year: int, unit: OrgUnit, department: Department | None) -> documents.Table:
    rows = []
    for number, share in enumerate(_shares(year, unit, department), start=1):
        indicator = indicators.REGISTRY.get(share.target.indicator_key)
        rows.append(
            (
                str(number),
                indicator.name if indicator else share.target.indicator_key,
                amount(share.value),
                indicator.unit if indicator else "",
            )
        )
    return (("序号", "目标任务", "目标值", "计量单位"), rows)


def task_table(key: KeyTownship | None) -> documents.Table:
    rows = []
    if key is not None:
        for number, task in enumerate(key.tasks.order_by("deadline", "id"), start=1):
            rows.append((str(number), task.task, f"{task.deadline:%Y年%m月%d日}"))
    return (("序号", "整治任务", "完成时限"), rows)


def default_duties(unit: OrgUnit, department: Department | None) -> str:
    if department is not None:
        return department.duties or ""
    return "\n".join(TOWNSHIP_DUTIES)


def render_letter(letter: ResponsibilityLetter) -> bytes:
    """The letter's .docx from the county's current template."""
    county = county_of(letter.org_unit)
    signed = letter.signed_on or letter.issued_on
    fields = {
        "单位": letter.party_name,
        "年度": str(letter.year),
        "县名": county.name,
        "签订日期": f"{signed:%Y年%m月%d日}" if signed else "    年  月  日",
        "县签字人": letter.county_signatory,
        "单位签字人": letter.unit_signatory,
    }
    duties = [line.strip() for line in letter.duties.splitlines() if line.strip()]
    numbered = [f"{i}. {line}" for i, line in enumerate(duties, start=1)] or [_("（无）")]
    return documents.fill(
        template_bytes(county, letter.kind),
        fields,
        tables={
            "目标任务表": target_table(letter.year, letter.org_unit, letter.department),
            "整治任务": task_table(letter.key_township),
        },
        lines={"职责": numbered},
    )


def _store(letter: ResponsibilityLetter) -> None:
    letter.document.save("letter.docx", ContentFile(render_letter(letter)), save=False)
    letter.generated_at = timezone.now()


@transaction.atomic
def draft_letter(
    *,
    actor: Any,
    year: int,
    unit: OrgUnit | None = None,
    department: Department | None = None,
    key_township: KeyTownship | None = None,
    duties: str | None = None,
    county_signatory: str = "",
    unit_signatory: str = "",
) -> ResponsibilityLetter:
    """Draft (or redraft) a township's, a department's or a key township's letter."""
    if key_township is not None:
        unit, kind = key_township.org_unit, LetterKind.KEY_TOWNSHIP
    else:
        kind = LetterKind.STANDARD
    if department is not None:
        unit = department.org_unit
    if unit is None:
        raise ValidationError({"org_unit": [_("请选择乡镇（街道）或成员单位")]})
    _require_office(actor, unit)
    if department is None and unit.level != Level.TOWNSHIP:
        raise ValidationError({"org_unit": [_("责任书与乡镇（街道）或成员单位签订")]})
    lookup: dict[str, Any] = {"kind": kind, "year": year}
    lookup.update(
        {"department": department} if department else {"org_unit": unit, "department": None}
    )
    letter = ResponsibilityLetter.objects.select_for_update().filter(**lookup).first()
    if letter is not None and letter.status != ResponsibilityLetter.Status.DRAFTED:
        raise ValidationError(_("责任书已下发，不能重新起草"))
    before = snapshot(letter, LETTER_FIELDS) if letter else None
    if letter is None:
        letter = ResponsibilityLetter(
            kind=kind, year=year, department=department, key_township=key_township,
            created_by=actor if _is_user(actor) else None,
        )  # fmt: skip
        letter.set_org_unit(unit)
    letter.duties = default_duties(unit, department) if duties is None else duties.strip()
    letter.county_signatory = (county_signatory or "").strip()[:50]
    letter.unit_signatory = (unit_signatory or "").strip()[:50]
    _store(letter)
    letter.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED if before is None else Action.RECORD_UPDATED,
        obj=letter,
        before=before,
        after=snapshot(letter, LETTER_FIELDS),
    )
    return letter


@transaction.atomic
def draft_all(*, actor: Any, county: OrgUnit, year: int) -> int:
    """Draft the letters not drafted yet: every active township and department."""
    _require_office(actor, county)
    done = set(
        ResponsibilityLetter.objects.filter(
            kind=LetterKind.STANDARD, year=year, org_path__subtree=county.path
        ).values_list("org_unit_id", "department_id")
    )
    count = 0
    for township in OrgUnit.objects.filter(parent=county, level=Level.TOWNSHIP, active=True):
        if (township.pk, None) not in done:
            draft_letter(actor=actor, year=year, unit=township)
            count += 1
    for department in Department.objects.filter(org_unit=county, active=True):
        if (county.pk, department.pk) not in done:
            draft_letter(actor=actor, year=year, department=department)
            count += 1
    return count


def _recipients(letter: ResponsibilityLetter) -> list[Any]:
    from jindu.accounts.models import User

    users = User.objects.filter(is_active=True)
    if letter.department_id:
        return list(users.filter(department_id=letter.department_id))
    return list(
        users.filter(
            org_unit_id=letter.org_unit_id, role_grants__role=Role.TOWNSHIP_MANAGER
        ).distinct()
    )


@transaction.atomic
def issue_letter(
    *, actor: Any, letter: ResponsibilityLetter, issued_on: date | None
) -> ResponsibilityLetter:
    letter = ResponsibilityLetter.objects.select_for_update().get(pk=letter.pk)
    _require_office(actor, letter.org_unit)
    if letter.status != ResponsibilityLetter.Status.DRAFTED:
        raise ValidationError(_("只有起草中的责任书可以下发"))
    if issued_on is None:
        raise ValidationError({"issued_on": [_("请填写下发日期")]})
    if issued_on > timezone.localdate():
        raise ValidationError({"issued_on": [_("下发日期不能晚于今天")]})
    before = snapshot(letter, LETTER_FIELDS)
    letter.status = ResponsibilityLetter.Status.ISSUED
    letter.issued_on = issued_on
    _store(letter)
    letter.save()
    record_change(
        actor=actor, action=Action.RECORD_UPDATED, obj=letter, before=before,
        after=snapshot(letter, LETTER_FIELDS),
    )  # fmt: skip
    notify(
        recipients=_recipients(letter),
        title=_("%(year)s年%(kind)s已下发，请签订后上传签字盖章扫描件")
        % {"year": letter.year, "kind": letter.get_kind_display()},
        link=reverse("targets:letter", kwargs={"pk": letter.pk}),
        source=f"targets.ResponsibilityLetter:{letter.pk}:issued",
    )
    return letter


def may_sign(actor: Any, letter: ResponsibilityLetter) -> bool:
    """The county office, or the responsible party itself, attaches the signed scan."""
    if not _is_user(actor):
        return True
    if not letter.org_path.startswith(actor.scope_path or "\0"):
        return False
    if actor.has_jindu_perm(Perm.TARGETS_MANAGE):
        return True
    if not actor.has_jindu_perm(Perm.RECORD_WRITE):
        return False
    if letter.department_id:
        return actor.department_id == letter.department_id
    return actor.org_unit_id == letter.org_unit_id and Role.TOWNSHIP_MANAGER in actor.role_codes


@transaction.atomic
def sign_letter(
    *, actor: Any, letter: ResponsibilityLetter, signed_on: date | None, scan: Any
) -> ResponsibilityLetter:
    """Record the signing with the signed scan (PDF or picture, judged by content)."""
    from jindu.inspections.images import check_scan

    letter = ResponsibilityLetter.objects.select_for_update().get(pk=letter.pk)
    if not may_sign(actor, letter):
        raise PermissionDenied(_("只有县禁毒办或责任单位本身可以登记签订"))
    errors: dict[str, list[str]] = {}
    if letter.status != ResponsibilityLetter.Status.ISSUED:
        raise ValidationError(_("只有已下发的责任书可以登记签订"))
    if signed_on is None:
        errors["signed_on"] = [_("请填写签订日期")]
    elif signed_on > timezone.localdate():
        errors["signed_on"] = [_("签订日期不能晚于今天")]
    elif letter.issued_on and signed_on < letter.issued_on:
        errors["signed_on"] = [_("签订日期不能早于下发日期")]
    checked = None
    if scan is None:
        errors["scan"] = [_("请上传签字盖章后的扫描件")]
    else:
        try:
            checked = check_scan(scan, limit=MAX_SCAN_BYTES)
        except ValidationError as exc:
            errors["scan"] = exc.messages
    if errors:
        raise ValidationError(errors)
    assert checked is not None
    before = snapshot(letter, LETTER_FIELDS)
    letter.status = ResponsibilityLetter.Status.SIGNED
    letter.signed_on = signed_on
    letter.scan.save(f"scan.{checked.extension}", ContentFile(checked.data), save=False)
    letter.scan_type = checked.content_type
    letter.save()
    record_change(
        actor=actor, action=Action.RECORD_UPDATED, obj=letter, before=before,
        after=snapshot(letter, LETTER_FIELDS), extra={"scan_sha256": checked.sha256},
    )  # fmt: skip
    return letter


@dataclass
class StatusRow:
    """A township or a department with its letters of the year, by kind."""

    name: str
    is_department: bool
    letters: dict[str, ResponsibilityLetter | None] = field(default_factory=dict)
    key_township: bool = False

    @property
    def unsigned(self) -> bool:
        return any(
            letter is None or letter.status != ResponsibilityLetter.Status.SIGNED
            for kind, letter in self.letters.items()
            if kind == LetterKind.STANDARD or self.key_township
        )


def status_table(user: Any, county: OrgUnit, year: int) -> list[StatusRow]:
    """Who has signed: townships then departments, each with its letters (three queries)."""
    letters = (
        ResponsibilityLetter.objects.for_user(user)
        .filter(year=year, org_path__subtree=county.path)
        .select_related("org_unit", "department")
    )
    by_party: dict[tuple[int, int | None], dict[str, ResponsibilityLetter]] = {}
    for letter in letters:
        by_party.setdefault((letter.org_unit_id, letter.department_id), {})[letter.kind] = letter
    listed = set(
        KeyTownship.objects.filter(listed_on__lte=date(year, 12, 31))
        .exclude(delisted_on__lt=date(year, 1, 1))
        .filter(org_path__subtree=county.path)
        .values_list("org_unit_id", flat=True)
    )
    rows = []
    scope = user.scope_path or "\0"
    for township in OrgUnit.objects.filter(parent=county, level=Level.TOWNSHIP, active=True):
        if not township.path.startswith(scope) or user.scoped_to_department:
            continue
        found = by_party.get((township.pk, None), {})
        row = StatusRow(township.name, False, key_township=township.pk in listed)
        row.letters = {kind: found.get(kind) for kind in LetterKind.values}
        rows.append(row)
    if county.path.startswith(scope):
        departments = Department.objects.filter(org_unit=county, active=True)
        if user.scoped_to_department:
            departments = departments.filter(pk=user.department_id)
        for department in departments:
            found = by_party.get((county.pk, department.pk), {})
            row = StatusRow(department.name, True)
            row.letters = {LetterKind.STANDARD: found.get(LetterKind.STANDARD)}
            rows.append(row)
    return rows


# ------------------------------------------------------------------ key townships


@transaction.atomic
def list_key_township(
    *, actor: Any, township: OrgUnit, listed_on: date | None, listed_by: str = "", reason: str = ""
) -> KeyTownship:
    _require_office(actor, township)
    errors: dict[str, list[str]] = {}
    if township.level != Level.TOWNSHIP:
        errors["org_unit"] = [_("请选择乡镇（街道）")]
    if listed_on is None:
        errors["listed_on"] = [_("请填写列入日期")]
    elif listed_on > timezone.localdate():
        errors["listed_on"] = [_("列入日期不能晚于今天")]
    if not errors and KeyTownship.objects.filter(org_unit=township, delisted_on=None).exists():
        errors["org_unit"] = [_("“%(name)s”已在重点整治名单中") % {"name": township.name}]
    if errors:
        raise ValidationError(errors)
    key = KeyTownship(
        listed_on=listed_on, listed_by=(listed_by or "").strip()[:100],
        reason=(reason or "").strip()[:300], created_by=actor if _is_user(actor) else None,
    )  # fmt: skip
    key.set_org_unit(township)
    key.save()
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=key, after=snapshot(key, KEY_FIELDS)
    )
    return key


@transaction.atomic
def delist_key_township(*, actor: Any, key: KeyTownship, delisted_on: date | None) -> KeyTownship:
    key = KeyTownship.objects.select_for_update().select_related("org_unit").get(pk=key.pk)
    _require_office(actor, key.org_unit)
    if key.delisted_on:
        raise ValidationError(_("该乡镇已摘帽"))
    if delisted_on is None:
        raise ValidationError({"delisted_on": [_("请填写摘帽日期")]})
    if delisted_on < key.listed_on:
        raise ValidationError({"delisted_on": [_("摘帽日期不能早于列入日期")]})
    if delisted_on > timezone.localdate():
        raise ValidationError({"delisted_on": [_("摘帽日期不能晚于今天")]})
    before = snapshot(key, KEY_FIELDS)
    key.delisted_on = delisted_on
    key.save(update_fields=["delisted_on"])
    record_change(
        actor=actor, action=Action.RECORD_UPDATED, obj=key, before=before,
        after=snapshot(key, KEY_FIELDS),
    )  # fmt: skip
    return key


@transaction.atomic
def add_task(
    *, actor: Any, key: KeyTownship, task: str, deadline: date | None, note: str = ""
) -> RemediationTask:
    key = KeyTownship.objects.select_related("org_unit").get(pk=key.pk)
    _require_office(actor, key.org_unit)
    errors: dict[str, list[str]] = {}
    if not (task or "").strip():
        errors["task"] = [_("请填写整治任务")]
    if deadline is None:
        errors["deadline"] = [_("请填写完成时限")]
    if key.delisted_on:
        errors["task"] = [_("该乡镇已摘帽，不再增加整治任务")]
    if errors:
        raise ValidationError(errors)
    item = RemediationTask(
        key_township=key,
        task=task.strip()[:300],
        deadline=deadline,
        note=(note or "").strip()[:300],
    )
    item.set_org_unit(key.org_unit)
    item.save()
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=item, after=snapshot(item, TASK_FIELDS)
    )
    return item


def may_report_task(actor: Any, item: RemediationTask) -> bool:
    """The county office, or the township's own manager, records a task as done."""
    if not _is_user(actor):
        return True
    if actor.has_jindu_perm(Perm.TARGETS_MANAGE):
        return item.org_path.startswith(actor.scope_path or "\0")
    return actor.org_unit_id == item.org_unit_id and Role.TOWNSHIP_MANAGER in actor.role_codes


@transaction.atomic
def complete_task(
    *, actor: Any, item: RemediationTask, done_on: date | None, note: str = ""
) -> RemediationTask:
    item = RemediationTask.objects.select_for_update().get(pk=item.pk)
    if not may_report_task(actor, item):
        raise PermissionDenied(_("只有县禁毒办或本乡镇可以登记整治任务完成情况"))
    if done_on is None:
        raise ValidationError({"done_on": [_("请填写完成日期")]})
    if done_on > timezone.localdate():
        raise ValidationError({"done_on": [_("完成日期不能晚于今天")]})
    before = snapshot(item, TASK_FIELDS)
    item.done_on = done_on
    if note and note.strip():
        item.note = note.strip()[:300]
    item.save(update_fields=["done_on", "note"])
    record_change(
        actor=actor, action=Action.RECORD_UPDATED, obj=item, before=before,
        after=snapshot(item, TASK_FIELDS),
    )  # fmt: skip
    return item
