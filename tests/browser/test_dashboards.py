"""The county dashboard and the leaders' big screen in headless Chromium.

The county office opens its dashboard on a desktop and on a 390 px phone, and
clicks down to a township; the leader opens the big screen, whose panel HTMX
fetches again without a full reload. Every chart is drawn by ECharts (a canvas
in each holder), with no CSP violation, script error or missing static file;
screenshots land in test-output/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import DESKTOP, PHONE, Watched, sign_in
from tests.test_enforcement_factories import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TV = {"width": 1920, "height": 1080}


@pytest.fixture
def cases(personas):
    today = timezone.localdate()
    t = personas.territory
    for unit in (t.village_a, t.village_a, t.village_b):
        make_case(personas.county_officer, unit, t.police_dept, filed_on=today, solved_on=today)
    return personas


def charts_drawn(watched: Watched, names: list[str]) -> None:
    for name in names:
        holder = watched.page.locator(f"[data-dashboard-chart={name}]").first
        holder.locator("canvas").first.wait_for()
        assert holder.get_attribute("data-drawn") == "1", name


def test_the_county_dashboard_draws_its_charts_and_goes_down_a_level(open_page, live_server, cases):
    watched = open_page(DESKTOP)
    page = watched.page
    sign_in(watched, live_server, "county_officer")
    page.goto(live_server.url + reverse("dashboards:county"))
    charts_drawn(watched, ["units", "trend", "status"])
    assert page.locator("#units tbody tr").count() == 2
    watched.screenshot("dashboards-1-county-desktop")

    page.locator("#units").get_by_role("link", name="乙镇").click()
    page.wait_for_url(re.compile(r"/dashboards/unit/\d+/"))
    assert "乙镇" in page.locator("h1").inner_text()
    charts_drawn(watched, ["trend"])
    watched.screenshot("dashboards-2-township-b")
    assert watched.problems() == []


def test_the_dashboard_fits_a_phone(open_page, live_server, cases):
    watched = open_page(PHONE, phone=True)
    page = watched.page
    sign_in(watched, live_server, "cadre_a")
    page.goto(live_server.url + reverse("dashboards:county"))
    charts_drawn(watched, ["trend"])
    assert "乙镇" not in page.content()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    watched.screenshot("dashboards-3-township-phone")
    assert watched.problems() == []


def test_the_big_screen_draws_its_charts_and_refreshes_its_panel(open_page, live_server, cases):
    watched = open_page(TV)
    page = watched.page
    sign_in(watched, live_server, "leader")
    page.goto(live_server.url + reverse("dashboards:screen"))
    charts_drawn(watched, ["units", "trend", "status"])
    assert page.locator("[data-headline=cases_solved] [data-value]").inner_text().startswith("3")
    watched.screenshot("dashboards-4-big-screen")

    # What polling does every minute, asked for now: the panel alone is fetched and
    # swapped in, the page is not reloaded, and the charts are drawn again.
    page.evaluate("window.jdMarker = 1")
    with page.expect_response(re.compile(r"/dashboards/screen/panel/")):
        page.evaluate(
            "htmx.ajax('GET', document.querySelector('#screen-panel').getAttribute('hx-get'), '#screen-panel')"
        )
    charts_drawn(watched, ["units", "trend", "status"])
    assert page.evaluate("window.jdMarker") == 1
    assert watched.problems() == []
