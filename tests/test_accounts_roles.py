"""The security administrator's pages for roles and scopes (三员分立 included)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from jindu.accounts import services
from jindu.accounts.models import User
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import sign_in
from tests.personas import PASSWORD, PERSONAS

LIST = "/accounts/roles/"


@pytest.fixture
def sec(client, personas):
    sign_in(client, personas.sec_admin)
    return client


@pytest.fixture
def township_sec_admin(territory):
    return services.create_user(
        actor=None,
        username="sec_a",
        full_name="甲镇安全员",
        org_unit=territory.township_a,
        password=PASSWORD,
        roles={"sec_admin"},
        must_change_password=False,
    )


def edit_url(pk):
    return reverse("accounts:role_edit", args=[pk])


def save_roles(client, user, roles):
    return client.post(reverse("accounts:role_save", args=[user.pk]), {"roles": roles})


def save_scope(client, user, unit, department=""):
    return client.post(
        reverse("accounts:scope_save", args=[user.pk]),
        {"org_unit": unit.pk, "department": department},
    )


def ticked(html, value) -> bool:
    tag = re.search(rf'<input[^>]*name="roles"[^>]*value="{value}"[^>]*>', html).group(0)
    return " checked" in tag


def roles_of(user):
    return set(User.objects.get(pk=user.pk).role_grants.values_list("role", flat=True))


# ------------------------------------------------------------------ who may
@pytest.mark.parametrize("name", [p for p in PERSONAS if p != "sec_admin"])
def test_role_pages_are_refused_to_everyone_but_the_security_admin(client, personas, name):
    sign_in(client, personas.users[name])
    target = personas.cadre_b
    for url in (LIST, edit_url(target.pk), reverse("accounts:totp_reset", args=[target.pk])):
        assert client.get(url).status_code == 403, url
    assert save_roles(client, target, ["leader"]).status_code == 403
    assert save_scope(client, target, personas.territory.county).status_code == 403
    assert roles_of(target) == {"township_manager"}
    assert User.objects.get(pk=target.pk).org_unit == personas.territory.township_b


def test_role_pages_send_anonymous_to_login(client, personas):
    for url in (LIST, edit_url(personas.cadre_b.pk)):
        assert client.get(url).url.startswith(reverse("accounts:login"))


def test_account_outside_the_admins_unit_is_404(client, personas, township_sec_admin):
    sign_in(client, township_sec_admin)
    target = personas.cadre_b
    assert client.get(edit_url(target.pk)).status_code == 404
    assert save_roles(client, target, ["leader"]).status_code == 404
    assert save_scope(client, target, personas.territory.township_a).status_code == 404
    assert client.post(reverse("accounts:totp_reset", args=[target.pk])).status_code == 404
    assert roles_of(target) == {"township_manager"}
    assert "cadre_b" not in client.get(LIST).content.decode()
    assert client.get(edit_url(personas.cadre_a.pk)).status_code == 200


# ------------------------------------------------------------------ the pages
def test_list_shows_roles_scope_and_totp_state(sec, personas):
    html = sec.get(LIST).content.decode()
    assert "cadre_b" in html and "乙镇" in html
    assert "成员单位填报员" in html and "教育局" in html
    assert "未绑定" in html


def test_edit_page_shows_checkboxes_for_every_role(sec, personas):
    html = sec.get(edit_url(personas.cadre_a.pk)).content.decode()
    assert html.count('type="checkbox" name="roles"') == 9
    assert ticked(html, "township_manager")
    assert not ticked(html, "leader")


def test_granting_and_revoking_roles_is_audited(sec, personas):
    response = save_roles(sec, personas.cadre_a, ["township_manager", "leader"])
    assert response.url == edit_url(personas.cadre_a.pk)
    assert roles_of(personas.cadre_a) == {"township_manager", "leader"}
    granted = AuditEvent.objects.get(action=Action.ROLE_GRANTED)
    assert granted.username == "sec_admin" and '"role":"leader"' in granted.detail

    save_roles(sec, personas.cadre_a, ["leader"])
    revoked = AuditEvent.objects.get(action=Action.ROLE_REVOKED)
    assert '"role":"township_manager"' in revoked.detail


def test_two_administrator_roles_are_refused_in_chinese(sec, personas):
    response = save_roles(sec, personas.no_role, ["sys_admin", "audit_admin"])
    assert response.status_code == 200
    assert "不能同时担任两个管理员角色（三员分立）" in response.content.decode()
    assert roles_of(personas.no_role) == set()


def test_administrator_with_an_everyday_role_is_refused_in_chinese(sec, personas):
    response = save_roles(sec, personas.no_role, ["audit_admin", "leader"])
    assert "管理员账号不能兼任业务角色（三员分立）" in response.content.decode()
    assert roles_of(personas.no_role) == set()


def test_refused_roles_stay_ticked(sec, personas):
    html = save_roles(sec, personas.no_role, ["audit_admin", "leader"]).content.decode()
    assert ticked(html, "audit_admin")
    assert ticked(html, "leader")
    assert not ticked(html, "sys_admin")


def test_security_admin_cannot_change_their_own_roles(sec, personas):
    response = save_roles(sec, personas.sec_admin, ["leader"])
    assert "不能修改自己的角色" in response.content.decode()
    assert roles_of(personas.sec_admin) == {"sec_admin"}


def test_last_holder_of_an_administrator_role_keeps_it(sec, personas):
    response = save_roles(sec, personas.audit_admin, [])
    assert "唯一启用的审计管理员" in response.content.decode()
    assert roles_of(personas.audit_admin) == {"audit_admin"}


def test_administrator_role_moves_when_another_holder_exists(sec, personas):
    save_roles(sec, personas.no_role, ["audit_admin"])
    save_roles(sec, personas.audit_admin, [])
    assert roles_of(personas.audit_admin) == set()


def test_scope_change_is_audited_and_ends_sessions(sec, personas, territory):
    response = save_scope(sec, personas.cadre_a, territory.village_a)
    assert response.url == edit_url(personas.cadre_a.pk)
    assert User.objects.get(pk=personas.cadre_a.pk).org_unit == territory.village_a
    event = AuditEvent.objects.get(action=Action.SCOPE_CHANGED)
    assert event.username == "sec_admin"
    assert str(territory.village_a.pk) in event.detail


def test_scope_with_a_department(sec, personas, territory):
    save_scope(sec, personas.no_role, territory.county, territory.police_dept.pk)
    user = User.objects.get(pk=personas.no_role.pk)
    assert user.department == territory.police_dept


def test_scope_outside_the_admins_subtree_is_refused(
    client, personas, territory, township_sec_admin
):
    sign_in(client, township_sec_admin)
    form = client.get(edit_url(personas.cadre_a.pk)).content.decode()
    assert "乙一村" not in form
    response = save_scope(client, personas.cadre_a, territory.township_b)
    assert "所选单位不存在或不在您的管理范围内" in response.content.decode()
    assert User.objects.get(pk=personas.cadre_a.pk).org_unit == territory.township_a


def test_scope_change_service_refuses_a_unit_outside_the_actor(
    personas, territory, township_sec_admin
):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.set_scope(
            actor=township_sec_admin, user=personas.cadre_a, org_unit=territory.township_b
        )


def _nav_urls(user):
    from jindu.portal.navigation import navigation_for

    return {entry["url"] for area in navigation_for(user, "/") for entry in area["entries"]}


def test_security_admin_finds_their_pages_in_the_navigation(personas):
    urls = _nav_urls(personas.sec_admin)
    assert {LIST, "/accounts/sessions/", "/accounts/policy/"} <= urls
    assert "/accounts/users/" not in urls


def test_system_admin_finds_account_management_in_the_navigation(personas):
    urls = _nav_urls(personas.sys_admin)
    assert "/accounts/users/" in urls
    assert LIST not in urls and "/accounts/policy/" not in urls


@pytest.mark.parametrize("name", [p for p in PERSONAS if p not in ("sys_admin", "sec_admin")])
def test_everyone_else_sees_no_account_pages_in_the_navigation(personas, name):
    assert not any(url.startswith("/accounts/") for url in _nav_urls(personas.users[name]))
