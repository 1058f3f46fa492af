"""Writes to the territory and the member departments. Each takes the acting user,
runs in one transaction and audits inside it.

``actor`` is a signed-in user (whose subtree bounds what they may change) or
None for the system itself (the demo builder, a console import).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.orgs.division import (
    ORDER,
    SIGNIFICANT,
    Level,
    child_level,
    code_errors,
    normalize_code,
)
from jindu.orgs.models import Department, OrgUnit, OrgUnitHistory

UNIT_FIELDS = ("name", "level", "division_code", "parent_id", "sort_order", "active")
DEPT_FIELDS = ("name", "short_name", "duties", "sort_order", "active", "org_unit_id")
NAME_MAX = 100


def _is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _actor_user(actor: Any) -> Any:
    return actor if _is_user(actor) else None


def _require_in_scope(actor: Any, unit: OrgUnit, field: str) -> None:
    """Views already answer 404 outside the subtree; this keeps a service honest too."""
    if _is_user(actor) and not unit.path.startswith(actor.scope_path or "\0"):
        raise ValidationError({field: [_("“%(name)s”不在您的管辖范围内") % {"name": unit.name}]})


def _validate_unit(
    *,
    name: str,
    level: str,
    code: str | None,
    parent: OrgUnit | None,
    exclude_pk: int | None = None,
) -> None:
    errors: dict[str, list[str]] = {}
    if not name:
        errors.setdefault("name", []).append(_("请填写单位名称"))
    elif len(name) > NAME_MAX:
        errors.setdefault("name", []).append(_("单位名称不能超过%(n)d个字") % {"n": NAME_MAX})
    if level not in Level.values:
        errors.setdefault("level", []).append(_("层级不正确"))
    elif parent is not None and child_level(parent.level) != level:
        expected = child_level(parent.level)
        errors.setdefault("level", []).append(
            _("“%(parent)s”的下级应为%(expected)s，不能是%(level)s")
            % {
                "parent": parent.name,
                "expected": Level(expected).label if expected else _("（无）"),
                "level": Level(level).label,
            }
        )
    if code and level in Level.values:
        msgs = code_errors(
            code, level, parent.level if parent else None, parent.division_code if parent else None
        )
        if msgs:
            errors.setdefault("division_code", []).extend(msgs)
        elif OrgUnit.objects.filter(division_code=code).exclude(pk=exclude_pk).exists():
            errors.setdefault("division_code", []).append(
                _("区划代码“%(code)s”已被其他单位使用") % {"code": code}
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_unit(
    *,
    actor: Any,
    name: str,
    level: str,
    parent: OrgUnit | None,
    division_code: str | None = None,
    sort_order: int = 0,
) -> OrgUnit:
    code = normalize_code(division_code) or None
    name = (name or "").strip()
    if parent is not None:
        parent = OrgUnit.objects.get(pk=parent.pk)
        _require_in_scope(actor, parent, "parent")
        if not parent.active:
            raise ValidationError(
                {
                    "parent": [
                        _("上级单位“%(name)s”已撤销，不能在其下新建单位") % {"name": parent.name}
                    ]
                }
            )
    elif _is_user(actor):
        # Only the system builds a new root; a user works inside their own subtree.
        raise ValidationError({"parent": [_("请选择上级单位")]})
    _validate_unit(name=name, level=level, code=code, parent=parent)
    unit = OrgUnit.objects.create(
        name=name,
        level=level,
        division_code=code,
        parent=parent,
        sort_order=sort_order,
        path=f"/pending-{uuid.uuid4().hex}/",
        depth=(parent.depth + 1) if parent else 0,
    )
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    OrgUnitHistory.objects.create(
        unit=unit,
        change=OrgUnitHistory.Change.CREATED,
        actor=_actor_user(actor),
        new_name=unit.name,
        new_parent=parent,
        new_path=unit.path,
        new_code=code or "",
    )
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=unit, after=snapshot(unit, UNIT_FIELDS)
    )
    return unit


@transaction.atomic
def update_unit(
    *,
    actor: Any,
    unit: OrgUnit,
    name: str | None = None,
    division_code: str | None = None,
    sort_order: int | None = None,
    active: bool | None = None,
) -> OrgUnit:
    """Rename, recode, reorder, retire or restore a unit, keeping its history."""
    unit = OrgUnit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
    _require_in_scope(actor, unit, "name")
    before = snapshot(unit, UNIT_FIELDS)
    new_name = unit.name if name is None else name.strip()
    new_code = (
        unit.division_code if division_code is None else (normalize_code(division_code) or None)
    )
    _validate_unit(
        name=new_name, level=unit.level, code=new_code, parent=unit.parent, exclude_pk=unit.pk
    )
    if active is False and unit.active:
        if _is_user(actor) and actor.org_unit_id == unit.pk:
            raise ValidationError({"active": [_("不能撤销您本人所属的单位")]})
        if unit.children.filter(active=True).exists():
            raise ValidationError({"active": [_("请先撤销其下级单位")]})
    if active is True and not unit.active and unit.parent is not None and not unit.parent.active:
        raise ValidationError(
            {
                "active": [
                    _("上级单位“%(name)s”已撤销，请先恢复上级单位") % {"name": unit.parent.name}
                ]
            }
        )
    actor_user = _actor_user(actor)
    if new_name != unit.name:
        OrgUnitHistory.objects.create(
            unit=unit,
            change=OrgUnitHistory.Change.RENAMED,
            actor=actor_user,
            old_name=unit.name,
            new_name=new_name,
        )
    recoded = 0
    if new_code != unit.division_code:
        if unit.division_code and new_code:
            recoded = _recode_descendants(unit, unit.division_code, new_code, actor_user)
        OrgUnitHistory.objects.create(
            unit=unit,
            change=OrgUnitHistory.Change.RECODED,
            actor=actor_user,
            old_code=unit.division_code or "",
            new_code=new_code or "",
        )
    if active is not None and active != unit.active:
        OrgUnitHistory.objects.create(
            unit=unit,
            actor=actor_user,
            change=OrgUnitHistory.Change.RESTORED if active else OrgUnitHistory.Change.RETIRED,
        )
        unit.active = active
    unit.name, unit.division_code = new_name, new_code
    if sort_order is not None:
        unit.sort_order = sort_order
    unit.save()
    after = snapshot(unit, UNIT_FIELDS)
    if after != before:
        record_change(
            actor=actor,
            action=Action.RECORD_UPDATED,
            obj=unit,
            before=before,
            after=after,
            extra={"codes_below_changed": recoded} if recoded else None,
        )
    return unit


def _recode_descendants(unit: OrgUnit, old_code: str, new_code: str, actor_user: Any) -> int:
    """Give the coded units below ``unit`` its new prefix, keeping their own digits."""
    digits = SIGNIFICANT[Level(unit.level)]
    old_prefix, new_prefix = old_code[:digits], new_code[:digits]
    below = list(
        OrgUnit.objects.within(unit.path).exclude(pk=unit.pk).filter(division_code__isnull=False)
    )
    if not below:
        return 0
    changes = {
        u.pk: new_prefix + u.division_code[digits:]
        for u in below
        if u.division_code.startswith(old_prefix)
    }
    taken = set(
        OrgUnit.objects.filter(division_code__in=list(changes.values()))
        .exclude(pk__in=list(changes))
        .values_list("division_code", flat=True)
    )
    if taken:
        raise ValidationError(
            {
                "division_code": [
                    _("下级单位的新代码“%(code)s”已被其他单位使用") % {"code": sorted(taken)[0]}
                ]
            }
        )
    history = []
    for u in below:
        if u.pk in changes:
            history.append(
                OrgUnitHistory(
                    unit=u,
                    change=OrgUnitHistory.Change.RECODED,
                    actor=actor_user,
                    old_code=u.division_code,
                    new_code=changes[u.pk],
                )
            )
            u.division_code = changes[u.pk]
    # Clear first, so that swapping codes between two units never trips the unique index.
    OrgUnit.objects.filter(pk__in=list(changes)).update(division_code=None)
    OrgUnit.objects.bulk_update([u for u in below if u.pk in changes], ["division_code"])
    OrgUnitHistory.objects.bulk_create(history)
    return len(changes)


@transaction.atomic
def move_unit(
    *, actor: Any, unit: OrgUnit, new_parent: OrgUnit, division_code: str | None = None
) -> OrgUnit:
    """Hang a unit (and its whole subtree) under another parent.

    Every record attached to the subtree keeps its unit; their copied org paths
    are rewritten in the same transaction, so scoping follows the move at once.
    A unit whose division code does not fit the new parent is given a new code
    (``division_code``) in the same step, and the codes below it follow.
    """
    from jindu.core import tallies
    from jindu.core.scoping import path_columns

    unit = OrgUnit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
    new_parent = OrgUnit.objects.get(pk=new_parent.pk)
    _require_in_scope(actor, unit, "parent")
    _require_in_scope(actor, new_parent, "parent")
    if _is_user(actor) and actor.org_unit_id == unit.pk:
        raise ValidationError({"parent": [_("不能调整您本人所属单位的隶属关系")]})
    if new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": [_("不能把单位移到它自己或它的下级之下")]})
    new_code = (
        unit.division_code if division_code is None else (normalize_code(division_code) or None)
    )
    if new_parent.pk == unit.parent_id and new_code == unit.division_code:
        return unit
    if child_level(new_parent.level) != unit.level:
        above = ORDER[ORDER.index(Level(unit.level)) - 1] if unit.level != Level.PROVINCE else None
        raise ValidationError(
            {
                "parent": [
                    _("%(level)s只能挂在%(above)s之下")
                    % {
                        "level": Level(unit.level).label,
                        "above": Level(above).label if above else "—",
                    }
                ]
            }
        )
    if not new_parent.active:
        raise ValidationError(
            {"parent": [_("“%(name)s”已撤销，不能作为上级单位") % {"name": new_parent.name}]}
        )
    if new_code:
        msgs = code_errors(new_code, unit.level, new_parent.level, new_parent.division_code)
        if msgs:
            field = "division_code" if division_code is not None else "parent"
            raise ValidationError({field: [*msgs, _("请同时为本单位填写与新上级相符的区划代码")]})
        if OrgUnit.objects.filter(division_code=new_code).exclude(pk=unit.pk).exists():
            raise ValidationError(
                {"division_code": [_("区划代码“%(code)s”已被其他单位使用") % {"code": new_code}]}
            )
    actor_user = _actor_user(actor)
    old_path, old_parent, old_code = unit.path, unit.parent, unit.division_code
    recoded = 0
    if new_code != old_code:
        if old_code and new_code:
            recoded = _recode_descendants(unit, old_code, new_code, actor_user)
        OrgUnit.objects.filter(pk=unit.pk).update(division_code=new_code)
        OrgUnitHistory.objects.create(
            unit=unit,
            change=OrgUnitHistory.Change.RECODED,
            actor=actor_user,
            old_code=old_code or "",
            new_code=new_code or "",
        )
    new_path = f"{new_parent.path}{unit.pk}/"
    depth_shift = new_parent.depth + 1 - unit.depth
    start = len(old_path) + 1
    OrgUnit.objects.within(old_path).update(
        path=Concat(Value(new_path), Substr("path", start)), depth=F("depth") + depth_shift
    )
    # The large units' tallies: every record that may count under the subtree is
    # noted now and counted again below, once its paths are rewritten.
    count_again = tallies.refresh_within(old_path)
    tallies.forget_within(old_path)
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    rewritten = {}
    for model, field in path_columns():
        count = model._default_manager.filter(**{f"{field}__subtree": old_path}).update(
            **{field: Concat(Value(new_path), Substr(field, start))}
        )
        if count:
            key = model._meta.label_lower
            rewritten[key if field == "org_path" else f"{key}.{field}"] = count
    unit.refresh_from_db()
    count_again()
    OrgUnitHistory.objects.create(
        unit=unit,
        change=OrgUnitHistory.Change.MOVED,
        actor=actor_user,
        old_parent=old_parent,
        new_parent=new_parent,
        old_path=old_path,
        new_path=new_path,
    )
    record_change(
        actor=actor,
        action=Action.UNIT_MOVED,
        obj=unit,
        before={
            "parent_id": old_parent.pk if old_parent else None,
            "path": old_path,
            "division_code": old_code,
        },
        after={"parent_id": new_parent.pk, "path": new_path, "division_code": new_code},
        extra={"records_rewritten": rewritten, "codes_below_changed": recoded},
    )
    return unit


# ------------------------------------------------------------------ bulk load


@dataclass
class NewUnit:
    """A unit to create in a bulk load; ``parent_code`` names a unit that exists or
    comes earlier in the same load."""

    name: str
    level: str
    code: str
    parent_code: str | None


def load_units(
    *, actor: Any, new: Sequence[NewUnit], renames: Sequence[tuple[OrgUnit, str]]
) -> dict[str, int]:
    """Create many coded units level by level, and rename existing ones.

    The caller (the division-code import) has checked every row against the
    tree already; this writes in a handful of queries per level, so a province's
    sheet loads in seconds. Each unit gets its history row; the run as a whole is
    audited by the import.
    """
    actor_user = _actor_user(actor)
    for unit, name in renames:
        update_unit(actor=actor, unit=unit, name=name)
    by_code: dict[str, OrgUnit] = {}
    wanted_parents = {n.parent_code for n in new if n.parent_code}
    by_code.update(
        {u.division_code: u for u in OrgUnit.objects.filter(division_code__in=list(wanted_parents))}
    )
    created = 0
    for level in ORDER:
        batch = [n for n in new if n.level == level]
        if not batch:
            continue
        units = []
        for n in batch:
            parent = by_code.get(n.parent_code) if n.parent_code else None
            units.append(
                OrgUnit(
                    name=n.name,
                    level=n.level,
                    division_code=n.code,
                    parent=parent,
                    path=f"/pending-{uuid.uuid4().hex}/",
                    depth=(parent.depth + 1) if parent else 0,
                )
            )
        OrgUnit.objects.bulk_create(units, batch_size=500)
        for u in units:
            u.path = f"{u.parent.path if u.parent else '/'}{u.pk}/"
            by_code[u.division_code] = u
        OrgUnit.objects.bulk_update(units, ["path"], batch_size=500)
        OrgUnitHistory.objects.bulk_create(
            [
                OrgUnitHistory(
                    unit=u,
                    change=OrgUnitHistory.Change.CREATED,
                    actor=actor_user,
                    new_name=u.name,
                    new_parent=u.parent,
                    new_path=u.path,
                    new_code=u.division_code or "",
                )
                for u in units
            ],
            batch_size=500,
        )
        created += len(units)
    return {"created": created, "updated": len(renames)}


# ------------------------------------------------------------------ departments


def _validate_department(
    *, name: str, short_name: str, county: OrgUnit, exclude_pk: int | None = None
) -> None:
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("请填写单位名称")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("单位名称不能超过%(n)d个字") % {"n": NAME_MAX}]
    elif Department.objects.filter(org_unit=county, name=name).exclude(pk=exclude_pk).exists():
        errors["name"] = [_("“%(name)s”已在成员单位名单中") % {"name": name}]
    if len(short_name) > 30:
        errors["short_name"] = [_("简称不能超过30个字")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_department(
    *,
    actor: Any,
    county: OrgUnit,
    name: str,
    short_name: str = "",
    duties: str = "",
    sort_order: int = 0,
) -> Department:
    """A member department of ``county``'s drug-control commission."""
    _require_in_scope(actor, county, "org_unit")
    if county.level != Level.COUNTY:
        raise ValidationError(
            {
                "org_unit": [
                    _("成员单位须属于县（区）禁毒委，“%(name)s”不是县（区）")
                    % {"name": county.name}
                ]
            }
        )
    name, short_name = (name or "").strip(), (short_name or "").strip()
    _validate_department(name=name, short_name=short_name, county=county)
    dept = Department(
        name=name, short_name=short_name, duties=(duties or "").strip(), sort_order=sort_order
    )
    dept.set_org_unit(county)
    dept.save()
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=dept, after=snapshot(dept, DEPT_FIELDS)
    )
    return dept


@transaction.atomic
def update_department(*, actor: Any, department: Department, **changes: Any) -> Department:
    """Change name, short name, duties, order or (``active``) retire and restore."""
    dept = Department.objects.select_for_update().select_related("org_unit").get(pk=department.pk)
    _require_in_scope(actor, dept.org_unit, "name")
    before = snapshot(dept, DEPT_FIELDS)
    for key in ("name", "short_name", "duties"):
        if key in changes:
            setattr(dept, key, (changes[key] or "").strip())
    for key in ("sort_order", "active"):
        if key in changes and changes[key] is not None:
            setattr(dept, key, changes[key])
    _validate_department(
        name=dept.name, short_name=dept.short_name, county=dept.org_unit, exclude_pk=dept.pk
    )
    dept.save()
    after = snapshot(dept, DEPT_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=dept, before=before, after=after
        )
    return dept
