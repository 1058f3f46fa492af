"""Writes to the territory and the member departments. Each takes the acting user,
runs in one transaction and audits inside it."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.orgs.division import ORDER, Level, child_level, code_errors, normalize_code
from jindu.orgs.models import Department, OrgUnit, OrgUnitHistory

UNIT_FIELDS = ("name", "level", "division_code", "parent_id", "sort_order", "active")
DEPT_FIELDS = ("name", "short_name", "duties", "sort_order", "active", "org_unit_id")


def _validate_unit(*, name: str, level: str, code: str | None, parent: OrgUnit | None,
                   exclude_pk: int | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors.setdefault("name", []).append("请填写单位名称")
    if level not in Level.values:
        errors.setdefault("level", []).append("层级不正确")
    elif parent is not None and child_level(parent.level) != level:
        expected = child_level(parent.level)
        errors.setdefault("level", []).append(
            f"“{parent.name}”的下级应为{Level(expected).label if expected else '（无）'}，"
            f"不能是{Level(level).label}"
        )
    if code:
        msgs = code_errors(code, level, parent.level if parent else None,
                           parent.division_code if parent else None)
        if msgs:
            errors.setdefault("division_code", []).extend(msgs)
        elif OrgUnit.objects.filter(division_code=code).exclude(pk=exclude_pk).exists():
            errors.setdefault("division_code", []).append(f"区划代码“{code}”已被其他单位使用")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_unit(*, actor: Any, name: str, level: str, parent: OrgUnit | None,
                division_code: str | None = None, sort_order: int = 0) -> OrgUnit:
    code = normalize_code(division_code) or None
    name = name.strip()
    _validate_unit(name=name, level=level, code=code, parent=parent)
    if parent is None and OrgUnit.objects.exists() and actor is not None:
        raise ValidationError({"parent": ["请选择上级单位"]})
    unit = OrgUnit.objects.create(
        name=name, level=level, division_code=code, parent=parent, sort_order=sort_order,
        path=f"/pending-{uuid.uuid4().hex}/",
        depth=(parent.depth + 1) if parent else 0,
    )
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    OrgUnitHistory.objects.create(
        unit=unit, change=OrgUnitHistory.Change.CREATED, actor=actor if _is_user(actor) else None,
        new_name=unit.name, new_parent=parent, new_path=unit.path, new_code=code or "",
    )
    record_change(actor=actor, action=Action.RECORD_CREATED, obj=unit,
                  after=snapshot(unit, UNIT_FIELDS))
    return unit


def _is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


@transaction.atomic
def update_unit(*, actor: Any, unit: OrgUnit, name: str | None = None,
                division_code: str | None = None, sort_order: int | None = None,
                active: bool | None = None) -> OrgUnit:
    """Rename, recode, reorder, retire or restore a unit, keeping its history."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    before = snapshot(unit, UNIT_FIELDS)
    new_name = unit.name if name is None else name.strip()
    new_code = unit.division_code if division_code is None else (normalize_code(division_code) or None)
    _validate_unit(name=new_name, level=unit.level, code=new_code, parent=unit.parent,
                   exclude_pk=unit.pk)
    if active is False and unit.active and unit.children.filter(active=True).exists():
        raise ValidationError({"active": ["请先撤销其下级单位"]})
    actor_user = actor if _is_user(actor) else None
    if new_name != unit.name:
        OrgUnitHistory.objects.create(unit=unit, change=OrgUnitHistory.Change.RENAMED,
                                      actor=actor_user, old_name=unit.name, new_name=new_name)
    if new_code != unit.division_code:
        OrgUnitHistory.objects.create(unit=unit, change=OrgUnitHistory.Change.RECODED,
                                      actor=actor_user, old_code=unit.division_code or "",
                                      new_code=new_code or "")
    if active is not None and active != unit.active:
        OrgUnitHistory.objects.create(
            unit=unit, actor=actor_user,
            change=OrgUnitHistory.Change.RESTORED if active else OrgUnitHistory.Change.RETIRED,
        )
        unit.active = active
    unit.name, unit.division_code = new_name, new_code
    if sort_order is not None:
        unit.sort_order = sort_order
    unit.save()
    after = snapshot(unit, UNIT_FIELDS)
    if after != before:
        record_change(actor=actor, action=Action.RECORD_UPDATED, obj=unit, before=before, after=after)
    return unit


@transaction.atomic
def move_unit(*, actor: Any, unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Hang a unit (and its whole subtree) under another parent.

    Every record attached to the subtree keeps its unit; their copied org paths
    are rewritten in the same transaction, so scoping follows the move at once.
    """
    from jindu.core.scoping import scoped_models

    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    new_parent = OrgUnit.objects.get(pk=new_parent.pk)
    if new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": ["不能把单位移到它自己或它的下级之下"]})
    if new_parent.pk == unit.parent_id:
        return unit
    if child_level(new_parent.level) != unit.level:
        raise ValidationError(
            {"parent": [f"{Level(unit.level).label}只能挂在{Level(ORDER[ORDER.index(Level(unit.level)) - 1]).label}之下"]}
        )
    if unit.division_code:
        msgs = code_errors(unit.division_code, unit.level, new_parent.level, new_parent.division_code)
        if msgs:
            raise ValidationError({"parent": [*msgs, "请先修改本单位的区划代码，或选择相符的上级单位"]})
    old_path, old_parent = unit.path, unit.parent
    new_path = f"{new_parent.path}{unit.pk}/"
    depth_shift = new_parent.depth + 1 - unit.depth
    start = len(old_path) + 1
    OrgUnit.objects.within(old_path).update(
        path=Concat(Value(new_path), Substr("path", start)), depth=F("depth") + depth_shift
    )
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    rewritten = {}
    for model in scoped_models():
        count = model.objects.within(old_path).update(
            org_path=Concat(Value(new_path), Substr("org_path", start))
        )
        if count:
            rewritten[model._meta.label_lower] = count
    unit.refresh_from_db()
    OrgUnitHistory.objects.create(
        unit=unit, change=OrgUnitHistory.Change.MOVED, actor=actor if _is_user(actor) else None,
        old_parent=old_parent, new_parent=new_parent, old_path=old_path, new_path=new_path,
    )
    record_change(
        actor=actor, action=Action.UNIT_MOVED, obj=unit,
        before={"parent_id": old_parent.pk if old_parent else None, "path": old_path},
        after={"parent_id": new_parent.pk, "path": new_path},
        extra={"records_rewritten": rewritten},
    )
    return unit


def _validate_department(name: str, county: OrgUnit, exclude_pk: int | None = None) -> None:
    if not name.strip():
        raise ValidationError({"name": ["请填写单位名称"]})
    if Department.objects.filter(org_unit=county, name=name.strip()).exclude(pk=exclude_pk).exists():
        raise ValidationError({"name": [f"“{name}”已在成员单位名单中"]})


@transaction.atomic
def create_department(*, actor: Any, county: OrgUnit, name: str, short_name: str = "",
                      duties: str = "", sort_order: int = 0) -> Department:
    _validate_department(name, county)
    dept = Department(name=name.strip(), short_name=short_name.strip(), duties=duties.strip(),
                      sort_order=sort_order)
    dept.set_org_unit(county)
    dept.save()
    record_change(actor=actor, action=Action.RECORD_CREATED, obj=dept,
                  after=snapshot(dept, DEPT_FIELDS))
    return dept


@transaction.atomic
def update_department(*, actor: Any, department: Department, **changes: Any) -> Department:
    dept = Department.objects.select_for_update().get(pk=department.pk)
    before = snapshot(dept, DEPT_FIELDS)
    if "name" in changes:
        _validate_department(changes["name"], dept.org_unit, exclude_pk=dept.pk)
    for key in ("name", "short_name", "duties"):
        if key in changes:
            setattr(dept, key, (changes[key] or "").strip())
    for key in ("sort_order", "active"):
        if key in changes:
            setattr(dept, key, changes[key])
    dept.save()
    after = snapshot(dept, DEPT_FIELDS)
    if after != before:
        record_change(actor=actor, action=Action.RECORD_UPDATED, obj=dept, before=before, after=after)
    return dept


