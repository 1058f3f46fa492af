"""Request-wide middleware: request context, security headers, deny-by-default access."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from jindu.core import context
from jindu.core.access import rule_of

logger = logging.getLogger("jindu.access")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        info = context.RequestInfo(
            client_address=context.client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
        )
        token = context.set_current(info)
        try:
            return self.get_response(request)
        finally:
            context.reset(token)


class SecurityHeadersMiddleware:
    """CSP with no inline or foreign script, no framing, and no caching of signed-in pages.

    It sits above WhiteNoise so that static files carry the same headers: the
    framing and sniffing headers are set here too, since Django's own middleware
    for them never sees a response that WhiteNoise answered.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("X-Frame-Options", "DENY")
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        is_static = request.path.startswith(settings.STATIC_URL)
        if not is_static and (getattr(user, "is_authenticated", False) or response.cookies):
            # Pages of a signed-in user may show personal data, and a page that
            # sets a cookie carries a session or CSRF token: never keep either.
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
        return response


class AccessRuleMiddleware:
    """Refuses every view that declares no rule, then applies the rule it declares."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        rule = rule_of(view_func)
        if rule is None:
            logger.error(
                "view %s declares no access rule", getattr(view_func, "__name__", view_func)
            )
            raise PermissionDenied("no access rule")
        if rule.public:
            return None
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not rule.during_setup and user.needs_password_change():
            return redirect("accounts:password_change")
        if rule.perm is not None and not user.has_jindu_perm(rule.perm):
            from jindu.audit.actions import Action
            from jindu.audit.services import record_denial

            record_denial(
                user=user,
                action=Action.PERMISSION_DENIED,
                target=request.path[:200],
                detail={"perm": str(rule.perm), "method": request.method},
            )
            raise PermissionDenied
        return None


class LanguageMiddleware:
    """Chinese unless the user chose otherwise: the browser's Accept-Language is ignored.

    County offices run on machines whose browsers may be set to English; the
    working language is still Chinese. English is available from the user menu,
    which stores the choice in the language cookie.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
