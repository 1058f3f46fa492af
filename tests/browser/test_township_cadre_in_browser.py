"""A township cadre signs in, looks around and signs out, on a desktop and on a phone.

Each step is a real page in headless Chromium; a screenshot of each lands in
test-output/screenshots/. Every page is watched for Content-Security-Policy
violations, script errors and static files that fail to load.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.browser.conftest import DESKTOP, PHONE, Watched, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HAN = re.compile(r"[\u4e00-\u9fff]")


def url(live_server, name: str) -> str:
    return live_server.url + reverse(name)


def assert_home_in_chinese(watched: Watched, personas) -> None:
    page = watched.page
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "禁毒工作平台" in page.title()
    header = page.locator(".jd-page-header")
    assert personas.cadre_a.full_name in header.inner_text()
    assert personas.territory.township_a.name in header.inner_text()
    body = page.locator("body").inner_text()
    assert len(HAN.findall(body)) > 20, body


def open_org_tree(watched: Watched, live_server, personas) -> None:
    page = watched.page
    page.locator(f"#jd-sidenav a[href='{reverse('orgs:tree')}']").click()
    page.wait_for_url(url(live_server, "orgs:tree"))
    main = page.locator("#jd-main")
    main.get_by_text(personas.territory.township_a.name).first.wait_for()
    # The cadre's scope is their own township: the other one is not on the page.
    assert personas.territory.township_b.name not in page.content()


def sign_out(watched: Watched, live_server) -> None:
    page = watched.page
    page.get_by_role("button", name="用户菜单").click()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(re.escape(url(live_server, "accounts:login"))))
    # Signed out for real: home now sends the browser back to the sign-in page.
    page.goto(url(live_server, "portal:home"))
    assert page.url.startswith(url(live_server, "accounts:login"))


def test_township_cadre_signs_in_navigates_and_signs_out_on_a_desktop(
    open_page, live_server, personas
):
    watched = open_page(DESKTOP)
    sign_in(watched, live_server, "cadre_a")
    assert_home_in_chinese(watched, personas)
    assert watched.page.locator("#jd-sidenav").is_visible()
    watched.screenshot("desktop-1-home")

    open_org_tree(watched, live_server, personas)
    watched.screenshot("desktop-2-org-tree")

    sign_out(watched, live_server)
    watched.screenshot("desktop-3-signed-out")
    assert watched.problems() == []


def test_township_cadre_signs_in_navigates_and_signs_out_on_a_phone(
    open_page, live_server, personas
):
    watched = open_page(PHONE, phone=True)
    page = watched.page
    sign_in(watched, live_server, "cadre_a")
    assert_home_in_chinese(watched, personas)
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The side navigation hides behind the menu button on a phone.
    assert not page.locator("#jd-sidenav").is_visible()
    watched.screenshot("phone-1-home")

    page.get_by_role("button", name="打开导航").click()
    page.locator("#jd-sidenav.show").wait_for()
    watched.screenshot("phone-2-nav-open")

    open_org_tree(watched, live_server, personas)
    watched.screenshot("phone-3-org-tree")

    sign_out(watched, live_server)
    watched.screenshot("phone-4-signed-out")
    assert watched.problems() == []


def test_the_sign_in_page_is_chinese_and_clean_before_signing_in(open_page, live_server, db):
    watched = open_page(PHONE, phone=True)
    watched.page.goto(url(live_server, "accounts:login"))
    assert watched.page.locator("html").get_attribute("lang") == "zh-hans"
    assert watched.page.get_by_role("button", name="登录", exact=True).is_visible()
    watched.screenshot("phone-0-sign-in")
    assert watched.problems() == []


def test_the_watch_catches_an_inline_script_under_the_apps_own_policy(open_page, live_server, db):
    """The CSP check above can fail: a page that breaks the app's policy is caught."""
    watched = open_page(DESKTOP)
    page = watched.page
    policy = page.goto(url(live_server, "accounts:login")).headers["content-security-policy"]
    probe = live_server.url + "/csp-probe"
    page.route(
        probe,
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": policy},
            body="<!doctype html><title>probe</title><script>document.title = 'ran'</script>",
        ),
    )
    page.goto(probe)
    page.wait_for_load_state("load")
    assert page.title() == "probe"
    assert watched.csp_violations, "the inline script was refused but not reported"
