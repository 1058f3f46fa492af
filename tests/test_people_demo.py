"""The demo county's people: how many, what happened to them, who helps them."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from jindu.accounts.models import User
from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.demo.steps import DemoContext, registered_steps
from jindu.people import services
from jindu.people.bulk import FACT_FIELDS
from jindu.people.demo import PEOPLE_PER_VILLAGE
from jindu.people.models import DrugTest, Measure, Person, TeamMember, Transfer, Visit
from jindu.people.status import Status, status_on
from jindu.people.worklist import my_people_queryset

VILLAGES = 20


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def build(*, seed: int = 5, villages: int = VILLAGES) -> DemoContext:
    """The demo county up to and including the people step (later steps are other areas')."""
    ctx = DemoContext(
        seed=seed, townships_wanted=3, villages_wanted=villages, log_stream=_Discard()
    )
    for step in registered_steps():
        if step.order <= 200:
            step.func(ctx)
    return ctx


@pytest.fixture
def demo(db):
    return build()


def test_the_demo_county_gets_its_people_in_one_audited_step(demo):
    assert Person.objects.count() == VILLAGES * PEOPLE_PER_VILLAGE
    assert "people" in [step.name for step in registered_steps()]
    (event,) = AuditEvent.objects.filter(action=Action.IMPORTED, object_type="people.person")
    assert '"source":"demo"' in event.detail
    assert not AuditEvent.objects.filter(object_type="people.person").exclude(pk=event.pk).exists()


def test_the_demo_people_have_years_of_history(demo):
    today = timezone.localdate()
    statuses = Counter(status_on(p, today) for p in Person.objects.all())
    assert statuses[Status.COMMUNITY_DETOX] + statuses[Status.COMMUNITY_REHAB] >= 30
    assert statuses[Status.ABSTINENT] >= 30, "abstinent for three years or more"
    assert statuses[Status.ISOLATION] >= 5
    oldest = Measure.objects.order_by("decision_date").first().decision_date
    assert (today - oldest).days > 3 * 365
    # Results are encrypted: read, never filtered in SQL.
    results = Counter(DrugTest.objects.values_list("result", flat=True))
    assert results["positive"] and results["evaded"], "relapses and missed tests"
    assert Visit.objects.filter(kind="home_visit").exists()
    assert Transfer.objects.exists()


def test_facts_of_the_demo_people_are_those_refresh_facts_computes(demo):
    fields = FACT_FIELDS
    for person in Person.objects.all()[:120]:
        written = [getattr(person, f) for f in fields]
        services.refresh_facts(person)
        person.refresh_from_db()
        assert written == [getattr(person, f) for f in fields]


def test_help_teams_are_mostly_complete_and_the_demo_accounts_are_in_them(demo):
    today = timezone.localdate()
    teams: dict[int, set[str]] = {}
    for person_id, role in TeamMember.objects.values_list("person_id", "role"):
        teams.setdefault(person_id, set()).add(role)
    complete = [t for t in teams.values() if set(TeamMember.REQUIRED) <= t]
    assert len(teams) >= 30 and 0.7 <= len(complete) / len(teams) < 1
    cadre = User.objects.get(username="cadre")
    assert my_people_queryset(cadre, today).exists()
    assert TeamMember.objects.filter(user=cadre, role="township_cadre").exists()
    for member in TeamMember.objects.filter(user=cadre).select_related("person"):
        assert member.person.org_path.startswith(cadre.org_unit.path)


class _Rollback(Exception):
    pass


def test_the_same_seed_gives_the_same_people(db):
    def people() -> list[tuple]:
        try:
            with transaction.atomic():
                build(villages=4)
                raise _Rollback(
                    sorted(
                        Person.objects.values_list(
                            "name", "birth_date", "first_found_on", "measure_kind", "clean_since"
                        )
                    )
                )
        except _Rollback as built:
            return built.args[0]

    first = people()
    assert len(first) == 4 * PEOPLE_PER_VILLAGE
    assert people() == first
