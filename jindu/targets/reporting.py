"""Reported indicators: values a responsible unit enters for a period, and how the
registry reads them.

A value moves draft → submitted → approved (by the county office) or returned
with a note; only approved values count. Each indicator has a
``ReportingRule``: which unit level or member department reports it, yearly or
quarterly, and how many days after the period's end entries lock (the county
office may unlock one value until a given day).

**The provider's rule** (``value_for`` / ``values_for``). The value of a subtree
for a period is the approved value of its own unit, if it entered one;
otherwise the aggregate of its children's values, each found the same way
(a county without its own survey: its townships' rates). A survey rate does
not sum: the aggregate is the mean weighted by each value's sample size when
every part gives one, else the plain mean. A reported value counts for an asked
period when its own period lies inside it; of several (four quarters in a
year), the latest counts, a yearly value before the fourth quarter's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.core import indicators
from jindu.core.indicators import Indicator, Number, Period
from jindu.core.roles import Perm, Role
from jindu.notifications.services import notify
from jindu.orgs.models import Department, OrgUnit
from jindu.targets.models import PeriodKind, ReportedValue, ReportingRule, period_bounds

VALUE_FIELDS = ("value", "sample_size", "note", "status", "return_note", "unlocked_until")

REPORTED = [
    Indicator(
        key="awareness_rate",
        name="群众禁毒知晓率",
        unit="%",
        higher_is_better=True,
        kind="reported",
        area="prevention",
        description="抽样调查中知晓禁毒知识的群众比例，由乡镇（街道）按年度填报",
        decimals=1,
        is_rate=True,
    ),
    Indicator(
        key="satisfaction_rate",
        name="群众对禁毒工作满意率",
        unit="%",
        higher_is_better=True,
        kind="reported",
        area="targets",
        description="抽样调查中对禁毒工作表示满意的群众比例，由乡镇（街道）按年度填报",
        decimals=1,
        is_rate=True,
    ),
    Indicator(
        key="student_platform_rate",
        name="毒品预防教育数字化平台学生注册使用率",
        unit="%",
        higher_is_better=True,
        kind="reported",
        area="prevention",
        description="在校学生中在禁毒数字化平台注册并使用的比例，由教育部门按季度填报",
        decimals=1,
        is_rate=True,
    ),
]
REPORTED_KEYS = tuple(i.key for i in REPORTED)

# key: (level, department short name, period kind, days after the period end)
RULE_DEFAULTS: dict[str, tuple[str, str, str, int]] = {
    "awareness_rate": ("township", "", PeriodKind.YEAR, 31),
    "satisfaction_rate": ("township", "", PeriodKind.YEAR, 31),
    "student_platform_rate": ("county", "教育局", PeriodKind.QUARTER, 15),
}


def register_all() -> None:
    for indicator in REPORTED:
        indicators.register(indicator)
    indicators.set_reported_provider(value_for, values_for)


# ------------------------------------------------------------------ rules


def rule_for(key: str) -> ReportingRule:
    """The rule of a reported indicator, created with its defaults the first time."""
    if key not in RULE_DEFAULTS:
        raise ValidationError({"indicator_key": [_("该指标不是填报类指标")]})
    level, department, kind, days = RULE_DEFAULTS[key]
    rule, _created = ReportingRule.objects.get_or_create(
        indicator_key=key,
        defaults={
            "level": level,
            "department_name": department,
            "period_kind": kind,
            "deadline_days": days,
        },
    )
    return rule


def rules() -> list[ReportingRule]:
    return [rule_for(key) for key in REPORTED_KEYS]


RULE_FIELDS = ("level", "department_name", "period_kind", "deadline_days")
RULE_LEVELS = ("county", "township", "village")


@transaction.atomic
def update_rule(
    *,
    actor: Any,
    key: str,
    level: str,
    department_name: str,
    period_kind: str,
    deadline_days: int | None,
) -> ReportingRule:
    """The county office changes who reports an indicator, how often and until when."""
    if _is_user(actor) and not is_office(actor):
        raise PermissionDenied(_("只有县禁毒办可以修改填报规则"))
    rule = ReportingRule.objects.select_for_update().get(pk=rule_for(key).pk)
    errors: dict[str, list[str]] = {}
    department_name = (department_name or "").strip()[:30]
    if level not in RULE_LEVELS:
        errors["level"] = [_("请选择填报单位层级")]
    elif department_name and level != "county":
        errors["department_name"] = [_("成员单位在县级填报，请将层级选为县（区）")]
    if period_kind not in PeriodKind.values:
        errors["period_kind"] = [_("请选择填报周期")]
    if deadline_days is None or not 0 <= deadline_days <= 366:
        errors["deadline_days"] = [_("填报期限须在0到366天之间")]
    if errors:
        raise ValidationError(errors)
    before = snapshot(rule, RULE_FIELDS)
    rule.level, rule.department_name = level, department_name
    rule.period_kind, rule.deadline_days = period_kind, deadline_days
    rule.save()
    record_change(
        actor=actor, action=Action.RECORD_UPDATED, obj=rule, before=before,
        after=snapshot(rule, RULE_FIELDS),
    )  # fmt: skip
    return rule


def department_of(rule: ReportingRule, county: OrgUnit) -> Department | None:
    """The member department of ``county`` that reports under ``rule`` (by short name)."""
    if not rule.department_name:
        return None
    return (
        Department.objects.filter(org_unit=county, active=True)
        .filter(Q(short_name=rule.department_name) | Q(name=rule.department_name))
        .first()
    )


def _is_user(actor: Any) -> bool:
    return getattr(actor, "is_authenticated", False)


def is_office(actor: Any) -> bool:
    return _is_user(actor) and actor.has_jindu_perm(Perm.TARGETS_MANAGE)


def may_enter(actor: Any, rule: ReportingRule, unit: OrgUnit) -> bool:
    """The responsible unit's own staff (or the county office above it) enter its value."""
    if not _is_user(actor):
        return True
    if not actor.has_jindu_perm(Perm.RECORD_WRITE):
        return False
    if not unit.path.startswith(actor.scope_path or "\0"):
        return False
    if is_office(actor):
        return True
    if rule.department_name:
        department = actor.department
        return department is not None and rule.department_name in (
            department.short_name,
            department.name,
        )
    if actor.org_unit_id != unit.pk:
        return False
    return rule.level != "township" or Role.TOWNSHIP_MANAGER in actor.role_codes


def _locked(rule: ReportingRule, row: ReportedValue | None, year: int, quarter: int) -> date | None:
    """The deadline that has passed (None while entries are open)."""
    today = timezone.localdate()
    deadline = rule.deadline(year, quarter)
    if today <= deadline:
        return None
    if row is not None and row.unlocked_until and today <= row.unlocked_until:
        return None
    return deadline


def parse_value(raw: Any, *, is_rate: bool) -> Decimal:
    try:
        value = Decimal(str(raw).strip().rstrip("%").strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"value": [_("请输入数字")]}) from exc
    if not value.is_finite():
        raise ValidationError({"value": [_("请输入数字")]})
    if is_rate and not Decimal(0) <= value <= Decimal(100):
        raise ValidationError({"value": [_("比率须在0到100之间（单位：%）")]})
    if value < 0:
        raise ValidationError({"value": [_("数值不能为负数")]})
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError({"value": [_("最多保留两位小数")]})
    return value


def _check_period(rule: ReportingRule, year: int, quarter: int) -> None:
    if rule.period_kind == PeriodKind.QUARTER and quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": [_("该指标按季度填报，请选择季度")]})
    if rule.period_kind == PeriodKind.YEAR and quarter:
        raise ValidationError({"quarter": [_("该指标按年度填报，不分季度")]})
    start, _end = period_bounds(year, quarter)
    if start > timezone.localdate():
        raise ValidationError({"year": [_("该期间尚未开始，不能填报")]})


# ------------------------------------------------------------------ writes


@transaction.atomic
def save_reported_value(
    *,
    actor: Any,
    key: str,
    unit: OrgUnit,
    year: int,
    quarter: int = 0,
    value: Any,
    sample_size: int | None = None,
    note: str = "",
    submit: bool = False,
) -> ReportedValue:
    """Enter (or correct) a unit's value for a period as a draft, or submit it at once."""
    rule = rule_for(key)
    indicator = indicators.get(key)
    _check_period(rule, year, quarter)
    if not may_enter(actor, rule, unit):
        raise PermissionDenied(_("该指标不由您所在单位填报"))
    if not rule.department_name and unit.level != rule.level:
        raise ValidationError({"org_unit": [_("该指标由乡镇（街道）逐一填报，请选择乡镇（街道）")]})
    department = None
    if rule.department_name:
        if unit.level != "county":
            raise ValidationError({"org_unit": [_("该指标由县级成员单位填报")]})
        department = department_of(rule, unit)
        if department is None:
            raise ValidationError(
                {"org_unit": [_("本县没有“%(name)s”，无法填报") % {"name": rule.department_name}]}
            )
    amount = parse_value(value, is_rate=indicator.is_rate)
    if sample_size is not None and sample_size < 1:
        raise ValidationError({"sample_size": [_("样本量须为正整数")]})
    row = (
        ReportedValue.objects.select_for_update()
        .filter(indicator_key=key, org_unit=unit, year=year, quarter=quarter)
        .first()
    )
    deadline = _locked(rule, row, year, quarter)
    if deadline is not None:
        raise ValidationError(
            _("已超过填报截止日期（%(day)s），不能再填报；如需补报，请联系县禁毒办解锁")
            % {"day": f"{deadline:%Y-%m-%d}"}
        )
    if row is not None and row.status == ReportedValue.Status.SUBMITTED:
        raise ValidationError(_("该数值已报送，正在等待县禁毒办审核，不能修改"))
    if row is not None and row.status == ReportedValue.Status.APPROVED:
        raise ValidationError(_("该数值已审核通过；如需更正，请联系县禁毒办退回"))
    before = snapshot(row, VALUE_FIELDS) if row is not None else None
    if row is None:
        row = ReportedValue(indicator_key=key, year=year, quarter=quarter, department=department)
        row.set_org_unit(unit)
    row.value = amount
    row.sample_size = sample_size
    row.note = (note or "").strip()[:200]
    row.entered_by = actor if _is_user(actor) else None
    row.status = ReportedValue.Status.SUBMITTED if submit else ReportedValue.Status.DRAFT
    row.submitted_at = timezone.now() if submit else None
    row.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED if before is None else Action.RECORD_UPDATED,
        obj=row,
        before=before,
        after=snapshot(row, VALUE_FIELDS),
    )
    return row


@transaction.atomic
def submit_reported_value(*, actor: Any, row: ReportedValue) -> ReportedValue:
    row = ReportedValue.objects.select_for_update().select_related("org_unit").get(pk=row.pk)
    rule = rule_for(row.indicator_key)
    if not may_enter(actor, rule, row.org_unit):
        raise PermissionDenied(_("该指标不由您所在单位填报"))
    if row.status not in (ReportedValue.Status.DRAFT, ReportedValue.Status.RETURNED):
        raise ValidationError(_("只有草稿或退回的数值可以报送"))
    if row.value is None:
        raise ValidationError({"value": [_("请先填写数值")]})
    deadline = _locked(rule, row, row.year, row.quarter)
    if deadline is not None:
        raise ValidationError(
            _("已超过填报截止日期（%(day)s），不能再报送；如需补报，请联系县禁毒办解锁")
            % {"day": f"{deadline:%Y-%m-%d}"}
        )
    before = snapshot(row, VALUE_FIELDS)
    row.status = ReportedValue.Status.SUBMITTED
    row.submitted_at = timezone.now()
    row.save(update_fields=["status", "submitted_at", "updated_at"])
    record_change(
        actor=actor, action=Action.RECORD_UPDATED, obj=row, before=before,
        after=snapshot(row, VALUE_FIELDS),
    )  # fmt: skip
    return row


def _require_office(actor: Any) -> None:
    if _is_user(actor) and not is_office(actor):
        raise PermissionDenied(_("只有县禁毒办可以审核"))


@transaction.atomic
def approve_reported_value(*, actor: Any, row: ReportedValue) -> ReportedValue:
    _require_office(actor)
    row = ReportedValue.objects.select_for_update().get(pk=row.pk)
    if row.status != ReportedValue.Status.SUBMITTED:
        raise ValidationError(_("只有已报送的数值可以审核"))
    before = snapshot(row, VALUE_FIELDS)
    row.status = ReportedValue.Status.APPROVED
    row.return_note = ""
    row.approved_by = actor if _is_user(actor) else None
    row.approved_at = timezone.now()
    row.save()
    record_change(
        actor=actor, action=Action.RECORD_UPDATED, obj=row, before=before,
        after=snapshot(row, VALUE_FIELDS),
    )  # fmt: skip
    return row


@transaction.atomic
def return_reported_value(*, actor: Any, row: ReportedValue, note: str) -> ReportedValue:
    """Send a submitted (or approved) value back to the unit with the reason."""
    _require_office(actor)
    row = ReportedValue.objects.select_for_update().get(pk=row.pk)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"return_note": [_("请填写退回意见")]})
    if row.status not in (ReportedValue.Status.SUBMITTED, ReportedValue.Status.APPROVED):
        raise ValidationError(_("只有已报送或已审核的数值可以退回"))
    before = snapshot(row, VALUE_FIELDS)
    row.status = ReportedValue.Status.RETURNED
    row.return_note = note[:200]
    row.approved_by, row.approved_at = None, None
    row.save()
    record_change(
        actor=actor, action=Action.RECORD_UPDATED, obj=row, before=before,
        after=snapshot(row, VALUE_FIELDS),
    )  # fmt: skip
    name = indicators.get(row.indicator_key).name
    notify(
        recipients=[row.entered_by] if row.entered_by_id else [],
        title=_("%(period)s“%(name)s”被退回") % {"period": row.period_label, "name": name},
        body=note[:200],
        link=reverse("targets:reported"),
        source=f"targets.ReportedValue:{row.pk}:returned",
    )
    return row


@transaction.atomic
def unlock_reported_value(
    *, actor: Any, key: str, unit: OrgUnit, year: int, quarter: int, until: date | None
) -> ReportedValue:
    """Let a unit enter a value after the deadline, until ``until`` (today or later)."""
    _require_office(actor)
    rule = rule_for(key)
    _check_period(rule, year, quarter)
    if until is None or until < timezone.localdate():
        raise ValidationError({"unlocked_until": [_("补报截止日期不能早于今天")]})
    row = (
        ReportedValue.objects.select_for_update()
        .filter(indicator_key=key, org_unit=unit, year=year, quarter=quarter)
        .first()
    )
    before = snapshot(row, VALUE_FIELDS) if row is not None else None
    if row is None:
        row = ReportedValue(
            indicator_key=key, year=year, quarter=quarter, department=department_of(rule, unit)
        )
        row.set_org_unit(unit)
    row.unlocked_until = until
    row.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED if before is None else Action.RECORD_UPDATED,
        obj=row,
        before=before,
        after=snapshot(row, VALUE_FIELDS),
    )
    return row


# ------------------------------------------------------------------ the provider


def _inside(year: int, quarter: int, period: Period) -> bool:
    start, end = period_bounds(year, quarter)
    return period.start <= start and end <= period.end


def _latest(rows: Sequence[tuple[str, int, int, Decimal, int | None]], period: Period) -> dict:
    """Per unit path, the latest approved value whose period lies inside ``period``."""
    best: dict[str, tuple[tuple[Any, ...], Decimal, int | None]] = {}
    for path, year, quarter, value, weight in rows:
        if not _inside(year, quarter, period):
            continue
        _start, end = period_bounds(year, quarter)
        # At the same end, the yearly value (quarter 0) comes before the fourth quarter.
        order = (end, -quarter if quarter else 1)
        if path not in best or order > best[path][0]:
            best[path] = (order, value, weight)
    return {path: (value, weight) for path, (_o, value, weight) in best.items()}


def _resolve(
    path: str, latest: dict[str, tuple[Decimal, int | None]]
) -> tuple[Decimal, int | None] | None:
    if path in latest:
        return latest[path]
    children: set[str] = set()
    for other in latest:
        if other != path and other.startswith(path):
            children.add(path + other[len(path) :].split("/", 1)[0] + "/")
    parts = [part for child in sorted(children) if (part := _resolve(child, latest))]
    if not parts:
        return None
    if all(weight for _v, weight in parts):
        total = sum(weight for _v, weight in parts)  # type: ignore[misc]
        return sum(v * w for v, w in parts) / total, total  # type: ignore[operator]
    return sum(v for v, _w in parts) / len(parts), None


def values_for(key: str, paths: Sequence[str], period: Period) -> dict[str, Number | None]:
    """The reported value of several subtrees for a period, in one query."""
    if not paths:
        return {}
    rows = (
        ReportedValue.objects.filter(
            reduce(or_, (Q(org_path__subtree=p) for p in paths)),
            indicator_key=key,
            status=ReportedValue.Status.APPROVED,
            value__isnull=False,
            year__gte=period.start.year,
            year__lte=period.last_day.year,
        )
        .order_by()
        .values_list("org_path", "year", "quarter", "value", "sample_size")
    )
    latest = _latest(list(rows), period)
    result: dict[str, Number | None] = {}
    for path in paths:
        found = _resolve(path, latest)
        result[path] = found[0] if found else None
    return result


def value_for(key: str, path: str, period: Period) -> Number | None:
    return values_for(key, [path], period)[path]
