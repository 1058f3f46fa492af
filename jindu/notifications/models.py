"""In-app notifications: alerts and reminders addressed to one user."""

from __future__ import annotations

from django.db import models


class Notification(models.Model):
    class Level(models.TextChoices):
        INFO = "info", "提示"
        WARNING = "warning", "提醒"
        ALERT = "alert", "预警"

    recipient = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notifications"
    )
    level = models.CharField("级别", max_length=10, choices=Level.choices, default=Level.INFO)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    # What raised it (e.g. "people.Person:42"), so that a repeat alert can be recognised.
    source = models.CharField("来源", max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "通知"
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title
