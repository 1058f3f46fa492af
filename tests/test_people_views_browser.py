"""The register in headless Chromium: the list on a phone, revealing a masked ID number
with a reason, and the export menu asking for a reason only when it must.

Screenshots land in test-output/screenshots/; every page is watched for CSP
violations, script errors and static files that fail to load.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.people import services
from tests.browser.conftest import (  # noqa: F401  (fixtures used by name)
    DESKTOP,
    PHONE,
    Watched,
    _static_root_exists,
    chromium,
    open_page,
)
from tests.people_factories import make_id_number, make_person
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ID = make_id_number(date(1989, 9, 9), 41)


def _sign_in(watched: Watched, live_server, username: str) -> None:
    page = watched.page
    page.goto(live_server.url + reverse("accounts:login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(live_server.url + reverse("portal:home"))


@pytest.fixture
def register(personas):
    territory = personas.territory
    person = make_person(
        personas.cadre_a, territory.village_a, name="韩甲", id_number=ID, phone="13611112222"
    )
    decided = timezone.localdate() - timedelta(days=30)
    services.add_measure(
        actor=personas.cadre_a, person=person, kind="community_detox", decision_date=decided
    )
    for n in range(8):
        make_person(personas.cadre_a, territory.grid_a if n % 2 else territory.village_a)
    make_person(personas.cadre_b, territory.village_b, name="韩乙")
    return person


def test_the_list_fits_a_phone_and_reveals_an_id_number_with_a_reason(
    open_page,  # noqa: F811  (the fixture imported above)
    live_server,
    personas,
    register,
):
    watched = open_page(PHONE, phone=True)
    page = watched.page
    _sign_in(watched, live_server, "cadre_a")
    page.goto(live_server.url + reverse("people:list"))
    page.locator("a.jd-tap", has_text="韩甲").wait_for()
    assert "韩乙" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The count arrives after the page.
    page.locator("#people-count", has_text="9 人").wait_for()
    watched.screenshot("people-phone-1-list")

    page.locator("a.jd-tap", has_text="韩甲").click()
    page.wait_for_url(re.compile(r"/people/\d+/$"))
    assert ID not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    watched.screenshot("people-phone-2-person")

    page.locator("#reveal-id_number").get_by_role("link", name="查看").click()
    reason = page.locator("#reveal-id_number input[name=reason]")
    reason.wait_for()
    reason.fill("核实")
    page.locator("#reveal-id_number").get_by_role("button", name="查看").click()
    page.locator("#reveal-id_number", has_text="至少4个字").wait_for()
    page.locator("#reveal-id_number input[name=reason]").fill("核实身份，办理报到")
    page.locator("#reveal-id_number").get_by_role("button", name="查看").click()
    page.locator("#reveal-id_number", has_text=ID).wait_for()
    watched.screenshot("people-phone-3-revealed")
    assert AuditEvent.objects.filter(action=Action.PERSONAL_REVEALED).count() == 1

    page.locator("#reveal-id_number").get_by_role("button", name="隐藏").click()
    page.locator("#reveal-id_number", has_text="********").wait_for()
    assert ID not in page.locator("#jd-main").inner_text()
    assert watched.problems() == []


def test_filters_and_the_export_menu_on_a_desktop(
    open_page,  # noqa: F811  (the fixture imported above)
    live_server,
    personas,
    register,
):
    watched = open_page(DESKTOP)
    page = watched.page
    _sign_in(watched, live_server, "cadre_a")
    page.goto(live_server.url + reverse("people:list"))
    # Choosing a unit submits the filter and offers the unit's children.
    page.locator("select[name=unit]").select_option(str(personas.territory.village_a.pk))
    page.wait_for_url(re.compile(rf"unit={personas.territory.village_a.pk}"))
    page.locator("select[name=unit] option", has_text="甲一村第一网格").wait_for(state="attached")
    page.get_by_label("逾期未报到").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"flags=not_reported"))
    rows = page.locator("#people tbody tr")
    assert rows.count() == 1 and "韩甲" in rows.first.inner_text()
    assert "逾期未报到" in rows.first.inner_text()
    watched.screenshot("people-desktop-1-filtered")

    page.get_by_role("button", name="导出Excel").click()
    page.locator("#export-dialog.show").wait_for()
    reason = page.locator("#export-reason")
    assert not reason.is_visible()
    page.get_by_label("导出完整身份证号").check()
    assert reason.is_visible()
    watched.screenshot("people-desktop-2-export-menu")
    assert watched.problems() == []
