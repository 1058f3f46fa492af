"""The append-only, hash-chained audit log."""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from jindu.audit.actions import Action, Result
from jindu.core.paths import OrgPathField, path_index


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit row."""


class AuditQuerySet(models.QuerySet):
    def for_user(self, user: Any) -> AuditQuerySet:
        """The rows an audit administrator may read: those of their unit's subtree.

        Rows without a unit (failed logins of unknown names, command runs) belong
        to the installation as a whole and show to an administrator of a root unit.
        """
        from jindu.core.roles import Perm

        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        if not user.has_jindu_perm(Perm.AUDIT_READ) or not user.scope_path:
            return self.none()
        if user.org_unit.parent_id is None:
            return self.all()
        return self.filter(org_path__subtree=user.scope_path)

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("审计日志只能追加，不能修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计日志只能追加，不能删除")


class AuditEvent(models.Model):
    seq = models.BigIntegerField("序号", unique=True)
    at = models.DateTimeField("时间", db_index=True)
    user_id = models.BigIntegerField("用户ID", null=True, blank=True, db_index=True)
    username = models.CharField("用户名", max_length=150, blank=True)
    roles = models.CharField("角色", max_length=200, blank=True)
    org_path = OrgPathField("单位路径", blank=True)
    org_name = models.CharField("单位", max_length=200, blank=True)
    client_address = models.CharField("客户端地址", max_length=64, blank=True)
    action = models.CharField("操作", max_length=40, choices=Action.choices, db_index=True)
    object_type = models.CharField("对象类型", max_length=60, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    result = models.CharField("结果", max_length=10, choices=Result.choices)
    detail = models.TextField("详情", blank=True)
    algorithm = models.CharField("摘要算法", max_length=10)
    prev_hash = models.CharField("前一条摘要", max_length=64)
    hash = models.CharField("摘要", max_length=64)

    objects = AuditQuerySet.as_manager()

    # Evidence keeps the paths it was written with: a unit move leaves them alone.
    org_path_frozen = True

    class Meta:
        db_table = "audit_event"
        ordering = ["-seq"]
        verbose_name = "审计日志"
        indexes = [
            path_index("audit_event"),
            models.Index(fields=["username", "at"]),
            # Who touched this record, and what came from this address: the two
            # questions an investigation asks first.
            models.Index(fields=["object_type", "object_id"], name="audit_event_object_idx"),
            models.Index(fields=["client_address"], name="audit_event_client_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计日志只能追加，不能删除")

    def content(self) -> dict[str, Any]:
        from jindu.audit.chain import CONTENT_FIELDS

        return {name: getattr(self, name) for name in CONTENT_FIELDS}

    @property
    def detail_data(self) -> dict[str, Any]:
        return json.loads(self.detail) if self.detail else {}


class AuditChainHead(models.Model):
    """One row: the last sequence number and hash, locked while a row is appended."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    # After a purge the chain starts at a row whose predecessor is gone; the
    # anchor says which hash that row must point back to.
    anchor_seq = models.BigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_chain_head"

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"
