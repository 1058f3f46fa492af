"""The follow-up policy page: the county office sets the local rules, validated and audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.people import followup, worklist
from jindu.people.models import FollowUpPolicy
from jindu.people.policy_views import parse_intervals
from jindu.people.schedule import Task
from tests.helpers import sign_in
from tests.test_people_followup import test_on, under_detox

URL = "people:policy"


def _form(**changes):
    policy = FollowUpPolicy.current()
    data = {name: getattr(policy, name) for name in followup.POLICY_LIMITS}
    data["test_intervals"] = ",".join(str(i) for i in (policy.test_intervals or [1, 2, 3]))
    data.update(changes)
    return data


def test_the_county_office_sees_the_rules_with_their_defaults(client, personas):
    sign_in(client, personas.county_officer)
    response = client.get(reverse(URL))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="1,2,3"' in body
    assert "决定后报到期限（天）" in body and 'value="15"' in body
    assert "失联判定天数" in body and 'value="60"' in body


@pytest.mark.parametrize(
    "name",
    [
        "cadre_a",
        "cadre_b",
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
def test_no_one_else_may_open_or_change_the_rules(client, personas, name):
    sign_in(client, personas.users[name])
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL), _form(report_in_days=10)).status_code == 403
    assert FollowUpPolicy.current().report_in_days == 15


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(reverse(URL))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_saving_changes_the_rules_and_audits_before_and_after(client, personas):
    sign_in(client, personas.county_officer)
    response = client.post(
        reverse(URL), _form(test_intervals="１，１、2 3", lost_contact_days=45, breach_days_away=20)
    )
    assert response.status_code == 302
    policy = FollowUpPolicy.current()
    assert policy.test_intervals == [1, 1, 2, 3]
    assert policy.lost_contact_days == 45 and policy.breach_days_away == 20
    event = AuditEvent.objects.filter(
        action=Action.RECORD_UPDATED, object_type="people.followuppolicy"
    ).get()
    assert event.username == "county_officer"
    changed = event.detail_data["changed"]
    assert changed["lost_contact_days"] == [60, 45]
    assert changed["breach_days_away"] == [30, 20]
    assert changed["test_intervals"] == ["[1, 2, 3]", "[1, 1, 2, 3]"]
    assert "report_in_days" not in changed


def test_saving_the_same_values_writes_no_audit_row(client, personas):
    sign_in(client, personas.county_officer)
    client.post(reverse(URL), _form())
    assert not AuditEvent.objects.filter(object_type="people.followuppolicy").exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"test_intervals": "1,二,3"}, "test_intervals", "只能填写整数月数"),
        ({"test_intervals": ""}, "test_intervals", "请填写"),
        ({"test_intervals": "1,13"}, "test_intervals", "每个年度的检测间隔应为1至12个月"),
        ({"report_in_days": 0}, "report_in_days", "不能小于1"),
        ({"rehab_max_months": 48}, "rehab_max_months", "不能大于36"),
        ({"lost_contact_days": "六十"}, "lost_contact_days", "请填写整数"),
        (
            {"summary_every_months": 12, "assessment_every_months": 6},
            "summary_every_months",
            "小结间隔不应长于评估间隔",
        ),
    ],
)
def test_bad_values_are_refused_next_to_the_field_and_kept(
    client, personas, changes, field, message
):
    sign_in(client, personas.county_officer)
    response = client.post(reverse(URL), _form(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    body = response.content.decode()
    typed = str(changes[field])
    if typed:
        assert f'value="{typed}"' in body
    assert FollowUpPolicy.current().lost_contact_days == 60


@pytest.mark.django_db
def test_the_service_refuses_unknown_fields():
    with pytest.raises(TypeError):
        followup.update_followup_policy(actor=None, colour="red")


@pytest.mark.django_db
def test_the_service_checks_every_limit():
    with pytest.raises(ValidationError) as caught:
        followup.update_followup_policy(actor=None, breach_evaded=0, test_intervals=[1, 0])
    assert set(caught.value.message_dict) == {"breach_evaded", "test_intervals"}


def test_intervals_are_read_in_any_common_writing():
    assert parse_intervals("1,2,3") == [1, 2, 3]
    assert parse_intervals(" １，２、３ ") == [1, 2, 3]
    assert parse_intervals("2/4") == [2, 4]
    with pytest.raises(ValueError):
        parse_intervals("一,二")


def test_a_new_rule_changes_what_is_due_at_once(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=70)
    today = timezone.localdate()
    test_on(personas.grid_worker, person, today - timedelta(days=68))
    rows = worklist.my_people(personas.grid_worker, today)
    assert rows[0].state.tasks[Task.TEST].overdue
    followup.update_followup_policy(actor=personas.county_officer, test_intervals=[3, 3, 3])
    rows = worklist.my_people(personas.grid_worker, today)
    assert not rows[0].state.tasks[Task.TEST].overdue
