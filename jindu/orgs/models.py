"""The territory (org-unit tree) and the member departments of the commission."""

from __future__ import annotations

from django.db import models

from jindu.core.paths import OrgPathField, path_index
from jindu.core.scoping import ScopedManager, ScopedModel
from jindu.orgs.division import Level


class OrgUnit(models.Model):
    """A unit of territory: county, township, village or community, grid (or higher)."""

    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    division_code = models.CharField(
        "统计用区划代码", max_length=12, null=True, blank=True, unique=True
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="上级单位",
    )
    path = OrgPathField("路径", unique=True)
    depth = models.PositiveSmallIntegerField("深度", default=0)
    sort_order = models.IntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    objects = ScopedManager()
    scope_path_field = "path"

    class Meta:
        ordering = ["path"]
        verbose_name = "单位"
        # No extra path index: the unique constraint's index serves the subtree range
        # on SQLite, and on PostgreSQL Django adds a varchar_pattern_ops twin for LIKE.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(division_code__isnull=True)
                | models.Q(division_code__regex=r"^[0-9]{12}$"),
                name="orgunit_division_code_12_digits",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"{self.get_level_display()} {self.name}"

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def ancestors(self) -> models.QuerySet[OrgUnit]:
        return OrgUnit.objects.filter(pk__in=self.ancestor_ids()[:-1]).order_by("depth")

    def subtree(self) -> models.QuerySet[OrgUnit]:
        return OrgUnit.objects.within(self.path)

    def is_within(self, path: str) -> bool:
        return self.path.startswith(path)

    def full_name(self) -> str:
        return " / ".join([*[a.name for a in self.ancestors()], self.name])


class OrgUnitHistory(models.Model):
    """What a unit was called and where it hung before each change."""

    class Change(models.TextChoices):
        CREATED = "created", "新建"
        RENAMED = "renamed", "更名"
        RECODED = "recoded", "变更代码"
        MOVED = "moved", "调整隶属"
        RETIRED = "retired", "撤销"
        RESTORED = "restored", "恢复"

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="history")
    change = models.CharField("变更", max_length=10, choices=Change.choices)
    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    old_name = models.CharField("原名称", max_length=100, blank=True)
    new_name = models.CharField("新名称", max_length=100, blank=True)
    old_parent = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    new_parent = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    old_path = models.CharField("原路径", max_length=255, blank=True)
    new_path = models.CharField("新路径", max_length=255, blank=True)
    old_code = models.CharField("原代码", max_length=12, blank=True)
    new_code = models.CharField("新代码", max_length=12, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "单位变更记录"

    def __str__(self) -> str:
        return f"{self.unit_id} {self.get_change_display()}"


class Department(ScopedModel):
    """A member department of the county drug-control commission (禁毒委成员单位)."""

    name = models.CharField("单位名称", max_length=100)
    short_name = models.CharField("简称", max_length=30, blank=True)
    duties = models.TextField("禁毒工作职责", blank=True)
    sort_order = models.IntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = "成员单位"
        indexes = [path_index("orgs_department")]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    def audit_label(self) -> str:
        return self.name
