from __future__ import annotations

import pytest

from tests.personas import ADMIN_PERSONAS, PASSWORD, PERSONAS, Personas, build_personas


@pytest.fixture
def personas(db) -> Personas:
    return build_personas()


@pytest.fixture
def territory(personas):
    return personas.territory


@pytest.fixture
def login(client):
    """Sign a persona in through the real sign-in page (TOTP step included for admins)."""

    def _login(user, *, the_client=None):
        from tests.helpers import sign_in

        return sign_in(the_client or client, user)

    return _login


@pytest.fixture(params=list(PERSONAS))
def any_persona(request, personas):
    return request.param, personas.users[request.param]


__all__ = ["ADMIN_PERSONAS", "PASSWORD"]
