"""A person's status and "lost from control" by date: the SQL side agrees with the Python side.

Lists filter in SQL (``annotate_status``, ``lost_contact_q``, ``under_community_q``)
and draw badges in Python (``status_on``, ``rules.flags_for``); both read the
same dated facts, so on any day they must give the same answer.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jindu.people import followup, services
from jindu.people.models import FollowUpPolicy, Person
from jindu.people.rules import flags_for
from jindu.people.status import (
    Status,
    annotate_status,
    lost_contact_q,
    status_on,
    under_community_q,
)
from tests.people_factories import make_person
from tests.test_people_followup import test_on, under_detox


@pytest.fixture
def register(personas):
    """People in every situation the rules tell apart, in 甲一村第一网格."""
    today = timezone.localdate()
    cadre, grid = personas.cadre_a, personas.territory.grid_a
    people = {}
    people["fresh"] = under_detox(cadre, grid, reported_days_ago=5)
    people["silent"] = under_detox(cadre, grid, reported_days_ago=120)
    people["seen"] = under_detox(cadre, grid, reported_days_ago=120)
    test_on(personas.grid_worker, people["seen"], today - timedelta(days=10))
    people["evading"] = under_detox(cadre, grid, reported_days_ago=120)
    test_on(personas.grid_worker, people["evading"], today - timedelta(days=3), "evaded")
    undecided = make_person(cadre, grid)
    services.add_measure(
        actor=cadre,
        person=undecided,
        kind="community_detox",
        decision_date=today - timedelta(days=100),
    )
    people["not_reported"] = undecided
    isolated = make_person(cadre, grid)
    services.add_measure(
        actor=cadre,
        person=isolated,
        kind="compulsory_isolation",
        decision_date=today - timedelta(days=200),
        start_date=today - timedelta(days=200),
    )
    people["isolated"] = isolated
    ended = under_detox(cadre, grid, reported_days_ago=400)
    measure = ended.measures.get()
    services.end_measure(
        actor=cadre, measure=measure, ended_on=today - timedelta(days=200), end_reason="other"
    )
    people["ended"] = ended
    people["never"] = make_person(cadre, grid)
    return {key: Person.objects.get(pk=p.pk) for key, p in people.items()}


def test_statuses_follow_from_the_measures(register):
    today = timezone.localdate()
    assert status_on(register["fresh"], today) == Status.COMMUNITY_DETOX
    assert status_on(register["isolated"], today) == Status.ISOLATION
    assert status_on(register["ended"], today) == Status.NOT_UNDER_MEASURE
    assert status_on(register["never"], today) == Status.NOT_UNDER_MEASURE
    assert status_on(register["not_reported"], today) == Status.COMMUNITY_DETOX


@pytest.mark.parametrize("days_ahead", [0, 30, 59, 61, 200, 1200])
def test_sql_and_python_agree_on_status_lost_contact_and_community_on_any_day(register, days_ahead):
    day = timezone.localdate() + timedelta(days=days_ahead)
    policy = FollowUpPolicy.current()
    ids = [p.pk for p in register.values()]
    qs = Person.objects.filter(pk__in=ids)
    sql_status = dict(annotate_status(qs, day).values_list("pk", "status"))
    sql_lost = set(
        qs.filter(lost_contact_q(day, policy.lost_contact_days)).values_list("pk", flat=True)
    )
    sql_community = set(qs.filter(under_community_q(day)).values_list("pk", flat=True))
    for key, person in register.items():
        assert sql_status[person.pk] == status_on(person, day).value, key
        python_lost = flags_for(person, today=day).lost_contact
        assert (person.pk in sql_lost) == python_lost, key
        community = status_on(person, day) in (Status.COMMUNITY_DETOX, Status.COMMUNITY_REHAB)
        assert (person.pk in sql_community) == community, key


def test_who_is_lost_on_a_given_day(register):
    day = timezone.localdate()
    policy = FollowUpPolicy.current()
    lost = set(
        Person.objects.filter(lost_contact_q(day, policy.lost_contact_days)).values_list(
            "name", flat=True
        )
    )
    assert lost == {
        register["silent"].name,
        register["evading"].name,
        register["not_reported"].name,
    }


def test_a_contact_takes_a_person_off_the_lost_list_at_once(register, personas):
    silent = register["silent"]
    followup.record_visit(
        actor=personas.grid_worker,
        person=silent,
        kind="talk",
        visited_on=timezone.localdate(),
    )
    policy = FollowUpPolicy.current()
    assert not Person.objects.filter(
        lost_contact_q(timezone.localdate(), policy.lost_contact_days), pk=silent.pk
    ).exists()
