"""Sending and reading notifications. Every alert and reminder goes through ``notify``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from jindu.notifications.models import Notification


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


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(*, user: Any, notification_id: int | None = None) -> int:
    """Mark one (or, with no id, all) of the user's own notifications read."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
