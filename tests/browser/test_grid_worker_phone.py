"""A grid worker on a phone records a drug test from "my people".

On a 390 px window: sign in, open "我的人员" from the home page, open the test
form inside a person's card, record a negative urine test, and see the test
that was due leave the card. Screenshots of each step land in
test-output/screenshots/; every page is watched for CSP violations, script
errors and static files that fail to load.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.conftest import PHONE, sign_in
from tests.test_people_followup import test_on, under_detox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grid_worker_records_a_negative_urine_test_from_my_people_on_a_phone(
    open_page, live_server, personas
):
    grid = personas.territory.grid_a
    due = under_detox(personas.cadre_a, grid, reported_days_ago=3, name="赵待检")
    late = under_detox(personas.cadre_a, grid, reported_days_ago=75, name="孙逾期")
    done = under_detox(personas.cadre_a, grid, reported_days_ago=5, name="钱已检")
    from django.utils import timezone

    test_on(personas.grid_worker, done, timezone.localdate())

    watched = open_page(PHONE, phone=True)
    page = watched.page
    sign_in(page, live_server, "grid_worker")

    home = page.locator("#jd-home-my-people-section")
    home.wait_for()
    assert "孙逾期" in home.inner_text() and "赵待检" in home.inner_text()
    watched.screenshot("grid-phone-1-home")

    home.get_by_role("link", name="查看全部").click()
    page.wait_for_url(live_server.url + reverse("people:my_people"))
    cards = page.locator(".jd-person-card")
    # Most urgent first: the overdue person leads.
    assert cards.first.locator("h2").inner_text() == late.name
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    card = page.locator(f"#jd-card-{due.pk}")
    assert card.locator("[data-task=test]").count() == 1
    assert page.locator(f"#jd-card-{done.pk} [data-task=test]").count() == 0
    watched.screenshot("grid-phone-2-my-people")

    card.get_by_role("link", name="登记尿检").click()
    form = page.locator(f"#jd-card-{due.pk} form")
    form.wait_for()
    # The form opened inside the card, on the same page.
    assert page.url == live_server.url + reverse("people:my_people")
    assert form.locator("input[name=method][value=urine]").is_checked()
    assert form.locator("input[name=tested_on]").input_value() == f"{timezone.localdate():%Y-%m-%d}"
    watched.screenshot("grid-phone-3-test-form")

    form.locator("label", has_text="阴性").click()
    form.get_by_role("button", name="保存").click()
    card = page.locator(f"#jd-card-{due.pk}")
    card.locator(".alert-success").wait_for()
    assert "阴性" in card.locator(".alert-success").inner_text()
    assert card.locator("[data-task=test]").count() == 0
    assert card.locator("form").count() == 0
    watched.screenshot("grid-phone-4-recorded")

    # The page read again from the server agrees.
    page.reload()
    assert page.locator(f"#jd-card-{due.pk} [data-task=test]").count() == 0
    assert page.locator(f"#jd-card-{late.pk} [data-task=test]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    watched.screenshot("grid-phone-5-after-reload")

    # The person's own follow-up page shows the test just recorded.
    page.locator(f"#jd-card-{due.pk}").get_by_role("link", name="更多").click()
    page.wait_for_url(live_server.url + reverse("people:followup", kwargs={"pk": due.pk}))
    tests = page.locator("#jd-tests tbody tr")
    assert tests.count() == 1 and "阴性" in tests.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    watched.screenshot("grid-phone-6-follow-up")
    assert watched.problems() == []


def test_the_visit_form_asks_for_the_kind_of_help_only_for_help_given(
    open_page, live_server, personas
):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=3)
    watched = open_page(PHONE, phone=True)
    page = watched.page
    sign_in(page, live_server, "grid_worker")
    page.goto(live_server.url + reverse("people:visit_add", kwargs={"pk": person.pk}))
    help_kind = page.locator("select[name=help_kind]")
    assert not help_kind.is_visible()
    page.locator("label", has_text="帮扶救助").click()
    assert help_kind.is_visible()
    help_kind.select_option(label="就业帮扶")
    page.locator("textarea[name=summary]").fill("联系物流园招工")
    watched.screenshot("grid-phone-7-help-given")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(live_server.url + reverse("people:followup", kwargs={"pk": person.pk}))
    assert "就业帮扶" in page.locator("#jd-visits").inner_text()
    assert watched.problems() == []


def test_the_township_overdue_list_and_the_policy_page_on_a_desktop(
    open_page, live_server, personas
):
    from tests.browser.conftest import DESKTOP

    t = personas.territory
    under_detox(personas.cadre_a, t.grid_a, reported_days_ago=75, name="孙逾期")
    under_detox(personas.cadre_a, t.village_a, reported_days_ago=40, name="李漏检")
    under_detox(personas.cadre_b, t.grid_b, reported_days_ago=75, name="乙镇人")
    watched = open_page(DESKTOP)
    page = watched.page

    sign_in(page, live_server, "cadre_a")
    page.locator("#jd-sidenav").get_by_role("link", name="逾期及需关注").click()
    page.wait_for_url(live_server.url + reverse("people:overdue"))
    rows = page.locator(".jd-overdue-row")
    assert rows.count() == 2
    assert "乙镇人" not in page.content()
    watched.screenshot("overdue-1-by-village")
    page.get_by_role("link", name="按紧急程度").click()
    assert page.locator(".jd-overdue-row").first.inner_text().startswith("孙逾期")
    watched.screenshot("overdue-2-by-urgency")
    page.get_by_role("button", name="用户菜单").click()
    page.get_by_role("button", name="退出").click()

    sign_in(page, live_server, "county_officer")
    page.goto(live_server.url + reverse("people:policy"))
    page.locator("input[name=lost_contact_days]").fill("400")
    page.get_by_role("button", name="保存").click()
    assert "不能大于365" in page.locator("#id_lost_contact_days_errors").inner_text()
    assert page.locator("input[name=lost_contact_days]").input_value() == "400"
    watched.screenshot("policy-1-refused")
    assert watched.problems() == []
