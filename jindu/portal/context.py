"""What every page's shell needs: the navigation and the demo flag.

The user's name, unit and roles come from ``user`` itself. The unread count is
not computed here: the bell loads it by HTMX, so that a page never waits on it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    data: dict[str, Any] = {"DEMO": settings.DEMO}
    # During a forced password change every other page redirects back, so a
    # navigation would only lead in circles.
    if user is not None and user.is_authenticated and not user.must_change_password:
        from jindu.portal.navigation import navigation_for

        data["nav"] = navigation_for(user, request.path)
    return data
