"""The sign-in page: success, the one generic error, rotation, redirects, sign-out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from jindu.accounts import services
from jindu.accounts.models import LoginAttempt, UserSession
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import sign_in, sign_in_via_page
from tests.personas import PASSWORD

LOGIN = "/accounts/login/"


def post_login(client, username, password, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password, **extra}
    )


def test_login_page_has_the_named_fields_and_the_button(client, db):
    response = client.get(reverse("accounts:login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert ">登录</button>" in html
    assert reverse("accounts:login") == LOGIN


def test_cadre_signs_in_and_lands_on_home(client, personas):
    response = post_login(client, "cadre_a", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200
    assert UserSession.objects.filter(user=personas.cadre_a).count() == 1


def test_session_key_rotates_at_login(client, personas):
    session = client.session
    session["planted"] = "by someone else"
    session.save()
    planted_key = session.session_key
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == planted_key

    post_login(client, "cadre_a", PASSWORD)

    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != planted_key
    assert UserSession.objects.get(user=personas.cadre_a).session_key == new_key
    assert not UserSession.objects.filter(session_key=planted_key).exists()


def test_session_key_rotates_for_the_totp_step_too(client, personas):
    session = client.session
    session.save()
    planted_key = session.session_key
    post_login(client, "sec_admin", PASSWORD)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != planted_key


def _error_box(response) -> str:
    html = response.content.decode()
    start = html.index('id="login-error"')
    return html[start : html.index("</div></div>", start)]


def test_unknown_user_wrong_password_and_disabled_account_get_the_same_answer(client, personas):
    services.set_active(actor=None, user=personas.leader, active=False)
    unknown = post_login(client, "nobody_here", PASSWORD)
    wrong = post_login(client, "cadre_a", "Wrong#Pass99")
    disabled = post_login(client, "leader", PASSWORD)

    for response in (unknown, wrong, disabled):
        assert response.status_code == 200
        assert "用户名或密码错误" in response.content.decode()
    assert _error_box(unknown) == _error_box(wrong) == _error_box(disabled)
    assert "不存在" not in unknown.content.decode()
    assert "停用" not in disabled.content.decode()


def test_typed_username_is_kept_after_a_failure_but_not_the_password(client, personas):
    response = post_login(client, "cadre_a", "Wrong#Pass99")
    html = response.content.decode()
    assert 'value="cadre_a"' in html
    assert "Wrong#Pass99" not in html


def test_every_attempt_is_recorded_and_audited(client, personas):
    post_login(client, "cadre_a", "Wrong#Pass99")
    post_login(client, "nobody_here", "Wrong#Pass99")
    post_login(client, "cadre_a", PASSWORD)

    attempts = list(
        LoginAttempt.objects.order_by("id").values_list("username", "success", "reason")
    )
    assert attempts == [
        ("cadre_a", False, "bad_password"),
        ("nobody_here", False, "unknown_user"),
        ("cadre_a", True, "ok"),
    ]
    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("seq")
    assert [e.username for e in failed] == ["cadre_a", "nobody_here"]
    assert all(e.result == "failure" for e in failed)
    login_row = AuditEvent.objects.get(action=Action.LOGIN)
    assert login_row.username == "cadre_a"
    assert login_row.client_address == "127.0.0.1"


def test_empty_fields_get_chinese_messages(client, db):
    response = post_login(client, "", "")
    html = response.content.decode()
    assert "请输入用户名" in html
    assert "请输入密码" in html
    assert LoginAttempt.objects.count() == 0


def test_safe_next_is_followed(client, personas):
    response = post_login(client, "cadre_a", PASSWORD, next="/notifications/")
    assert response.url == "/notifications/"


@pytest.mark.parametrize(
    "evil", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_next_to_another_host_is_ignored(client, personas, evil):
    response = post_login(client, "cadre_a", PASSWORD, next=evil)
    assert response.url == reverse("portal:home")


def test_next_survives_the_totp_step(client, personas):
    response = sign_in_via_page(client, personas.sec_admin, next_url="/accounts/policy/")
    assert response.url == "/accounts/policy/"


def test_anonymous_page_visit_goes_to_login_with_next(client, db):
    response = client.get(reverse("accounts:my_logins"))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN + "?next=")


def test_signed_in_user_opening_login_goes_home(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 302
    assert response.url == reverse("portal:home")


def test_logout_by_get_is_refused(client, personas):
    sign_in(client, personas.cadre_a)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(reverse("portal:home")).status_code == 200


def test_logout_ends_the_session_and_is_audited(client, personas):
    sign_in_via_page(client, personas.cadre_a)
    assert UserSession.objects.filter(user=personas.cadre_a).exists()

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response.url == LOGIN
    assert not UserSession.objects.filter(user=personas.cadre_a).exists()
    assert AuditEvent.objects.filter(action=Action.LOGOUT, username="cadre_a").count() == 1
    assert client.get(reverse("portal:home")).status_code == 302


def test_logout_without_csrf_token_is_refused(personas):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    sign_in(strict, personas.cadre_a)
    assert strict.post(reverse("accounts:logout")).status_code == 403
    assert UserSession.objects.filter(user=personas.cadre_a).exists()


def test_login_page_is_not_cached(client, db):
    response = client.get(reverse("accounts:login"))
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
