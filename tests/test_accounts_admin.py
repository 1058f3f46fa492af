"""The system administrator's account pages: list, create, name, disable, reset password."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from jindu.accounts import services
from jindu.accounts.models import User
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import sign_in, sign_in_via_page
from tests.personas import PASSWORD, PERSONAS

LIST = "/accounts/users/"
CREATE = "/accounts/users/new/"


@pytest.fixture
def admin(client, personas):
    sign_in(client, personas.sys_admin)
    return client


@pytest.fixture
def township_sys_admin(territory):
    """A system administrator whose unit is 甲镇: 乙镇's accounts are outside their reach."""
    return services.create_user(
        actor=None,
        username="sys_a",
        full_name="甲镇系统员",
        org_unit=territory.township_a,
        password=PASSWORD,
        roles={"sys_admin"},
        must_change_password=False,
    )


def account_urls(pk):
    return [
        reverse("accounts:account_detail", args=[pk]),
        reverse("accounts:account_set_active", args=[pk]),
        reverse("accounts:account_reset_password", args=[pk]),
    ]


# ------------------------------------------------------------------ who may
@pytest.mark.parametrize("name", [p for p in PERSONAS if p != "sys_admin"])
def test_account_pages_are_refused_to_everyone_but_the_system_admin(client, personas, name):
    sign_in(client, personas.users[name])
    target = personas.cadre_b.pk
    for url in [LIST, CREATE, *account_urls(target)]:
        assert client.get(url).status_code == 403, url
    assert (
        client.post(
            CREATE,
            {"username": "x_new", "full_name": "某", "org_unit": personas.territory.county.pk},
        ).status_code
        == 403
    )
    assert client.post(reverse("accounts:account_set_active", args=[target])).status_code == 403
    assert not User.objects.filter(username="x_new").exists()
    assert User.objects.get(pk=target).is_active
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, username=name).exists()


def test_account_pages_send_anonymous_to_login(client, personas):
    for url in [LIST, CREATE, *account_urls(personas.cadre_b.pk)]:
        assert client.get(url).url.startswith(reverse("accounts:login")), url


def test_account_outside_the_admins_unit_is_404(client, personas, township_sys_admin):
    sign_in(client, township_sys_admin)
    for url in account_urls(personas.cadre_b.pk):
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
    assert User.objects.get(pk=personas.cadre_b.pk).is_active
    assert (
        client.get(reverse("accounts:account_detail", args=[personas.cadre_a.pk])).status_code
        == 200
    )


def test_unknown_account_is_404(admin):
    assert admin.get(reverse("accounts:account_detail", args=[999999])).status_code == 404


# ------------------------------------------------------------------ the list
def test_list_shows_accounts_with_roles(admin, personas):
    html = admin.get(LIST).content.decode()
    assert "cadre_a" in html
    assert "乡镇禁毒专干" in html
    assert "安全管理员" in html


def test_list_searches_by_username_or_name(admin, personas):
    html = admin.get(LIST, {"q": "CADRE"}).content.decode()
    assert "cadre_a" in html and "cadre_b" in html
    assert "grid_worker" not in html
    html = admin.get(LIST, {"q": "甲网格"}).content.decode()
    assert "grid_worker" in html
    assert "cadre_a" not in html


def test_list_filters_by_unit_including_units_below(admin, personas, territory):
    html = admin.get(LIST, {"unit": territory.township_a.pk}).content.decode()
    assert "cadre_a" in html and "grid_worker" in html and "police_officer" in html
    assert "cadre_b" not in html
    assert "leader" not in html


def test_list_filters_by_status(admin, personas):
    services.set_active(actor=personas.sys_admin, user=personas.leader, active=False)
    disabled = admin.get(LIST, {"status": "disabled"}).content.decode()
    active = admin.get(LIST, {"status": "active"}).content.decode()
    assert ">leader<" in disabled and ">cadre_a<" not in disabled
    assert ">leader<" not in active and ">cadre_a<" in active


def test_list_of_a_township_admin_shows_only_their_township(
    client, personas, township_sys_admin, territory
):
    sign_in(client, township_sys_admin)
    html = client.get(LIST).content.decode()
    assert "cadre_a" in html
    assert "cadre_b" not in html
    assert "乙镇" not in html
    outside = client.get(LIST, {"unit": territory.township_b.pk}).content.decode()
    assert "cadre_b" not in outside


def test_list_shows_no_personal_data_fields(admin, personas):
    html = admin.get(LIST).content.decode()
    for word in ("身份证", "手机", "电话"):
        assert word not in html


# ------------------------------------------------------------------ create
def test_create_with_a_generated_password_shows_it_once(admin, personas, territory):
    response = admin.post(
        CREATE,
        {
            "username": "new_cadre",
            "full_name": "新专干",
            "org_unit": territory.township_a.pk,
            "password": "",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    password = re.search(r'id="generated-password">([^<]+)<', html).group(1)
    user = User.objects.get(username="new_cadre")
    assert user.check_password(password)
    assert user.must_change_password
    assert user.role_codes == frozenset()
    assert user.org_unit == territory.township_a
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert (
        password
        not in admin.get(reverse("accounts:account_detail", args=[user.pk])).content.decode()
    )
    event = AuditEvent.objects.get(action=Action.ACCOUNT_CREATED, object_id=str(user.pk))
    assert event.username == "sys_admin"
    assert password not in event.detail

    first = Client()
    assert sign_in_via_page(first, user, password=password).url == reverse(
        "accounts:password_change"
    )


def test_create_with_a_typed_password(admin, personas, territory):
    response = admin.post(
        CREATE,
        {
            "username": "typed_one",
            "full_name": "某某",
            "org_unit": territory.county.pk,
            "department": territory.education_dept.pk,
            "password": "Given#Pass2026",
        },
    )
    user = User.objects.get(username="typed_one")
    assert response.url == reverse("accounts:account_detail", args=[user.pk])
    assert user.check_password("Given#Pass2026")
    assert user.department == territory.education_dept


def test_create_refuses_a_taken_username_in_any_case_and_keeps_the_input(
    admin, personas, territory
):
    response = admin.post(
        CREATE, {"username": "CADRE_A", "full_name": "重名者", "org_unit": territory.township_a.pk}
    )
    html = response.content.decode()
    assert "该用户名已被使用" in html
    assert 'value="CADRE_A"' in html
    assert 'value="重名者"' in html
    assert User.objects.filter(full_name="重名者").count() == 0


def test_create_refuses_a_weak_password_in_chinese(admin, territory):
    response = admin.post(
        CREATE,
        {
            "username": "weak_one",
            "full_name": "某",
            "org_unit": territory.county.pk,
            "password": "weak",
        },
    )
    assert "密码至少需要8位" in response.content.decode()
    assert not User.objects.filter(username="weak_one").exists()


def test_create_refuses_a_bad_username(admin, territory):
    response = admin.post(
        CREATE, {"username": "张 三", "full_name": "张三", "org_unit": territory.county.pk}
    )
    assert "只能包含字母、数字" in response.content.decode()


def test_create_offers_and_accepts_only_units_in_the_admins_subtree(
    client, territory, township_sys_admin
):
    sign_in(client, township_sys_admin)
    form = client.get(CREATE).content.decode()
    assert "甲一村" in form
    assert "乙镇" not in form and "乙一村" not in form
    response = client.post(
        CREATE, {"username": "sneaky", "full_name": "某", "org_unit": territory.township_b.pk}
    )
    assert "所选单位不存在或不在您的管理范围内" in response.content.decode()
    assert not User.objects.filter(username="sneaky").exists()


# ------------------------------------------------------------------ edit, disable, reset
def test_edit_name_is_audited(admin, personas):
    url = reverse("accounts:account_detail", args=[personas.cadre_a.pk])
    admin.post(url, {"full_name": "甲镇专干（新）"})
    personas.cadre_a.refresh_from_db()
    assert personas.cadre_a.full_name == "甲镇专干（新）"
    event = AuditEvent.objects.get(action=Action.ACCOUNT_UPDATED)
    assert "甲镇专干（新）" in event.detail


def test_empty_name_is_refused(admin, personas):
    url = reverse("accounts:account_detail", args=[personas.cadre_a.pk])
    assert "请填写姓名" in admin.post(url, {"full_name": ""}).content.decode()


def test_disable_needs_confirmation_then_disables_and_audits(admin, personas):
    url = reverse("accounts:account_set_active", args=[personas.cadre_a.pk])
    confirm = admin.get(url)
    assert "确定要停用" in confirm.content.decode()
    assert User.objects.get(pk=personas.cadre_a.pk).is_active

    admin.post(url)

    assert not User.objects.get(pk=personas.cadre_a.pk).is_active
    assert AuditEvent.objects.filter(
        action=Action.ACCOUNT_DISABLED, object_id=str(personas.cadre_a.pk)
    ).exists()
    assert sign_in_via_page(Client(), personas.cadre_a).status_code == 200

    admin.post(url)
    assert User.objects.get(pk=personas.cadre_a.pk).is_active
    assert AuditEvent.objects.filter(action=Action.ACCOUNT_ENABLED).exists()


def test_admin_cannot_disable_themselves(admin, personas):
    admin.post(reverse("accounts:account_set_active", args=[personas.sys_admin.pk]))
    assert User.objects.get(pk=personas.sys_admin.pk).is_active


def test_last_security_admin_cannot_be_disabled(admin, personas):
    response = admin.post(
        reverse("accounts:account_set_active", args=[personas.sec_admin.pk]), follow=True
    )
    assert "唯一启用的安全管理员" in response.content.decode()
    assert User.objects.get(pk=personas.sec_admin.pk).is_active


def test_reset_with_a_generated_password(admin, personas):
    url = reverse("accounts:account_reset_password", args=[personas.cadre_a.pk])
    response = admin.post(url, {"new_password": ""})
    password = re.search(r'id="generated-password">([^<]+)<', response.content.decode()).group(1)
    user = User.objects.get(pk=personas.cadre_a.pk)
    assert user.check_password(password)
    assert user.must_change_password
    assert AuditEvent.objects.filter(action=Action.PASSWORD_RESET).exists()


def test_reset_refuses_a_weak_password(admin, personas):
    url = reverse("accounts:account_reset_password", args=[personas.cadre_a.pk])
    response = admin.post(url, {"new_password": "cadre_a#X1"})
    assert "密码不能包含用户名" in response.content.decode()
    assert User.objects.get(pk=personas.cadre_a.pk).check_password(PASSWORD)
