"""Small helpers shared by tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

from django.urls import reverse
from django.utils import timezone


def sign_in(client: Any, user: Any) -> Any:
    """Sign in without the sign-in page (the sign-in tests drive the page itself)."""
    client.force_login(user)
    return client


def fresh_totp_code(user: Any) -> str:
    """A code the server will accept now: in the drift window and not used before."""
    from jindu.accounts import totp

    user.refresh_from_db()
    base = totp.current_counter()
    for counter in range(base - totp.DRIFT_STEPS, base + totp.DRIFT_STEPS + 1):
        if counter > user.totp_last_counter:
            return totp.code_at(user.totp_secret, counter)
    raise AssertionError("every code in the drift window has been used; move the clock on")


def sign_in_via_page(
    client: Any, user: Any, password: str | None = None, *, next_url: str | None = None
) -> Any:
    """Sign in through the real pages: password, then the TOTP or enrolment step if asked.

    Returns the last response (a redirect when signing in succeeded).
    """
    from tests.personas import PASSWORD

    data = {"username": user.username, "password": password or PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("accounts:login"), data)
    step = getattr(response, "url", "")
    if response.status_code == 302 and step in (
        reverse("accounts:login_totp"),
        reverse("accounts:login_enrol"),
    ):
        response = client.post(step, {"code": fresh_totp_code(user)})
    return response


class Clock:
    """Moves ``timezone.now`` and ``time.time`` forward together, for rules that date things."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self._now = timezone.now
        self._time = time.time

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)

    def now(self) -> Any:
        return self._now() + self.offset

    def time(self) -> float:
        return self._time() + self.offset.total_seconds()


@contextmanager
def travelling_clock() -> Iterator[Clock]:
    clock = Clock()
    with mock.patch("django.utils.timezone.now", clock.now), mock.patch("time.time", clock.time):
        yield clock
