"""Reads of the territory and the member departments that more than one page needs."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from jindu.orgs.division import Level
from jindu.orgs.models import Department, OrgUnit

CHILD_ORDER = ("sort_order", "division_code", "name", "id")


def departments_for(user: Any) -> QuerySet[Department]:
    """The member departments a user works with.

    Departments belong to a county, and a township cadre or grid worker works
    with the departments of the county above them: so the departments of the
    user's unit and its ancestors, plus (for a city or province account) those
    in the user's subtree.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Department.objects.none()
    unit = user.org_unit
    if unit is None:
        return Department.objects.none()
    return Department.objects.filter(
        Q(org_unit_id__in=unit.ancestor_ids()) | Q(org_path__subtree=unit.path)
    )


def counties_for(user: Any) -> QuerySet[OrgUnit]:
    """The counties whose member departments a user may keep: their own county (or the
    county above them), or the counties of their subtree."""
    unit = user.org_unit
    return OrgUnit.objects.filter(
        Q(pk__in=unit.ancestor_ids()) | Q(path__subtree=unit.path), level=Level.COUNTY
    ).order_by("path")


def children_of(unit: OrgUnit) -> QuerySet[OrgUnit]:
    """A unit's direct children with how many children each has (one query)."""
    return (
        OrgUnit.objects.filter(parent=unit)
        .annotate(child_count=Count("children"))
        .order_by(*CHILD_ORDER)
    )


def breadcrumb(unit: OrgUnit, user: Any) -> list[dict[str, Any]]:
    """The unit's ancestors, each linkable only if it lies in the user's subtree."""
    scope = user.scope_path
    return [{"unit": a, "linkable": a.path.startswith(scope)} for a in unit.ancestors()]


def level_counts(unit: OrgUnit) -> list[dict[str, Any]]:
    """How many active units of each level lie below ``unit``."""
    counts = dict(
        OrgUnit.objects.within(unit.path)
        .exclude(pk=unit.pk)
        .filter(active=True)
        .values_list("level")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        {"level": level, "label": level.label, "count": counts[level]}
        for level in Level
        if counts.get(level)
    ]


def search_units(user: Any, query: str, limit: int = 50) -> list[OrgUnit]:
    """Units of the user's subtree whose name contains, or whose code starts with, ``query``."""
    from jindu.orgs.division import normalize_code

    query = query.strip()
    if not query:
        return []
    code = normalize_code(query)
    condition = Q(name__contains=query)
    if code.isdigit():
        condition |= Q(division_code__startswith=code)
    return list(
        OrgUnit.objects.for_user(user)
        .filter(condition)
        .select_related("parent")
        .order_by("depth", *CHILD_ORDER)[:limit]
    )


def move_candidates(user: Any, unit: OrgUnit, query: str = "", limit: int = 30) -> list[OrgUnit]:
    """Units that ``unit`` may be hung under: the level above it, active, in the user's
    subtree, outside the unit's own subtree. Without a query: those under the same
    grandparent (moving a village to a neighbouring township is the common case)."""
    from jindu.orgs.division import ORDER, normalize_code

    index = ORDER.index(Level(unit.level))
    if index == 0:
        return []
    qs = (
        OrgUnit.objects.for_user(user)
        .filter(level=ORDER[index - 1], active=True)
        .exclude(path__subtree=unit.path)
        .select_related("parent")
    )
    query = query.strip()
    if query:
        code = normalize_code(query)
        condition = Q(name__contains=query)
        if code.isdigit():
            condition |= Q(division_code__startswith=code)
        qs = qs.filter(condition)
    elif unit.parent is not None and unit.parent.parent_id is not None:
        qs = qs.filter(parent_id=unit.parent.parent_id)
    return list(qs.order_by(*CHILD_ORDER)[:limit])
