"""Time-based one-time passwords (RFC 6238) for the second sign-in factor.

Any authenticator app works: 6 digits, 30-second steps, SHA-1, as the apps
expect. A code is accepted one step either side of now, and each time step is
accepted once per user: the counter of the last accepted step is stored and
moved forward with a conditional UPDATE, so two requests racing with the same
code cannot both succeed.
"""

from __future__ import annotations

import hmac
import io
import time
from typing import Any

import pyotp
import segno
from django.utils.translation import gettext as _

from jindu.accounts.models import User

INTERVAL = 30
DIGITS = 6
# One step either side of now absorbs clock drift between phone and server.
DRIFT_STEPS = 1
ISSUER = "jindu"


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )


def qr_svg(uri: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer,
        kind="svg",
        scale=5,
        border=2,
        xmldecl=False,
        dark="#000",
        light="#fff",
        title=_("动态口令二维码"),
    )
    return buffer.getvalue()


def current_counter(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // INTERVAL)


def code_at(secret: str, counter: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).generate_otp(counter)


def normalize(code: Any) -> str:
    """Digits only: people paste codes with spaces, or type full-width digits."""
    text = str(code or "").translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return "".join(ch for ch in text if ch.isdigit())


def matching_counter(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step the code belongs to, within the drift window, or None."""
    code = normalize(code)
    if len(code) != DIGITS or not secret:
        return None
    base = current_counter(now)
    found = None
    # Check every candidate step, so the time spent does not depend on which matched.
    for counter in range(base - DRIFT_STEPS, base + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, counter), code) and found is None:
            found = counter
    return found


def consume(user: User, code: str, *, secret: str | None = None) -> bool:
    """Accept the code once: True if it matches a step newer than the last one used.

    ``secret`` defaults to the user's stored secret. The UPDATE is conditional on
    the stored counter still being older than this step, so of two concurrent
    requests with the same code exactly one wins.
    """
    counter = matching_counter(secret if secret is not None else user.totp_secret or "", code)
    if counter is None:
        return False
    won = User.objects.filter(pk=user.pk, totp_last_counter__lt=counter).update(
        totp_last_counter=counter
    )
    if won:
        user.totp_last_counter = counter
    return bool(won)
