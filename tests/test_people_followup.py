"""Recording follow-up: drug tests, talks and visits, absences and returns.

The services refuse impossible dates with Chinese messages on the right field;
the pages keep what was typed when they refuse; a positive test raises the
relapse alert and leaving without leave the absconding alert, each to the
right people only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.notifications.models import Notification
from jindu.people import followup, services, teams
from jindu.people.models import Absence, DrugTest, Measure, Person, TeamMember, Visit
from tests.helpers import sign_in
from tests.people_factories import make_person

# ------------------------------------------------------------------ helpers shared
# with the other follow-up test modules (imported from here).


def under_detox(actor: Any, unit: Any, *, reported_days_ago: int = 10, **kw: Any) -> Person:
    """A person under community detox who reported in ``reported_days_ago`` days ago."""
    today = timezone.localdate()
    report_in = today - timedelta(days=reported_days_ago)
    person = make_person(actor, unit, **kw)
    services.add_measure(
        actor=actor,
        person=person,
        kind="community_detox",
        decision_date=report_in - timedelta(days=3),
        report_in_date=report_in,
    )
    person.refresh_from_db()
    return person


def member(actor: Any, person: Person, role: str, user: Any = None, **kw: Any) -> TeamMember:
    if user is None:
        kw.setdefault("name", "家属" + role[:4])
        kw.setdefault("phone", "13800000000")
    return teams.add_team_member(actor=actor, person=person, role=role, user=user, **kw)


def test_on(actor: Any, person: Person, day: date, result: str = "negative") -> DrugTest:
    return followup.record_test(
        actor=actor, person=person, tested_on=day, method="urine", result=result
    )


test_on.__test__ = False  # a helper, not a test


def relapse_recipients() -> set[str]:
    return set(
        Notification.objects.filter(source__endswith=":relapse").values_list(
            "recipient__username", flat=True
        )
    )


# ------------------------------------------------------------------ drug tests


def test_a_test_is_stored_encrypted_counts_as_contact_and_is_audited(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    today = timezone.localdate()
    test = test_on(personas.grid_worker, person, today)
    test.refresh_from_db()
    assert test.result == "negative"
    assert test.measure is not None and test.measure.kind == "community_detox"
    assert test.recorded_by == personas.grid_worker
    assert test.org_path == person.org_path
    person.refresh_from_db()
    assert person.last_contact_on == today
    event = AuditEvent.objects.filter(
        action=Action.RECORD_CREATED, object_type="people.drugtest"
    ).get()
    assert event.detail_data["changed"]["result"][1] == "***"
    assert "negative" not in str(event.detail)


def test_a_test_in_the_future_is_refused_on_its_date_field(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    with pytest.raises(ValidationError) as caught:
        test_on(personas.grid_worker, person, timezone.localdate() + timedelta(days=1))
    assert caught.value.message_dict == {"tested_on": ["检测日期不能晚于今天"]}
    assert not DrugTest.objects.exists()


def test_a_test_before_birth_is_refused(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, birth=date(1995, 6, 1))
    with pytest.raises(ValidationError) as caught:
        test_on(personas.grid_worker, person, date(1995, 5, 31))
    assert caught.value.message_dict["tested_on"] == ["检测日期不能早于出生日期（1995-06-01）"]


def test_an_unknown_method_and_result_are_refused_together(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    with pytest.raises(ValidationError) as caught:
        followup.record_test(
            actor=personas.grid_worker,
            person=person,
            tested_on=timezone.localdate(),
            method="x",
            result="maybe",
        )
    assert set(caught.value.message_dict) == {"method", "result"}


def test_evaded_and_refused_tests_are_counted_on_the_measure(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=60)
    today = timezone.localdate()
    test_on(personas.grid_worker, person, today - timedelta(days=40), "evaded")
    test_on(personas.grid_worker, person, today - timedelta(days=20), "refused")
    test_on(personas.grid_worker, person, today - timedelta(days=10), "evaded")
    measure = Measure.objects.get(person=person)
    assert (measure.evaded_count, measure.refused_count) == (2, 1)
    person.refresh_from_db()
    # An evaded test is no contact; a refusal is a meeting.
    assert person.last_contact_on == today - timedelta(days=20)


def test_a_positive_test_alerts_team_members_with_accounts_and_the_township_managers(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    member(personas.cadre_a, person, "grid_worker", personas.grid_worker)
    member(personas.cadre_a, person, "community_police", personas.police_officer)
    member(personas.cadre_a, person, "family_member")
    test_on(personas.grid_worker, person, timezone.localdate(), "positive")
    assert relapse_recipients() == {"grid_worker", "police_officer", "cadre_a"}
    alert = Notification.objects.filter(source__endswith=":relapse").first()
    assert alert.level == Notification.Level.ALERT
    assert person.name in alert.title and "阳性" in alert.title
    assert alert.link == reverse("people:detail", kwargs={"pk": person.pk})


def test_the_relapse_alert_never_reaches_another_township_or_the_county(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    # The county office may put a 乙镇 account on the team by mistake; the alert
    # still goes only to those whose scope holds the person.
    member(personas.county_officer, person, "township_cadre", personas.cadre_b)
    from jindu.accounts import services as accounts

    accounts.create_user(
        actor=None,
        username="county_manager",
        full_name="县级专干",
        org_unit=personas.territory.county,
        password="Qinglan#2026",
        roles={"township_manager"},
        must_change_password=False,
    )
    test_on(personas.grid_worker, person, timezone.localdate(), "positive")
    recipients = relapse_recipients()
    assert "cadre_b" not in recipients
    assert "county_manager" not in recipients
    assert recipients == {"cadre_a"}


def test_a_negative_test_raises_no_alert(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    test_on(personas.grid_worker, person, timezone.localdate())
    assert not relapse_recipients()


# ------------------------------------------------------------------ visits


def test_help_given_needs_a_help_kind_from_the_code_list(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        followup.record_visit(
            actor=personas.grid_worker, person=person, kind="help", visited_on=today
        )
    assert caught.value.message_dict == {"help_kind": ["请选择帮扶类型"]}
    with pytest.raises(ValidationError) as caught:
        followup.record_visit(
            actor=personas.grid_worker,
            person=person,
            kind="help",
            visited_on=today,
            help_kind="cash",
        )
    assert caught.value.message_dict == {"help_kind": ["帮扶类型不在字典中，请重新选择"]}
    visit = followup.record_visit(
        actor=personas.grid_worker,
        person=person,
        kind="help",
        visited_on=today,
        help_kind="employment",
        summary="介绍到县城物流园上班",
    )
    visit.refresh_from_db()
    assert visit.summary == "介绍到县城物流园上班"


def test_help_kinds_ship_with_the_register():
    import json
    from pathlib import Path

    import jindu.people

    data = json.loads(
        (Path(jindu.people.__file__).parent / "data" / "codes.json").read_text(encoding="utf-8")
    )
    (help_kind,) = [spec for spec in data["lists"] if spec["key"] == "help_kind"]
    assert [label for _code, label in help_kind["items"]] == [
        "就业帮扶", "低保/救助", "技能培训", "戒毒治疗", "心理辅导", "其他",
    ]  # fmt: skip


def test_a_visit_counts_as_contact_and_a_future_one_is_refused(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    today = timezone.localdate()
    followup.record_visit(
        actor=personas.grid_worker, person=person, kind="home_visit", visited_on=today
    )
    person.refresh_from_db()
    assert person.last_contact_on == today
    with pytest.raises(ValidationError) as caught:
        followup.record_visit(
            actor=personas.grid_worker,
            person=person,
            kind="talk",
            visited_on=today + timedelta(days=2),
        )
    assert caught.value.message_dict == {"visited_on": ["日期不能晚于今天"]}


# ------------------------------------------------------------------ absences


def test_leaving_without_leave_alerts_the_team_and_a_return_ends_it(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    member(personas.cadre_a, person, "grid_worker", personas.grid_worker)
    today = timezone.localdate()
    absence = followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=today - timedelta(days=3),
        authorised=False,
        destination="广东省东莞市",
    )
    alerts = Notification.objects.filter(source__endswith=":absconded")
    assert set(alerts.values_list("recipient__username", flat=True)) == {"grid_worker", "cadre_a"}
    absence.refresh_from_db()
    assert absence.destination == "广东省东莞市"
    followup.record_return(actor=personas.grid_worker, absence=absence, returned_on=today)
    absence.refresh_from_db()
    assert absence.returned_on == today


def test_leave_granted_raises_no_alert(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    followup.record_absence(
        actor=personas.grid_worker, person=person, left_on=timezone.localdate(), authorised=True
    )
    assert not Notification.objects.filter(source__endswith=":absconded").exists()


def test_a_return_before_leaving_is_refused(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        followup.record_absence(
            actor=personas.grid_worker,
            person=person,
            left_on=today - timedelta(days=2),
            returned_on=today - timedelta(days=5),
            authorised=True,
        )
    assert caught.value.message_dict == {"returned_on": ["返回日期不能早于离开日期"]}
    absence = followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=today - timedelta(days=2),
        authorised=True,
    )
    with pytest.raises(ValidationError) as caught:
        followup.record_return(
            actor=personas.grid_worker, absence=absence, returned_on=today - timedelta(days=3)
        )
    left = f"{today - timedelta(days=2):%Y-%m-%d}"
    assert caught.value.message_dict == {"returned_on": [f"返回日期不能早于离开日期（{left}）"]}


def test_a_second_absence_while_one_is_open_and_a_second_return_are_refused(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    today = timezone.localdate()
    absence = followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=today - timedelta(days=5),
        authorised=True,
    )
    with pytest.raises(ValidationError) as caught:
        followup.record_absence(
            actor=personas.grid_worker, person=person, left_on=today, authorised=False
        )
    assert "尚未登记返回" in caught.value.message_dict["left_on"][0]
    followup.record_return(actor=personas.grid_worker, absence=absence, returned_on=today)
    with pytest.raises(ValidationError) as caught:
        followup.record_return(actor=personas.grid_worker, absence=absence, returned_on=today)
    assert "已于" in caught.value.message_dict["returned_on"][0]
    assert Absence.objects.count() == 1


# ------------------------------------------------------------------ the pages


def test_grid_worker_records_a_test_from_its_page(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    sign_in(client, personas.grid_worker)
    url = reverse("people:test_add", kwargs={"pk": person.pk})
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in body
    assert "阴性" in body and "尿检" in body
    response = client.post(
        url,
        {
            "tested_on": f"{timezone.localdate():%Y-%m-%d}",
            "method": "urine",
            "result": "negative",
            "next": reverse("people:my_people"),
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("people:my_people")
    assert DrugTest.objects.filter(person=person).count() == 1


def test_a_refused_form_keeps_what_was_typed_and_says_why_by_the_field(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    sign_in(client, personas.grid_worker)
    future = timezone.localdate() + timedelta(days=3)
    response = client.post(
        reverse("people:test_add", kwargs={"pk": person.pk}),
        {
            "tested_on": f"{future:%Y-%m-%d}",
            "method": "hair",
            "result": "negative",
            "notes": "复查",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "检测日期不能晚于今天" in body
    assert f'value="{future:%Y-%m-%d}"' in body
    assert 'value="复查"' in body
    assert 'value="hair" autocomplete="off" checked' in body
    assert not DrugTest.objects.exists()


def test_a_missing_result_is_asked_for(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    sign_in(client, personas.grid_worker)
    response = client.post(
        reverse("people:test_add", kwargs={"pk": person.pk}),
        {"tested_on": f"{timezone.localdate():%Y-%m-%d}", "method": "urine"},
    )
    assert "请选择检测结果" in response.content.decode()


def test_the_test_form_opens_inside_a_card_and_answers_with_the_card_redrawn(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    sign_in(client, personas.grid_worker)
    url = reverse("people:test_add", kwargs={"pk": person.pk})
    opened = client.get(url + "?inline=1", headers={"HX-Request": "true"})
    body = opened.content.decode()
    assert "<!doctype" not in body.lower()
    assert f'id="jd-card-{person.pk}"' in body and 'name="result"' in body
    saved = client.post(
        url,
        {
            "tested_on": f"{timezone.localdate():%Y-%m-%d}",
            "method": "urine",
            "result": "negative",
            "inline": "1",
        },
        headers={"HX-Request": "true"},
    )
    body = saved.content.decode()
    assert saved.status_code == 200
    assert f'id="jd-card-{person.pk}"' in body
    assert "已登记" in body and 'name="result"' not in body


def test_visit_form_offers_the_help_kinds_and_records_a_summary(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    sign_in(client, personas.grid_worker)
    url = reverse("people:visit_add", kwargs={"pk": person.pk})
    body = client.get(url + "?kind=summary").content.decode()
    assert "就业帮扶" in body and "心理辅导" in body
    assert 'value="summary" autocomplete="off" checked' in body
    response = client.post(
        url,
        {
            "kind": "summary",
            "visited_on": f"{timezone.localdate():%Y-%m-%d}",
            "summary": "半年表现良好",
        },
    )
    assert response.status_code == 302
    assert Visit.objects.get(person=person).kind == "summary"


def test_absence_and_return_pages(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    sign_in(client, personas.grid_worker)
    today = f"{timezone.localdate():%Y-%m-%d}"
    response = client.post(
        reverse("people:absence_add", kwargs={"pk": person.pk}),
        {"left_on": today, "destination": "省城"},
    )
    assert response.status_code == 302
    absence = Absence.objects.get(person=person)
    assert absence.authorised is False
    page = client.get(reverse("people:followup", kwargs={"pk": person.pk})).content.decode()
    assert "未返回" in page and "脱管" in page
    # The destination is an address: masked on the page.
    assert "省城" not in page or "省城****" in page
    response = client.post(
        reverse("people:absence_return", kwargs={"pk": absence.pk}), {"returned_on": today}
    )
    assert response.status_code == 302
    absence.refresh_from_db()
    assert absence.returned_on == timezone.localdate()


def test_a_return_page_refusal_stays_on_the_page(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    today = timezone.localdate()
    absence = followup.record_absence(
        actor=personas.grid_worker, person=person, left_on=today, authorised=True
    )
    sign_in(client, personas.grid_worker)
    earlier = f"{today - timedelta(days=1):%Y-%m-%d}"
    response = client.post(
        reverse("people:absence_return", kwargs={"pk": absence.pk}), {"returned_on": earlier}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "返回日期不能早于离开日期" in body and f'value="{earlier}"' in body


def test_next_never_leaves_the_site(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    sign_in(client, personas.grid_worker)
    response = client.post(
        reverse("people:test_add", kwargs={"pk": person.pk}),
        {
            "tested_on": f"{timezone.localdate():%Y-%m-%d}",
            "method": "urine",
            "result": "negative",
            "next": "https://evil.example/",
        },
    )
    assert response.url == reverse("people:followup", kwargs={"pk": person.pk})


def test_another_townships_person_answers_404_to_every_recording_page(client, personas):
    person = under_detox(personas.cadre_b, personas.territory.grid_b)
    absence = followup.record_absence(
        actor=personas.cadre_b, person=person, left_on=timezone.localdate(), authorised=True
    )
    sign_in(client, personas.cadre_a)
    for name in ("test_add", "visit_add", "absence_add", "followup", "followup_panel"):
        url = reverse(f"people:{name}", kwargs={"pk": person.pk})
        assert client.get(url).status_code == 404, name
        assert client.post(url, {}).status_code == 404, name
    url = reverse("people:absence_return", kwargs={"pk": absence.pk})
    assert client.post(url, {"returned_on": "2020-01-01"}).status_code == 404
    assert not DrugTest.objects.exists()


@pytest.mark.parametrize("name", ["sys_admin", "sec_admin", "audit_admin", "leader", "no_role"])
def test_roles_that_may_not_write_are_refused(client, personas, name):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    sign_in(client, personas.users[name])
    url = reverse("people:test_add", kwargs={"pk": person.pk})
    assert client.get(url).status_code == 403
    assert (
        client.post(
            url, {"tested_on": "2024-01-01", "method": "urine", "result": "negative"}
        ).status_code
        == 403
    )
    assert not DrugTest.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    response = client.get(reverse("people:test_add", kwargs={"pk": person.pk}))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_follow_up_page_shows_the_schedule_results_visits_and_breach_counts(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=70)
    today = timezone.localdate()
    test_on(personas.grid_worker, person, today - timedelta(days=65), "negative")
    test_on(personas.grid_worker, person, today - timedelta(days=5), "evaded")
    followup.record_visit(
        actor=personas.grid_worker,
        person=person,
        kind="help",
        visited_on=today,
        help_kind="training",
        summary="报名县职校电焊班",
    )
    sign_in(client, personas.grid_worker)
    for name in ("people:followup", "people:followup_panel"):
        body = client.get(reverse(name, kwargs={"pk": person.pk})).content.decode()
        assert "阴性" in body and "逃避检测" in body
        assert "技能培训" in body and "报名县职校电焊班" in body
        assert "已逾期" in body  # the second month's test was missed
        assert "逃避检测 1/3次" in body
        assert "本年度每1个月检测一次" in body
        assert reverse("people:test_add", kwargs={"pk": person.pk}) in body


def test_the_person_page_section_loads_the_follow_up_after_the_page(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    sign_in(client, personas.grid_worker)
    body = client.get(reverse("people:detail", kwargs={"pk": person.pk})).content.decode()
    assert reverse("people:followup_panel", kwargs={"pk": person.pk}) in body
    assert reverse("people:followup", kwargs={"pk": person.pk}) in body


def test_the_follow_up_page_costs_the_same_queries_however_long_the_history(client, personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=300)
    today = timezone.localdate()
    sign_in(client, personas.grid_worker)
    url = reverse("people:followup_panel", kwargs={"pk": person.pk})

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def add(days):
        test_on(personas.grid_worker, person, today - timedelta(days=days))
        followup.record_visit(
            actor=personas.grid_worker,
            person=person,
            kind="help",
            visited_on=today - timedelta(days=days),
            help_kind="welfare",
        )
        followup.record_absence(
            actor=personas.grid_worker,
            person=person,
            left_on=today - timedelta(days=days),
            returned_on=today - timedelta(days=days - 1),
            authorised=True,
        )

    add(200)
    few = queries()
    for days in (150, 120, 90, 60, 30, 20, 10):
        add(days)
    assert queries() == few
