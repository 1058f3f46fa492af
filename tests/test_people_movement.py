"""Transfers between units, the responsible-unit rule, death and moving away, unit moves."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from jindu.audit.models import AuditEvent
from jindu.notifications.models import Notification
from jindu.orgs import services as orgs
from jindu.people import followup, movement, services, teams
from jindu.people.models import DrugTest, Measure, Person, Responsibility, TeamMember, Transfer
from jindu.people.status import Status, status_on
from tests.helpers import sign_in
from tests.people_factories import make_person

TODAY = timezone.localdate


def _under_detox(actor, unit, **kw):
    person = make_person(actor, unit, first_found_on=date(2020, 1, 5), **kw)
    decided = TODAY() - timedelta(days=200)
    services.add_measure(
        actor=actor,
        person=person,
        kind="community_detox",
        decision_date=decided,
        report_in_date=decided + timedelta(days=3),
    )
    return Person.objects.get(pk=person.pk)


@pytest.fixture
def moved(personas):
    """A person of 甲一村 with a test and a visit, handed over to 乙一村 60 days ago."""
    t = personas.territory
    person = _under_detox(personas.cadre_a, t.village_a)
    test_day = TODAY() - timedelta(days=100)
    followup.record_test(
        actor=personas.cadre_a,
        person=person,
        tested_on=test_day,
        method="urine",
        result="negative",
    )
    followup.record_visit(
        actor=personas.cadre_a,
        person=person,
        kind="talk",
        visited_on=test_day,
        summary="谈话",
    )
    transfer = movement.transfer_person(
        actor=personas.cadre_a,
        person=person,
        to_unit=t.village_b,
        transferred_on=TODAY() - timedelta(days=60),
        reason="现居住地变更",
    )
    return Person.objects.get(pk=person.pk), transfer


# ------------------------------------------------------------------ the transfer


def test_transfer_changes_the_responsible_unit_and_keeps_both_ends(moved, personas):
    person, transfer = moved
    t = personas.territory
    assert person.org_unit_id == t.village_b.pk and person.org_path == t.village_b.path
    assert (transfer.from_unit_id, transfer.to_unit_id) == (t.village_a.pk, t.village_b.pk)
    assert transfer.from_path == t.village_a.path and transfer.to_path == t.village_b.path


def test_transfer_closes_the_old_responsibility_and_opens_the_new_on_the_same_day(moved, personas):
    person, transfer = moved
    rows = list(Responsibility.objects.filter(person=person).order_by("valid_from"))
    assert [(r.org_unit_id, r.valid_from, r.valid_to) for r in rows] == [
        (personas.territory.village_a.pk, date(2020, 1, 5), transfer.transferred_on),
        (personas.territory.village_b.pk, transfer.transferred_on, None),
    ]


def test_history_stays_where_it_happened_and_the_running_measure_moves(moved, personas):
    person, _transfer = moved
    t = personas.territory
    assert person.tests.get().org_path == t.village_a.path
    assert person.visits.get().org_path == t.village_a.path
    assert person.measures.get().org_path == t.village_b.path


def test_both_townships_see_the_hand_over(moved, personas):
    _person, transfer = moved
    assert movement.transfers_for(personas.cadre_a).filter(pk=transfer.pk).exists()
    assert movement.transfers_for(personas.cadre_b).filter(pk=transfer.pk).exists()
    assert movement.transfers_for(personas.county_officer).filter(pk=transfer.pk).exists()
    assert not movement.transfers_for(personas.sys_admin).exists()


def test_the_receiving_township_manager_is_told(moved, personas):
    person, _transfer = moved
    note = Notification.objects.get(recipient=personas.cadre_b, source__endswith=":transfer")
    assert person.name in note.title
    assert note.link == reverse("people:detail", kwargs={"pk": person.pk})
    assert not Notification.objects.filter(
        recipient=personas.cadre_a, source__endswith=":transfer"
    ).exists()


def test_the_transfer_is_audited(moved):
    person, transfer = moved
    assert AuditEvent.objects.filter(object_type="people.transfer", object_id=str(transfer.pk))
    row = AuditEvent.objects.filter(object_type="people.person", object_id=str(person.pk)).first()
    assert "org_unit_id" in row.detail


def test_after_the_hand_over_the_sender_loses_the_person_and_the_receiver_gains_them(
    moved, client, personas
):
    person, _transfer = moved
    sign_in(client, personas.cadre_a)
    assert client.get(reverse("people:team", args=[person.pk])).status_code == 404
    sign_in(client, personas.cadre_b)
    assert client.get(reverse("people:team", args=[person.pk])).status_code == 200


def test_place_bound_members_leave_the_team_and_family_goes_along(personas):
    t = personas.territory
    person = _under_detox(personas.cadre_a, t.village_a)
    day = TODAY() - timedelta(days=30)
    cadre = teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="township_cadre",
        user=personas.cadre_a,
        joined_on=day,
    )
    family = teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="family_member",
        name="张母",
        phone="13800001111",
        joined_on=day,
    )
    movement.transfer_person(
        actor=personas.cadre_a, person=person, to_unit=t.village_b, transferred_on=TODAY()
    )
    cadre.refresh_from_db()
    family.refresh_from_db()
    assert cadre.left_on == TODAY()
    assert family.left_on is None and family.org_path == t.village_b.path


def test_a_county_account_stays_in_the_team_across_townships(personas):
    t = personas.territory
    person = _under_detox(personas.cadre_a, t.village_a)
    member = teams.add_team_member(
        actor=personas.county_officer,
        person=person,
        role="social_worker",
        user=personas.county_officer,
    )
    movement.transfer_person(
        actor=personas.cadre_a, person=person, to_unit=t.grid_b, transferred_on=TODAY()
    )
    member.refresh_from_db()
    assert member.left_on is None


@pytest.mark.parametrize(
    ("target", "message"),
    [("township_b", "村（社区）或网格"), ("village_a", "相同")],
)
def test_transfer_to_a_township_or_to_the_same_unit_is_refused(personas, target, message):
    t = personas.territory
    person = make_person(personas.cadre_a, t.village_a)
    with pytest.raises(ValidationError) as exc:
        movement.transfer_person(
            actor=personas.cadre_a,
            person=person,
            to_unit=getattr(t, target),
            transferred_on=TODAY(),
        )
    assert message in str(exc.value)
    assert not Transfer.objects.exists()


def test_transfer_dated_before_the_current_responsibility_is_refused(personas):
    t = personas.territory
    person = make_person(personas.cadre_a, t.village_a, first_found_on=date(2022, 3, 1))
    with pytest.raises(ValidationError) as exc:
        movement.transfer_person(
            actor=personas.cadre_a,
            person=person,
            to_unit=t.village_b,
            transferred_on=date(2022, 2, 1),
        )
    assert "2022-03-01" in str(exc.value)


def test_transfer_in_the_future_is_refused(personas):
    t = personas.territory
    person = make_person(personas.cadre_a, t.village_a)
    with pytest.raises(ValidationError):
        movement.transfer_person(
            actor=personas.cadre_a,
            person=person,
            to_unit=t.village_b,
            transferred_on=TODAY() + timedelta(days=1),
        )


def test_only_a_user_whose_scope_holds_the_person_may_send_them(personas):
    t = personas.territory
    person = make_person(personas.cadre_a, t.village_a)
    with pytest.raises(PermissionDenied):
        movement.transfer_person(
            actor=personas.cadre_b, person=person, to_unit=t.village_b, transferred_on=TODAY()
        )
    assert Person.objects.get(pk=person.pk).org_unit_id == t.village_a.pk


# ------------------------------------------------------------------ the statistics rule


def test_responsible_unit_by_date_follows_the_transfer_day(moved, personas):
    person, transfer = moved
    t = personas.territory
    day = transfer.transferred_on
    assert movement.responsible_unit_on(person, date(2019, 12, 31)) is None
    assert movement.responsible_unit_on(person, date(2020, 1, 5)) == t.village_a
    assert movement.responsible_unit_on(person, day - timedelta(days=1)) == t.village_a
    assert movement.responsible_unit_on(person, day) == t.village_b
    assert movement.responsible_unit_on(person, TODAY()) == t.village_b


def test_responsible_q_counts_each_person_once_on_any_date(moved, personas):
    person, transfer = moved
    t = personas.territory
    before = transfer.transferred_on - timedelta(days=1)

    def counted(path, day):
        return set(
            Person.objects.filter(movement.responsible_q(path, day)).values_list("pk", flat=True)
        )

    assert person.pk in counted(t.township_a.path, before)
    assert person.pk not in counted(t.township_b.path, before)
    assert person.pk in counted(t.township_b.path, transfer.transferred_on)
    assert person.pk not in counted(t.township_a.path, transfer.transferred_on)
    assert person.pk in counted(t.county.path, before) and person.pk in counted(
        t.county.path, TODAY()
    )


def test_responsible_q_works_from_an_event_table(moved, personas):
    person, transfer = moved
    t = personas.territory
    q = movement.responsible_q(
        t.township_a.path, transfer.transferred_on - timedelta(days=1), person_ref="person_id"
    )
    assert DrugTest.objects.filter(q).count() == 1


# ------------------------------------------------------------------ death and moving away


def test_death_ends_the_running_measure_and_the_team(personas):
    t = personas.territory
    person = _under_detox(personas.cadre_a, t.village_a)
    member = teams.add_team_member(
        actor=personas.cadre_a,
        person=person,
        role="family_member",
        name="李父",
        phone="13800002222",
        joined_on=TODAY() - timedelta(days=50),
    )
    died = TODAY() - timedelta(days=5)
    movement.record_death(actor=personas.cadre_a, person=person, died_on=died)
    person.refresh_from_db()
    measure = person.measures.get()
    member.refresh_from_db()
    assert person.died_on == died
    assert (measure.ended_on, measure.end_reason) == (died, Measure.EndReason.DIED)
    assert member.left_on == died
    assert status_on(person, TODAY()) == Status.DIED


def test_moving_away_ends_a_community_measure_as_transferred_out(personas):
    t = personas.territory
    person = _under_detox(personas.cadre_a, t.village_a)
    moved_on = TODAY() - timedelta(days=2)
    movement.record_moved_away(actor=personas.cadre_a, person=person, moved_on=moved_on)
    person.refresh_from_db()
    measure = person.measures.get()
    assert person.moved_away_on == moved_on
    assert measure.end_reason == Measure.EndReason.TRANSFERRED
    assert status_on(person, TODAY()) == Status.MOVED_AWAY


def test_a_dead_person_cannot_be_transferred_or_die_twice(personas):
    t = personas.territory
    person = make_person(personas.cadre_a, t.village_a)
    movement.record_death(actor=personas.cadre_a, person=person, died_on=TODAY())
    with pytest.raises(ValidationError, match="死亡"):
        movement.transfer_person(
            actor=personas.cadre_a, person=person, to_unit=t.village_b, transferred_on=TODAY()
        )
    with pytest.raises(ValidationError, match="已登记死亡"):
        movement.record_death(actor=personas.cadre_a, person=person, died_on=TODAY())


def test_death_date_before_birth_is_refused(personas):
    person = make_person(personas.cadre_a, personas.territory.village_a, birth=date(1990, 5, 5))
    with pytest.raises(ValidationError, match="出生日期"):
        movement.record_death(actor=personas.cadre_a, person=person, died_on=date(1989, 1, 1))


# ------------------------------------------------------------------ pages


def test_the_transfer_page_finds_a_village_of_another_township_and_hands_over(client, personas):
    t = personas.territory
    person = make_person(personas.cadre_a, t.village_a)
    sign_in(client, personas.cadre_a)
    url = reverse("people:transfer", args=[person.pk])
    page = client.get(url).content.decode()
    assert "甲一村第一网格" in page and "乙一村" not in page
    page = client.get(url, {"q": "乙一"}).content.decode()
    assert "乙镇 / 乙一村" in page
    response = client.post(
        url, {"to_unit": t.village_b.pk, "transferred_on": TODAY().isoformat(), "reason": "搬家"}
    )
    assert response.status_code == 302 and response.url == reverse("people:transfers")
    assert Person.objects.get(pk=person.pk).org_unit_id == t.village_b.pk
    listing = client.get(reverse("people:transfers")).content.decode()
    assert person.name in listing and "移出" in listing


def test_the_transfer_page_keeps_what_was_typed_when_no_unit_is_chosen(client, personas):
    person = make_person(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("people:transfer", args=[person.pk]),
        {"transferred_on": TODAY().isoformat(), "reason": "随子女居住"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "请选择接收单位" in page and "随子女居住" in page


def test_the_receiving_side_lists_the_hand_over_as_arriving(moved, client, personas):
    person, _transfer = moved
    sign_in(client, personas.cadre_b)
    page = client.get(reverse("people:transfers"), {"direction": "in"}).content.decode()
    assert person.name in page and reverse("people:detail", args=[person.pk]) in page
    page = client.get(reverse("people:transfers"), {"direction": "out"}).content.decode()
    assert person.name not in page


def test_the_death_page_records_and_explains_errors(client, personas):
    person = make_person(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    url = reverse("people:record_death", args=[person.pk])
    future = (TODAY() + timedelta(days=3)).isoformat()
    response = client.post(url, {"day": future})
    assert "不能晚于今天" in response.content.decode() and future in response.content.decode()
    response = client.post(url, {"day": TODAY().isoformat()})
    assert response.status_code == 302
    assert Person.objects.get(pk=person.pk).died_on == TODAY()


def test_the_moved_away_page_records(client, personas):
    person = make_person(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("people:record_moved_away", args=[person.pk]), {"day": TODAY().isoformat()}
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=person.pk).moved_away_on == TODAY()


@pytest.mark.parametrize("name", ["transfer", "record_death", "record_moved_away"])
def test_another_townships_person_answers_404_and_administrators_403(client, personas, name):
    person = make_person(personas.cadre_b, personas.territory.village_b)
    url = reverse(f"people:{name}", args=[person.pk])
    sign_in(client, personas.cadre_a)
    assert client.get(url).status_code == 404
    assert client.post(url, {"day": TODAY().isoformat()}).status_code == 404
    sign_in(client, personas.sys_admin)
    assert client.get(url).status_code == 403


def test_administrators_cannot_open_the_transfer_list(client, personas):
    sign_in(client, personas.audit_admin)
    assert client.get(reverse("people:transfers")).status_code == 403


# ------------------------------------------------------------------ unit moves


def test_moving_a_village_rewrites_every_path_and_moves_its_people_between_cadres(personas):
    t = personas.territory
    person = _under_detox(personas.cadre_a, t.grid_a)
    followup.record_test(
        actor=personas.grid_worker,
        person=person,
        tested_on=TODAY() - timedelta(days=1),
        method="urine",
        result="negative",
    )
    old_grid_path = t.grid_a.path
    incoming = make_person(personas.cadre_b, t.village_b, first_found_on=date(2021, 1, 1))
    transfer = movement.transfer_person(
        actor=personas.cadre_b, person=incoming, to_unit=t.grid_a, transferred_on=TODAY()
    )
    audit_paths = set(AuditEvent.objects.values_list("org_path", flat=True))
    old = t.village_a.path

    orgs.move_unit(
        actor=personas.county_officer,
        unit=t.village_a,
        new_parent=t.township_b,
        division_code="621199101202",
    )

    new = type(t.village_a).objects.get(pk=t.village_a.pk).path
    assert new.startswith(t.township_b.path)
    new_grid = f"{new}{t.grid_a.pk}/"
    assert Person.objects.get(pk=person.pk).org_path == new_grid
    assert Person.objects.get(pk=incoming.pk).org_path == new_grid
    assert DrugTest.objects.get(person=person).org_path == new_grid
    transfer.refresh_from_db()
    assert transfer.to_path.startswith(new) and transfer.from_path == t.village_b.path
    assert not Responsibility.objects.filter(org_path__startswith=old).exists()
    assert Responsibility.objects.filter(person=person, org_path=new_grid).exists()
    assert not TeamMember.objects.filter(org_path__startswith=old).exists()
    # The audit log keeps the paths it was written with.
    assert audit_paths <= set(AuditEvent.objects.values_list("org_path", flat=True))
    assert AuditEvent.objects.filter(org_path=old_grid_path, username="grid_worker").exists()

    from jindu.accounts.models import User

    cadre_a = User.objects.get(pk=personas.cadre_a.pk)
    cadre_b = User.objects.get(pk=personas.cadre_b.pk)
    assert not Person.objects.for_user(cadre_a).filter(pk__in=[person.pk, incoming.pk]).exists()
    assert Person.objects.for_user(cadre_b).filter(pk__in=[person.pk, incoming.pk]).count() == 2
    assert movement.responsible_unit_on(person, TODAY()).path == new_grid
    assert (
        Person.objects.filter(movement.responsible_q(t.township_b.path, TODAY()))
        .filter(pk=person.pk)
        .exists()
    )


def test_a_hand_over_inside_another_township_stays_out_of_sight(client, personas):
    t = personas.territory
    person = make_person(personas.cadre_b, t.village_b, name="乙内移交")
    transfer = movement.transfer_person(
        actor=personas.cadre_b, person=person, to_unit=t.grid_b, transferred_on=TODAY()
    )
    assert not movement.transfers_for(personas.cadre_a).filter(pk=transfer.pk).exists()
    sign_in(client, personas.cadre_a)
    assert "乙内移交" not in client.get(reverse("people:transfers")).content.decode()
    sign_in(client, personas.cadre_b)
    page = client.get(reverse("people:transfers")).content.decode()
    assert "乙内移交" in page and "辖区内调整" in page
