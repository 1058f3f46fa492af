"""What each role sees first."""

from __future__ import annotations

from typing import Any


def home_context(user: Any) -> dict[str, Any]:
    return {"roles": user.roles()}
