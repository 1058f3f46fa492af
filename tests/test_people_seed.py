"""``jindu seed``: the guard, a small synthetic province, and facts as refresh_facts has them."""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.core import crypto
from jindu.demo.models import DemoMarker
from jindu.orgs.models import OrgUnit
from jindu.people import idnumber, services
from jindu.people.bulk import FACT_FIELDS, refresh_facts_many
from jindu.people.models import Absence, DrugTest, Measure, Person, TeamMember, Visit
from jindu.people.status import Status, status_on
from jindu.people.synthetic import Generator, Place

FACTS = FACT_FIELDS


def seed(*args: str) -> str:
    err = io.StringIO()
    call_command("seed", *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture
def seeded(db):
    log = seed("--persons", "200", "--events", "3000", "--seed", "3")
    return log


def test_an_empty_database_is_seeded_and_marked_as_test_data(seeded):
    assert Person.objects.count() == 200
    assert OrgUnit.objects.filter(level="province").count() == 1
    assert DemoMarker.objects.get().steps == ["seed"]
    assert "行/秒" in seeded


def test_a_database_with_real_data_and_no_marker_is_refused(personas):
    with pytest.raises(CommandError, match="拒绝写入合成数据"):
        seed("--persons", "10")
    assert not Person.objects.exists()


def test_force_seeds_into_a_named_county_of_a_database_with_data(personas):
    seed("--persons", "30", "--county-code", "621199", "--force")
    county = personas.territory.county
    assert Person.objects.count() == 30
    assert all(p.org_path.startswith(county.path) for p in Person.objects.all())
    assert {p.org_unit.level for p in Person.objects.select_related("org_unit")} <= {
        "village",
        "grid",
    }


def test_seeded_facts_are_those_refresh_facts_computes(seeded):
    for person in Person.objects.all():
        written = [getattr(person, f) for f in FACTS]
        services.refresh_facts(person)
        person.refresh_from_db()
        assert written == [getattr(person, f) for f in FACTS], person.pk


def test_refresh_facts_many_restores_every_persons_facts(seeded):
    expected = {p.pk: [getattr(p, f) for f in FACTS] for p in Person.objects.all()}
    Person.objects.update(
        measure_kind="",
        measure_anchor=None,
        measure_until=None,
        clean_since=None,
        awaiting_report_since=None,
    )
    refresh_facts_many(list(expected))
    assert {p.pk: [getattr(p, f) for f in FACTS] for p in Person.objects.all()} == expected


def test_the_register_looks_like_a_county_register(seeded):
    today = timezone.localdate()
    statuses = Counter(status_on(p, today) for p in Person.objects.all())
    assert statuses[Status.COMMUNITY_DETOX] + statuses[Status.COMMUNITY_REHAB] >= 20
    assert statuses[Status.ABSTINENT] >= 20 and statuses[Status.NOT_UNDER_MEASURE] >= 20
    assert statuses[Status.ISOLATION] >= 3
    events = DrugTest.objects.count() + Visit.objects.count() + Absence.objects.count()
    assert 2000 <= events <= 4000, "close to the events asked for"
    assert DrugTest.objects.count() and Visit.objects.count() and TeamMember.objects.count()


def test_seeded_personal_data_is_valid_and_encrypted(seeded):
    for person in Person.objects.all()[:50]:
        number = idnumber.parse(person.id_number)
        assert person.id_index == services.id_index(number.value)
        assert (person.sex, person.birth_date) == (number.sex, number.birth_date)
        assert person.phone.startswith("1") and len(person.phone) == 11
    result = DrugTest.objects.values_list("result", flat=True).first()
    assert result in DrugTest.Result.values


def test_seeded_measures_keep_the_laws_rules(seeded):
    by_person: dict[int, list[Measure]] = {}
    for m in Measure.objects.order_by("person_id", "decision_date", "id"):
        by_person.setdefault(m.person_id, []).append(m)
    for measures in by_person.values():
        exclusive = [m for m in measures if m.kind in services.EXCLUSIVE]
        for earlier, later in zip(exclusive, exclusive[1:], strict=False):
            assert earlier.ended_on and earlier.ended_on <= (
                later.report_in_date or later.start_date or later.decision_date
            )
        for m in measures:
            if m.report_in_date:
                assert 0 <= (m.report_in_date - m.decision_date).days <= 15
            if m.kind == "community_rehab":
                assert any(
                    o.kind == "compulsory_isolation"
                    and o.ended_on
                    and o.ended_on <= m.decision_date
                    for o in measures
                )


def test_evaded_and_refused_counts_match_the_tests(seeded):
    for measure in Measure.objects.filter(kind__in=["community_detox", "community_rehab"])[:100]:
        results = Counter(measure.tests.values_list("result", flat=True))
        assert (measure.evaded_count, measure.refused_count) == (
            results["evaded"],
            results["refused"],
        )


def test_one_audit_row_per_bulk_step(db):
    before = AuditEvent.objects.count()
    seed("--persons", "50")
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert [(e.action, e.object_type) for e in events] == [
        (Action.IMPORTED, "orgs.orgunit"),
        (Action.IMPORTED, "people.person"),
    ]


def test_the_same_seed_draws_the_same_people():
    place = Place(1, "/1/", "甲一村", 1, "621199000000", "青岚县甲镇甲一村")

    def draw():
        gen = Generator(random.Random(42), date(2026, 6, 1))
        return [gen.person(place, i) for i in range(20)]

    first, second = draw(), draw()
    assert [(p.name, p.id_number, p.measures, p.tests) for p in first] == [
        (p.name, p.id_number, p.measures, p.tests) for p in second
    ]
    assert all(crypto.blind_index(p.id_number, "person-id") for p in first)


def test_the_lookup_by_id_number_reads_the_unique_index(seeded):
    from django.db import connection

    from jindu.people.models import Person as P

    plan = P.objects.filter(id_index=services.id_index(P.objects.first().id_number)).explain()
    index = (
        "people_person_id_index_key" if connection.vendor == "postgresql" else "sqlite_autoindex"
    )
    assert index in plan, plan
