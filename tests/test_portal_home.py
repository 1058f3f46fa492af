"""The home page each role opens with."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jindu.accounts import services as accounts
from jindu.accounts.models import Lockout, LoginAttempt
from jindu.audit.actions import Action, Result
from jindu.audit.services import record
from jindu.codes.models import CodeList
from jindu.notifications.services import notify
from tests.helpers import sign_in
from tests.personas import PASSWORD


def _home(client, user):
    sign_in(client, user)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    return response


def _section(response, kind):
    return next(s for s in response.context["sections"] if s["kind"] == kind)


def _figures(section):
    return {str(f["label"]): f["value"] for f in section["figures"]}


# ---------------------------------------------------------------- county office, leader


@pytest.mark.parametrize("name", ["county_officer", "leader"])
def test_county_roles_see_the_counts_of_their_county(client, personas, name):
    response = _home(client, personas.users[name])
    figures = _figures(_section(response, "overview"))
    assert figures == {"乡镇/街道": 2, "村/社区": 2, "网格": 2, "成员单位": 2, "账号": 11}
    assert "青岚县辖区概况" in response.content.decode()


def test_overview_counts_leave_out_retired_units_and_disabled_accounts(client, personas):
    from jindu.orgs.models import OrgUnit

    OrgUnit.objects.filter(pk=personas.territory.grid_b.pk).update(active=False)
    accounts.set_active(actor=None, user=personas.cadre_b, active=False)
    figures = _figures(_section(_home(client, personas.county_officer), "overview"))
    assert figures["网格"] == 1
    assert figures["账号"] == 10


def test_overview_counts_only_the_users_subtree(client, personas):
    from jindu.core.roles import Role

    township_leader = accounts.create_user(
        actor=None,
        username="jia_leader",
        full_name="甲镇领导",
        org_unit=personas.territory.township_a,
        password=PASSWORD,
        roles={Role.LEADER.value},
        must_change_password=False,
    )
    response = _home(client, township_leader)
    figures = _figures(_section(response, "overview"))
    assert figures["乡镇/街道"] == 1
    assert figures["村/社区"] == 1
    assert figures["网格"] == 1
    # cadre_a, grid_worker, police_officer and this leader belong to 甲镇's subtree.
    assert figures["账号"] == 4
    assert "乙镇" not in response.content.decode()


@pytest.fixture
def areas():
    """The areas with only the pages a test registers; the apps' come back afterwards."""
    from jindu.portal import navigation

    saved = copy.deepcopy(navigation.AREAS)
    for area in navigation.AREAS.values():
        area.entries = []
    yield navigation
    navigation.AREAS.clear()
    navigation.AREAS.update(saved)


def test_county_office_home_links_open_areas_and_names_those_not_yet_open(client, personas, areas):
    areas.register("targets", "目标台账", "notifications:list", None, "list")
    body = _home(client, personas.county_officer).content.decode()
    assert "工作入口" in body
    assert 'href="/notifications/"><i class="bi bi-list" aria-hidden="true"></i> 目标台账' in body
    pending = body[body.index("以下工作领域待开通") :]
    assert "戒毒管控" in pending
    assert "目标任务" not in pending


# ---------------------------------------------------------------- township, police, grid


def test_township_cadre_sees_their_township_and_what_lies_below(client, personas):
    response = _home(client, personas.cadre_a)
    section = _section(response, "unit")
    assert section["unit"] == personas.territory.township_a
    assert section["unit_path"] == "青岚县 / 甲镇"
    assert {str(b["label"]): b["value"] for b in section["below"]} == {"村/社区": 1, "网格": 1}
    body = response.content.decode()
    assert "甲镇" in body
    assert "乙镇" not in body and "乙一村" not in body


def test_police_officer_sees_their_unit_and_department(client, personas):
    response = _home(client, personas.police_officer)
    section = _section(response, "unit")
    assert section["unit"] == personas.territory.township_a
    assert "青岚县公安局" in response.content.decode()


def test_field_roles_see_their_own_notifications_only(client, personas):
    notify(recipients=[personas.cadre_a], title="甲镇专干的提醒")
    notify(recipients=[personas.cadre_b], title="乙镇专干的提醒")
    body = _home(client, personas.cadre_a).content.decode()
    assert "甲镇专干的提醒" in body
    assert "乙镇专干的提醒" not in body
    assert "1 条未读" in body


def test_home_shows_at_most_five_notifications_with_a_link_to_all(client, personas):
    for i in range(7):
        notify(recipients=[personas.cadre_a], title=f"提醒{i}")
    response = _home(client, personas.cadre_a)
    assert len(response.context["notifications"]["recent"]) == 5
    assert response.context["notifications"]["unread"] == 7
    assert reverse("notifications:list") in response.content.decode()


def test_grid_worker_sees_notifications_before_the_grid(client, personas):
    notify(recipients=[personas.grid_worker], title="走访提醒")
    response = _home(client, personas.grid_worker)
    body = response.content.decode()
    assert response.context["notifications_first"] is True
    assert body.index("走访提醒") < body.index("我的网格")
    assert "甲一村第一网格" in body


def test_township_cadre_sees_the_unit_before_notifications(client, personas):
    notify(recipients=[personas.cadre_a], title="例行提醒")
    body = _home(client, personas.cadre_a).content.decode()
    assert body.index("本单位") < body.index("例行提醒")


# ---------------------------------------------------------------- department reporter


def test_department_reporter_sees_their_department_and_its_duties(client, personas):
    body = _home(client, personas.dept_reporter).content.decode()
    assert "青岚县教育局" in body
    assert "青少年毒品预防教育。" in body
    assert "打击毒品违法犯罪" not in body


def test_department_reporter_without_a_department_is_told_whom_to_ask(client, personas):
    from jindu.core.roles import Role

    reporter = accounts.create_user(
        actor=None,
        username="lost_reporter",
        full_name="未关联填报员",
        org_unit=personas.territory.county,
        password=PASSWORD,
        roles={Role.DEPT_REPORTER.value},
        must_change_password=False,
    )
    body = _home(client, reporter).content.decode()
    assert "尚未关联成员单位" in body


# ---------------------------------------------------------------- administrators


def test_system_admin_sees_accounts_units_and_code_lists(client, personas):
    accounts.set_active(actor=None, user=personas.cadre_b, active=False)
    response = _home(client, personas.sys_admin)
    section = _section(response, "sys_admin")
    assert section["accounts"] == {"total": 11, "active": 10, "disabled": 1}
    assert section["units_total"] == 7
    assert section["code_lists"] == CodeList.objects.count()
    body = response.content.decode()
    assert "系统概况" in body
    # Administrators see no work areas and no work notifications panel.
    assert "jd-home-notifications" not in body
    assert "待开通" not in body


def test_security_admin_sees_live_sessions_lockouts_and_admin_totp(client, personas):
    Lockout.objects.create(
        kind=Lockout.Kind.USERNAME, key="cadre_a", until=timezone.now() + timedelta(minutes=10)
    )
    Lockout.objects.create(
        kind=Lockout.Kind.USERNAME, key="old", until=timezone.now() - timedelta(minutes=1)
    )
    sign_in(client.__class__(), personas.cadre_a)
    response = _home(client, personas.sec_admin)
    section = _section(response, "sec_admin")
    # cadre_a's session and the security administrator's own.
    assert section["sessions_count"] == 2
    assert section["lockouts"] == 1
    assert [(a["user"].username, a["enrolled"]) for a in section["admins"]] == [
        ("audit_admin", False),
        ("sec_admin", False),
        ("sys_admin", False),
    ]
    body = response.content.decode()
    assert "甲镇专干" in body
    assert "未绑定" in body


def test_security_admin_does_not_count_idle_sessions(client, personas):
    from jindu.accounts.models import UserSession

    sign_in(client.__class__(), personas.cadre_a)
    UserSession.objects.filter(user=personas.cadre_a).update(
        last_seen_at=timezone.now() - timedelta(hours=2)
    )
    section = _section(_home(client, personas.sec_admin), "sec_admin")
    assert section["sessions_count"] == 1


def test_audit_admin_sees_todays_events_failed_logins_and_denials(client, personas):
    record(actor=None, action=Action.LOGIN_FAILED, username="nobody", result=Result.FAILURE)
    record(actor=None, action=Action.LOGIN_FAILED, username="cadre_a", result=Result.FAILURE)
    record(
        actor=personas.cadre_a,
        action=Action.PERMISSION_DENIED,
        object_repr="/audit/",
        result=Result.DENIED,
    )
    response = _home(client, personas.audit_admin)
    section = _section(response, "audit_admin")
    assert section["counts"]["failed_logins"] == 2
    assert section["counts"]["denials"] == 1
    assert section["counts"]["today"] >= 3
    assert [e.action for e in section["recent"]][:3] == [
        Action.PERMISSION_DENIED,
        Action.LOGIN_FAILED,
        Action.LOGIN_FAILED,
    ]
    assert "审计概况" in response.content.decode()


# ---------------------------------------------------------------- several roles, none


def test_a_user_with_two_roles_sees_both_sections(client, personas):
    from jindu.core.roles import Role

    both = accounts.create_user(
        actor=None,
        username="two_hats",
        full_name="双岗人员",
        org_unit=personas.territory.township_a,
        department=personas.territory.police_dept,
        password=PASSWORD,
        roles={Role.TOWNSHIP_MANAGER.value, Role.DEPT_REPORTER.value},
        must_change_password=False,
    )
    response = _home(client, both)
    # In the order of the roles' table.
    assert [s["kind"] for s in response.context["sections"]] == ["department", "unit"]


def test_county_office_and_leader_share_one_overview(client, personas):
    from jindu.core.roles import Role

    accounts.set_roles(
        actor=None,
        user=personas.county_officer,
        roles={Role.COUNTY_OFFICE.value, Role.LEADER.value},
    )
    response = _home(client, personas.county_officer)
    sections = response.context["sections"]
    assert [s["kind"] for s in sections] == ["overview"]
    assert sections[0]["role_labels"] == "县禁毒办、领导（只读）"


def test_user_without_a_role_is_asked_to_contact_the_security_admin(client, personas):
    response = _home(client, personas.no_role)
    body = response.content.decode()
    assert "尚未分配角色，请联系安全管理员" in body
    assert response.context["sections"] == []
    assert "待开通" not in body


def test_home_mentions_the_previous_sign_in(client, personas):
    now = timezone.now()
    LoginAttempt.objects.create(
        username="cadre_a",
        user=personas.cadre_a,
        success=True,
        client_address="10.1.2.3",
        at=now - timedelta(days=1),
    )
    LoginAttempt.objects.create(
        username="cadre_a", user=personas.cadre_a, success=True, client_address="10.9.9.9", at=now
    )
    body = _home(client, personas.cadre_a).content.decode()
    assert "上次登录" in body
    assert "10.1.2.3" in body
    assert "10.9.9.9" not in body


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302


# ---------------------------------------------------------------- query counts


def _queries(client, user):
    sign_in(client, user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("portal:home")).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "name",
    [
        "county_officer",
        "cadre_a",
        "grid_worker",
        "police_officer",
        "dept_reporter",
        "leader",
        "sys_admin",
        "sec_admin",
        "audit_admin",
        "no_role",
    ],
)
def test_home_query_count_does_not_grow_with_the_data(client, personas, name):
    user = personas.users[name]
    notify(recipients=[user], title="一")
    sign_in(client.__class__(), personas.cadre_b)
    few = _queries(client, user)
    notify(recipients=[user], title="二")
    notify(recipients=[user], title="三")
    for extra in ("cadre_a", "grid_worker", "audit_admin"):
        sign_in(client.__class__(), personas.users[extra])
    record(actor=None, action=Action.LOGIN_FAILED, username="x", result=Result.FAILURE)
    many = _queries(client, user)
    assert many == few
    assert many <= 25
