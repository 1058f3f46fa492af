"""Password rules, the forced change (first login, after a reset, on expiry) and the change page."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from jindu.accounts import services
from jindu.accounts.models import User, UserSession
from jindu.accounts.passwords import character_classes
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import sign_in, sign_in_via_page, travelling_clock
from tests.personas import PASSWORD

CHANGE = "/accounts/password/"
NEW = "Fresh!Start2027"


def change(client, old=PASSWORD, new=NEW, again=None):
    return client.post(
        CHANGE, {"old_password": old, "new_password": new, "new_password2": again or new}
    )


def messages_for(password, username="cadre_a"):
    try:
        validate_password(password, User(username=username))
    except ValidationError as exc:
        return exc.messages
    return []


# ------------------------------------------------------------------ the rules
def test_short_password_is_refused(db):
    assert "密码至少需要8位" in messages_for("Ab#1xyz")


def test_password_with_two_kinds_of_characters_is_refused(db):
    assert any("至少3种" in m for m in messages_for("abcdefgh1234"))


def test_password_with_three_kinds_is_accepted(db):
    assert messages_for("kite#harbor7") == []


def test_password_containing_the_username_is_refused_in_any_case(db):
    assert "密码不能包含用户名" in messages_for("X#CADRE_a99", username="cadre_a")


def test_common_password_is_refused(db):
    assert any("常见" in m for m in messages_for("Password1"))


def test_rules_follow_the_policy(personas):
    services.update_policy(actor=personas.sec_admin, password_min_length=12, password_min_classes=4)
    assert "密码至少需要12位" in messages_for("Kite#harbr7")
    assert any("至少4种" in m for m in messages_for("kitesharbor#77"))
    assert messages_for("Kites#harbor7") == []


def test_character_classes_are_counted():
    assert character_classes("abc") == 1
    assert character_classes("aB3#") == 4


def test_generated_passwords_follow_the_rules(personas):
    for _ in range(20):
        password = services.generate_password(personas.cadre_a)
        validate_password(password, personas.cadre_a)
        assert character_classes(password) == 4


# ------------------------------------------------------------------ forced change
def test_first_login_forces_a_change_before_any_page(client, personas):
    user = personas.cadre_a
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    response = sign_in_via_page(client, user)
    assert response.url == CHANGE
    for url in ("/", reverse("accounts:my_logins"), reverse("accounts:totp_setup")):
        assert client.get(url).url == reverse("accounts:password_change"), url
    page = client.get(CHANGE)
    assert page.status_code == 200
    assert "首次登录或密码被重置" in page.content.decode()

    assert change(client).url == "/"
    assert client.get("/").status_code == 200
    user.refresh_from_db()
    assert not user.must_change_password
    assert user.check_password(NEW)
    assert AuditEvent.objects.filter(action=Action.PASSWORD_CHANGED, username="cadre_a").exists()


def test_admin_reset_forces_a_change_at_next_login(client, personas):
    admin = Client()
    sign_in(admin, personas.sys_admin)
    admin.post(
        reverse("accounts:account_reset_password", args=[personas.cadre_a.pk]),
        {"new_password": "Handed#Over42"},
    )
    assert AuditEvent.objects.filter(
        action=Action.PASSWORD_RESET, object_id=str(personas.cadre_a.pk)
    ).exists()

    response = sign_in_via_page(client, personas.cadre_a, password="Handed#Over42")
    assert response.url == CHANGE
    assert client.get("/").url == CHANGE
    assert change(client, old="Handed#Over42").url == "/"
    assert client.get("/").status_code == 200


def test_expired_password_forces_a_change(client, personas):
    services.update_policy(actor=personas.sec_admin, password_max_age_days=90)
    with travelling_clock() as clock:
        clock.advance(days=91)
        response = sign_in_via_page(client, personas.cadre_a)
        assert response.url == CHANGE
        page = client.get("/")
        assert page.url == CHANGE
        assert "已超过有效期（90天）" in client.get(CHANGE).content.decode()
        change(client)
        assert client.get("/").status_code == 200


def test_password_inside_its_age_is_not_expired(client, personas):
    services.update_policy(actor=personas.sec_admin, password_max_age_days=90)
    with travelling_clock() as clock:
        clock.advance(days=89)
        assert sign_in_via_page(client, personas.cadre_a).url == "/"


def test_no_expiry_when_the_policy_says_zero(client, personas):
    with travelling_clock() as clock:
        clock.advance(days=3000)
        assert sign_in_via_page(client, personas.cadre_a).url == "/"


# ------------------------------------------------------------------ the change page
def test_change_page_shows_the_rules(client, personas):
    sign_in(client, personas.cadre_a)
    html = client.get(CHANGE).content.decode()
    for rule in ("至少8位", "至少3种", "不能包含用户名", "常见"):
        assert rule in html


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("Ab#1", "密码至少需要8位"),
        ("abcdefgh1234", "至少3种"),
        ("My#cadre_a#1", "密码不能包含用户名"),
        ("Password1", "常见"),
    ],
)
def test_change_page_refuses_weak_passwords_in_chinese(client, personas, new, message):
    sign_in(client, personas.cadre_a)
    response = change(client, new=new)
    assert response.status_code == 200
    assert message in response.content.decode()
    personas.cadre_a.refresh_from_db()
    assert personas.cadre_a.check_password(PASSWORD)


def test_change_page_refuses_a_wrong_old_password(client, personas):
    sign_in(client, personas.cadre_a)
    response = change(client, old="Not#Mine123")
    assert "原密码不正确" in response.content.decode()


def test_change_page_refuses_mismatched_new_passwords(client, personas):
    sign_in(client, personas.cadre_a)
    response = change(client, again="Fresh!Start2028")
    assert "两次输入的新密码不一致" in response.content.decode()


def test_change_page_refuses_the_same_password(client, personas):
    sign_in(client, personas.cadre_a)
    response = change(client, new=PASSWORD)
    assert "新密码不能与原密码相同" in response.content.decode()


def test_passwords_are_never_echoed_back(client, personas):
    sign_in(client, personas.cadre_a)
    html = change(client, new="Ab#1").content.decode()
    assert PASSWORD not in html
    assert 'value="Ab#1"' not in html


def test_changing_keeps_this_session_and_ends_the_others(personas):
    here = Client()
    sign_in_via_page(here, personas.cadre_a)
    elsewhere = Client()
    sign_in_via_page(elsewhere, personas.cadre_a)
    assert UserSession.objects.filter(user=personas.cadre_a).count() == 2

    change(here)

    assert here.get("/").status_code == 200
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert UserSession.objects.filter(user=personas.cadre_a).count() == 1


def test_change_page_needs_sign_in(client, db):
    assert client.get(CHANGE).url.startswith(reverse("accounts:login"))
