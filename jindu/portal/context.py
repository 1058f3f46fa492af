"""What every page's shell needs: the user's unit and roles, the navigation, the demo flag."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    data: dict[str, Any] = {"DEMO": settings.DEMO}
    if user is not None and user.is_authenticated:
        from jindu.portal.navigation import navigation_for

        data["nav"] = navigation_for(user, request.path)
    return data
