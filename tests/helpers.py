"""Small helpers shared by tests."""

from __future__ import annotations

from typing import Any


def sign_in(client: Any, user: Any) -> Any:
    """Sign in without the sign-in page (the sign-in tests drive the page itself)."""
    client.force_login(user)
    return client
