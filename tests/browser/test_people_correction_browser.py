"""A township cadre takes back a drug test entered by mistake, on a phone.

Opens the deletion page of a test, sends it with no reason (a Chinese error,
the test still there), then with a reason: the test is gone from the person's
page. Screenshots under test-output/screenshots/; every page is watched for
CSP violations and script errors.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from jindu.people.models import DrugTest
from tests.browser.conftest import PHONE, sign_in
from tests.test_people_followup import test_on, under_detox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_cadre_deletes_a_mistaken_test_with_a_reason_on_a_phone(open_page, live_server, personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a, reported_days_ago=20)
    mistaken = test_on(personas.cadre_a, person, timezone.localdate())

    watched = open_page(PHONE, phone=True)
    page = watched.page
    sign_in(page, live_server, "cadre_a")

    page.goto(live_server.url + reverse("people:test_delete", kwargs={"pk": mistaken.pk}))
    assert "删除误录的检测记录" in page.locator("h1").inner_text()
    page.get_by_role("button", name="确认删除").click()
    page.wait_for_load_state()
    assert "请填写删除原因" in page.content()
    assert DrugTest.objects.filter(pk=mistaken.pk).exists()
    watched.screenshot("correction-phone-1-no-reason")

    page.locator("[name=reason]").fill("日期录错，应为下月")
    page.get_by_role("button", name="确认删除").click()
    page.wait_for_load_state()
    assert not DrugTest.objects.filter(pk=mistaken.pk).exists()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    watched.screenshot("correction-phone-2-deleted")
