"""Writes of targets: the county's targets for a year and their breakdown to townships
and member departments. Keyword-only, one transaction each, audited inside it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.core import indicators
from jindu.core.indicators import Indicator
from jindu.core.roles import Perm
from jindu.orgs.division import Level
from jindu.orgs.models import Department, OrgUnit
from jindu.targets.models import Target, TargetShare

TARGET_FIELDS = ("year", "indicator_key", "value", "note")
SHARE_FIELDS = ("org_unit_id", "department_id", "value")
MAX_VALUE = Decimal("99999999999")
FIRST_YEAR = 2000


def _is_user(actor: Any) -> bool:
    return getattr(actor, "is_authenticated", False)


def _require_office(actor: Any, unit: OrgUnit) -> None:
    if not _is_user(actor):
        return
    if not actor.has_jindu_perm(Perm.TARGETS_MANAGE) or not unit.path.startswith(
        actor.scope_path or "\0"
    ):
        raise PermissionDenied(_("只有县禁毒办可以设定和分解目标任务"))


def parse_amount(raw: Any, field: str = "value") -> Decimal:
    """A target value: a number, zero or more, at most three decimals (grams to the mg)."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise ValidationError({field: [_("请填写目标值")]})
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: [_("请输入数字")]}) from exc
    if not value.is_finite():
        raise ValidationError({field: [_("请输入数字")]})
    if value < 0:
        raise ValidationError({field: [_("目标值不能为负数")]})
    if value > MAX_VALUE:
        raise ValidationError({field: [_("目标值过大，请检查")]})
    if value.as_tuple().exponent < -3:  # type: ignore[operator]
        raise ValidationError({field: [_("最多保留三位小数")]})
    return value


def target_indicators() -> list[Indicator]:
    """Every registered indicator a target may be set on, in the registry's order."""
    return list(indicators.REGISTRY.values())


@transaction.atomic
def set_target(
    *, actor: Any, county: OrgUnit, year: int, key: str, value: Any, note: str = ""
) -> Target:
    """Enter (or change) the target the city set for the county on one indicator."""
    _require_office(actor, county)
    errors: dict[str, list[str]] = {}
    if county.level != Level.COUNTY:
        errors["org_unit"] = [_("目标任务下达到县（区）")]
    if key not in indicators.REGISTRY:
        errors["indicator_key"] = [_("请选择指标")]
    if not FIRST_YEAR <= year <= 2100:
        errors["year"] = [_("年度不正确")]
    try:
        amount = parse_amount(value)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    target = (
        Target.objects.select_for_update()
        .filter(org_unit=county, year=year, indicator_key=key)
        .first()
    )
    before = snapshot(target, TARGET_FIELDS) if target else None
    if target is None:
        target = Target(year=year, indicator_key=key)
        target.set_org_unit(county)
    target.value = amount
    target.note = (note or "").strip()[:200]
    target.set_by = actor if _is_user(actor) else None
    target.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED if before is None else Action.RECORD_UPDATED,
        obj=target,
        before=before,
        after=snapshot(target, TARGET_FIELDS),
    )
    return target


@transaction.atomic
def delete_target(*, actor: Any, target: Target) -> None:
    _require_office(actor, target.org_unit)
    before = snapshot(target, TARGET_FIELDS)
    record_change(actor=actor, action=Action.RECORD_DELETED, obj=target, before=before)
    target.delete()


def _check_part(
    target: Target, unit: OrgUnit | None, department: Department | None
) -> dict[str, list[str]]:
    if department is not None:
        if department.org_unit_id != target.org_unit_id:
            return {"department": [_("“%(name)s”不是本县的成员单位") % {"name": department.name}]}
        return {}
    if unit is None:
        return {"org_unit": [_("请选择乡镇（街道）或成员单位")]}
    if not unit.path.startswith(target.org_path) or unit.pk == target.org_unit_id:
        return {"org_unit": [_("“%(name)s”不在本县范围内，不能分解") % {"name": unit.name}]}
    if unit.level != Level.TOWNSHIP:
        return {"org_unit": [_("目标任务分解到乡镇（街道）")]}
    return {}


@transaction.atomic
def set_share(
    *,
    actor: Any,
    target: Target,
    value: Any,
    unit: OrgUnit | None = None,
    department: Department | None = None,
) -> TargetShare | None:
    """Give a township or a member department its part of a target; an empty value
    removes the part. A unit outside the county is refused."""
    _require_office(actor, target.org_unit)
    errors = _check_part(target, unit, department)
    if errors:
        raise ValidationError(errors)
    holder = department.org_unit if department is not None else unit
    assert holder is not None
    lookup: dict[str, Any] = (
        {"department": department}
        if department is not None
        else {"org_unit": unit, "department": None}
    )
    share = TargetShare.objects.select_for_update().filter(target=target, **lookup).first()
    if value is None or str(value).strip() == "":
        if share is not None:
            record_change(
                actor=actor, action=Action.RECORD_DELETED, obj=share,
                before=snapshot(share, SHARE_FIELDS),
            )  # fmt: skip
            share.delete()
        return None
    amount = parse_amount(value)
    before = snapshot(share, SHARE_FIELDS) if share else None
    if share is None:
        share = TargetShare(target=target, department=department)
        share.set_org_unit(holder)
    elif share.value == amount:
        return share
    share.value = amount
    share.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED if before is None else Action.RECORD_UPDATED,
        obj=share,
        before=before,
        after=snapshot(share, SHARE_FIELDS),
    )
    return share


@transaction.atomic
def set_breakdown(
    *,
    actor: Any,
    target: Target,
    townships: dict[OrgUnit, Any],
    departments: dict[Department, Any],
) -> None:
    """Save a whole breakdown at once: every part is checked first and nothing is
    written unless all pass. Errors are keyed ``unit_<id>`` / ``dept_<id>``."""
    _require_office(actor, target.org_unit)
    errors: dict[str, list[str]] = {}
    for unit, raw in townships.items():
        problems = _check_part(target, unit, None)
        if not problems and str(raw or "").strip():
            try:
                parse_amount(raw)
            except ValidationError as exc:
                problems = exc.message_dict
        if problems:
            errors[f"unit_{unit.pk}"] = [m for ms in problems.values() for m in ms]
    for department, raw in departments.items():
        problems = _check_part(target, None, department)
        if not problems and str(raw or "").strip():
            try:
                parse_amount(raw)
            except ValidationError as exc:
                problems = exc.message_dict
        if problems:
            errors[f"dept_{department.pk}"] = [m for ms in problems.values() for m in ms]
    if errors:
        raise ValidationError(errors)
    for unit, raw in townships.items():
        set_share(actor=actor, target=target, unit=unit, value=raw)
    for department, raw in departments.items():
        set_share(actor=actor, target=target, department=department, value=raw)


# ------------------------------------------------------------------ reads


@dataclass
class BreakdownRow:
    """A county target with the sums of its parts: do they add up to the whole?"""

    target: Target
    indicator: Indicator | None
    township_sum: Decimal | None
    department_sum: Decimal | None

    @staticmethod
    def _adds_up(total: Decimal | None, whole: Decimal) -> bool | None:
        return None if total is None else total == whole

    @property
    def townships_add_up(self) -> bool | None:
        return self._adds_up(self.township_sum, self.target.value)

    @property
    def departments_add_up(self) -> bool | None:
        return self._adds_up(self.department_sum, self.target.value)

    @property
    def mismatch(self) -> bool:
        return self.townships_add_up is False or self.departments_add_up is False


def breakdown_rows(county: OrgUnit, year: int) -> list[BreakdownRow]:
    """Per indicator: the county target and the sums of its township and department
    parts (two queries whatever the number of targets)."""
    targets = list(Target.objects.filter(org_unit=county, year=year).order_by("indicator_key"))
    sums: dict[tuple[int, bool], Decimal] = {}
    for target_id, department_id, value in TargetShare.objects.filter(
        target__in=targets
    ).values_list("target_id", "department_id", "value"):
        part = (target_id, department_id is not None)
        sums[part] = sums.get(part, Decimal(0)) + value
    order = {key: i for i, key in enumerate(indicators.REGISTRY)}
    targets.sort(key=lambda t: (order.get(t.indicator_key, len(order)), t.indicator_key))
    return [
        BreakdownRow(
            target=t,
            indicator=indicators.REGISTRY.get(t.indicator_key),
            township_sum=sums.get((t.pk, False)),
            department_sum=sums.get((t.pk, True)),
        )
        for t in targets
    ]
