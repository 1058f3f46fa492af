"""TOTP: required for the three administrators, enrolment, the code step, replay, drift."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jindu.accounts import services, totp
from jindu.accounts.models import Lockout, LoginAttempt, User, UserSession
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import fresh_totp_code, sign_in, sign_in_via_page, travelling_clock
from tests.personas import ADMIN_PERSONAS, PASSWORD

ENROL = "/accounts/login/enrol/"
CODE = "/accounts/login/code/"


def password_step(client, username, password=PASSWORD, address="10.0.0.1"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def enrol(client, user):
    """Take an administrator through password and enrolment; leaves them signed in."""
    response = password_step(client, user.username)
    assert response.url == ENROL
    response = client.post(ENROL, {"code": fresh_totp_code(user)})
    assert response.status_code == 302
    client.post(reverse("accounts:logout"))
    user.refresh_from_db()
    return user


def wrong_code(user) -> str:
    user.refresh_from_db()
    valid = {totp.code_at(user.totp_secret, totp.current_counter() + d) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


@pytest.mark.parametrize("name", ADMIN_PERSONAS)
def test_administrator_without_totp_cannot_reach_any_page(client, personas, name):
    response = password_step(client, name)
    assert response.status_code == 302
    assert response.url == ENROL
    for url in (
        "/",
        reverse("accounts:my_logins"),
        reverse("accounts:sessions"),
        reverse("accounts:account_list"),
        reverse("accounts:password_change"),
    ):
        page = client.get(url)
        assert page.status_code == 302, url
        assert page.url.startswith(reverse("accounts:login")), url
    assert not UserSession.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.LOGIN).exists()


@pytest.mark.parametrize("name", ADMIN_PERSONAS)
def test_administrator_enrols_at_first_login_and_is_signed_in(client, personas, name):
    user = personas.users[name]
    password_step(client, name)
    page = client.get(ENROL)
    html = page.content.decode()
    user.refresh_from_db()
    assert page.status_code == 200
    assert totp.grouped(user.totp_secret) in html
    assert reverse("accounts:totp_qr") in html
    assert "data:" not in html
    assert user.totp_confirmed_at is None

    response = client.post(ENROL, {"code": fresh_totp_code(user)})

    assert response.status_code == 302
    assert response.url == reverse("portal:home")
    user.refresh_from_db()
    assert user.totp_enrolled
    assert client.get(reverse("portal:home")).status_code == 200
    assert AuditEvent.objects.filter(action=Action.TOTP_ENROLLED, username=name).exists()
    assert AuditEvent.objects.filter(action=Action.LOGIN, username=name).exists()


def test_secret_is_shown_in_groups_of_four():
    assert totp.grouped("ABCDEFGHIJKLMNOP") == "ABCD EFGH IJKL MNOP"


def test_secret_is_stored_encrypted(personas):
    from django.db import connection

    secret = services.start_totp_enrolment(user=personas.sec_admin)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT totp_secret FROM accounts_user WHERE id = %s", [personas.sec_admin.pk]
        )
        raw = bytes(cursor.fetchone()[0])
    assert secret.encode() not in raw
    assert User.objects.get(pk=personas.sec_admin.pk).totp_secret == secret


def test_qr_code_is_an_svg_of_its_own(client, personas):
    password_step(client, "sys_admin")
    response = client.get(reverse("accounts:totp_qr"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.lstrip().startswith(b"<svg")
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_qr_code_is_not_served_without_an_enrolment_under_way(client, personas):
    assert client.get(reverse("accounts:totp_qr")).status_code == 404
    sign_in(client, personas.cadre_a)
    assert client.get(reverse("accounts:totp_qr")).status_code == 404


def test_enrolled_administrator_gets_the_code_step(client, personas):
    user = enrol(client, personas.audit_admin)
    response = password_step(client, "audit_admin")
    assert response.url == CODE
    assert client.get(reverse("portal:home")).status_code == 302

    response = client.post(CODE, {"code": fresh_totp_code(user)})

    assert response.url == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200


def test_code_with_spaces_or_full_width_digits_is_accepted(client, personas):
    user = enrol(client, personas.audit_admin)
    password_step(client, "audit_admin")
    code = fresh_totp_code(user)
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    typed = " ".join([code[:3], code[3:]]).translate(full_width)
    assert client.post(CODE, {"code": typed}).url == reverse("portal:home")


def test_wrong_code_is_refused_with_a_chinese_message_and_audited(client, personas):
    user = enrol(client, personas.audit_admin)
    password_step(client, "audit_admin")
    response = client.post(CODE, {"code": wrong_code(user)})
    assert response.status_code == 200
    assert "动态口令不正确" in response.content.decode()
    assert client.get(reverse("portal:home")).status_code == 302
    assert AuditEvent.objects.filter(action=Action.TOTP_FAILED, username="audit_admin").exists()
    assert LoginAttempt.objects.filter(username="audit_admin", reason="totp_failed").count() == 1


def test_used_code_is_refused_when_replayed(client, personas):
    from django.test import Client

    user = enrol(client, personas.audit_admin)
    password_step(client, "audit_admin")
    code = fresh_totp_code(user)
    assert client.post(CODE, {"code": code}).url == reverse("portal:home")

    eavesdropper = Client()
    password_step(eavesdropper, "audit_admin", address="10.0.0.66")
    response = eavesdropper.post(CODE, {"code": code})
    assert response.status_code == 200
    assert "已使用过" in response.content.decode()
    assert eavesdropper.get(reverse("portal:home")).status_code == 302


def test_replay_check_is_done_by_the_database_not_a_stale_copy(personas):
    secret = services.start_totp_enrolment(user=personas.cadre_a)
    first = User.objects.get(pk=personas.cadre_a.pk)
    second = User.objects.get(pk=personas.cadre_a.pk)
    code = totp.code_at(secret, totp.current_counter())
    # Two requests that loaded the user before either used the code: one wins.
    assert totp.consume(first, code) is True
    assert totp.consume(second, code) is False


def test_code_one_step_either_side_is_accepted_but_not_two(personas):
    secret = services.start_totp_enrolment(user=personas.cadre_a)
    now = totp.current_counter()
    assert totp.matching_counter(secret, totp.code_at(secret, now - 1)) == now - 1
    assert totp.matching_counter(secret, totp.code_at(secret, now + 1)) == now + 1
    for far in (now - 2, now + 2):
        code = totp.code_at(secret, far)
        if code not in {totp.code_at(secret, now + d) for d in (-1, 0, 1)}:
            assert totp.matching_counter(secret, code) is None


def test_older_step_than_the_last_used_one_is_refused(personas):
    secret = services.start_totp_enrolment(user=personas.cadre_a)
    now = totp.current_counter()
    assert totp.consume(personas.cadre_a, totp.code_at(secret, now + 1))
    assert not totp.consume(personas.cadre_a, totp.code_at(secret, now))


def test_wrong_codes_count_toward_lockout(client, personas):
    user = enrol(client, personas.audit_admin)
    password_step(client, "audit_admin")
    for _ in range(4):
        client.post(CODE, {"code": wrong_code(user)})
    response = client.post(CODE, {"code": wrong_code(user)})
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert Lockout.objects.filter(kind="username", key="audit_admin").exists()
    assert AuditEvent.objects.filter(action=Action.LOCKOUT).exists()
    # Locked: the password step refuses even the right password, so no code is asked.
    again = password_step(client, "audit_admin", address="10.0.0.2")
    assert again.status_code == 200
    assert "登录失败次数过多" in again.content.decode()


def test_password_failures_and_code_failures_add_up(client, personas):
    user = enrol(client, personas.audit_admin)
    for _ in range(3):
        password_step(client, "audit_admin", password="Wrong#Pass99")
    password_step(client, "audit_admin")
    client.post(CODE, {"code": wrong_code(user)})
    assert not Lockout.objects.filter(kind="username").exists()
    client.post(CODE, {"code": wrong_code(user)})
    assert Lockout.objects.filter(kind="username").exists()


def test_pending_login_expires(client, personas):
    user = enrol(client, personas.audit_admin)
    with travelling_clock() as clock:
        password_step(client, "audit_admin")
        clock.advance(minutes=6)
        response = client.post(CODE, {"code": fresh_totp_code(user)})
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert client.get(reverse("portal:home")).status_code == 302


def test_code_step_without_password_step_goes_to_login(client, personas):
    assert client.get(CODE).url == reverse("accounts:login")
    assert client.post(ENROL, {"code": "123456"}).url == reverse("accounts:login")


def test_enrolment_step_is_not_reachable_from_the_code_step(client, personas):
    enrol(client, personas.audit_admin)
    password_step(client, "audit_admin")
    assert client.get(ENROL).url == reverse("accounts:login")


def test_policy_can_require_totp_for_an_everyday_role(client, personas):
    services.update_policy(actor=personas.sec_admin, totp_roles=["township_manager"])
    assert password_step(client, "cadre_a").url == ENROL
    assert password_step(client, "grid_worker").url == reverse("portal:home")


def test_everyday_user_enrols_voluntarily_from_the_menu(client, personas):
    user = personas.grid_worker
    sign_in_via_page(client, user)
    page = client.get(reverse("accounts:totp_setup"))
    assert page.status_code == 200
    user.refresh_from_db()
    assert totp.grouped(user.totp_secret) in page.content.decode()
    assert client.get(reverse("accounts:totp_qr"))["Content-Type"] == "image/svg+xml"

    bad = client.post(reverse("accounts:totp_setup"), {"code": wrong_code(user)})
    assert "动态口令不正确" in bad.content.decode()
    response = client.post(reverse("accounts:totp_setup"), {"code": fresh_totp_code(user)})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.totp_enrolled
    assert "已于" in client.get(reverse("accounts:totp_setup")).content.decode()

    client.post(reverse("accounts:logout"))
    assert password_step(client, "grid_worker").url == CODE


def test_enrolled_secret_is_not_replaced_by_opening_the_setup_page(client, personas):
    user = personas.grid_worker
    sign_in(client, user)
    client.get(reverse("accounts:totp_setup"))
    client.post(reverse("accounts:totp_setup"), {"code": fresh_totp_code(user)})
    user.refresh_from_db()
    secret = user.totp_secret
    client.get(reverse("accounts:totp_setup"))
    user.refresh_from_db()
    assert user.totp_secret == secret


def test_security_admin_resets_a_lost_authenticator(client, personas):
    user = enrol(client, personas.audit_admin)
    assert user.totp_enrolled
    sign_in(client, personas.sec_admin)
    confirm = client.get(reverse("accounts:totp_reset", args=[user.pk]))
    assert "确定要重置" in confirm.content.decode()
    client.post(reverse("accounts:totp_reset", args=[user.pk]))
    user.refresh_from_db()
    assert not user.totp_enrolled
    assert AuditEvent.objects.filter(action=Action.TOTP_RESET, object_id=str(user.pk)).exists()
    client.post(reverse("accounts:logout"))
    assert password_step(client, "audit_admin").url == ENROL
