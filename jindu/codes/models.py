"""Code lists (字典): the one mechanism for every list of choices the work uses."""

from __future__ import annotations

from django.db import models


class CodeList(models.Model):
    key = models.SlugField("标识", max_length=50, unique=True)
    name = models.CharField("名称", max_length=100)
    description = models.TextField("说明", blank=True)
    # Lists shipped with the package; administrators may add entries to them.
    builtin = models.BooleanField("系统内置", default=False)

    class Meta:
        ordering = ["key"]
        verbose_name = "字典"

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"字典 {self.name}"


class CodeItem(models.Model):
    code_list = models.ForeignKey(CodeList, on_delete=models.CASCADE, related_name="items")
    code = models.CharField("代码", max_length=50)
    label = models.CharField("名称", max_length=100)
    sort_order = models.IntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)
    # Free attributes a list needs (a drug type's synthetic flag, a category …).
    extra = models.JSONField("附加属性", default=dict, blank=True)

    class Meta:
        ordering = ["code_list", "sort_order", "code"]
        verbose_name = "字典项"
        constraints = [
            models.UniqueConstraint(fields=["code_list", "code"], name="codeitem_unique_code")
        ]

    def __str__(self) -> str:
        return self.label if self.active else f"{self.label}（已停用）"

    def audit_label(self) -> str:
        return f"{self.code_list.key}:{self.code} {self.label}"
