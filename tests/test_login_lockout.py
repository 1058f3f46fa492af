"""Lockout after repeated failures, per username and per client address."""

from __future__ import annotations

from django.urls import reverse

from jindu.accounts import services
from jindu.accounts.models import Lockout, LoginAttempt, UserSession
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import travelling_clock
from tests.personas import PASSWORD

WRONG = "Wrong#Pass99"


def post_login(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail(client, username, times, address="10.0.0.1"):
    for _ in range(times):
        response = post_login(client, username, WRONG, address)
    return response


def is_signed_in(client) -> bool:
    return client.get(reverse("portal:home")).status_code == 200


def test_four_failures_do_not_lock(client, personas):
    fail(client, "cadre_a", 4)
    assert not Lockout.objects.exists()
    post_login(client, "cadre_a", PASSWORD)
    assert is_signed_in(client)


def test_fifth_failure_locks_and_says_so(client, personas):
    response = fail(client, "cadre_a", 5)
    html = response.content.decode()
    assert "登录失败次数过多" in html
    assert "15分钟" in html
    assert Lockout.objects.filter(kind="username", key="cadre_a").exists()


def test_locked_account_refuses_the_right_password(client, personas):
    fail(client, "cadre_a", 5)
    response = post_login(client, "cadre_a", PASSWORD)
    assert "登录失败次数过多" in response.content.decode()
    assert not is_signed_in(client)
    assert not UserSession.objects.filter(user=personas.cadre_a).exists()
    assert LoginAttempt.objects.filter(username="cadre_a", reason="locked").count() == 1


def test_lockout_is_released_after_fifteen_minutes(client, personas):
    with travelling_clock() as clock:
        fail(client, "cadre_a", 5)
        clock.advance(minutes=14, seconds=50)
        post_login(client, "cadre_a", PASSWORD)
        assert not is_signed_in(client)

        clock.advance(seconds=11)
        response = post_login(client, "cadre_a", PASSWORD)
        assert response.status_code == 302
        assert is_signed_in(client)


def test_after_release_a_fresh_count_starts(client, personas):
    with travelling_clock() as clock:
        fail(client, "cadre_a", 5)
        clock.advance(minutes=16)
        fail(client, "cadre_a", 4)
        assert Lockout.objects.filter(key="cadre_a").count() == 1
        fail(client, "cadre_a", 1)
        assert Lockout.objects.filter(key="cadre_a").count() == 2


def test_failures_spread_beyond_the_window_do_not_lock(client, personas):
    with travelling_clock() as clock:
        fail(client, "cadre_a", 3)
        clock.advance(minutes=16)
        fail(client, "cadre_a", 3)
    assert not Lockout.objects.exists()


def test_success_starts_the_username_count_over(client, personas):
    fail(client, "cadre_a", 4)
    post_login(client, "cadre_a", PASSWORD)
    client.post(reverse("accounts:logout"))
    fail(client, "cadre_a", 4, address="10.0.0.2")
    assert not Lockout.objects.filter(kind="username").exists()


def test_username_lockout_holds_from_any_address(client, personas):
    for i in range(5):
        post_login(client, "cadre_a", WRONG, address=f"10.0.1.{i}")
    response = post_login(client, "cadre_a", PASSWORD, address="10.9.9.9")
    assert "登录失败次数过多" in response.content.decode()


def test_address_is_locked_after_failures_across_usernames(client, personas):
    for name in ["cadre_a", "cadre_b", "leader", "nobody1", "nobody2"]:
        post_login(client, name, WRONG, address="10.0.0.7")
    assert Lockout.objects.filter(kind="address", key="10.0.0.7").exists()
    assert not Lockout.objects.filter(kind="username").exists()

    refused = post_login(client, "grid_worker", PASSWORD, address="10.0.0.7")
    assert "登录失败次数过多" in refused.content.decode()
    assert not is_signed_in(client)

    allowed = post_login(client, "grid_worker", PASSWORD, address="10.0.0.8")
    assert allowed.status_code == 302


def test_unknown_username_is_locked_like_a_real_one(client, personas):
    real = fail(client, "cadre_a", 5, address="10.0.0.1")
    ghost = fail(client, "nobody_at_all", 5, address="10.0.0.2")
    assert Lockout.objects.filter(kind="username", key="nobody_at_all").exists()
    assert real.content.decode().count("登录失败次数过多") == 1
    assert ghost.content.decode().count("登录失败次数过多") == 1


def test_username_case_does_not_escape_the_count(client, personas):
    for name in ["cadre_a", "CADRE_A", "Cadre_A", " cadre_a", "cadre_A"]:
        post_login(client, name, WRONG)
    assert Lockout.objects.filter(kind="username", key="cadre_a").exists()


def test_lockout_is_audited(client, personas):
    fail(client, "cadre_a", 5)
    event = AuditEvent.objects.get(action=Action.LOCKOUT, object_repr__contains="cadre_a")
    assert event.username == "cadre_a"
    assert event.client_address == "10.0.0.1"
    assert '"kind":"username"' in event.detail


def test_refusals_while_locked_are_audited_but_do_not_extend_the_lock(client, personas):
    fail(client, "cadre_a", 5)
    first_until = Lockout.objects.get(kind="username").until
    fail(client, "cadre_a", 5)
    assert Lockout.objects.filter(kind="username").count() == 1
    assert Lockout.objects.get(kind="username").until == first_until
    denied = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, result="denied")
    assert denied.count() == 5


def test_threshold_and_duration_follow_the_policy(client, personas):
    services.update_policy(actor=personas.sec_admin, lockout_threshold=3, lockout_minutes=5)
    with travelling_clock() as clock:
        fail(client, "cadre_a", 3)
        assert Lockout.objects.filter(kind="username").exists()
        clock.advance(minutes=5, seconds=1)
        assert post_login(client, "cadre_a", PASSWORD).status_code == 302


def _in_flight(username, address, count):
    """Attempts other requests have written and are checking right now."""
    LoginAttempt.objects.bulk_create(
        [
            LoginAttempt(
                username=username, client_address=address, success=False, reason="in_flight"
            )
            for _ in range(count)
        ]
    )


def test_parallel_burst_beyond_the_threshold_is_refused_before_the_password_check(client, personas):
    _in_flight("cadre_a", "10.0.5.1", 5)
    response = post_login(client, "cadre_a", PASSWORD, address="10.0.5.2")
    assert "登录失败次数过多" in response.content.decode()
    assert not is_signed_in(client)
    assert LoginAttempt.objects.filter(username="cadre_a", reason="locked").count() == 1


def test_attempts_under_way_do_not_cause_a_lockout_by_themselves(client, personas):
    # Five colleagues behind one address signing in at the same moment, one mistyping.
    _in_flight("someone", "10.0.6.1", 4)
    response = post_login(client, "cadre_a", WRONG, address="10.0.6.1")
    assert "用户名或密码错误" in response.content.decode()
    assert not Lockout.objects.exists()


def test_no_attempt_is_left_marked_under_way(client, personas):
    post_login(client, "cadre_a", WRONG)
    post_login(client, "cadre_a", PASSWORD)
    client.post(reverse("accounts:logout"))
    post_login(client, "sec_admin", PASSWORD)
    assert not LoginAttempt.objects.filter(reason="in_flight").exists()
    assert LoginAttempt.objects.filter(username="sec_admin").count() == 0
