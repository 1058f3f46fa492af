"""Writing, verifying and purging the audit log.

``record`` is called inside the caller's transaction: if the audit row cannot be
written, the business change it describes is rolled back with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from jindu.audit.actions import Action, Result
from jindu.audit.chain import GENESIS, algorithm, row_hash
from jindu.audit.models import AuditChainHead, AuditEvent
from jindu.core import context
from jindu.core.masking import mask


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"user_id": None, "username": "", "roles": "", "org_path": "", "org_name": ""}
    unit = getattr(actor, "org_unit", None)
    return {
        "user_id": actor.pk,
        "username": actor.username,
        "roles": ",".join(sorted(actor.role_codes)),
        "org_path": unit.path if unit else "",
        "org_name": unit.name if unit else "",
    }


def _dumps(detail: dict[str, Any] | None) -> str:
    if not detail:
        return ""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))


def record(
    *,
    actor: Any,
    action: Action,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    result: Result = Result.SUCCESS,
    detail: dict[str, Any] | None = None,
    username: str = "",
    client_address: str | None = None,
) -> AuditEvent:
    """Append one row to the chain, in the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or audit_repr(obj)
    fields = _actor_fields(actor)
    if username and not fields["username"]:
        fields["username"] = username[:150]
    info = context.current()
    if client_address is None:
        client_address = info.client_address if info else "cli"
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        row = {
            **fields,
            "seq": head.seq + 1,
            "at": timezone.now(),
            "client_address": client_address,
            "action": str(action),
            "object_type": object_type[:60],
            "object_id": str(object_id)[:64],
            "object_repr": object_repr[:200],
            "result": str(result),
            "detail": _dumps(detail),
        }
        algo = algorithm()
        digest = row_hash(head.hash, row, algo)
        event = AuditEvent(**row, algorithm=algo, prev_hash=head.hash, hash=digest)
        event.save()
        AuditChainHead.objects.filter(pk=1).update(seq=row["seq"], hash=digest)
    return event


def record_denial(*, user: Any, action: Action, target: str, detail: dict[str, Any] | None = None) -> None:
    record(actor=user, action=action, object_repr=target, result=Result.DENIED, detail=detail)


def audit_repr(obj: models.Model) -> str:
    """What the log may say about an object: never its personal data."""
    method = getattr(obj, "audit_label", None)
    return str(method() if callable(method) else obj)[:200]


def masked_value(model: type[models.Model] | models.Model, field: str, value: Any) -> Any:
    personal = getattr(model, "personal_fields", {})
    if field in personal:
        return mask(personal[field], value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (datetime,)):
        return value.isoformat()
    return value if isinstance(value, (int, float, bool, type(None))) else str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def record_change(
    *,
    actor: Any,
    action: Action,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """A create, update or delete with its changed fields, personal data masked."""
    before = before or {}
    after = after or {}
    changed = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changed[name] = [masked_value(obj, name, old), masked_value(obj, name, new)]
    detail: dict[str, Any] = {"changed": changed} if changed else {}
    if extra:
        detail.update(extra)
    return record(actor=actor, action=action, obj=obj, detail=detail)


# ------------------------------------------------------------------ verification
@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify(chunk: int = 5000) -> VerifyResult:
    """Walk the chain in order; name the first row that does not fit."""
    head = AuditChainHead.objects.get(pk=1)
    prev_hash = head.anchor_hash or GENESIS
    expected = head.anchor_seq + 1
    last_id = 0
    checked = 0
    rows = AuditEvent.objects.order_by("seq").values(
        "id", "algorithm", "prev_hash", "hash", *AuditEvent().content().keys()
    )
    for row in rows.iterator(chunk_size=chunk):
        seq = row["seq"]
        if seq != expected:
            reason = (
                f"序号不连续：应为第 {expected} 条，实为第 {seq} 条（有记录被删除或改号）"
                if seq > expected
                else f"序号重复或倒退：第 {seq} 条"
            )
            return VerifyResult(False, checked, min(seq, expected), reason)
        if row["id"] <= last_id:
            return VerifyResult(False, checked, seq, f"第 {seq} 条的存储顺序被调换")
        if row["prev_hash"] != prev_hash:
            return VerifyResult(False, checked, seq, f"第 {seq} 条的前序摘要与上一条不符")
        if row_hash(prev_hash, row, row["algorithm"]) != row["hash"]:
            return VerifyResult(False, checked, seq, f"第 {seq} 条的内容与摘要不符（记录被篡改）")
        prev_hash, last_id, expected = row["hash"], row["id"], expected + 1
        checked += 1
    if expected - 1 != head.seq or prev_hash != (head.hash if head.seq else prev_hash):
        return VerifyResult(
            False, checked, expected, f"链尾不符：应有 {head.seq} 条，实有至第 {expected - 1} 条"
        )
    return VerifyResult(True, checked)


def purge(*, actor: Any, older_than_days: int | None = None) -> int:
    """Delete rows past retention; never anything younger than the legal minimum."""
    days = max(older_than_days or settings.AUDIT_RETENTION_DAYS, 180)
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        doomed = AuditEvent.objects.filter(at__lt=cutoff).order_by("seq")
        last = doomed.values("seq", "hash").last()
        if last is None:
            return 0
        # Only a prefix of the chain may go: stop before the first young row.
        first_young = AuditEvent.objects.filter(at__gte=cutoff).order_by("seq").values("seq").first()
        if first_young and first_young["seq"] < last["seq"]:
            last = (
                AuditEvent.objects.filter(seq__lt=first_young["seq"]).order_by("seq").values("seq", "hash").last()
            )
            if last is None:
                return 0
        qs = AuditEvent.objects.filter(seq__lte=last["seq"])
        count = models.QuerySet.count(qs)
        qs._raw_delete(qs.db)
        AuditChainHead.objects.filter(pk=head.pk).update(anchor_seq=last["seq"], anchor_hash=last["hash"])
        record(
            actor=actor,
            action=Action.AUDIT_PURGED,
            detail={"deleted": count, "through_seq": last["seq"], "retention_days": days},
        )
    return count
