"""The security policy page: every number, the TOTP roles, audited with before and after."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from jindu.accounts.models import SecurityPolicy
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import sign_in
from tests.personas import PERSONAS

POLICY = "/accounts/policy/"
DEFAULTS = {
    "password_min_length": 8,
    "password_min_classes": 3,
    "password_max_age_days": 0,
    "lockout_threshold": 5,
    "lockout_minutes": 15,
    "session_idle_minutes": 30,
}


@pytest.fixture
def sec(client, personas):
    sign_in(client, personas.sec_admin)
    return client


def test_policy_page_shows_the_current_values(sec):
    html = sec.get(POLICY).content.decode()
    assert reverse("accounts:policy") == POLICY
    for name, value in DEFAULTS.items():
        assert f'name="{name}" value="{value}"' in html, name
    assert 'name="totp_roles"' in html
    assert 'value="sys_admin"' not in html


def test_policy_change_is_saved_and_audited_with_before_and_after(sec):
    data = {
        **DEFAULTS,
        "lockout_threshold": 3,
        "password_max_age_days": 90,
        "totp_roles": ["township_manager", "police"],
    }
    response = sec.post(POLICY, data)
    assert response.url == POLICY
    policy = SecurityPolicy.current()
    assert policy.lockout_threshold == 3
    assert policy.password_max_age_days == 90
    assert policy.totp_roles == ["police", "township_manager"]
    event = AuditEvent.objects.get(action=Action.SECURITY_POLICY_CHANGED)
    changed = json.loads(event.detail)["changed"]
    assert changed["lockout_threshold"] == [5, 3]
    assert changed["password_max_age_days"] == [0, 90]
    assert "totp_roles" in changed
    assert "session_idle_minutes" not in changed
    assert event.username == "sec_admin"


def test_unchanged_policy_writes_no_audit_row(sec):
    sec.post(POLICY, DEFAULTS)
    assert not AuditEvent.objects.filter(action=Action.SECURITY_POLICY_CHANGED).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password_min_length", 6),
        ("session_idle_minutes", 45),
        ("lockout_threshold", 0),
        ("password_min_classes", 5),
    ],
)
def test_values_graded_protection_forbids_are_refused_and_input_kept(sec, field, value):
    data = {**DEFAULTS, field: value, "lockout_minutes": 20}
    response = sec.post(POLICY, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "invalid-feedback" in html
    assert f'name="{field}" value="{value}"' in html
    assert 'name="lockout_minutes" value="20"' in html
    assert SecurityPolicy.current().lockout_minutes == 15
    assert not AuditEvent.objects.filter(action=Action.SECURITY_POLICY_CHANGED).exists()


def test_non_number_gets_a_chinese_message(sec):
    response = sec.post(POLICY, {**DEFAULTS, "lockout_minutes": "十五"})
    assert "输入整数" in response.content.decode()


def test_unknown_role_is_refused(sec):
    response = sec.post(POLICY, {**DEFAULTS, "totp_roles": ["emperor"]})
    assert response.status_code == 200
    assert SecurityPolicy.current().totp_roles == []


@pytest.mark.parametrize("name", [p for p in PERSONAS if p != "sec_admin"])
def test_policy_page_is_refused_to_everyone_else(client, personas, name):
    sign_in(client, personas.users[name])
    assert client.get(POLICY).status_code == 403
    assert client.post(POLICY, {**DEFAULTS, "lockout_threshold": 1}).status_code == 403
    assert SecurityPolicy.current().lockout_threshold == 5


def test_policy_page_sends_anonymous_to_login(client, db):
    assert client.get(POLICY).url.startswith(reverse("accounts:login"))
