"""每个用户的“我的登录记录”: their own attempts, never anyone else's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jindu.accounts.models import LoginAttempt
from tests.helpers import sign_in, sign_in_via_page
from tests.personas import PERSONAS

MY_LOGINS = "/accounts/my-logins/"


def test_user_sees_their_own_logins_and_failures(client, personas):
    client.post(
        reverse("accounts:login"),
        {"username": "cadre_a", "password": "Wrong#Pass1"},
        REMOTE_ADDR="10.1.2.3",
        HTTP_USER_AGENT="FailBrowser/1.0",
    )
    sign_in_via_page(client, personas.cadre_a)
    html = client.get(MY_LOGINS).content.decode()
    assert "10.1.2.3" in html
    assert "FailBrowser/1.0" in html
    assert "密码错误" in html
    assert "登录成功" in html


def test_user_does_not_see_other_peoples_logins(client, personas):
    client.post(
        reverse("accounts:login"),
        {"username": "cadre_b", "password": "Wrong#Pass1"},
        REMOTE_ADDR="10.9.9.9",
    )
    sign_in_via_page(client, personas.cadre_a)
    html = client.get(MY_LOGINS).content.decode()
    assert "10.9.9.9" not in html


def test_only_the_last_fifty_are_shown(client, personas):
    LoginAttempt.objects.bulk_create(
        [
            LoginAttempt(
                username="cadre_a",
                user=personas.cadre_a,
                client_address=f"10.0.{i}.1",
                success=False,
                reason="bad_password",
            )
            for i in range(60)
        ]
    )
    sign_in(client, personas.cadre_a)
    html = client.get(MY_LOGINS).content.decode()
    assert html.count("<tr>") == 51


@pytest.mark.parametrize("name", list(PERSONAS))
def test_every_persona_can_open_their_login_history(client, personas, name):
    sign_in_via_page(client, personas.users[name])
    response = client.get(MY_LOGINS)
    assert response.status_code == 200
    assert "登录成功" in response.content.decode()


def test_login_history_needs_sign_in(client, db):
    assert client.get(MY_LOGINS).url.startswith(reverse("accounts:login"))
