"""The county office reconciles the ledgers and sees the planted discrepancies.

Hand-made ledgers hold one discrepancy of each kind: a count short of the book,
a sale the buyer never recorded, a purchase the seller never did, a sale
reported late and purchases beyond the yearly allowance. In Chromium the
county office opens the reconciliation page, runs it, sees each kind with its
amount and the chart, follows a finding to its ledger line, and looks at the
page on a phone. Every page is watched for CSP violations, script errors and
static files that fail; screenshots land in test-output/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.browser.conftest import DESKTOP, PHONE, sign_in
from tests.test_regulation_factories import days_ago, line, make_unit, today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KINDS = ("账实不符", "销售无对应购入", "购入无对应销售", "销售未按时报告", "超核定数量购买")


def plant(personas) -> None:
    office, t = personas.county_officer, personas.territory
    trader = make_unit(
        office, t.village_a, t.police_dept, name="甲一化工经营部", items={"丙酮": None, "硫酸": 100}
    )
    buyer = make_unit(office, t.village_b, t.police_dept, name="乙一制药厂", kind="user")
    line(office, trader, "丙酮", "opening", days_ago(100), 100)
    line(office, trader, "丙酮", "count", days_ago(80), 90)
    line(
        office,
        trader,
        "丙酮",
        "sale",
        days_ago(60),
        30,
        counterparty="乙一制药厂",
        reported_on=days_ago(60),
    )
    line(office, buyer, "丙酮", "purchase", days_ago(50), 20, counterparty="甲一化工经营部")
    line(office, trader, "丙酮", "sale", days_ago(90), 5)
    line(office, trader, "硫酸", "purchase", today(), 60)
    line(office, trader, "硫酸", "purchase", today(), 50)


def test_the_county_office_runs_the_reconciliation_and_sees_the_planted_discrepancies(
    open_page, live_server, personas
):
    plant(personas)
    watched = open_page(DESKTOP)
    page = watched.page
    sign_in(watched, live_server, "county_officer")
    page.locator(f"#jd-sidenav a[href='{reverse('regulation:reconcile')}']").click()
    page.wait_for_url(live_server.url + reverse("regulation:reconcile"))
    assert "该期间没有核对问题" in page.locator("#jd-main").inner_text()
    watched.screenshot("regulation-1-reconcile-before")

    page.locator("#reconcile-run button[type=submit]").click()
    page.wait_for_url(re.compile(r"/regulation/reconcile/"))
    cards = page.locator("#finding-kinds")
    cards.wait_for()
    text = cards.inner_text()
    for kind in KINDS:
        assert kind in text, kind
    assert "短少 5 升" in text  # 100 − 5 sold, 90 counted
    assert "超出 10 千克" in text
    page.locator("[data-chart='findings'] canvas").first.wait_for()
    watched.screenshot("regulation-2-reconcile-found")

    balance = page.locator("#kind-balance")
    balance.get_by_role("link", name="台账").first.click()
    page.wait_for_url(re.compile(r"/regulation/units/\d+/ledger/\?year=\d+&item=\d+#entry-\d+"))
    target = page.url.split("#")[1]
    row = page.locator(f"#{target}")
    assert "table-warning" in (row.get_attribute("class") or "")
    assert "差异 -5" in row.inner_text()
    watched.screenshot("regulation-3-ledger-line")
    assert watched.problems() == []


def test_the_reconciliation_page_fits_a_phone(open_page, live_server, personas):
    plant(personas)
    from jindu.core.indicators import Period
    from jindu.regulation import reconcile
    from jindu.regulation.models import RegulatedUnit

    reconcile.run(
        actor=personas.county_officer,
        units=RegulatedUnit.objects.all(),
        period=Period.between(days_ago(364), today()),
    )
    watched = open_page(PHONE, phone=True)
    page = watched.page
    sign_in(watched, live_server, "county_officer")
    page.goto(live_server.url + reverse("regulation:reconcile"))
    page.locator("#finding-kinds").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    watched.screenshot("regulation-4-reconcile-phone")
    page.goto(live_server.url + reverse("regulation:units"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    watched.screenshot("regulation-5-units-phone")
    assert watched.problems() == []
