"""The live-session register, kept in step with Django's sign-in and sign-out."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.utils import timezone

from jindu.accounts.middleware import SESSION_LAST_SEEN
from jindu.accounts.models import UserSession
from jindu.core.context import client_address


def register_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    request.session[SESSION_LAST_SEEN] = time.time()
    now = timezone.now()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "client_address": client_address(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
            "started_at": now,
            "last_seen_at": now,
        },
    )


def forget_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key).delete()


def follow_new_key(request: Any, old_key: str | None) -> None:
    """Keep the register pointing at a session whose key was just rotated in place.

    ``update_session_auth_hash`` cycles the key after a password change; without
    this the session would look ended on the very next request.
    """
    new_key = request.session.session_key
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def live_sessions(idle_minutes: int) -> QuerySet[UserSession]:
    """Sessions active within the idle window: who is signed in now."""
    now = timezone.now()
    cutoff = now - timedelta(minutes=idle_minutes)
    keys = Session.objects.filter(expire_date__gt=now).values("session_key")
    return (
        UserSession.objects.filter(last_seen_at__gte=cutoff, session_key__in=keys)
        .select_related("user", "user__org_unit")
        .order_by("-last_seen_at")
    )
