"""A township police officer on a phone files a case, adds a suspect and a seizure.

On a 390 px window: the case form hides the fields about a drug user who caused
the case until that box is ticked; a solving date before the filing date comes
back next to its field with everything typed still there; a negative weight
likewise; the suspect's ID number shows masked and is revealed with a reason.
Screenshots land in test-output/screenshots/; every page is watched for CSP
violations, script errors and static files that fail to load.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from jindu.enforcement.models import Case
from tests.browser.conftest import PHONE, sign_in
from tests.people_factories import make_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_police_file_a_case_with_a_suspect_and_a_seizure_on_a_phone(
    open_page, live_server, personas
):
    number = make_id_number(date(1990, 7, 7), 77)
    watched = open_page(PHONE, phone=True)
    page = watched.page
    sign_in(page, live_server, "police_officer")

    page.goto(live_server.url + reverse("enforcement:cases"))
    page.get_by_role("link", name="登记案件").click()
    # The fields follow their boxes once the deferred script has run.
    page.wait_for_url(live_server.url + reverse("enforcement:case_add"))
    page.wait_for_load_state()
    form = page.locator("form[data-enforcement-form]")
    caused_kind = form.locator("select[name=caused_kind]")
    assert not caused_kind.is_visible()
    form.locator("label", has_text="由吸毒人员引发").click()
    assert caused_kind.is_visible()
    form.locator("label", has_text="由吸毒人员引发").click()
    form.locator("input[name=number]").fill("甲公禁〔2026〕7号")
    form.locator("select[name=offence]").select_option(label="零包贩毒")
    form.locator("select[name=org_unit]").select_option(label="　甲一村")
    form.locator("input[name=filed_on]").fill("2026-03-02")
    form.locator("input[name=solved_on]").fill("2026-03-01")
    form.locator("label", has_text="零包贩毒").click()
    form.locator("textarea[name=summary]").fill("甲一村出租屋内查获零包贩毒")
    assert fits(page)
    watched.screenshot("enforcement-phone-1-case-form")
    form.get_by_role("button", name="保存").click()

    error = page.locator("#id_solved_on_errors")
    error.wait_for()
    assert "破案日期不能早于立案日期" in error.inner_text()
    assert page.locator("input[name=number]").input_value() == "甲公禁〔2026〕7号"
    assert page.locator("textarea[name=summary]").input_value() == "甲一村出租屋内查获零包贩毒"
    assert page.locator("input[name=street_dealing]").is_checked()
    watched.screenshot("enforcement-phone-2-error-kept")
    page.locator("input[name=solved_on]").fill("2026-03-09")
    page.get_by_role("button", name="保存").click()
    case = Case.objects.get(number="甲公禁〔2026〕7号")
    page.wait_for_url(live_server.url + reverse("enforcement:case", args=[case.pk]))
    assert "破案" in page.locator("h1").inner_text()

    page.get_by_role("link", name="添加").first.click()
    page.locator("input[name=name]").fill("吴某")
    page.locator("input[name=id_number]").fill(number)
    page.locator("label", has_text="本地").click()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(live_server.url + reverse("enforcement:case", args=[case.pk]))
    suspects = page.locator("#case-suspects").locator("xpath=../..")
    assert number not in suspects.inner_text() and number[-4:] in suspects.inner_text()

    page.locator("section", has=page.locator("#case-seizures")).get_by_role(
        "link", name="添加"
    ).click()
    page.locator("select[name=drug_type]").select_option(label="海洛因")
    page.locator("input[name=weight_g]").fill("-2.5")
    page.get_by_role("button", name="保存").click()
    page.locator("#id_weight_g_errors").wait_for()
    assert "重量不能为负数" in page.locator("#id_weight_g_errors").inner_text()
    assert page.locator("input[name=weight_g]").input_value() == "-2.5"
    page.locator("input[name=weight_g]").fill("2.5")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(live_server.url + reverse("enforcement:case", args=[case.pk]))
    seizures = page.locator("#case-seizures").locator("xpath=../..").inner_text()
    # Seized where and when the case was solved, unless the form said otherwise.
    assert "2.5" in seizures and "2026-03-09 · 甲一村" in seizures
    assert fits(page)
    watched.screenshot("enforcement-phone-3-case")

    reveal = page.locator(f"#reveal-suspect-{case.suspects.get().pk}")
    reveal.get_by_role("link", name="查看").click()
    holder = page.locator(f"#reveal-suspect-{case.suspects.get().pk}")
    holder.locator("input[name=reason]").fill("移送起诉核对身份")
    holder.get_by_role("button", name="查看").click()
    page.locator("[data-enforcement-revealed]").wait_for()
    assert page.locator("[data-enforcement-revealed]").inner_text() == number
    page.get_by_role("button", name="隐藏").click()
    assert number not in page.locator("main").inner_text()
    watched.screenshot("enforcement-phone-4-revealed-and-hidden")
    assert watched.problems() == []
