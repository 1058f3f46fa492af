"""The audit administrator's pages in headless Chromium: the integrity check answers in
place through HTMX under the strict CSP, a search narrows the list, and the phone
layout holds. Also proves that live_server tests flush the guarded audit table."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from jindu.audit.actions import Action, Result
from jindu.audit.models import AuditEvent
from jindu.audit.services import record
from tests.browser.conftest import (  # noqa: F401  (fixtures used by name)
    DESKTOP,
    PHONE,
    Watched,
    _static_root_exists,
    chromium,
    open_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(open_page, live_server, user, viewport) -> Watched:  # noqa: F811
    """A browser carrying the session of ``user`` (the sign-in pages have their own tests)."""
    client = Client()
    client.force_login(user)
    watched = open_page(viewport, phone=viewport is PHONE)
    watched.page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return watched


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_audit_administrator_checks_integrity_and_searches(
    open_page,  # noqa: F811  (the fixture imported above)
    live_server,
    personas,
    viewport,
):
    record(actor=personas.cadre_a, action=Action.RECORD_CREATED, object_repr="甲镇新村")
    watched = _signed_in(open_page, live_server, personas.audit_admin, viewport)
    page = watched.page
    list_url = live_server.url + reverse("audit:list")
    page.goto(list_url)
    assert page.locator("h1").inner_text() == "审计日志"

    page.get_by_role("button", name="校验完整性").click()
    page.locator("#audit-verify-result .alert-success").wait_for()
    assert "审计日志校验通过" in page.locator("#audit-verify-result").inner_text()
    assert page.url == list_url  # answered in place, not by a new page
    verified = AuditEvent.objects.filter(action=Action.AUDIT_VERIFIED).get()
    assert verified.result == Result.SUCCESS and verified.username == "audit_admin"

    page.locator("input[name=username]").fill("cadre_a")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**/audit/?*username=cadre_a*")
    table = page.locator("table tbody")
    assert "甲镇新村" in table.inner_text()
    assert table.locator("tr").count() == 1
    assert AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED).count() == 1

    name = "desktop" if viewport is DESKTOP else "phone"
    watched.screenshot(f"audit-list-{name}")
    page.locator("table tbody a").first.click()
    page.wait_for_url("**/audit/*/")
    assert "与内容一致" in page.locator("#jd-main").inner_text()
    watched.screenshot(f"audit-detail-{name}")
    assert watched.problems() == []
