"""Session policy: idle timeout and the live-session register."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

SESSION_LAST_SEEN = "jindu_last_seen"
# Writing last-seen on every request would turn each page view into a write.
TOUCH_EVERY_SECONDS = 60


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            from jindu.accounts.models import SecurityPolicy, UserSession

            policy = SecurityPolicy.current()
            now = time.time()
            last_seen = request.session.get(SESSION_LAST_SEEN, now)
            session_key = request.session.session_key
            live = UserSession.objects.filter(session_key=session_key, user=user).first()
            if now - last_seen > policy.session_idle_minutes * 60 or live is None:
                from jindu.accounts.flows import end_current_session

                end_current_session(request, reason="timeout" if live else "terminated")
                logout(request)
                request.session["jindu_notice"] = "timeout" if live else "ended"
            elif now - last_seen > TOUCH_EVERY_SECONDS:
                request.session[SESSION_LAST_SEEN] = now
                UserSession.objects.filter(pk=live.pk).update(last_seen_at=timezone.now())
        return self.get_response(request)
