"""The marker that labels a database as demo data."""

from __future__ import annotations

from django.db import models


class DemoMarker(models.Model):
    """One row in a demo database, none in a real one.

    ``jindu demo`` writes into a database only if it is empty or carries this
    marker, so demo data never mixes with a county's real records.
    """

    seed = models.BigIntegerField("随机种子")
    townships = models.PositiveIntegerField("乡镇数")
    villages = models.PositiveIntegerField("村（社区）数")
    steps = models.JSONField("已生成的步骤", default=list)
    # The printed account lines, so that running `jindu demo` again prints them
    # as they were generated. A demo database only: its passwords are public.
    accounts = models.JSONField("演示账号", default=list)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "演示数据标记"

    def __str__(self) -> str:
        return f"演示数据（种子 {self.seed}）"
