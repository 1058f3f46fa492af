"""The tallies behind the people indicators: kept by the services in the same transaction,
equal to the figures counted from the records, for any period, after transfers,
deaths, team changes, a unit move and a change of the policy."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from jindu.core import indicators, tallies
from jindu.core.indicators import Period
from jindu.core.models import Tally, TallyFacts, TallyPending
from jindu.orgs import services as orgs
from jindu.people import followup, movement, services, teams
from jindu.people import indicators as people_indicators
from jindu.people import tallies as people_tallies
from jindu.people.models import DrugTest, Measure, Person
from jindu.people.status import Status, annotate_status
from tests.people_factories import make_person

KEYS = [k for k in people_indicators.KEYS if not k.startswith("outflow")]


def _periods(today: date) -> list[Period]:
    years = [Period.year(y) for y in range(today.year - 5, today.year + 1)]
    months = [Period.month(today.year, m) for m in range(1, today.month + 1)]
    quarters = [Period.quarter(today.year - 1, q) for q in (1, 2, 3, 4)]
    ranges = [
        Period.between(date(today.year - 3, 2, 27), date(today.year - 1, 3, 1)),
        Period.between(date(today.year, 1, 1), today),
    ]
    return years + months + quarters + ranges


def assert_same_as_records(paths: list[str]) -> None:
    today = timezone.localdate()
    for key in KEYS:
        for period in _periods(today):
            tallied = indicators.by_units(key, paths, period)
            with tallies.from_records():
                counted = indicators.by_units(key, paths, period)
            assert tallied == counted, f"{key} {period.label}: {tallied} != {counted}"


def status_counts(path: str, day: date) -> dict[str, int]:
    with tallies.from_records():
        rows = annotate_status(Person.objects.within(path).order_by(), day).values_list("status")
        counts: dict[str, int] = {}
        for (status,) in rows:
            counts[status] = counts.get(status, 0) + 1
    return counts


def tallied_status(path: str, day: date) -> dict[str, int]:
    return people_tallies.status_levels(path, day)


def build_register(personas, seed: int = 7, count: int = 36) -> list[Person]:
    """People with varied histories, all written through the services."""
    t, actor = personas.territory, personas.county_officer
    rng = random.Random(seed)
    today = timezone.localdate()
    villages = [t.village_a, t.grid_a, t.village_b, t.grid_b]
    people = []
    for i in range(count):
        found = today - timedelta(days=rng.randint(30, 2600))
        birth = date(2009, 5, 1) if i % 9 == 0 else date(1985, 1, 1) + timedelta(days=i * 97)
        person = make_person(actor, rng.choice(villages), first_found_on=found, birth=birth)
        kind = rng.choice(
            [
                Measure.Kind.COMMUNITY_DETOX,
                Measure.Kind.COMMUNITY_DETOX,
                Measure.Kind.COMMUNITY_REHAB,
                Measure.Kind.COMPULSORY_ISOLATION,
                None,
            ]
        )
        if kind is not None:
            decided = found + timedelta(days=rng.randint(1, 20))
            if decided > today:
                decided = today
            if kind == Measure.Kind.COMMUNITY_REHAB:
                services.add_measure(
                    actor=actor,
                    person=person,
                    kind=Measure.Kind.COMPULSORY_ISOLATION,
                    decision_date=decided,
                    start_date=decided,
                    ended_on=min(decided + timedelta(days=300), today),
                    end_reason=Measure.EndReason.COMPLETED,
                )
                decided = min(decided + timedelta(days=300), today)
            reported = decided + timedelta(days=rng.randint(0, 20)) if rng.random() < 0.8 else None
            if reported is not None and reported > today:
                reported = None
            measure = services.add_measure(
                actor=actor,
                person=person,
                kind=kind,
                decision_date=decided,
                report_in_date=reported,
                start_date=decided if kind == Measure.Kind.COMPULSORY_ISOLATION else reported,
            )
            day = reported or decided
            while reported is not None and rng.random() < 0.8:
                day += timedelta(days=rng.randint(20, 140))
                if day >= today:
                    break
                result = rng.choice(["negative"] * 6 + ["positive", "refused", "evaded"])
                followup.record_test(
                    actor=actor, person=person, tested_on=day, method="urine", result=result
                )
            if rng.random() < 0.3 and measure.ended_on is None and reported is not None:
                end = min(today, reported + timedelta(days=rng.randint(60, 900)))
                services.end_measure(
                    actor=actor,
                    measure=measure,
                    ended_on=end,
                    end_reason=Measure.EndReason.COMPLETED,
                )
        if rng.random() < 0.4:
            for role in ("township_cadre", "community_police", "community_doctor", "family_member")[
                : rng.randint(2, 4)
            ]:
                teams.add_team_member(
                    actor=actor, person=person, role=role, name=f"成员{i}", phone="13800000000"
                )
        if rng.random() < 0.15:
            followup.record_visit(
                actor=actor,
                person=person,
                kind="talk",
                visited_on=today - timedelta(days=rng.randint(0, 200)),
                summary="谈话",
            )
        people.append(person)
    # Movements: transfers between townships, a death, a move out of the county.
    for person in people[1:8]:
        person.refresh_from_db()
        other = t.village_b if person.org_path.startswith(t.township_a.path) else t.village_a
        movement.transfer_person(
            actor=actor,
            person=person,
            to_unit=other,
            transferred_on=max(person.first_found_on, today - timedelta(days=rng.randint(1, 400))),
        )
    movement.record_death(actor=actor, person=people[10], died_on=today - timedelta(days=3))
    movement.record_moved_away(actor=actor, person=people[11], moved_on=today - timedelta(days=9))
    return people


def test_tallies_equal_the_figures_counted_from_the_records(personas):
    t = personas.territory
    build_register(personas)
    assert tallies.verify() == []
    assert Tally.objects.filter(org_path=t.county.path).exists()
    # Only units from the county up hold tallies.
    assert not Tally.objects.filter(org_path=t.township_a.path).exists()
    assert_same_as_records([t.county.path])
    # Townships and villages are counted from the records, side by side with the county.
    assert_same_as_records([t.county.path, t.township_a.path, t.village_b.path])


def test_status_levels_equal_the_status_rule_on_any_day(personas):
    t = personas.territory
    build_register(personas, seed=11)
    today = timezone.localdate()
    for day in (today, today - timedelta(days=400), today + timedelta(days=800), date(2019, 1, 1)):
        assert tallied_status(t.county.path, day) == status_counts(t.county.path, day), day


def test_a_recorded_test_changes_the_county_figure_in_the_same_transaction(personas):
    t, actor = personas.territory, personas.county_officer
    today = timezone.localdate()
    person = make_person(actor, t.village_a, first_found_on=today - timedelta(days=200))
    services.add_measure(
        actor=actor,
        person=person,
        kind=Measure.Kind.COMMUNITY_DETOX,
        decision_date=today - timedelta(days=150),
        report_in_date=today - timedelta(days=150),
    )
    now = Period.year(today.year)
    assert indicators.value("tests_overdue", t.county.path, now) == 1
    followup.record_test(
        actor=actor, person=person, tested_on=today, method="urine", result="negative"
    )
    assert indicators.value("tests_overdue", t.county.path, now) == 0
    assert tallies.verify() == []


def test_a_failed_write_leaves_the_tallies_as_they_were(personas):
    t, actor = personas.territory, personas.county_officer
    today = timezone.localdate()
    person = make_person(actor, t.village_a, first_found_on=today - timedelta(days=20))
    before = list(Tally.objects.order_by("key", "org_path", "day").values_list("key", "day", "n"))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_measure(
            actor=actor,
            person=person,
            kind=Measure.Kind.COMMUNITY_DETOX,
            decision_date=today - timedelta(days=10),
            report_in_date=today - timedelta(days=9),
        )
        raise RuntimeError("the caller's transaction fails after the service")
    after = list(Tally.objects.order_by("key", "org_path", "day").values_list("key", "day", "n"))
    assert after == before
    assert tallies.verify() == []


def test_a_township_moved_to_another_county_takes_its_counts_along(personas):
    t = personas.territory
    build_register(personas, seed=3, count=24)
    other = orgs.create_unit(
        actor=None, name="邻县", level="county", parent=None, division_code="621198000000"
    )
    before = {k: indicators.value(k, t.county.path, Period.year(2025)) for k in KEYS}
    orgs.move_unit(actor=None, unit=t.township_b, new_parent=other, division_code="621198101000")
    t.township_b.refresh_from_db()
    assert tallies.verify() == []
    assert_same_as_records([t.county.path, other.path])
    with tallies.from_records():
        county_now = {k: indicators.value(k, t.county.path, Period.year(2025)) for k in KEYS}
    assert {k: indicators.value(k, t.county.path, Period.year(2025)) for k in KEYS} == county_now
    assert before != county_now or not Person.objects.within(t.township_b.path).exists()


def test_a_change_of_the_policy_counts_everyone_again(personas):
    t = personas.territory
    build_register(personas, seed=5, count=20)
    followup.update_followup_policy(
        actor=personas.county_officer, lost_contact_days=20, test_intervals=[1, 1, 2]
    )
    assert tallies.verify() == []
    assert_same_as_records([t.county.path])


def test_deleting_a_person_takes_their_facts_away(personas):
    t, actor = personas.territory, personas.county_officer
    person = make_person(actor, t.village_a, first_found_on=date(2024, 3, 1))
    assert indicators.value("new_users_found", t.county.path, Period.year(2024)) == 1
    assert TallyFacts.objects.filter(source="people", record_id=person.pk).exists()
    Person.objects.filter(pk=person.pk).delete()
    people_tallies.refresh([person.pk])
    assert indicators.value("new_users_found", t.county.path, Period.year(2024)) == 0
    assert not TallyFacts.objects.filter(source="people", record_id=person.pk).exists()
    assert tallies.verify() == []


def test_rebuild_gives_the_same_tallies(personas):
    build_register(personas, seed=13, count=20)
    rows = sorted(Tally.objects.exclude(n=0).values_list("key", "org_path", "day", "n"))
    people_tallies.rebuild()
    rebuilt = sorted(Tally.objects.exclude(n=0).values_list("key", "org_path", "day", "n"))
    # Zero rows left behind by earlier changes are not rebuilt; the sums are the same.
    assert rebuilt == rows


def test_results_stay_encrypted_and_facts_hold_no_personal_data(personas):
    t, actor = personas.territory, personas.county_officer
    person = make_person(actor, t.village_a, first_found_on=date(2024, 3, 1), phone="13912345678")
    facts = TallyFacts.objects.get(source="people", record_id=person.pk).facts
    text = repr(facts)
    assert "13912345678" not in text and person.name not in text
    assert DrugTest.Result.POSITIVE.value not in text
    assert Status.COMMUNITY_DETOX.value not in {f[0] for f in facts}


def test_abstinence_turns_on_the_right_day_around_29_february(personas):
    t, actor = personas.territory, personas.county_officer
    make_person(actor, t.village_a, first_found_on=date(2016, 2, 29))
    ended = make_person(actor, t.village_b, first_found_on=date(2015, 6, 1))
    services.add_measure(
        actor=actor,
        person=ended,
        kind=Measure.Kind.COMMUNITY_DETOX,
        decision_date=date(2015, 6, 5),
        report_in_date=date(2015, 6, 6),
        ended_on=date(2016, 2, 29),
        end_reason=Measure.EndReason.COMPLETED,
    )
    positive = make_person(actor, t.village_a, first_found_on=date(2014, 1, 1))
    followup.record_test(
        actor=actor, person=positive, tested_on=date(2020, 2, 29), method="urine", result="positive"
    )
    assert tallies.verify() == []
    for year in (2019, 2020, 2023, 2024):
        for day in (26, 27, 28, 29):
            if day == 29 and year % 4:
                continue
            for last in (date(year, 2, day), date(year, 3, 1), date(year, 3, 2)):
                period = Period.between(date(year, 1, 1), last)
                tallied = indicators.value("abstinent_3y", t.county.path, period)
                with tallies.from_records():
                    counted = indicators.value("abstinent_3y", t.county.path, period)
                assert tallied == counted, last


def test_an_import_is_counted_right_after_it_commits_and_read_from_the_records_till_then(
    personas, django_capture_on_commit_callbacks
):
    from tests.test_people_import import ID_A, ID_B, row, run, sheet

    t = personas.territory
    data = sheet(
        [
            row(1, name="甲", id_number=ID_A, unit="甲一村", **{"首次发现时间": "2019.3.5"}),
            row(
                2, name="乙", id_number=ID_B, unit="乙一村",
                **{"首次发现时间": "2019年6月1日", "措施类型": "社区戒毒",
                   "决定日期": "2019.6.3", "报到日期": "2019.6.10"},
            ),
        ]
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        preview, result = run(personas.county_officer, data)
    assert not list(preview.errors())
    # Committed but not yet counted: the county is counted from the records meanwhile.
    assert TallyPending.objects.count() == 1
    assert tallies.tallied([t.county.path]) == set()
    assert not Tally.objects.filter(key="people.found").exists()
    assert indicators.value("new_users_found", t.county.path, Period.year(2019)) == 2
    assert indicators.value("community_detox_ordered", t.county.path, Period.year(2019)) == 1
    for callback in callbacks:  # the import's commit: its people are counted
        callback()
    assert not TallyPending.objects.exists()
    assert tallies.tallied([t.county.path]) == {t.county.path}
    assert indicators.value("new_users_found", t.county.path, Period.year(2019)) == 2
    assert indicators.value("community_detox_ordered", t.county.path, Period.year(2019)) == 1
    assert tallies.verify() == []
    rows_before = sorted(Tally.objects.values_list("key", "org_path", "day", "n"))
    run(personas.county_officer, data)  # the same sheet again changes nothing
    assert sorted(Tally.objects.values_list("key", "org_path", "day", "n")) == rows_before
    assert_same_as_records([t.county.path])


def test_a_record_changed_before_its_import_is_counted_is_counted_once(
    personas, django_capture_on_commit_callbacks
):
    from tests.test_people_import import ID_A, row, run, sheet

    t = personas.territory
    data = sheet([row(1, name="甲", id_number=ID_A, unit="甲一村", **{"首次发现时间": "2020.5.1"})])
    with django_capture_on_commit_callbacks(execute=False):
        run(personas.county_officer, data)
    person = Person.objects.get()
    services.update_person(
        actor=personas.county_officer, person=person, first_found_on=date(2020, 6, 1)
    )
    person.refresh_from_db()
    assert tallies.settle() == 1
    assert tallies.verify() == []
    assert indicators.value("new_users_found", t.county.path, Period.month(2020, 6)) == 1
    assert indicators.value("new_users_found", t.county.path, Period.month(2020, 5)) == 0


def test_the_tallies_command_verifies_settles_and_rebuilds(personas):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    t, actor = personas.territory, personas.county_officer
    make_person(actor, t.village_a, first_found_on=date(2024, 3, 1))
    out = io.StringIO()
    call_command("tallies", "verify", stdout=out)
    assert "一致" in out.getvalue()
    # A tally edited behind the services' back is found, and a rebuild puts it right.
    Tally.objects.filter(key="people.found", org_path=t.county.path).update(n=5)
    with pytest.raises(CommandError, match="不符"):
        call_command("tallies", "verify", stdout=io.StringIO())
    call_command("tallies", "rebuild", stdout=io.StringIO(), stderr=io.StringIO())
    assert indicators.value("new_users_found", t.county.path, Period.year(2024)) == 1
    out = io.StringIO()
    call_command("tallies", "settle", stdout=out)
    assert "0" in out.getvalue()


def test_the_overdue_test_count_is_the_worklists_own(personas):
    from jindu.people.schedule import Task
    from jindu.people.worklist import build_rows, tests_overdue

    build_register(personas, seed=17, count=30)
    today = timezone.localdate()
    people = Person.objects.all()
    rows = build_rows(people, today)
    listed = {r.person.pk for r in rows if r.state and r.state.tasks[Task.TEST].overdue}
    assert listed and {pk for pk, _path in tests_overdue(people, today)} == listed
