"""Session policy: idle timeout and the live-session register."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone

SESSION_LAST_SEEN = "jindu_last_seen"
NOTICE = "jindu_notice"
# Writing last-seen on every request would turn each page view into a write; the
# price is that a session may time out up to this many seconds early, never late.
TOUCH_EVERY_SECONDS = 60
# Requests the page makes by itself (the notification bell's polling) are not the
# user doing anything, so they must not keep an idle session alive.
BACKGROUND_HEADER = "HTTP_X_JINDU_BACKGROUND"


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        ended = user is not None and user.is_authenticated and self._ended(request)
        if ended and request.headers.get("HX-Request"):
            # A fragment request (the bell's polling) takes the whole page to the
            # login screen, so a screen left open does not stay on show.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
            return response
        return self.get_response(request)

    def _ended(self, request: HttpRequest) -> bool:
        """Apply the policy; True if this request's session has just been ended."""
        from jindu.accounts.models import SecurityPolicy, UserSession

        policy = SecurityPolicy.current()
        now = time.time()
        last_seen = request.session.get(SESSION_LAST_SEEN, now)
        live = UserSession.objects.filter(
            session_key=request.session.session_key, user=request.user
        ).first()
        if live is None or now - last_seen > policy.session_idle_minutes * 60:
            from jindu.accounts.flows import end_current_session

            reason = "timeout" if live is not None else "ended"
            end_current_session(request, reason=reason)
            logout(request)
            # Survives into the fresh anonymous session, for the login page to explain.
            request.session[NOTICE] = reason
            return True
        if request.META.get(BACKGROUND_HEADER):
            return False
        if now - last_seen > TOUCH_EVERY_SECONDS:
            request.session[SESSION_LAST_SEEN] = now
            UserSession.objects.filter(pk=live.pk).update(last_seen_at=timezone.now())
        return False
