from __future__ import annotations

import pytest

from tests.personas import ADMIN_PERSONAS, PASSWORD, PERSONAS, Personas, build_personas


@pytest.fixture(scope="session", autouse=True)
def _audit_guards_lifted_for_flush():
    """Let transactional tests (``transactional_db``, ``live_server``) empty the tables.

    After such a test Django's ``flush`` command empties every table with DELETE
    (SQLite) or TRUNCATE (PostgreSQL), which the audit table's triggers refuse
    for rows younger than 180 days. For the flush alone the guards are removed
    and reinstalled, and the chain head, which the flush empties as well, is put
    back at the start of the chain. Every test itself runs with the guards in
    force.
    """
    from django.core.management.commands import flush

    original = flush.Command.handle

    def handle(self, *args, **options):
        from django.db import DEFAULT_DB_ALIAS, connections

        from jindu.audit import dbguards
        from jindu.audit.chain import GENESIS
        from jindu.audit.models import AuditChainHead

        alias = options.get("database") or DEFAULT_DB_ALIAS
        with dbguards.lifted(connections[alias]):
            result = original(self, *args, **options)
        AuditChainHead.objects.using(alias).get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS, "anchor_seq": 0, "anchor_hash": GENESIS}
        )
        return result

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture(autouse=True)
def _language_put_back():
    """Each test starts in the site's language: a request for an English page
    leaves English active in the thread, and the next test would read it."""
    yield
    from django.utils import translation

    translation.deactivate()


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
