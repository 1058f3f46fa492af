"""The flags the law and local rules raise, derived from dates at query time.

Serious breach (three evaded tests, three refusals, three departures without
leave, more than thirty days away in total), not reported in within fifteen
days, lost from control after the policy's days without contact and found
again by a contact, absconding until the return is recorded.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from jindu.people import followup, services
from jindu.people.models import FollowUpPolicy, Measure
from jindu.people.rules import bulk_flags, flags_for
from tests.helpers import travelling_clock
from tests.people_factories import make_person
from tests.test_people_followup import member, test_on, under_detox


def _flags(person):
    person.refresh_from_db()
    return flags_for(person, today=timezone.localdate())


def test_three_evaded_tests_are_a_serious_breach(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=90)
    today = timezone.localdate()
    for days in (80, 50):
        test_on(personas.grid_worker, person, today - timedelta(days=days), "evaded")
    assert _flags(person).serious_breach == []
    test_on(personas.grid_worker, person, today - timedelta(days=20), "evaded")
    assert _flags(person).serious_breach == ["严重违反协议：逃避检测3次"]
    assert _flags(person).needs_action


def test_three_refusals_are_a_serious_breach(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=90)
    today = timezone.localdate()
    for days in (80, 50, 20):
        test_on(personas.grid_worker, person, today - timedelta(days=days), "refused")
    assert _flags(person).serious_breach == ["严重违反协议：拒绝检测3次"]


def test_evasions_and_refusals_do_not_add_up(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=90)
    today = timezone.localdate()
    for days, result in ((80, "evaded"), (50, "refused"), (20, "evaded"), (10, "refused")):
        test_on(personas.grid_worker, person, today - timedelta(days=days), result)
    assert _flags(person).serious_breach == []


def test_three_departures_without_leave_are_a_serious_breach(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=200)
    today = timezone.localdate()
    for left in (150, 100, 50):
        followup.record_absence(
            actor=personas.grid_worker,
            person=person,
            left_on=today - timedelta(days=left),
            returned_on=today - timedelta(days=left - 2),
            authorised=False,
        )
    flags = _flags(person)
    assert flags.serious_breach == ["严重违反协议：擅自离开本县3次"]
    assert not flags.absconded


def test_leave_granted_is_no_departure(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=200)
    today = timezone.localdate()
    for left in (150, 100, 50):
        followup.record_absence(
            actor=personas.grid_worker,
            person=person,
            left_on=today - timedelta(days=left),
            returned_on=today - timedelta(days=left - 20),
            authorised=True,
        )
    assert _flags(person).serious_breach == []


def test_more_than_thirty_days_away_in_total_is_a_serious_breach(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=200)
    today = timezone.localdate()
    followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=today - timedelta(days=120),
        returned_on=today - timedelta(days=100),
        authorised=False,
    )
    followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=today - timedelta(days=60),
        returned_on=today - timedelta(days=50),
        authorised=False,
    )
    assert _flags(person).serious_breach == []  # 20 + 10 = 30 days: not more than 30
    followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=today - timedelta(days=10),
        returned_on=today - timedelta(days=9),
        authorised=True,
    )
    assert _flags(person).serious_breach == []
    followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=today - timedelta(days=5),
        returned_on=today - timedelta(days=4),
        authorised=False,
    )
    assert _flags(person).serious_breach == [
        "严重违反协议：擅自离开本县3次",
        "严重违反协议：擅自离开累计31天",
    ]


def test_an_absence_not_yet_over_counts_up_to_today(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=100)
    today = timezone.localdate()
    followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=today - timedelta(days=25),
        authorised=False,
    )
    flags = _flags(person)
    assert flags.absconded and flags.serious_breach == []
    with travelling_clock() as clock:
        clock.advance(days=6)
        assert _flags(person).serious_breach == ["严重违反协议：擅自离开累计31天"]


def test_the_thresholds_are_the_policys(personas):
    FollowUpPolicy.current()
    followup.update_followup_policy(actor=personas.county_officer, breach_evaded=2)
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=90)
    today = timezone.localdate()
    for days in (60, 30):
        test_on(personas.grid_worker, person, today - timedelta(days=days), "evaded")
    assert _flags(person).serious_breach == ["严重违反协议：逃避检测2次"]


def test_a_breach_of_an_earlier_measure_does_not_follow_into_the_next(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=30)
    Measure.objects.filter(person=person).update(evaded_count=5)
    assert _flags(person).serious_breach == ["严重违反协议：逃避检测5次"]
    measure = Measure.objects.get(person=person)
    services.end_measure(
        actor=personas.cadre_a,
        measure=measure,
        ended_on=timezone.localdate() - timedelta(days=1),
        end_reason="other",
    )
    assert _flags(person).serious_breach == []


# ------------------------------------------------------------------ report-in


def test_not_reporting_in_within_fifteen_days_is_flagged(personas):
    person = make_person(personas.cadre_a, personas.territory.grid_a)
    decided = timezone.localdate()
    measure = services.add_measure(
        actor=personas.cadre_a, person=person, kind="community_detox", decision_date=decided
    )
    with travelling_clock() as clock:
        clock.advance(days=15)
        flags = _flags(person)
        assert not flags.not_reported
        assert flags.report_deadline == decided + timedelta(days=15)
        clock.advance(days=1)
        flags = _flags(person)
        assert flags.not_reported
        assert f"逾期未报到（应于{decided + timedelta(days=15):%Y-%m-%d}前报到）" in flags.labels()
        services.record_report_in(
            actor=personas.cadre_a,
            measure=measure,
            report_in_date=timezone.localdate(),
        )
        assert not _flags(person).not_reported


def test_the_report_in_days_are_the_policys(personas):
    FollowUpPolicy.current()
    followup.update_followup_policy(actor=personas.county_officer, report_in_days=7)
    person = make_person(personas.cadre_a, personas.territory.grid_a)
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=timezone.localdate() - timedelta(days=8),
    )
    assert _flags(person).not_reported


# ------------------------------------------------------------------ lost from control


def test_lost_from_control_after_sixty_days_without_contact_and_found_again_by_a_contact(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=5)
    test_on(personas.grid_worker, person, timezone.localdate())
    with travelling_clock() as clock:
        clock.advance(days=60)
        assert not _flags(person).lost_contact
        clock.advance(days=1)
        assert _flags(person).lost_contact
        assert "失控" in _flags(person).labels()
        followup.record_visit(
            actor=personas.grid_worker,
            person=person,
            kind="home_visit",
            visited_on=timezone.localdate(),
        )
        assert not _flags(person).lost_contact


def test_an_evaded_test_is_no_contact(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=5)
    with travelling_clock() as clock:
        clock.advance(days=61)
        test_on(personas.grid_worker, person, timezone.localdate(), "evaded")
        assert _flags(person).lost_contact


def test_lost_contact_counts_from_the_report_in_not_from_a_contact_before_it(personas):
    person = make_person(personas.cadre_a, personas.territory.grid_a)
    old_contact = timezone.localdate() - timedelta(days=200)
    followup.record_visit(
        actor=personas.grid_worker, person=person, kind="talk", visited_on=old_contact
    )
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=timezone.localdate() - timedelta(days=3),
        report_in_date=timezone.localdate() - timedelta(days=1),
    )
    assert not _flags(person).lost_contact


def test_lost_contact_is_only_for_people_under_a_community_measure(personas):
    person = make_person(personas.cadre_a, personas.territory.grid_a)
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="compulsory_isolation",
        decision_date=timezone.localdate() - timedelta(days=300),
        start_date=timezone.localdate() - timedelta(days=300),
    )
    assert not _flags(person).lost_contact


# ------------------------------------------------------------------ absconding


def test_absconding_lasts_until_the_return_is_recorded(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    absence = followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=timezone.localdate() - timedelta(days=2),
        authorised=False,
    )
    assert _flags(person).absconded
    assert "脱管" in _flags(person).labels()
    followup.record_return(
        actor=personas.grid_worker, absence=absence, returned_on=timezone.localdate()
    )
    assert not _flags(person).absconded


def test_the_dead_and_the_moved_away_carry_no_flags(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=100)
    followup.record_absence(
        actor=personas.grid_worker,
        person=person,
        left_on=timezone.localdate() - timedelta(days=50),
        authorised=False,
    )
    assert _flags(person).any
    services.update_person(actor=personas.cadre_a, person=person, died_on=timezone.localdate())
    assert not _flags(person).any


# ------------------------------------------------------------------ teams and lists


def test_a_team_missing_one_of_the_four_is_flagged(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    assert _flags(person).team_missing == ["乡镇（街道）干部", "社区民警", "社区医生", "家庭成员"]
    member(personas.cadre_a, person, "township_cadre", personas.cadre_a)
    member(personas.cadre_a, person, "community_police", personas.police_officer)
    member(personas.cadre_a, person, "community_doctor", name="李医生", phone="13800000001")
    assert _flags(person).team_missing == ["家庭成员"]
    member(personas.cadre_a, person, "family_member")
    assert _flags(person).team_missing == []


def test_bulk_flags_give_the_same_answer_as_one_by_one(personas, django_assert_max_num_queries):
    today = timezone.localdate()
    people = []
    for i in range(4):
        person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=90)
        for days in range(i):
            test_on(personas.grid_worker, person, today - timedelta(days=10 + days), "evaded")
        if i % 2:
            followup.record_absence(
                actor=personas.grid_worker, person=person, left_on=today, authorised=False
            )
        if i == 2:  # three departures without leave under this measure, each back
            for left in (80, 60, 40):
                followup.record_absence(
                    actor=personas.grid_worker, person=person, authorised=False,
                    left_on=today - timedelta(days=left),
                    returned_on=today - timedelta(days=left - 2),
                )  # fmt: skip
        if i == 1:  # the four of the team
            for role, user in (("township_cadre", personas.cadre_a),
                               ("community_police", personas.police_officer),
                               ("community_doctor", None), ("family_member", None)):  # fmt: skip
                member(personas.cadre_a, person, role, user)
        person.refresh_from_db()
        people.append(person)
    with django_assert_max_num_queries(4):
        bulk = bulk_flags(people, today)
    for person in people:
        assert bulk[person.pk] == flags_for(person, today=today)
        assert bulk[person.pk].labels() == flags_for(person, today=today).labels()
    assert bulk[people[2].pk].serious_breach == ["严重违反协议：擅自离开本县3次"]
    assert not bulk[people[1].pk].team_missing and bulk[people[0].pk].team_missing
