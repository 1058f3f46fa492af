"""In-app notifications: alerts and reminders addressed to one user."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

# What the user still has to read: neither read nor withdrawn. A withdrawn
# notification stays in the list, struck through, but asks for nothing.
UNREAD = Q(read_at__isnull=True, withdrawn_at__isnull=True)


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
    # What raised it (e.g. "people.DrugTest:42:relapse"), so that a repeat alert can be
    # recognised and an alert raised by a record entered by mistake withdrawn.
    source = models.CharField("来源", max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    # Set by ``services.withdraw``: what it said no longer holds. The reason is
    # shown to the recipient and says why, never anything about a person.
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_reason = models.CharField("撤回原因", max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "通知"
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None and self.withdrawn_at is None
