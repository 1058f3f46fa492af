"""Writing, verifying and purging the audit log.

``record`` is called inside the caller's transaction: if the audit row cannot be
written, the business change it describes is rolled back with it.
"""

from __future__ import annotations

import getpass
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action, Result
from jindu.audit.chain import CONTENT_FIELDS, GENESIS, algorithm, row_hash
from jindu.audit.models import AuditChainHead, AuditEvent
from jindu.core import context
from jindu.core.masking import mask

# The legal minimum (等保 2.0: at least six months); settings may ask for longer.
MIN_RETENTION_DAYS = 180
CLI_ADDRESS = "cli"


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
    return json.dumps(
        detail, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":")
    )


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
    info = context.current()
    if not fields["username"]:
        # Outside a request with no user, a command is running: name its OS account.
        fields["username"] = (username or ("" if info else cli_username()))[:150]
    if client_address is None:
        client_address = info.client_address if info else CLI_ADDRESS
    # No savepoint: a failure here must fail the caller's whole transaction, and
    # it saves two round trips on the hot path.
    with transaction.atomic(savepoint=False):
        head = AuditChainHead.objects.select_for_update().only("seq", "hash").get(pk=1)
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


def record_denial(
    *, user: Any, action: Action, target: str, detail: dict[str, Any] | None = None
) -> None:
    record(actor=user, action=action, object_repr=target, result=Result.DENIED, detail=detail)


def audit_repr(obj: models.Model) -> str:
    """What the log may say about an object: never its personal data.

    A model holding personal data that does not say how to name itself is named
    by its kind and id only, since its ``__str__`` may well show a person's name.
    """
    method = getattr(obj, "audit_label", None)
    if callable(method):
        return str(method())[:200]
    if getattr(obj, "personal_data", False) or getattr(obj, "personal_fields", None):
        return f"{obj._meta.verbose_name} #{obj.pk}"[:200]
    return str(obj)[:200]


@cache
def cli_username() -> str:
    """The operating-system account running a command, as the audit log names it."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        name = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"os:{name}"[:150]


def record_cli(*, action: Action, **kwargs: Any) -> AuditEvent:
    """Audit a command run: attributed to the OS user, client address ``cli``."""
    return record(
        actor=None, action=action, username=cli_username(), client_address=CLI_ADDRESS, **kwargs
    )


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
    head_seq: int = 0
    head_hash: str = ""
    anchor_seq: int = 0

    def message(self) -> str:
        if self.ok:
            return _("审计日志校验通过：共 %(count)s 条") % {"count": self.checked}
        return _("审计日志校验未通过：%(reason)s") % {"reason": self.reason}

    def as_detail(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "head_seq": self.head_seq,
        }


_ROW_FIELDS = ("id", "algorithm", "prev_hash", "hash", *CONTENT_FIELDS)


@dataclass
class _Walk:
    """The chain walked so far: the hash the next row must point back to, and its seq."""

    prev_hash: str
    expected: int
    checked: int = 0
    last_id: int = 0
    failure: VerifyResult | None = field(default=None)

    def fail(self, seq: int, reason: str) -> VerifyResult:
        self.failure = VerifyResult(False, self.checked, seq, reason)
        return self.failure

    def walk(self, rows: models.QuerySet, chunk: int) -> VerifyResult | None:
        for row in rows.order_by("seq").values(*_ROW_FIELDS).iterator(chunk_size=chunk):
            seq, expected = row["seq"], self.expected
            if seq > expected:
                return self.fail(
                    expected, _("第 %(seq)s 条缺失（记录被删除或序号被改动）") % {"seq": expected}
                )
            if seq < expected:
                return self.fail(
                    seq, _("第 %(seq)s 条序号重复或早于链起点（序号被改动）") % {"seq": seq}
                )
            if row["id"] <= self.last_id:
                return self.fail(seq, _("第 %(seq)s 条的存储顺序被调换") % {"seq": seq})
            if row["prev_hash"] != self.prev_hash:
                return self.fail(
                    seq,
                    _("第 %(seq)s 条的前序摘要与上一条不符（记录被删除、调换或改动）")
                    % {"seq": seq},
                )
            try:
                digest = row_hash(self.prev_hash, row, row["algorithm"])
            except ValueError:
                return self.fail(seq, _("第 %(seq)s 条的摘要算法无法识别") % {"seq": seq})
            if not hmac.compare_digest(digest, row["hash"]):
                return self.fail(
                    seq, _("第 %(seq)s 条的内容与摘要不符（记录被篡改）") % {"seq": seq}
                )
            self.prev_hash, self.last_id, self.expected = row["hash"], row["id"], expected + 1
            self.checked += 1
        return None


def _anchor_failure(head: AuditChainHead) -> VerifyResult | None:
    """A chain that starts after seq 1 must start where the last recorded purge ended.

    The purge row is itself in the keyed chain, so whoever cuts rows off the
    front and moves the anchor cannot also write the purge row that explains it.
    """
    if head.anchor_seq == 0:
        if head.anchor_hash not in ("", GENESIS):
            return VerifyResult(False, 0, 1, _("链起点摘要被改动"))
        return None
    purge_row = (
        AuditEvent.objects.filter(action=Action.AUDIT_PURGED, seq__gt=head.anchor_seq)
        .order_by("-seq")
        .values("detail")
        .first()
    )
    detail = json.loads(purge_row["detail"] or "{}") if purge_row else {}
    through_hash = detail.get("through_hash", head.anchor_hash)
    if detail.get("through_seq") != head.anchor_seq or through_hash != head.anchor_hash:
        return VerifyResult(
            False,
            0,
            head.anchor_seq,
            _("第 %(seq)s 条及之前的记录不在日志中，但没有与之相符的清理记录（记录被删除）")
            % {"seq": head.anchor_seq},
        )
    return None


def verify(chunk: int = 5000) -> VerifyResult:
    """Walk the chain in order; name the first row that does not fit.

    Safe while others append: rows are checked up to the head as read before
    them, and any row found beyond it must be covered by the head read after it
    (a row and its head move are committed together), else it is a stray.
    """
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        return VerifyResult(False, 0, None, _("链头记录缺失，无法校验（链头被删除）"))
    anchor = _anchor_failure(head)
    if anchor is not None:
        return anchor
    state = _Walk(prev_hash=head.anchor_hash or GENESIS, expected=head.anchor_seq + 1)
    upto = head.seq
    rows = AuditEvent.objects.filter(seq__lte=upto)
    while True:
        failure = state.walk(rows, chunk)
        if failure is not None:
            failure.head_seq, failure.head_hash = head.seq, head.hash
            return failure
        if state.expected - 1 < upto:
            failure = state.fail(
                state.expected,
                _("第 %(first)s 条至第 %(last)s 条（链尾）缺失（记录被删除）")
                % {"first": state.expected, "last": upto},
            )
        elif state.prev_hash != head.hash:
            failure = state.fail(
                upto, _("链头摘要与第 %(seq)s 条不符（链头被改动）") % {"seq": upto}
            )
        if failure is not None:
            failure.head_seq, failure.head_hash = head.seq, head.hash
            return failure
        beyond = (
            AuditEvent.objects.filter(seq__gt=upto)
            .order_by("seq")
            .values_list("seq", flat=True)
            .first()
        )
        if beyond is None:
            break
        head = AuditChainHead.objects.get(pk=1)
        if beyond > head.seq:
            return VerifyResult(
                False,
                state.checked,
                beyond,
                _("第 %(seq)s 条在链尾（第 %(head)s 条）之后，不属于审计链（记录被伪造）")
                % {"seq": beyond, "head": head.seq},
                head.seq,
                head.hash,
                head.anchor_seq,
            )
        rows = AuditEvent.objects.filter(seq__gt=upto, seq__lte=head.seq)
        upto = head.seq
    return VerifyResult(
        True, state.checked, head_seq=head.seq, head_hash=head.hash, anchor_seq=head.anchor_seq
    )


# ------------------------------------------------------------------ retention
class PurgeRefused(ValueError):
    """The purge asked for would remove rows the retention rules keep."""


def retention_days() -> int:
    return max(MIN_RETENTION_DAYS, int(getattr(settings, "AUDIT_RETENTION_DAYS", 0) or 0))


def purge(
    *,
    actor: Any,
    older_than_days: int | None = None,
    username: str = "",
    client_address: str | None = None,
) -> int:
    """Delete the oldest rows past retention; never anything younger than the minimum.

    Only a prefix of the chain goes (stopping before the first young row, even if
    older ones follow it), so that what remains still verifies from the anchor.
    A broken chain is not purged: the rows that show the break are evidence.
    """
    minimum = retention_days()
    days = minimum if older_than_days is None else older_than_days
    if days < minimum:
        raise PurgeRefused(
            _("审计日志至少保留 %(min)s 天，不能清理 %(days)s 天以内的记录")
            % {"min": minimum, "days": days}
        )
    check = verify()
    if not check.ok:
        raise PurgeRefused(
            _("审计日志校验未通过，为保全证据不予清理：%(reason)s") % {"reason": check.reason}
        )
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        first_young = (
            AuditEvent.objects.filter(at__gte=cutoff)
            .order_by("seq")
            .values_list("seq", flat=True)
            .first()
        )
        doomed = AuditEvent.objects.all()
        if first_young is not None:
            doomed = doomed.filter(seq__lt=first_young)
        last = doomed.order_by("-seq").values("seq", "hash").first()
        if last is None:
            return 0
        count = models.QuerySet.count(doomed)
        # The queryset refuses deletes (the log is append-only); this is the one
        # sanctioned delete, and the database triggers still check each row's age.
        doomed._raw_delete(doomed.db)
        AuditChainHead.objects.filter(pk=head.pk).update(
            anchor_seq=last["seq"], anchor_hash=last["hash"]
        )
        record(
            actor=actor,
            action=Action.AUDIT_PURGED,
            username=username,
            client_address=client_address,
            detail={
                "deleted": count,
                "through_seq": last["seq"],
                "through_hash": last["hash"],
                "retention_days": days,
                "cutoff": cutoff.isoformat(),
            },
        )
    return count
