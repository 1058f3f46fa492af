"""The catalogue of precursors and controlled medicines, and units of measure.

The shipped catalogue (``data/catalogue.json``) is loaded after ``migrate``: items
missing from the table are added, items already there are left as they are, so
an administrator's edits survive every upgrade. The system administrator adds
later listings through ``add_substance``.

Quantities are converted into the item's own unit: within mass (千克, 克, 吨) or
volume (升, 毫升 …) by the factors of the ``measure_unit`` code list, between
mass and volume by the item's density, and not at all for counts (支, 片 …).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.codes import registry
from jindu.regulation.models import Substance

CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "catalogue.json"
SUBSTANCE_FIELDS = (
    "code",
    "name",
    "aliases",
    "catalogue",
    "category",
    "unit",
    "density",
    "pharmaceutical",
    "listed_year",
    "notes",
    "active",
)
CODE_RE = re.compile(r"^[A-Za-z0-9-]{1,20}$")
THOUSANDTH = Decimal("0.001")


def read_catalogue(path: Path = CATALOGUE_FILE) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["substances"]


def _catalogue_of(category: str) -> str:
    return (
        Substance.Catalogue.PRECURSOR
        if category.startswith("precursor")
        else Substance.Catalogue.MEDICINE
    )


@transaction.atomic
def load_catalogue(path: Path = CATALOGUE_FILE) -> int:
    """Add the shipped items that are not in the table yet; return how many were added."""
    existing = set(Substance.objects.values_list("code", flat=True))
    rows = [
        Substance(
            code=item["code"],
            name=item["name"],
            aliases=item.get("aliases", ""),
            catalogue=_catalogue_of(item["category"]),
            category=item["category"],
            unit=item["unit"],
            density=Decimal(item["density"]) if item.get("density") else None,
            pharmaceutical=bool(item.get("pharmaceutical", False)),
            listed_year=item.get("listed_year"),
            notes=item.get("notes", ""),
            builtin=True,
        )
        for item in read_catalogue(path)
        if item["code"] not in existing
    ]
    Substance.objects.bulk_create(rows)
    return len(rows)


def after_migrate(sender: Any, **kwargs: Any) -> None:
    load_catalogue()


# ------------------------------------------------------------------ units of measure


@dataclass(frozen=True)
class MeasureUnit:
    code: str
    label: str
    dimension: str
    factor: Decimal | None


def measure_units() -> dict[str, MeasureUnit]:
    """Every unit of measure by code (retired ones too, so that old lines still read)."""
    result = {}
    for item in registry.items("measure_unit", include_retired=True):
        extra = item.extra or {}
        factor = extra.get("factor")
        result[item.code] = MeasureUnit(
            item.code,
            item.label,
            str(extra.get("dimension", "count")),
            Decimal(str(factor)) if factor not in (None, "") else None,
        )
    return result


class ConversionError(ValueError):
    """A quantity that cannot be expressed in the item's unit; the message says why."""


def convert(
    quantity: Decimal, unit_code: str, substance: Substance, units: dict[str, MeasureUnit]
) -> Decimal:
    """``quantity`` of ``unit_code`` in the item's own unit, to a thousandth."""
    target = units.get(substance.unit)
    given = units.get(unit_code)
    if given is None:
        raise ConversionError(_("不认识的计量单位“%(unit)s”") % {"unit": unit_code})
    if target is None:
        raise ConversionError(
            _("品种“%(name)s”的计量单位未设置，请联系系统管理员") % {"name": substance.name}
        )
    if given.code == target.code:
        return quantity.quantize(THOUSANDTH, rounding=ROUND_HALF_UP)
    if given.dimension == "count" or target.dimension == "count":
        raise ConversionError(
            _("“%(name)s”以“%(target)s”计，不能按“%(given)s”填报")
            % {"name": substance.name, "target": target.label, "given": given.label}
        )
    assert given.factor is not None and target.factor is not None
    base = quantity * given.factor  # kilograms or litres
    if given.dimension != target.dimension:
        if not substance.density:
            raise ConversionError(
                _("“%(name)s”未设定密度，不能把%(given)s换算为%(target)s，请按%(target)s填报")
                % {"name": substance.name, "given": given.label, "target": target.label}
            )
        # density is kilograms per litre
        base = base * substance.density if given.dimension == "volume" else base / substance.density
    return (base / target.factor).quantize(THOUSANDTH, rounding=ROUND_HALF_UP)


def units_for(substance: Substance, units: dict[str, MeasureUnit]) -> list[MeasureUnit]:
    """The units a quantity of this item may be entered in."""
    target = units.get(substance.unit)
    if target is None:
        return []
    if target.dimension == "count":
        return [target]
    allowed = {target.dimension}
    if substance.density:
        allowed |= {"mass", "volume"}
    return [u for u in units.values() if u.dimension in allowed]


# ------------------------------------------------------------------ administrator's edits


def _clean(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = dict(values)
    for key in ("code", "name", "aliases", "notes", "category", "unit"):
        if key in clean:
            clean[key] = str(clean[key] or "").strip()
    if creating:
        if not CODE_RE.match(clean.get("code", "")):
            errors["code"] = [_("编号只能包含字母、数字和“-”，不超过20个字符")]
        elif Substance.objects.filter(code=clean["code"]).exists():
            errors["code"] = [_("编号“%(code)s”已被使用") % {"code": clean["code"]}]
    if "name" in clean and not clean["name"]:
        errors["name"] = [_("请填写品种名称")]
    if "category" in clean and not registry.is_valid("substance_category", clean["category"]):
        errors["category"] = [_("请选择类别")]
    if "unit" in clean and not registry.is_valid("measure_unit", clean["unit"]):
        errors["unit"] = [_("请选择计量单位")]
    density = clean.get("density")
    if density is not None:
        try:
            density = Decimal(str(density))
        except InvalidOperation:
            errors["density"] = [_("密度应为数字")]
        else:
            if density <= 0 or density > 30:
                errors["density"] = [_("密度应在0到30千克/升之间")]
            clean["density"] = density
    year = clean.get("listed_year")
    if year is not None and not 2005 <= int(year) <= 2100:
        errors["listed_year"] = [_("增补年份应在2005年以后")]
    if errors:
        raise ValidationError(errors)
    if "category" in clean:
        clean["catalogue"] = _catalogue_of(clean["category"])
    return clean


@transaction.atomic
def add_substance(
    *, actor: Any, code: str, name: str, category: str, unit: str, **fields: Any
) -> Substance:
    """Add an item to the catalogue (a later listing), without code changes."""
    values = _clean(
        {"code": code, "name": name, "category": category, "unit": unit, **fields}, creating=True
    )
    substance = Substance.objects.create(**values)
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=substance,
        after=snapshot(substance, SUBSTANCE_FIELDS),
    )
    return substance


@transaction.atomic
def update_substance(*, actor: Any, substance: Substance, **changes: Any) -> Substance:
    substance = Substance.objects.select_for_update().get(pk=substance.pk)
    unknown = set(changes) - (set(SUBSTANCE_FIELDS) - {"code", "catalogue"})
    if unknown:
        raise TypeError(f"unknown substance fields: {sorted(unknown)}")
    before = snapshot(substance, SUBSTANCE_FIELDS)
    if "unit" in changes and changes["unit"] != substance.unit:
        from jindu.regulation.models import LedgerEntry

        # Stored quantities are in the item's unit; changing it would change their meaning.
        if LedgerEntry.objects.filter(substance=substance).exists():
            raise ValidationError({"unit": [_("该品种已有台账记录，不能修改计量单位")]})
    for key, value in _clean(changes, creating=False).items():
        setattr(substance, key, value)
    substance.save()
    after = snapshot(substance, SUBSTANCE_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=substance, before=before, after=after
        )
    return substance
