"""The checks every enforcement write passes, shared by the services and the import.

Each raises ``ValidationError`` with Chinese messages keyed by the field they
concern, so that a form puts them next to the field and an import next to the
column.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from jindu.core.excel_import import to_halfwidth
from jindu.orgs.division import Level
from jindu.orgs.models import Department, OrgUnit

PLACE_LEVELS = frozenset({Level.TOWNSHIP, Level.VILLAGE})
MAX_WEIGHT = Decimal("1000000")
MAX_AMOUNT = Decimal("10000000000")
MAX_PILLS = 10_000_000
GRAM = Decimal("0.1")
CENT = Decimal("0.01")


class Errors:
    """Collects messages by field and raises them together."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(str(message))

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def raise_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def check_place(
    actor: Any, org_unit: OrgUnit | None, errors: Errors, field: str = "org_unit"
) -> None:
    if org_unit is None:
        errors.add(field, _("请选择发生地（乡镇或村、社区）"))
    elif org_unit.level not in PLACE_LEVELS:
        errors.add(field, _("发生地须为乡镇（街道）或村（社区）"))
    elif is_user(actor) and not org_unit.path.startswith(actor.scope_path):
        errors.add(field, _("发生地不在您的管辖范围内"))


def check_department(
    actor: Any,
    department: Department | None,
    org_unit: OrgUnit | None,
    errors: Errors,
    field: str = "department",
) -> None:
    if department is None:
        errors.add(field, _("请选择办案单位"))
        return
    if not department.active:
        errors.add(field, _("该成员单位已停用"))
    if org_unit is not None and not org_unit.path.startswith(department.org_path):
        errors.add(field, _("办案单位须为发生地所在县（区）的成员单位"))
    if is_user(actor) and actor.scoped_to_department and actor.department_id != department.pk:
        errors.add(field, _("您只能填报本部门办理的记录"))


def not_future(errors: Errors, field: str, day: date | None, label: str, today: date) -> None:
    if day is not None and day > today:
        errors.add(field, _("%(label)s不能晚于今天") % {"label": label})


def _number_text(raw: Any) -> str:
    text = to_halfwidth(str(raw)).strip().replace(",", "").replace("，", "")
    for suffix in ("千克", "公斤", "克", "g", "G", "元", "粒"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
            break
    return text


def parse_weight(raw: Any, field: str = "weight_g") -> Decimal:
    """Grams to 0.1 g, more than nothing and less than a tonne."""
    if raw is None or str(raw).strip() == "":
        raise ValidationError({field: [_("请填写重量（克）")]})
    if isinstance(raw, Decimal):
        value = raw
    else:
        text = _number_text(raw)
        if str(raw).strip().endswith(("千克", "公斤")):
            raise ValidationError({field: [_("重量请以克为单位填写（1千克=1000克）")]})
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise ValidationError(
                {field: [_("重量应为数字（克），如 12.5，当前为“%(v)s”") % {"v": raw}]}
            ) from None
    if value < 0:
        raise ValidationError({field: [_("重量不能为负数")]})
    if value == 0:
        raise ValidationError({field: [_("重量须大于0克")]})
    if value > MAX_WEIGHT:
        raise ValidationError(
            {field: [_("重量超过1,000,000克（1吨），不合常理，请核对是否以克为单位")]}
        )
    if value != value.quantize(GRAM):
        raise ValidationError({field: [_("重量精确到0.1克，最多保留一位小数")]})
    return value.quantize(GRAM)


def parse_amount(raw: Any, field: str = "amount") -> Decimal:
    """Yuan to the fen, not negative, not beyond ten billion."""
    if raw is None or str(raw).strip() == "":
        raise ValidationError({field: [_("请填写价值（元）")]})
    if isinstance(raw, Decimal):
        value = raw
    else:
        try:
            value = Decimal(_number_text(raw))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise ValidationError(
                {field: [_("价值应为数字（元），当前为“%(v)s”") % {"v": raw}]}
            ) from None
    if value < 0:
        raise ValidationError({field: [_("价值不能为负数")]})
    if value > MAX_AMOUNT:
        raise ValidationError({field: [_("价值超过100亿元，不合常理，请核对")]})
    if value != value.quantize(CENT):
        raise ValidationError({field: [_("价值精确到分，最多保留两位小数")]})
    return value.quantize(CENT)


def parse_pills(raw: Any, field: str = "pills") -> int | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = int(_number_text(raw)) if not isinstance(raw, int) else raw
    except ValueError:
        raise ValidationError({field: [_("粒数应为整数")]}) from None
    if value < 0:
        raise ValidationError({field: [_("粒数不能为负数")]})
    if value > MAX_PILLS:
        raise ValidationError({field: [_("粒数超过一千万，不合常理，请核对")]})
    return value


def clean_text(raw: Any, limit: int, field: str, label: str) -> str:
    text = str(raw or "").strip()
    if len(text) > limit:
        raise ValidationError(
            {field: [_("%(label)s不能超过%(n)d个字") % {"label": label, "n": limit}]}
        )
    return text
