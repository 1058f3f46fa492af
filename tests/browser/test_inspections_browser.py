"""A township cadre inspects a venue on a phone and sees its colour change.

On a 390 px window: the venue is yellow (not inspected this quarter); the cadre
records a covert inspection with a failed item and a photo, and the venue turns
red; the fix is recorded and it turns blue. On a desktop the county office sees
the township chart. Every page is watched for CSP violations, script errors and
static files that fail; screenshots land in test-output/screenshots/.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import DESKTOP, PHONE, Watched, sign_in
from tests.inspections_factories import inspect, make_venue, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def colour_of(watched: Watched) -> str:
    return watched.page.locator("#venue-status .jd-venue-colour").get_attribute("data-colour")


def test_a_cadre_inspects_a_venue_on_a_phone_and_sees_its_colour_change(
    open_page, live_server, personas, tmp_path
):
    venue = make_venue(personas.cadre_a, personas.territory.village_a, name="悦来宾馆")
    picture = tmp_path / "门头照片.png"
    picture.write_bytes(png_bytes(40, 30))
    today = timezone.localdate()

    watched = open_page(PHONE, phone=True)
    page = watched.page
    sign_in(watched, live_server, "cadre_a")
    page.goto(live_server.url + reverse("inspections:venues"))
    page.get_by_role("link", name="悦来宾馆").last.click()
    page.wait_for_url(re.compile(r"/inspections/venues/\d+/$"))
    assert colour_of(watched) == "yellow"
    watched.screenshot("inspections-phone-1-venue-yellow")

    page.locator("#inspect-venue").click()
    page.wait_for_url(re.compile(r"/inspections/new/$"))
    problem = page.locator("input[name=problem_publicity]")
    deadline = page.locator("input[name=fix_deadline]")
    # The problem field and the deadline appear only once an item fails.
    assert not problem.is_visible() and not deadline.is_visible()
    page.locator("label[for=id_mode_1]").click()  # 暗访
    page.locator("label[for=id_item_publicity_1]").click()  # 禁毒宣传: 不合格
    assert problem.is_visible() and deadline.is_visible()
    problem.fill("未张贴禁毒宣传海报")
    deadline.fill(f"{today + timedelta(days=15):%Y-%m-%d}")
    page.locator("input[name=photos]").set_input_files(str(picture))
    page.locator("[data-photo-preview]").get_by_text("门头照片.png").wait_for()
    watched.screenshot("inspections-phone-2-inspection-form")

    page.locator("#save-inspection").click()
    page.wait_for_url(live_server.url + reverse("inspections:venue", kwargs={"pk": venue.pk}))
    assert colour_of(watched) == "red"
    assert "红色" in page.locator(".alert").first.inner_text()
    photo = page.locator("#inspections img.jd-photo-thumb").first
    photo.wait_for()
    # The thumbnail loads lazily: brought into view, it is fetched; then it is the picture.
    photo.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete", arg=photo.element_handle())
    assert page.evaluate("(img) => img.naturalWidth", photo.element_handle()) == 40
    watched.screenshot("inspections-phone-3-venue-red")

    page.get_by_role("link", name="记录整改完成").click()
    page.locator("textarea[name=fix_note]").fill("已张贴宣传海报，专干现场核实")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(live_server.url + reverse("inspections:venue", kwargs={"pk": venue.pk}))
    assert colour_of(watched) == "blue"
    watched.screenshot("inspections-phone-4-venue-blue")

    # The page fits the phone: nothing wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not watched.problems(), watched.problems()


def test_the_county_office_sees_colours_by_township_on_a_desktop(open_page, live_server, personas):
    t = personas.territory
    today = timezone.localdate()
    inspect(personas.cadre_a, make_venue(personas.cadre_a, t.village_a, name="绿宾馆"), today)
    make_venue(personas.cadre_a, t.village_a, name="黄网吧", kind="internet_cafe")
    red = make_venue(personas.cadre_b, t.village_b, name="红足浴", kind="foot_massage")
    inspect(personas.cadre_b, red, today, failed=("publicity",))

    watched = open_page(DESKTOP)
    page = watched.page
    sign_in(watched, live_server, "county_officer")
    page.locator(f"#jd-sidenav a[href='{reverse('inspections:venues')}']").click()
    page.wait_for_url(live_server.url + reverse("inspections:venues"))
    page.locator("#venue-chart canvas").first.wait_for()
    rows = page.locator("#township-colours tbody tr")
    assert rows.count() == 2
    assert "乙镇" in rows.nth(1).inner_text()
    watched.screenshot("inspections-desktop-1-venues-by-township")

    page.locator("#township-colours").get_by_role("link", name="1").first.click()
    page.wait_for_url(re.compile(r"colour="))
    watched.screenshot("inspections-desktop-2-venues-filtered")
    assert not watched.problems(), watched.problems()
