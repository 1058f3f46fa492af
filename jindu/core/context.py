"""What the current request is, for code far from the view (the audit writer)."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    client_address: str
    user_agent: str = ""
    session_key: str = ""


_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "jindu_request", default=None
)


def current() -> RequestInfo | None:
    return _current.get()


def set_current(info: RequestInfo | None) -> contextvars.Token:
    return _current.set(info)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def client_address(request) -> str:
    # Behind a reverse proxy the deployment sets JINDU_BEHIND_PROXY and the proxy
    # overwrites X-Forwarded-For; the last hop is the one the proxy saw.
    from django.conf import settings

    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]
