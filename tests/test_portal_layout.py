"""The shell around every page: top bar, user menu, bell, navigation, messages, language."""

from __future__ import annotations

import copy
import re

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path, reverse

from jindu.core.access import public
from jindu.core.roles import Perm
from jindu.portal import navigation
from tests.helpers import sign_in


@public
def _stub(request):
    return HttpResponse("stub")


# A URLconf in which only some account pages exist, to show that the user menu
# offers exactly the pages that resolve.
urlpatterns = [
    path("", include("jindu.portal.urls")),
    path("notifications/", include("jindu.notifications.urls")),
    path(
        "accounts/",
        include(
            (
                [
                    path("login/", _stub, name="login"),
                    path("logout/", _stub, name="logout"),
                    path("logins/", _stub, name="my_logins"),
                ],
                "accounts",
            )
        ),
    ),
]


@pytest.fixture
def areas():
    """The areas with no page registered, whatever the apps have registered so far;
    a test registers its own pages, and the apps' are put back afterwards."""
    saved = copy.deepcopy(navigation.AREAS)
    for area in navigation.AREAS.values():
        area.entries = []
    yield navigation.AREAS
    navigation.AREAS.clear()
    navigation.AREAS.update(saved)


def _home_html(client, user):
    sign_in(client, user)
    return client.get(reverse("portal:home")).content.decode()


# ---------------------------------------------------------------- top bar and user menu


def test_top_bar_shows_name_unit_and_roles(client, personas):
    body = _home_html(client, personas.police_officer)
    assert "禁毒工作平台" in body
    assert "甲所民警" in body
    assert "甲镇" in body
    assert "民警" in body
    assert "青岚县公安局" in body


def test_bell_loads_its_count_by_htmx_and_polls_in_the_background(client, personas):
    body = _home_html(client, personas.cadre_a)
    bell = re.search(r'<span class="jd-bell-count"[^>]*>', body).group(0)
    assert f'hx-get="{reverse("notifications:bell")}"' in bell
    assert 'hx-trigger="load, every 60s' in bell
    assert "X-Jindu-Background" in bell


def test_body_carries_the_csrf_header_for_htmx_and_the_htmx_config(client, personas):
    body = _home_html(client, personas.cadre_a)
    assert re.search(r"<body[^>]*hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", body)
    assert '<meta name="htmx-config"' in body
    assert '"includeIndicatorStyles": false' in body


@pytest.mark.urls("tests.test_portal_layout")
def test_user_menu_offers_only_account_pages_that_exist(client, personas):
    body = _home_html(client, personas.cadre_a)
    assert 'href="/accounts/logins/"' in body
    assert "我的登录记录" in body
    assert "修改密码" not in body
    assert "动态口令" not in body


@pytest.mark.urls("tests.test_portal_layout")
def test_logout_is_a_post_form(client, personas):
    body = _home_html(client, personas.cadre_a)
    form = re.search(r'<form method="post" action="/accounts/logout/">.*?</form>', body, re.S)
    assert form is not None
    assert "csrfmiddlewaretoken" in form.group(0)
    assert "退出" in form.group(0)


def test_demo_banner_shows_only_on_a_demo(client, personas):
    assert "演示数据 · 均为虚构" not in _home_html(client, personas.cadre_a)
    with override_settings(DEMO=True):
        assert "演示数据 · 均为虚构" in client.get(reverse("portal:home")).content.decode()


def test_messages_are_shown_and_dismissible(client, personas):
    sign_in(client, personas.cadre_a)
    body = client.post(reverse("notifications:mark_all_read"), follow=True).content.decode()
    alert = re.search(r'<div class="alert alert-info[^"]*"[^>]*>.*?</div>', body, re.S).group(0)
    assert "没有未读通知" in alert
    assert 'data-bs-dismiss="alert"' in alert


# ---------------------------------------------------------------- language


def test_language_switch_posts_to_set_language(client, personas):
    body = _home_html(client, personas.cadre_a)
    form = re.search(r'<form method="post" action="/i18n/setlang/".*?</form>', body, re.S)
    assert form is not None
    assert 'name="language" value="en"' in form.group(0)
    assert 'name="language" value="zh-hans"' in form.group(0)


def test_switching_to_english_changes_the_page_language(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("portal:set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.url == "/"
    assert '<html lang="en">' in client.get("/").content.decode()


def test_language_switch_refuses_get(client, db):
    assert client.get(reverse("portal:set_language") + "?language=en").status_code == 405


def test_language_switch_never_redirects_off_site(client, db):
    response = client.post(
        reverse("portal:set_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.url


# ---------------------------------------------------------------- navigation


def test_everyday_roles_see_every_work_area_not_yet_open_greyed(client, personas, areas):
    body = _home_html(client, personas.grid_worker)
    nav = re.search(r'<nav class="offcanvas-lg.*?</nav>', body, re.S).group(0)
    labels = ["目标任务", "预防教育", "戒毒管控", "缉毒打击", "禁毒监管", "毒情监测", "督导考核"]
    positions = [nav.index(label) for label in labels]
    assert positions == sorted(positions)
    assert nav.count("待开通") == len(labels)
    assert 'aria-disabled="true"' in nav
    assert "系统管理" not in nav


@pytest.mark.parametrize("name", ["sys_admin", "sec_admin", "audit_admin"])
def test_administrators_never_see_work_areas(client, personas, name, areas):
    # Even a work page open to any signed-in user stays out of their navigation.
    navigation.register("rehab", "人人可见", "notifications:list", None)
    body = _home_html(client, personas.users[name])
    nav = re.search(r'<nav class="offcanvas-lg.*?</nav>', body, re.S).group(0)
    assert "待开通" not in nav
    assert "戒毒管控" not in nav
    assert "人人可见" not in nav


def test_user_without_role_sees_no_areas(client, personas, areas):
    assert navigation.navigation_for(personas.no_role, "/") == []


def test_registered_page_shows_to_roles_that_may_open_it(client, personas, areas):
    navigation.register("rehab", "测试台账", "notifications:list", Perm.PERSONAL_DATA, "list")
    cadre = navigation.navigation_for(personas.cadre_a, "/")
    rehab = next(a for a in cadre if a["key"] == "rehab")
    assert rehab["open"] is True
    assert [str(e["label"]) for e in rehab["entries"]] == ["测试台账"]
    leader = navigation.navigation_for(personas.leader, "/")
    # The leader may not open the only page, so the area is not shown at all.
    assert "rehab" not in [a["key"] for a in leader]


def test_system_area_shows_to_administrators_with_their_pages_only(personas, areas):
    navigation.register("system", "字典管理", "notifications:list", Perm.CODES_MANAGE)
    navigation.register("system", "会话管理", "notifications:bell", Perm.SESSION_MANAGE)
    sys_nav = navigation.navigation_for(personas.sys_admin, "/")
    assert [a["key"] for a in sys_nav] == ["system"]
    assert [str(e["label"]) for e in sys_nav[0]["entries"]] == ["字典管理"]
    sec_nav = navigation.navigation_for(personas.sec_admin, "/")
    assert [str(e["label"]) for e in sec_nav[0]["entries"]] == ["会话管理"]
    assert navigation.navigation_for(personas.audit_admin, "/") == []


def test_current_page_is_marked_active(client, personas, areas):
    navigation.register("targets", "通知台账", "notifications:list", None)
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("notifications:list")).content.decode()
    nav = re.search(r'<nav class="offcanvas-lg.*?</nav>', body, re.S).group(0)
    assert re.search(r'class="nav-link active" href="/notifications/" aria-current="page"', nav)
    entries = navigation.navigation_for(personas.cadre_a, "/notifications/")
    assert next(a for a in entries if a["key"] == "targets")["active"] is True


def test_a_page_whose_url_is_not_wired_is_left_out(personas, areas):
    navigation.register("targets", "未接入", "nowhere:page", None)
    targets = next(
        a for a in navigation.navigation_for(personas.cadre_a, "/") if a["key"] == "targets"
    )
    assert targets["entries"] == []
    assert targets["open"] is False


def test_registering_twice_keeps_one_entry(areas):
    navigation.register("targets", "目标", "notifications:list", None)
    navigation.register("targets", "目标", "notifications:list", None)
    assert len(navigation.AREAS["targets"].entries) == 1


def test_narrow_screens_get_an_offcanvas_opened_by_a_button(client, personas):
    body = _home_html(client, personas.grid_worker)
    assert 'data-bs-toggle="offcanvas" data-bs-target="#jd-sidenav"' in body
    assert re.search(r'<nav class="offcanvas-lg offcanvas-start[^"]*" id="jd-sidenav"', body)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body


def test_anonymous_pages_have_no_navigation_or_user_menu(client, db):
    body = client.get("/no-such-page/").content.decode()
    assert "jd-sidenav" not in body
    assert "用户菜单" not in body
    assert "jd-bell" not in body
    assert 'action="/i18n/setlang/"' in body


def test_forced_password_change_hides_the_navigation(client, personas):
    personas.cadre_a.must_change_password = True
    personas.cadre_a.save(update_fields=["must_change_password"])
    sign_in(client, personas.cadre_a)
    # The error page is one the user may still reach in that state.
    body = client.get("/no-such-page/").content.decode()
    assert "jd-sidenav" not in body
    assert "甲镇专干" in body


def test_favicon_request_is_sent_to_the_icon_that_exists(client, db):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.url == "/static/jindu/favicon.svg"
    assert finders.find("jindu/favicon.svg") is not None


def test_home_answers_head_requests(client, personas):
    sign_in(client, personas.cadre_a)
    assert client.head(reverse("portal:home")).status_code == 200


def test_only_the_closest_entry_is_active(personas, areas):
    navigation.register("system", "通知", "notifications:list", None)
    navigation.register("system", "铃", "notifications:bell", None)
    nav = navigation.navigation_for(personas.cadre_a, "/notifications/bell/")
    entries = {str(e["label"]): e["active"] for a in nav for e in a["entries"]}
    assert entries == {"通知": False, "铃": True}
