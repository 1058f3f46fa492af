"""Notifications: sent (every alert and reminder goes through ``notify``), read, withdrawn."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.notifications.models import UNREAD, Notification


def notify(
    *,
    recipients: Iterable[Any],
    title: str,
    body: str = "",
    link: str = "",
    level: str = Notification.Level.INFO,
    source: str = "",
) -> list[Notification]:
    """Address one notification to each recipient (deduplicated), in the caller's transaction.

    Notifications carry no personal data beyond what the recipient may already see:
    callers put a name and a link, never an ID number or a phone.
    """
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                title=title[:200],
                body=body,
                link=link[:300],
                level=level,
                source=source[:100],
            )
        )
    with transaction.atomic():
        return Notification.objects.bulk_create(rows)


def withdraw(*, source: str, reason: str) -> int:
    """Withdraw (撤回) every standing notification raised by ``source``; return how many.

    For what was said on the strength of a record that turned out to be a mistake
    (a positive test deleted as entered by mistake): each notification is marked
    withdrawn with ``reason`` and no longer counts as unread or as an alert, and
    each of its recipients is told once, with a notice naming the withdrawn title
    and the reason. In the caller's transaction; a source already withdrawn
    withdraws nothing and tells nobody again. ``reason`` is shown to the
    recipients: it says why, never anything about a person.
    """
    if not source:
        raise ValueError("withdraw needs the source of the notifications")
    reason = reason.strip()[: Notification._meta.get_field("withdrawn_reason").max_length]
    with transaction.atomic():
        # Locked, so that two withdrawals of one source cannot both tell the recipients.
        standing = list(
            Notification.objects.select_for_update(of=("self",))
            .filter(source=source, withdrawn_at__isnull=True)
            .select_related("recipient")
            .order_by("-created_at", "-id")
        )
        if not standing:
            return 0
        count = Notification.objects.filter(
            pk__in=[n.pk for n in standing], withdrawn_at__isnull=True
        ).update(withdrawn_at=timezone.now(), withdrawn_reason=reason)
        # One notice a recipient, about the newest of what they were told.
        newest: dict[int, Notification] = {}
        for n in standing:
            newest.setdefault(n.recipient_id, n)
        notices: dict[tuple[str, str], list[Any]] = {}
        for n in newest.values():
            notices.setdefault((n.title, n.link), []).append(n.recipient)
        for (title, link), recipients in notices.items():
            notify(
                recipients=recipients,
                title=_("已撤回：%(title)s") % {"title": title},
                body=_("此前的这条通知已撤回，不再有效。撤回原因：%(reason)s") % {"reason": reason},
                link=link,
                level=Notification.Level.INFO,
                source=f"{source}:withdrawn"[:100],
            )
        return count


def unread_count(user: Any) -> int:
    """The user's notifications neither read nor withdrawn (the bell's number)."""
    return Notification.objects.filter(UNREAD, recipient=user).count()


def mark_read(*, user: Any, notification_id: int | None = None) -> int:
    """Mark one (or, with no id, all) of the user's own unread notifications read.

    A withdrawn notification is not unread, and is left as it is."""
    qs = Notification.objects.filter(UNREAD, recipient=user)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
