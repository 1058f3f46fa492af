"""The live-session register, kept in step with Django's sign-in and sign-out."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.sessions.models import Session
from datetime import timedelta

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
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "client_address": client_address(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
            "started_at": timezone.now(),
            "last_seen_at": timezone.now(),
        },
    )


def forget_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key).delete()


def live_sessions(idle_minutes: int) -> Any:
    """Sessions active within the idle window: who is signed in now."""
    cutoff = timezone.now() - timedelta(minutes=idle_minutes)
    keys = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return (
        UserSession.objects.filter(last_seen_at__gte=cutoff, session_key__in=keys)
        .select_related("user", "user__org_unit")
        .order_by("-last_seen_at")
    )
