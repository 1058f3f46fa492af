"""Excel exports of the territory and the member departments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from jindu.core.excel import Column, Exporter
from jindu.orgs.division import Level
from jindu.orgs.models import OrgUnit
from jindu.orgs.selectors import departments_for

_LEVEL_LABELS = dict(Level.choices)


class UnitExporter(Exporter):
    """A subtree of the user's territory, one row per unit, parents before children."""

    title = "区划与单位"
    columns = (
        Column("名称", 24),
        Column("层级", 10),
        Column("统计用区划代码", 16),
        Column("上级单位", 24),
        Column("上级区划代码", 16),
        Column("完整路径", 60),
        Column("状态", 8),
    )

    def __init__(self, user: Any, root: OrgUnit) -> None:
        self.user = user
        self.root = root

    def rows(self) -> Iterable[Sequence[Any]]:
        # Names above the root (outside the subtree) head every path but are not rows.
        above = [a.name for a in self.root.ancestors()]
        parent = self.root.parent
        # Ordered by path, a unit's ancestors come before it and its subtree is
        # contiguous, so a stack of open ancestors is all the memory needed.
        stack: list[tuple[str, str, str]] = []
        units = (
            OrgUnit.objects.for_user(self.user)
            .within(self.root.path)
            .order_by("path")
            .values_list("path", "name", "level", "division_code", "active")
        )
        for path, name, level, code, active in units.iterator(chunk_size=2000):
            while stack and not path.startswith(stack[-1][0]):
                stack.pop()
            if stack:
                parent_name, parent_code = stack[-1][1], stack[-1][2]
            elif parent is not None:
                parent_name, parent_code = parent.name, parent.division_code or ""
            else:
                parent_name, parent_code = "", ""
            names = [*above, *(entry[1] for entry in stack), name]
            yield (
                name,
                str(_LEVEL_LABELS.get(level, level)),
                code or "",
                parent_name,
                parent_code,
                " / ".join(names),
                _("启用") if active else _("已撤销"),
            )
            stack.append((path, name, code or ""))


class DepartmentExporter(Exporter):
    title = "禁毒委成员单位"
    columns = (
        Column("所属县（区）", 16),
        Column("单位名称", 28),
        Column("简称", 12),
        Column("禁毒工作职责", 80),
        Column("排序", 8),
        Column("状态", 8),
    )

    def __init__(self, user: Any, *, include_retired: bool = False) -> None:
        self.user = user
        self.include_retired = include_retired

    def rows(self) -> Iterable[Sequence[Any]]:
        qs = (
            departments_for(self.user)
            .select_related("org_unit")
            .order_by("org_path", "sort_order", "id")
        )
        if not self.include_retired:
            qs = qs.filter(active=True)
        for dept in qs:
            yield (
                dept.org_unit.name,
                dept.name,
                dept.short_name,
                dept.duties,
                dept.sort_order,
                _("启用") if dept.active else _("已停用"),
            )
