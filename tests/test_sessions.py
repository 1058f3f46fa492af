"""Idle timeout, the live-session register, and ending sessions from outside."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from jindu.accounts import services
from jindu.accounts.models import UserSession
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import sign_in, sign_in_via_page, travelling_clock
from tests.personas import PERSONAS

HOME = "/"
SESSIONS = "/accounts/sessions/"


def test_idle_session_times_out_to_the_login_page_with_a_message(client, personas):
    with travelling_clock() as clock:
        sign_in_via_page(client, personas.cadre_a)
        clock.advance(minutes=31)
        response = client.get(reverse("accounts:my_logins"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))
        page = client.get(response.url)
    assert "会话已超时，请重新登录" in page.content.decode()
    assert not UserSession.objects.filter(user=personas.cadre_a).exists()
    event = AuditEvent.objects.get(action=Action.SESSION_TIMEOUT)
    assert event.username == "cadre_a"


def test_activity_keeps_the_session_alive(client, personas):
    with travelling_clock() as clock:
        sign_in_via_page(client, personas.cadre_a)
        for _ in range(4):
            clock.advance(minutes=20)
            assert client.get(HOME).status_code == 200
    assert not AuditEvent.objects.filter(action=Action.SESSION_TIMEOUT).exists()


def test_session_survives_just_under_the_idle_limit(client, personas):
    with travelling_clock() as clock:
        sign_in_via_page(client, personas.cadre_a)
        clock.advance(minutes=29)
        assert client.get(HOME).status_code == 200


def test_background_polling_does_not_keep_an_idle_session_alive(client, personas):
    with travelling_clock() as clock:
        sign_in_via_page(client, personas.cadre_a)
        for _ in range(3):
            clock.advance(minutes=10, seconds=30)
            client.get(HOME, HTTP_X_JINDU_BACKGROUND="1")
        assert client.get(HOME).status_code == 302


def test_idle_limit_follows_the_policy(client, personas):
    services.update_policy(actor=personas.sec_admin, session_idle_minutes=10)
    with travelling_clock() as clock:
        sign_in_via_page(client, personas.cadre_a)
        clock.advance(minutes=11)
        assert client.get(HOME).status_code == 302


def test_disabling_a_user_signs_them_out_at_once(personas):
    victim = Client()
    sign_in_via_page(victim, personas.cadre_b)
    assert victim.get(HOME).status_code == 200

    admin = Client()
    sign_in(admin, personas.sys_admin)
    admin.post(reverse("accounts:account_set_active", args=[personas.cadre_b.pk]))

    response = victim.get(HOME)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not UserSession.objects.filter(user=personas.cadre_b).exists()
    assert AuditEvent.objects.filter(
        action=Action.SESSION_TERMINATED, object_id=str(personas.cadre_b.pk)
    ).exists()


def test_security_admin_sees_who_is_signed_in(personas):
    cadre = Client()
    sign_in_via_page(cadre, personas.cadre_a)
    admin = Client()
    sign_in(admin, personas.sec_admin)

    page = admin.get(SESSIONS)
    html = page.content.decode()

    assert page.status_code == 200
    assert "甲镇专干" in html
    assert "甲镇" in html
    assert "乡镇禁毒专干" in html
    assert "127.0.0.1" in html
    session_key = UserSession.objects.get(user=personas.cadre_a).session_key
    assert session_key not in html


def test_security_admin_ends_a_session_and_that_client_is_signed_out(personas):
    cadre = Client()
    sign_in_via_page(cadre, personas.cadre_a)
    other = Client()
    sign_in_via_page(other, personas.cadre_b)
    live = UserSession.objects.get(user=personas.cadre_a)
    admin = Client()
    sign_in(admin, personas.sec_admin)

    confirm = admin.get(reverse("accounts:session_end", args=[live.pk]))
    assert confirm.status_code == 200
    assert "确定要结束" in confirm.content.decode()
    assert cadre.get(HOME).status_code == 200

    response = admin.post(reverse("accounts:session_end", args=[live.pk]))

    assert response.url == SESSIONS
    assert cadre.get(HOME).status_code == 302
    assert other.get(HOME).status_code == 200
    assert not Session.objects.filter(session_key=live.session_key).exists()
    event = AuditEvent.objects.get(action=Action.SESSION_TERMINATED)
    assert event.username == "sec_admin"
    assert event.object_id == str(personas.cadre_a.pk)


def test_ending_a_session_needs_a_post(personas):
    cadre = Client()
    sign_in_via_page(cadre, personas.cadre_a)
    live = UserSession.objects.get(user=personas.cadre_a)
    admin = Client()
    sign_in(admin, personas.sec_admin)
    admin.get(reverse("accounts:session_end", args=[live.pk]))
    assert cadre.get(HOME).status_code == 200


def test_session_of_a_user_outside_the_admins_unit_is_404(personas, territory):
    township_admin = services.create_user(
        actor=None,
        username="sec_a",
        full_name="甲镇安全员",
        org_unit=territory.township_a,
        password="Qinglan#2026",
        roles={"sec_admin"},
        must_change_password=False,
    )
    cadre_b = Client()
    sign_in_via_page(cadre_b, personas.cadre_b)
    live = UserSession.objects.get(user=personas.cadre_b)
    admin = Client()
    sign_in(admin, township_admin)
    assert "乙镇专干" not in admin.get(SESSIONS).content.decode()
    assert admin.get(reverse("accounts:session_end", args=[live.pk])).status_code == 404
    assert admin.post(reverse("accounts:session_end", args=[live.pk])).status_code == 404
    assert cadre_b.get(HOME).status_code == 200


@pytest.mark.parametrize("name", [p for p in PERSONAS if p != "sec_admin"])
def test_live_sessions_page_is_refused_to_everyone_else(client, personas, name):
    sign_in(client, personas.users[name])
    live = UserSession.objects.get(user=personas.users[name])
    assert client.get(SESSIONS).status_code == 403
    assert client.post(reverse("accounts:session_end", args=[live.pk])).status_code == 403
    assert UserSession.objects.filter(pk=live.pk).exists()


def test_live_sessions_page_sends_anonymous_to_login(client, db):
    assert client.get(SESSIONS).url.startswith(reverse("accounts:login"))


def test_role_change_ends_the_users_sessions(personas):
    cadre = Client()
    sign_in_via_page(cadre, personas.cadre_a)
    services.set_roles(
        actor=personas.sec_admin, user=personas.cadre_a, roles={"township_manager", "leader"}
    )
    assert cadre.get(HOME).status_code == 302


def test_a_session_whose_register_row_vanished_is_ended(client, personas):
    sign_in(client, personas.cadre_a)
    UserSession.objects.filter(user=personas.cadre_a).delete()
    response = client.get(HOME)
    assert response.status_code == 302
    assert "您的会话已结束" in client.get(response.url).content.decode()


def test_timed_out_fragment_request_takes_the_page_to_login(client, personas):
    with travelling_clock() as clock:
        sign_in_via_page(client, personas.cadre_a)
        clock.advance(minutes=31)
        response = client.get(HOME, HTTP_HX_REQUEST="true", HTTP_X_JINDU_BACKGROUND="1")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("accounts:login")
    assert "会话已超时" in client.get(reverse("accounts:login")).content.decode()


def test_live_fragment_request_is_served(client, personas):
    sign_in_via_page(client, personas.cadre_a)
    response = client.get(HOME, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
