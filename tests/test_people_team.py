""" "4+X" help teams: members, the incomplete-team flag, notifications, pages and scope."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from jindu.notifications.models import Notification
from jindu.people import services, teams
from jindu.people.models import Person, TeamMember
from jindu.people.rules import flags_for
from tests.helpers import sign_in
from tests.people_factories import make_person

TODAY = timezone.localdate
FOUR = ("乡镇（街道）干部", "社区民警", "社区医生", "家庭成员")


def under_detox(actor, unit, **kw):
    person = make_person(actor, unit, **kw)
    decided = TODAY() - timedelta(days=40)
    services.add_measure(
        actor=actor,
        person=person,
        kind="community_detox",
        decision_date=decided,
        report_in_date=decided + timedelta(days=2),
    )
    return Person.objects.get(pk=person.pk)


def full_team(personas, person):
    a = personas.cadre_a
    return [
        teams.add_team_member(actor=a, person=person, role="township_cadre", user=a),
        teams.add_team_member(
            actor=a, person=person, role="community_police", user=personas.police_officer
        ),
        teams.add_team_member(
            actor=a, person=person, role="community_doctor", name="王医生", phone="13712345678"
        ),
        teams.add_team_member(
            actor=a, person=person, role="family_member", name="赵母", phone="13887654321"
        ),
    ]


# ------------------------------------------------------------------ the flag


def test_a_new_person_under_detox_is_flagged_for_all_four(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    assert flags_for(person, today=TODAY()).team_missing == list(FOUR)


def test_the_flag_clears_when_the_four_are_there_and_returns_when_one_leaves(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    members = full_team(personas, person)
    assert flags_for(person, today=TODAY()).team_missing == []
    teams.end_team_membership(actor=personas.cadre_a, member=members[2])
    assert flags_for(person, today=TODAY()).team_missing == ["社区医生"]


def test_extra_members_do_not_stand_in_for_the_four(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="volunteer",
        name="志愿者甲",
        phone="13600000000",
    )
    teams.add_team_member(
        actor=personas.cadre_a, person=person, role="grid_worker", user=personas.grid_worker
    )
    assert flags_for(person, today=TODAY()).team_missing == list(FOUR)


def test_ending_a_membership_keeps_the_row_with_its_dates(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    member = teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="family_member",
        name="赵母",
        phone="13887654321",
        joined_on=TODAY() - timedelta(days=10),
    )
    teams.end_team_membership(
        actor=personas.cadre_a, member=member, left_on=TODAY() - timedelta(days=1)
    )
    member.refresh_from_db()
    assert member.joined_on == TODAY() - timedelta(days=10)
    assert member.left_on == TODAY() - timedelta(days=1)
    with pytest.raises(ValidationError, match="已于"):
        teams.end_team_membership(actor=personas.cadre_a, member=member)


def test_leaving_before_joining_is_refused(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    member = teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="family_member",
        name="赵母",
        phone="13887654321",
        joined_on=TODAY() - timedelta(days=3),
    )
    with pytest.raises(ValidationError, match="不能早于加入日期"):
        teams.end_team_membership(
            actor=personas.cadre_a, member=member, left_on=TODAY() - timedelta(days=5)
        )


# ------------------------------------------------------------------ members


def test_a_member_with_an_account_is_told_whom_they_help(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a, name="孙某某")
    teams.add_team_member(
        actor=personas.cadre_a, person=person, role="community_police", user=personas.police_officer
    )
    note = Notification.objects.get(recipient=personas.police_officer)
    assert note.title == "您已加入孙某某的帮教小组"
    assert "社区民警" in note.body
    assert note.link == reverse("people:detail", kwargs={"pk": person.pk})


def test_a_member_without_an_account_gets_no_notification_and_needs_a_name_and_phone(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    with pytest.raises(ValidationError) as exc:
        teams.add_team_member(actor=personas.cadre_a, person=person, role="family_member")
    assert set(exc.value.message_dict) == {"name", "phone"}
    teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="family_member",
        name="赵母",
        phone="138 8765 4321",
    )
    assert not Notification.objects.filter(source__contains="joined").exists()
    assert person.team.get().phone == "13887654321"


def test_a_family_member_cannot_be_a_platform_account(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    with pytest.raises(ValidationError) as exc:
        teams.add_team_member(
            actor=personas.cadre_a, person=person, role="family_member", user=personas.grid_worker
        )
    assert "user" in exc.value.message_dict


def test_accounts_of_another_township_and_administrators_cannot_be_chosen(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    for user in (personas.cadre_b, personas.sys_admin):
        with pytest.raises(ValidationError) as exc:
            teams.add_team_member(
                actor=personas.cadre_a, person=person, role="township_cadre", user=user
            )
        assert "不可选" in str(exc.value)
    eligible = set(
        teams.eligible_users(personas.cadre_a, person).values_list("username", flat=True)
    )
    assert {"cadre_a", "grid_worker", "police_officer"} <= eligible
    assert not eligible & {"cadre_b", "sys_admin", "sec_admin", "audit_admin", "no_role", "leader"}


def test_the_same_account_cannot_join_twice(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    teams.add_team_member(
        actor=personas.cadre_a, person=person, role="grid_worker", user=personas.grid_worker
    )
    with pytest.raises(ValidationError, match="已在该帮教小组中"):
        teams.add_team_member(
            actor=personas.cadre_a, person=person, role="social_worker", user=personas.grid_worker
        )


@pytest.mark.parametrize("phone", ["abc123", "12345", "1" * 25])
def test_a_bad_phone_number_is_refused(personas, phone):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    with pytest.raises(ValidationError) as exc:
        teams.add_team_member(
            actor=personas.cadre_a, person=person, role="volunteer", name="钱志愿", phone=phone
        )
    assert "phone" in exc.value.message_dict


def test_a_member_cannot_join_in_the_future(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    with pytest.raises(ValidationError, match="不能晚于今天"):
        teams.add_team_member(
            actor=personas.cadre_a,
            person=person,
            role="volunteer",
            name="钱志愿",
            phone="13600000000",
            joined_on=TODAY() + timedelta(days=1),
        )


def test_the_phone_is_encrypted_at_rest(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    member = teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="family_member",
        name="赵母",
        phone="13887654321",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM people_teammember WHERE id = %s", [member.pk])
        (raw,) = cursor.fetchone()
    stored = bytes(raw) if not isinstance(raw, str) else raw.encode()
    assert stored and b"13887654321" not in stored


def test_adding_a_member_is_audited_with_the_phone_masked(personas):
    from jindu.audit.models import AuditEvent

    person = under_detox(personas.cadre_a, personas.territory.village_a)
    member = teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="family_member",
        name="赵母",
        phone="13887654321",
    )
    event = AuditEvent.objects.get(object_type="people.teammember", object_id=str(member.pk))
    assert "138****4321" in event.detail and "13887654321" not in event.detail


# ------------------------------------------------------------------ incomplete teams


def test_incomplete_teams_lists_only_people_under_a_community_measure_in_scope(personas):
    t = personas.territory
    lacking = under_detox(personas.cadre_a, t.village_a)
    complete = under_detox(personas.cadre_a, t.village_a)
    full_team(personas, complete)
    make_person(personas.cadre_a, t.village_a)  # under no measure: no team needed
    other = under_detox(personas.cadre_b, t.village_b)
    listed = set(teams.incomplete_teams(personas.cadre_a, TODAY()).values_list("pk", flat=True))
    assert listed == {lacking.pk}
    county = set(
        teams.incomplete_teams(personas.county_officer, TODAY()).values_list("pk", flat=True)
    )
    assert county == {lacking.pk, other.pk}
    assert not teams.incomplete_teams(personas.sys_admin, TODAY()).exists()


def test_a_dead_person_is_no_longer_listed(personas):
    from jindu.people import movement

    person = under_detox(personas.cadre_a, personas.territory.village_a)
    movement.record_death(actor=personas.cadre_a, person=person, died_on=TODAY())
    assert not teams.incomplete_teams(personas.cadre_a, TODAY()).exists()


def test_the_incomplete_page_shows_what_is_missing_and_filters_by_role(client, personas):
    t = personas.territory
    no_doctor = under_detox(personas.cadre_a, t.village_a, name="缺医生者")
    members = full_team(personas, no_doctor)
    teams.end_team_membership(actor=personas.cadre_a, member=members[2])
    under_detox(personas.cadre_a, t.grid_a, name="无小组者")
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("people:teams_incomplete")).content.decode()
    assert "缺医生者" in page and "无小组者" in page and "缺社区医生" in page
    page = client.get(
        reverse("people:teams_incomplete"), {"role": "family_member"}
    ).content.decode()
    assert "无小组者" in page and "缺医生者" not in page


def test_the_incomplete_page_answers_in_a_fixed_number_of_queries(client, personas):
    for _ in range(3):
        under_detox(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    client.get(reverse("people:teams_incomplete"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("people:teams_incomplete"))
    for _ in range(10):
        under_detox(personas.cadre_a, personas.territory.village_a)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("people:teams_incomplete"))
    assert len(many) == len(few)


def test_the_incomplete_export_lists_names_and_gaps_and_is_audited(client, personas):
    from jindu.audit.models import AuditEvent

    under_detox(personas.cadre_a, personas.territory.village_a, name="导出甲")
    under_detox(personas.cadre_b, personas.territory.village_b, name="导出乙")
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("people:teams_incomplete_export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "导出甲" in cells and "导出乙" not in cells
    assert any("社区医生" in str(c) for c in cells)
    assert AuditEvent.objects.filter(action="record.exported", username="cadre_a").exists()


# ------------------------------------------------------------------ pages


def test_the_team_page_shows_members_with_masked_phones_and_the_risk(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    full_team(personas, person)
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("people:team", args=[person.pk])).content.decode()
    assert "王医生" in page and "137****5678" in page and "13712345678" not in page
    assert "风险评估" in page
    assert "帮教小组缺" not in page
    assert f'name="left_on" value="{TODAY():%Y-%m-%d}"' in page


def test_the_person_section_loads_the_team_fragment(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("people:team_section", args=[person.pk])).content.decode()
    assert "帮教小组缺乡镇（街道）干部、社区民警、社区医生、家庭成员" in page
    assert "<html" not in page


def test_the_person_section_renders_in_place_when_given_its_context(rf, personas):
    from django.template.loader import render_to_string

    from jindu.people.team_views import section_context

    person = under_detox(personas.cadre_a, personas.territory.village_a)
    teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="family_member",
        name="赵母",
        phone="13887654321",
    )
    request = rf.get("/")
    request.user = personas.cadre_a
    inline = render_to_string(
        "people/team/_person_section.html",
        section_context(personas.cadre_a, person),
        request=request,
    )
    lazy = render_to_string("people/team/_person_section.html", {"person": person}, request=request)
    assert "赵母" in inline and "hx-get" not in inline
    assert "赵母" not in lazy and reverse("people:team_section", args=[person.pk]) in lazy


def test_adding_a_member_through_the_page(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    url = reverse("people:team_add", args=[person.pk])
    page = client.get(url).content.decode()
    assert "甲所民警" in page and "乙镇专干" not in page
    response = client.post(
        url,
        {
            "role": "community_police",
            "user": personas.police_officer.pk,
            "joined_on": TODAY().isoformat(),
        },
    )
    assert response.status_code == 302
    member = person.team.get()
    assert (member.user_id, member.name) == (personas.police_officer.pk, "甲所民警")


def test_a_refused_member_keeps_what_was_typed(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("people:team_add", args=[person.pk]),
        {"role": "family_member", "name": "周姐姐", "phone": "电话号码"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "联系电话格式不正确" in page and "周姐姐" in page and "电话号码" in page
    assert not person.team.exists()


def test_the_account_search_answers_options_for_htmx(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    fragment = client.get(
        reverse("people:team_add", args=[person.pk]), {"q": "民警"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<option" in fragment and "甲所民警" in fragment and "甲网格员" not in fragment


def test_ending_a_member_through_the_page(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    member = teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="family_member",
        name="赵母",
        phone="13887654321",
        joined_on=TODAY() - timedelta(days=5),
    )
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("people:team_end", args=[member.pk]), {"left_on": TODAY().isoformat()}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.left_on == TODAY()
    page = client.get(reverse("people:team", args=[person.pk])).content.decode()
    assert "已退出的成员" in page and "赵母" in page


def test_another_townships_team_answers_404_and_administrators_403(client, personas):
    person = under_detox(personas.cadre_b, personas.territory.village_b)
    member = teams.add_team_member(
        actor=personas.cadre_b,
        person=person,
        role="family_member",
        name="乙家属",
        phone="13900000000",
    )
    urls = [
        reverse(name, args=[person.pk])
        for name in ("people:team", "people:team_section", "people:team_add")
    ]
    sign_in(client, personas.cadre_a)
    for url in urls:
        assert client.get(url).status_code == 404
    assert client.post(reverse("people:team_end", args=[member.pk])).status_code == 404
    assert TeamMember.objects.get(pk=member.pk).left_on is None
    sign_in(client, personas.sec_admin)
    for url in [*urls, reverse("people:teams_incomplete")]:
        assert client.get(url).status_code == 403


def test_a_leader_cannot_open_a_persons_team(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.leader)
    assert client.get(reverse("people:team", args=[person.pk])).status_code == 403


def test_a_membership_of_a_person_born_after_the_join_date_is_refused(personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a, birth=date(2000, 6, 1))
    with pytest.raises(ValidationError, match="出生日期"):
        teams.add_team_member(
            actor=personas.cadre_a,
            person=person,
            role="volunteer",
            name="钱志愿",
            phone="13600000000",
            joined_on=date(1999, 1, 1),
        )


def test_the_person_page_carries_the_team_section(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert reverse("people:team_section", args=[person.pk]) in page
