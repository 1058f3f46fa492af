"""People abstinent three years or more, counted at year ends, by the unit responsible then.

A hand-made register with known answers (years are past, so every date passes
the services' checks):

- P1 甲一村: community detox 2015-03-10 to 2018-03-10; abstinent from 2021-03-10.
- P2 甲一村: detox ended 2016-06-01 (abstinent from 2019-06-01), relapsed 2022-05-01.
- P3 甲一村第一网格: found 2017-01-01, nothing since; abstinent from 2020-01-01.
- P4 乙一村: found 2010, nothing since; always abstinent, always 乙镇's.
- P5 乙一村 until 2021-06-01, then 甲一村: found 2012, nothing since.
- P6 甲一村: found 2010, died 2021-01-01.
- P7 甲一村: found 2015, community detox from 2024-06-05 (running).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from jindu.people import followup, movement, services
from jindu.people.abstinence import abstinent_count, abstinent_counts_by_year, abstinent_ids
from jindu.people.models import Person
from jindu.people.status import Status, annotate_status
from tests.people_factories import make_person


def _measure(actor, person, decided, report_in, ended=None):
    services.add_measure(
        actor=actor,
        person=person,
        kind="community_detox",
        decision_date=decided,
        report_in_date=report_in,
        ended_on=ended,
        end_reason="completed" if ended else "",
    )


@pytest.fixture
def register(personas):
    t = personas.territory
    a, b = personas.cadre_a, personas.cadre_b
    p = {}
    p[1] = make_person(a, t.village_a, first_found_on=date(2015, 3, 1))
    _measure(a, p[1], date(2015, 3, 1), date(2015, 3, 10), date(2018, 3, 10))
    p[2] = make_person(a, t.village_a, first_found_on=date(2013, 5, 1))
    _measure(a, p[2], date(2013, 5, 20), date(2013, 6, 1), date(2016, 6, 1))
    followup.record_test(
        actor=a, person=p[2], tested_on=date(2022, 5, 1), method="urine", result="positive"
    )
    p[3] = make_person(a, t.grid_a, first_found_on=date(2017, 1, 1))
    p[4] = make_person(b, t.village_b, first_found_on=date(2010, 1, 1))
    p[5] = make_person(b, t.village_b, first_found_on=date(2012, 1, 1))
    movement.transfer_person(
        actor=b, person=p[5], to_unit=t.village_a, transferred_on=date(2021, 6, 1)
    )
    p[6] = make_person(a, t.village_a, first_found_on=date(2010, 1, 1))
    movement.record_death(actor=a, person=p[6], died_on=date(2021, 1, 1))
    p[7] = make_person(a, t.village_a, first_found_on=date(2015, 1, 1))
    _measure(a, p[7], date(2024, 6, 1), date(2024, 6, 5))
    return {k: Person.objects.get(pk=v.pk) for k, v in p.items()}


def _who(register, path, day, years=None):
    ids = abstinent_ids(path, day, years)
    return sorted(k for k, person in register.items() if person.pk in ids)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2019, [2, 6, 7]),
        (2020, [2, 3, 6, 7]),
        (2021, [1, 2, 3, 5, 7]),
        (2022, [1, 3, 5, 7]),
        (2023, [1, 3, 5, 7]),
        (2024, [1, 3, 5]),
    ],
)
def test_who_is_abstinent_at_each_year_end_in_township_a(register, personas, year, expected):
    path = personas.territory.township_a.path
    assert _who(register, path, date(year, 12, 31)) == expected
    assert abstinent_count(path, date(year, 12, 31)) == len(expected)


@pytest.mark.parametrize(("year", "expected"), [(2019, [4, 5]), (2020, [4, 5]), (2021, [4])])
def test_township_b_counts_the_transferred_person_until_the_hand_over(
    register, personas, year, expected
):
    assert _who(register, personas.territory.township_b.path, date(year, 12, 31)) == expected


def test_a_relapse_after_a_year_end_leaves_that_years_count_alone(register, personas):
    path = personas.territory.village_a.path
    assert 2 in _who(register, path, date(2021, 12, 31))
    assert 2 not in _who(register, path, date(2022, 12, 31))
    assert 2 in _who(register, path, date(2025, 5, 1))


def test_a_measure_counts_against_abstinence_from_its_decision(register, personas):
    path = personas.territory.township_a.path
    assert 7 in _who(register, path, date(2024, 5, 31))
    # Decided on 2024-06-01, reported in on 2024-06-05: a decision means use was found.
    assert 7 not in _who(register, path, date(2024, 6, 1))


def test_the_count_follows_the_abstinence_years_of_the_policy(register, personas):
    path = personas.territory.township_a.path
    assert _who(register, path, date(2021, 12, 31), years=5) == [2, 5, 7]


def test_counts_by_year_give_the_growth_for_the_indicator(register, personas):
    rows = abstinent_counts_by_year(personas.territory.township_a.path, [2022, 2020, 2021])
    assert [(r.year, r.on, r.count, r.previous, r.growth) for r in rows] == [
        (2020, date(2020, 12, 31), 4, 3, 1),
        (2021, date(2021, 12, 31), 5, 4, 1),
        (2022, date(2022, 12, 31), 4, 5, -1),
    ]
    assert [r.growth_rate for r in rows] == [33.3, 25.0, -20.0]


def test_the_county_counts_both_townships_once(register, personas):
    t = personas.territory
    for year in (2019, 2020, 2021, 2022):
        day = date(year, 12, 31)
        assert abstinent_count(t.county.path, day) == abstinent_count(
            t.township_a.path, day
        ) + abstinent_count(t.township_b.path, day)


def test_growth_rate_is_none_after_a_year_with_nobody(personas):
    rows = abstinent_counts_by_year(personas.territory.township_a.path, [2001])
    assert (rows[0].count, rows[0].previous, rows[0].growth_rate) == (0, 0, None)


def test_the_current_years_count_is_taken_today(personas):
    today = timezone.localdate()
    (row,) = abstinent_counts_by_year(personas.territory.county.path, [today.year])
    assert row.on == today


def test_today_the_count_agrees_with_the_status_rule(register, personas):
    today = timezone.localdate()
    path = personas.territory.township_a.path
    by_status = set(
        annotate_status(Person.objects.filter(movement.responsible_q(path, today)), today)
        .filter(status=Status.ABSTINENT)
        .values_list("pk", flat=True)
    )
    assert abstinent_ids(path, today) == by_status
    assert _who(register, path, today) == [1, 2, 3, 5]
