"""``jindu bootstrap``: root unit and the three administrators for a fresh install."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from jindu.accounts.models import User
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.audit.services import verify
from jindu.orgs.models import OrgUnit
from tests.helpers import sign_in_via_page


def run(*args):
    out = StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def accounts_from(output):
    rows = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] != "角色":
            rows[parts[1]] = parts[2]
    return rows


def test_fresh_install_gets_a_root_unit_and_three_administrators(db):
    output = run("--name", "青岚县", "--level", "county", "--division-code", "621199000000")
    root = OrgUnit.objects.get()
    assert (root.name, root.level, root.division_code) == ("青岚县", "county", "621199000000")
    accounts = accounts_from(output)
    assert set(accounts) == {"sysadmin", "secadmin", "auditadmin"}
    for username, password in accounts.items():
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert user.must_change_password
        assert not user.totp_enrolled
        assert user.org_unit == root
        assert len(user.role_codes) == 1 and user.is_administrator
    assert {u.role_codes for u in User.objects.all()} == {
        frozenset({"sys_admin"}),
        frozenset({"sec_admin"}),
        frozenset({"audit_admin"}),
    }
    assert AuditEvent.objects.filter(action=Action.ACCOUNT_CREATED).count() == 3
    assert verify().ok


def test_passwords_are_random(db):
    first = accounts_from(run("--name", "甲县"))
    assert len(set(first.values())) == 3


def test_administrator_must_enrol_totp_and_change_password_at_first_login(client, db):
    password = accounts_from(run("--name", "青岚县"))["secadmin"]
    user = User.objects.get(username="secadmin")
    response = client.post(
        reverse("accounts:login"), {"username": "secadmin", "password": password}
    )
    assert response.url == reverse("accounts:login_enrol")
    assert client.get("/").status_code == 302
    response = sign_in_via_page(Client(), user, password=password)
    assert response.url == reverse("accounts:password_change")


def test_refuses_when_administrators_exist(personas):
    with pytest.raises(CommandError, match="已存在管理员账号"):
        run("--name", "另一个县")
    assert OrgUnit.objects.filter(name="另一个县").count() == 0


def test_refuses_a_second_run(db):
    run("--name", "青岚县")
    with pytest.raises(CommandError):
        run("--name", "青岚县")
    assert User.objects.count() == 3


def test_uses_the_existing_root_unit(db):
    from jindu.orgs import services as orgs

    county = orgs.create_unit(actor=None, name="已有县", level="county", parent=None)
    output = run()
    assert "使用已有根单位：已有县" in output
    assert all(u.org_unit == county for u in User.objects.all())


def test_needs_a_name_when_there_is_no_unit(db):
    with pytest.raises(CommandError, match="--name"):
        run()
    assert not User.objects.exists()


def test_bad_division_code_is_refused_and_nothing_is_created(db):
    with pytest.raises(CommandError):
        run("--name", "错码县", "--division-code", "12345")
    assert not OrgUnit.objects.exists()
    assert not User.objects.exists()


def test_usernames_can_be_chosen(db):
    accounts = accounts_from(run("--name", "青岚县", "--sys-admin-username", "xt_admin"))
    assert "xt_admin" in accounts
