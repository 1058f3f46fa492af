"""Correcting the register: deleting a mistaken drug test or visit, clearing a phone or address.

A deletion needs the record and its person in scope (404 otherwise), the
record-write capability (403 otherwise) and a reason; a record entered more
than 90 days ago needs the county office. The person's dated facts, the
measure's counts of evaded and refused tests and the tallies follow; the audit
row keeps the reason and never the result or summary in plain text.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.core import tallies
from jindu.core.roles import Perm, Role, roles_with
from jindu.people import followup
from jindu.people.models import DrugTest, FollowUpPolicy, Measure, Person, Visit
from jindu.people.rules import flags_for
from tests.helpers import sign_in
from tests.people_factories import make_person
from tests.test_people_followup import test_on, under_detox

REASON = "录错了人员，应为另一人"


def today() -> Any:
    return timezone.localdate()


def days_ago(n: int) -> Any:
    return today() - timedelta(days=n)


def visit_on(actor: Any, person: Person, day: Any, kind: str = "talk", summary: str = "") -> Visit:
    return followup.record_visit(
        actor=actor, person=person, kind=kind, visited_on=day, summary=summary
    )


def entered(record: DrugTest | Visit, days: int) -> None:
    """Pretend the record was typed in ``days`` days ago."""
    type(record).objects.filter(pk=record.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )
    record.refresh_from_db()


def deleted_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.RECORD_DELETED).order_by("seq"))


def test_url(record: DrugTest) -> str:
    return reverse("people:test_delete", args=[record.pk])


test_url.__test__ = False  # a helper, not a test


def visit_url(record: Visit) -> str:
    return reverse("people:visit_delete", args=[record.pk])


@pytest.fixture
def person_a(personas):
    return under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=60)


# ------------------------------------------------------------------ the services


def test_deleting_a_negative_test_moves_last_contact_back_and_is_audited(personas, person_a):
    older = test_on(personas.grid_worker, person_a, days_ago(20))
    wrong = test_on(personas.grid_worker, person_a, days_ago(2))
    person_a.refresh_from_db()
    assert person_a.last_contact_on == days_ago(2)

    followup.delete_test(actor=personas.grid_worker, test=wrong, reason=REASON)

    assert list(DrugTest.objects.values_list("pk", flat=True)) == [older.pk]
    person_a.refresh_from_db()
    assert person_a.last_contact_on == days_ago(20)
    [event] = deleted_events()
    assert event.object_type == "people.drugtest" and event.object_id == str(wrong.pk)
    assert event.username == "grid_worker"
    detail = event.detail_data
    assert detail["reason"] == REASON
    assert detail["person_id"] == person_a.pk
    assert detail["changed"]["result"] == ["***", ""]
    assert detail["changed"]["tested_on"][0] == f"{days_ago(2):%Y-%m-%d}"
    assert "negative" not in event.detail and "阴性" not in event.detail
    assert tallies.verify() == []


def test_deleting_a_positive_test_gives_back_the_abstinence_it_ended(personas):
    found = days_ago(5 * 365)
    person = make_person(personas.cadre_a, personas.territory.village_a, first_found_on=found)
    assert person.clean_since == found
    positive = test_on(personas.cadre_a, person, days_ago(10), "positive")
    person.refresh_from_db()
    assert person.clean_since == days_ago(10)
    assert tallies.verify() == []

    followup.delete_test(actor=personas.cadre_a, test=positive, reason="结果录入错误，实为阴性")

    person.refresh_from_db()
    assert person.clean_since == found
    assert person.last_contact_on is None
    event = deleted_events()[0]
    assert "positive" not in event.detail and "阳性" not in event.detail
    assert tallies.verify() == []


def test_deleting_an_evaded_test_takes_it_off_the_measure_and_the_breach_flag(personas, person_a):
    policy = FollowUpPolicy.current()
    evaded = [
        test_on(personas.grid_worker, person_a, days_ago(n), "evaded")
        for n in range(policy.breach_evaded)
    ]
    refused = test_on(personas.grid_worker, person_a, days_ago(1), "refused")
    measure = Measure.objects.get(person=person_a)
    assert (measure.evaded_count, measure.refused_count) == (policy.breach_evaded, 1)
    assert flags_for(person_a, today=today()).serious_breach

    followup.delete_test(actor=personas.grid_worker, test=evaded[0], reason="重复录入，删除一条")
    measure.refresh_from_db()
    assert measure.evaded_count == policy.breach_evaded - 1
    assert measure.refused_count == 1
    assert not flags_for(Person.objects.get(pk=person_a.pk), today=today()).serious_breach

    followup.delete_test(actor=personas.grid_worker, test=refused, reason="当日实际未检测")
    measure.refresh_from_db()
    assert measure.refused_count == 0
    event = deleted_events()[-1]
    assert "refused" not in event.detail and "拒绝" not in event.detail
    assert tallies.verify() == []


def test_deleting_a_visit_moves_last_contact_back_and_masks_the_summary(personas, person_a):
    visit_on(personas.grid_worker, person_a, days_ago(30))
    wrong = visit_on(personas.grid_worker, person_a, days_ago(1), "home_visit", "家中有异常情况")
    person_a.refresh_from_db()
    assert person_a.last_contact_on == days_ago(1)

    followup.delete_visit(actor=personas.grid_worker, visit=wrong, reason="录错了日期，重新登记")

    assert not Visit.objects.filter(pk=wrong.pk).exists()
    person_a.refresh_from_db()
    assert person_a.last_contact_on == days_ago(30)
    [event] = deleted_events()
    assert event.object_type == "people.visit"
    assert event.detail_data["changed"]["summary"] == ["***", ""]
    assert event.detail_data["changed"]["kind"] == ["home_visit", None]
    assert "异常" not in event.detail
    assert tallies.verify() == []


@pytest.mark.parametrize("reason", ["", "   ", "错了"])
def test_a_reason_is_required(personas, person_a, reason):
    test = test_on(personas.grid_worker, person_a, days_ago(1))
    with pytest.raises(ValidationError) as caught:
        followup.delete_test(actor=personas.grid_worker, test=test, reason=reason)
    assert caught.value.message_dict == {"reason": ["请填写删除原因（至少4个字）"]}
    assert DrugTest.objects.filter(pk=test.pk).exists()
    assert not deleted_events()


def test_the_service_refuses_out_of_scope_and_refused_actors(personas, person_a):
    test = test_on(personas.grid_worker, person_a, days_ago(1))
    visit = visit_on(personas.grid_worker, person_a, days_ago(1))
    for name in ("cadre_b", "leader", "dept_reporter", "sys_admin", "no_role"):
        with pytest.raises(PermissionDenied):
            followup.delete_test(actor=personas.users[name], test=test, reason=REASON)
        with pytest.raises(PermissionDenied):
            followup.delete_visit(actor=personas.users[name], visit=visit, reason=REASON)
    with pytest.raises(PermissionDenied):
        followup.delete_test(actor=None, test=test, reason=REASON)
    assert DrugTest.objects.filter(pk=test.pk).exists()
    assert Visit.objects.filter(pk=visit.pk).exists()
    assert not deleted_events()


def test_a_record_entered_over_90_days_ago_needs_the_county_office(personas, person_a):
    test = test_on(personas.grid_worker, person_a, days_ago(40))
    entered(test, 90)
    assert followup.may_delete(personas.cadre_a, test)
    entered(test, 91)
    for name in ("cadre_a", "grid_worker", "police_officer"):
        assert not followup.may_delete(personas.users[name], test)
        with pytest.raises(PermissionDenied) as caught:
            followup.delete_test(actor=personas.users[name], test=test, reason=REASON)
        assert "只能由县禁毒办删除" in str(caught.value)
    assert followup.may_delete(personas.county_officer, test)
    followup.delete_test(actor=personas.county_officer, test=test, reason=REASON)
    assert not DrugTest.objects.filter(pk=test.pk).exists()


def test_a_test_typed_in_late_counts_from_its_entry(personas, person_a):
    """An old paper record typed in today is a fresh entry: its typist may correct it."""
    test = test_on(personas.grid_worker, person_a, days_ago(59))
    entered(test, 0)
    assert followup.may_delete(personas.grid_worker, test)


def test_only_the_county_office_may_correct_old_records():
    assert roles_with(Perm.FOLLOWUP_CORRECT) == frozenset({Role.COUNTY_OFFICE})
    assert roles_with(Perm.FOLLOWUP_CORRECT) <= roles_with(Perm.RECORD_WRITE)


# ------------------------------------------------------------------ the pages


def test_the_confirm_page_shows_the_record_and_deleting_goes_back(client, personas, person_a):
    test = test_on(personas.grid_worker, person_a, days_ago(3), "positive")
    sign_in(client, personas.cadre_a)
    page = client.get(test_url(test))
    assert page.status_code == 200
    html = page.content.decode()
    assert person_a.name in html and "阳性" in html and f"{days_ago(3):%Y-%m-%d}" in html
    assert "删除原因" in html

    detail = reverse("people:detail", args=[person_a.pk])
    response = client.post(test_url(test), {"reason": REASON, "next": detail})
    assert response.status_code == 302 and response.url == detail
    assert not DrugTest.objects.filter(pk=test.pk).exists()
    assert deleted_events()[0].detail_data["reason"] == REASON
    assert tallies.verify() == []


def test_the_visit_page_deletes_a_visit(client, personas, person_a):
    visit = visit_on(personas.grid_worker, person_a, days_ago(3), summary="谈话内容")
    sign_in(client, personas.grid_worker)
    html = client.get(visit_url(visit)).content.decode()
    assert "谈话教育" in html and "谈话内容" in html
    response = client.post(visit_url(visit), {"reason": REASON, "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url == reverse("people:detail", args=[person_a.pk])
    assert not Visit.objects.filter(pk=visit.pk).exists()


def test_a_blank_reason_gives_the_chinese_error_and_deletes_nothing(client, personas, person_a):
    test = test_on(personas.grid_worker, person_a, days_ago(3))
    visit = visit_on(personas.grid_worker, person_a, days_ago(3))
    sign_in(client, personas.cadre_a)
    for url in (test_url(test), visit_url(visit)):
        response = client.post(url, {"reason": " "})
        assert response.status_code == 200
        assert "请填写删除原因（至少4个字）" in response.content.decode()
    assert DrugTest.objects.filter(pk=test.pk).exists()
    assert Visit.objects.filter(pk=visit.pk).exists()
    assert not deleted_events()


@pytest.mark.parametrize("name", ["cadre_b", "dept_reporter"])
def test_out_of_scope_users_get_404(client, personas, person_a, name):
    test = test_on(personas.grid_worker, person_a, days_ago(3))
    visit = visit_on(personas.grid_worker, person_a, days_ago(3))
    sign_in(client, personas.users[name])
    for url in (test_url(test), visit_url(visit)):
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": REASON}).status_code == 404
    assert DrugTest.objects.filter(pk=test.pk).exists()
    assert Visit.objects.filter(pk=visit.pk).exists()


@pytest.mark.parametrize("name", ["leader", "sys_admin", "sec_admin", "audit_admin", "no_role"])
def test_roles_without_record_writing_get_403(client, personas, person_a, name):
    test = test_on(personas.grid_worker, person_a, days_ago(3))
    visit = visit_on(personas.grid_worker, person_a, days_ago(3))
    sign_in(client, personas.users[name])
    for url in (test_url(test), visit_url(visit)):
        assert client.get(url).status_code == 403
        assert client.post(url, {"reason": REASON}).status_code == 403
    assert DrugTest.objects.filter(pk=test.pk).exists()
    assert Visit.objects.filter(pk=visit.pk).exists()


def test_a_transferred_persons_old_records_stay_with_the_old_side(client, personas, person_a):
    """A test keeps its unit's path after a transfer: the new side may not delete it."""
    from jindu.people import movement

    test = test_on(personas.grid_worker, person_a, days_ago(3))
    movement.transfer_person(
        actor=personas.county_officer,
        person=person_a,
        to_unit=personas.territory.village_b,
        transferred_on=today(),
        reason="迁居乙镇",
    )
    for name in ("cadre_a", "cadre_b"):
        sign_in(client, personas.users[name])
        assert client.get(test_url(test)).status_code == 404
    sign_in(client, personas.county_officer)
    assert client.get(test_url(test)).status_code == 200


def test_the_panel_offers_delete_only_where_allowed(client, personas, person_a):
    fresh = test_on(personas.grid_worker, person_a, days_ago(3))
    old = test_on(personas.grid_worker, person_a, days_ago(50))
    entered(old, 100)
    visit = visit_on(personas.grid_worker, person_a, days_ago(3))
    panel = reverse("people:followup_panel", args=[person_a.pk])

    sign_in(client, personas.cadre_a)
    html = client.get(panel).content.decode()
    assert test_url(fresh) in html and visit_url(visit) in html
    assert test_url(old) not in html
    assert client.get(test_url(old)).status_code == 403

    sign_in(client, personas.county_officer)
    html = client.get(panel).content.decode()
    assert test_url(fresh) in html and test_url(old) in html

    sign_in(client, personas.leader)
    html = client.get(reverse("people:followup", args=[person_a.pk])).content.decode()
    assert "/delete/" not in html


# ------------------------------------------------------------------ clearing secrets


def _edit_data(person: Person, **extra: str) -> dict[str, str]:
    return {"name": person.name, "id_number": "", "household_local": "on", **extra}


def test_the_edit_form_clears_a_phone_and_audits_it(client, personas, territory):
    person = make_person(
        personas.cadre_a,
        territory.village_a,
        phone="13812345678",
        current_address="青岚县甲镇甲一村3组12号",
    )
    url = reverse("people:edit", args=[person.pk])
    sign_in(client, personas.cadre_a)
    html = client.get(url).content.decode()
    assert 'name="clear_phone"' in html and 'name="clear_current_address"' in html
    # Nothing stored: nothing to clear.
    assert 'name="clear_household_address"' not in html

    response = client.post(url, _edit_data(person, clear_phone="on"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.phone
    assert person.current_address == "青岚县甲镇甲一村3组12号"
    event = AuditEvent.objects.filter(
        action=Action.RECORD_UPDATED, object_type="people.person"
    ).get()
    assert event.detail_data["changed"]["phone"] == ["138****5678", ""]
    assert "13812345678" not in event.detail
    assert 'name="clear_phone"' not in client.get(url).content.decode()


def test_the_edit_form_clears_an_address(client, personas, territory):
    person = make_person(
        personas.cadre_a, territory.village_a, household_address="外省某市某县某村"
    )
    sign_in(client, personas.cadre_a)
    url = reverse("people:edit", args=[person.pk])
    client.post(url, _edit_data(person, clear_household_address="on"))
    person.refresh_from_db()
    assert not person.household_address


def test_clearing_and_typing_a_new_value_together_is_refused(client, personas, territory):
    person = make_person(personas.cadre_a, territory.village_a, phone="13812345678")
    sign_in(client, personas.cadre_a)
    url = reverse("people:edit", args=[person.pk])
    response = client.post(url, _edit_data(person, clear_phone="on", phone="13900000000"))
    assert response.status_code == 200
    assert "已勾选清除，请不要同时填写新内容" in response.content.decode()
    person.refresh_from_db()
    assert person.phone == "13812345678"


def test_an_unticked_box_keeps_the_phone(client, personas, territory):
    person = make_person(personas.cadre_a, territory.village_a, phone="13812345678")
    sign_in(client, personas.cadre_a)
    client.post(reverse("people:edit", args=[person.pk]), _edit_data(person))
    person.refresh_from_db()
    assert person.phone == "13812345678"
    updates = AuditEvent.objects.filter(action=Action.RECORD_UPDATED)
    assert not any("phone" in event.detail for event in updates)
