"""The day a person's report-in period runs from, kept on the person, and the overdue
filter (逾期未报到) it serves: the rule's own answer, read from a small index."""

from __future__ import annotations

import importlib
from datetime import timedelta

from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from jindu.people import movement, rules, selectors, services
from jindu.people.models import Person
from tests.helpers import sign_in
from tests.people_factories import make_person

LIST = reverse("people:list")
COUNT = reverse("people:count")


def _ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def _measure(person, actor, *, kind="community_detox", days_ago: int, reported=False, **kw):
    decided = _ago(days_ago)
    return services.add_measure(
        actor=actor,
        person=person,
        kind=kind,
        decision_date=decided,
        report_in_date=decided + timedelta(days=3) if reported else None,
        **kw,
    )


def _awaiting(person):
    return Person.objects.get(pk=person.pk).awaiting_report_since


def test_the_day_follows_the_latest_measure_through_every_service(personas, territory):
    cadre = personas.cadre_a
    person = make_person(cadre, territory.village_a)
    assert _awaiting(person) is None
    measure = _measure(person, cadre, days_ago=40)
    assert _awaiting(person) == _ago(40)
    services.record_report_in(actor=cadre, measure=measure, report_in_date=_ago(10))
    assert _awaiting(person) is None

    other = make_person(cadre, territory.village_a)
    waiting = _measure(other, cadre, days_ago=30)
    assert _awaiting(other) == _ago(30)
    services.end_measure(actor=cadre, measure=waiting, ended_on=_ago(2), end_reason="transferred")
    assert _awaiting(other) is None

    # Only the latest measure counts: a new decision after an earlier one has ended.
    third = make_person(cadre, territory.village_a)
    _measure(third, cadre, days_ago=800, reported=True, ended_on=_ago(400), end_reason="completed")
    assert _awaiting(third) is None
    _measure(third, cadre, days_ago=30)
    assert _awaiting(third) == _ago(30)


def test_the_filter_lists_exactly_whom_the_rule_flags_and_counts_them_exactly(
    client, personas, territory
):
    cadre = personas.cadre_a
    people = {}
    people["late"] = make_person(cadre, territory.village_a, name="逾期")
    _measure(people["late"], cadre, days_ago=20)
    people["in_time"] = make_person(cadre, territory.village_a, name="期限内")
    _measure(people["in_time"], cadre, days_ago=15)
    people["reported"] = make_person(cadre, territory.grid_a, name="已报到")
    _measure(people["reported"], cadre, days_ago=60, reported=True)
    people["ended"] = make_person(cadre, territory.village_a, name="已结束")
    _measure(people["ended"], cadre, days_ago=90, ended_on=_ago(30), end_reason="transferred")
    people["isolated"] = make_person(cadre, territory.village_a, name="后转强戒")
    _measure(people["isolated"], cadre, days_ago=200, ended_on=_ago(60), end_reason="breached")
    _measure(people["isolated"], cadre, kind="compulsory_isolation", days_ago=50, reported=True)
    people["died"] = make_person(cadre, territory.village_a, name="已死亡")
    _measure(people["died"], cadre, days_ago=50)
    movement.record_death(actor=cadre, person=people["died"], died_on=_ago(5))
    people["grid"] = make_person(cadre, territory.grid_a, name="网格逾期")
    _measure(people["grid"], cadre, days_ago=16)
    people["elsewhere"] = make_person(personas.cadre_b, territory.village_b, name="乙镇逾期")
    _measure(people["elsewhere"], personas.cadre_b, days_ago=100)

    today = timezone.localdate()
    flagged = sorted(
        p.name
        for p in Person.objects.filter(org_path__startswith=territory.township_a.path)
        if rules.flags_for(p, today=today).not_reported
    )
    assert flagged == ["网格逾期", "逾期"]
    sign_in(client, cadre)
    listed = client.get(LIST, {"flags": "not_reported"})
    assert sorted(row["person"].name for row in listed.context["rows"]) == flagged
    assert "逾期未报到（应于" in listed.content.decode()
    counted = client.get(COUNT, {"flags": "not_reported"})
    assert counted.context["count"] == 2 and not counted.context["approximate"]
    # The county office sees the other township's too.
    sign_in(client, personas.county_officer)
    names = [r["person"].name for r in client.get(LIST, {"flags": "not_reported"}).context["rows"]]
    assert sorted(names) == ["乙镇逾期", "网格逾期", "逾期"]


def test_the_filter_reads_the_small_index(personas, territory):
    from django.db import connection

    person = make_person(personas.cadre_a, territory.village_a)
    _measure(person, personas.cadre_a, days_ago=30)
    filters = selectors.PersonFilter(flags=frozenset({"not_reported"}))
    qs = selectors.filtered(personas.cadre_a, filters, timezone.localdate())
    sql, params = selectors._bounded(qs, personas.cadre_a.scope_path).query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:
            # A test database is tiny: the planner would read the table itself.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "people_person_awaiting" in plan
    assert "people_measure" not in sql, "no look into each person's measures"


def test_the_migration_gives_the_people_already_registered_their_day(personas, territory):
    cadre = personas.cadre_a
    late = make_person(cadre, territory.village_a)
    _measure(late, cadre, days_ago=40)
    reported = make_person(cadre, territory.village_a)
    legacy = _measure(reported, cadre, days_ago=40, reported=True)
    # An older measure left open and unreported, as old registers have them: the
    # latest one decides.
    legacy.pk, legacy.decision_date, legacy.report_in_date = None, _ago(900), None
    legacy.start_date = legacy.planned_end = None
    legacy.save()
    superseded = make_person(cadre, territory.village_a)
    _measure(
        superseded, cadre, days_ago=400, reported=True, ended_on=_ago(300), end_reason="completed"
    )
    _measure(superseded, cadre, days_ago=100)
    expected = dict(Person.objects.values_list("pk", "awaiting_report_since"))
    assert expected[late.pk] == _ago(40) and expected[superseded.pk] == _ago(100)
    assert expected[reported.pk] is None
    Person.objects.update(awaiting_report_since=None)
    migration = importlib.import_module("jindu.people.migrations.0008_person_awaiting_report")
    migration.fill(apps, None)
    assert dict(Person.objects.values_list("pk", "awaiting_report_since")) == expected
