"""The people-based indicators on small hand-made registers with known answers: by
village, township and county (roll-up), year on year, and against the one rule
of ``movement.responsible_q``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from jindu.core import indicators
from jindu.core.indicators import Indicator, Period
from jindu.people import followup, movement, services, teams
from jindu.people.models import Person
from tests.people_factories import make_person

Y2024, Y2025 = Period.year(2024), Period.year(2025)


def values(key, territory, period):
    t = territory
    paths = [t.county.path, t.township_a.path, t.village_a.path, t.township_b.path]
    many = indicators.by_units(key, paths, period)
    one = {p: indicators.value(key, p, period) for p in paths}
    assert many == one, f"{key}: by_units and value disagree"
    return (many[paths[0]], many[paths[1]], many[paths[2]], many[paths[3]])


@pytest.fixture
def register(personas):
    """甲镇: three found in 2025 (one in the grid), one in 2024, a minor found in 2025;
    乙镇: one found in 2025, and one found there in 2025 who moved to 甲镇 in August."""
    t, actor = personas.territory, personas.county_officer
    p = {}
    p["a1"] = make_person(actor, t.village_a, first_found_on=date(2025, 3, 1))
    p["a2"] = make_person(actor, t.village_a, first_found_on=date(2025, 6, 1))
    p["a3"] = make_person(actor, t.grid_a, first_found_on=date(2025, 9, 1))
    p["a4"] = make_person(actor, t.village_a, first_found_on=date(2024, 5, 1))
    p["minor"] = make_person(
        actor, t.village_a, first_found_on=date(2025, 7, 1), birth=date(2008, 1, 1)
    )
    p["b1"] = make_person(actor, t.village_b, first_found_on=date(2025, 2, 1))
    p["moved"] = make_person(actor, t.village_b, first_found_on=date(2025, 4, 1))
    return p


def test_new_users_count_for_the_unit_responsible_on_the_day_found(personas, register):
    t = personas.territory
    movement.transfer_person(
        actor=personas.county_officer,
        person=register["moved"],
        to_unit=t.village_a,
        transferred_on=date(2025, 8, 1),
    )
    # county, 甲镇, 甲一村 (with its grid), 乙镇
    assert values("new_users_found", t, Y2025) == (6, 4, 4, 2)
    assert values("new_users_found", t, Y2024) == (1, 1, 1, 0)
    # The rule of responsible_q, person by person.
    for path in (t.county.path, t.township_a.path, t.township_b.path):
        expected = sum(
            1
            for person in Person.objects.filter(first_found_on__year=2025)
            if movement.responsible_unit_on(person, person.first_found_on).path.startswith(path)
        )
        assert indicators.value("new_users_found", path, Y2025) == expected


def test_new_users_growth_is_the_change_over_last_year_and_none_after_a_zero_year(
    personas, register
):
    t = personas.territory
    county, township_a, village_a, township_b = values("new_users_growth", t, Y2025)
    assert county == Decimal("500.0")  # 6 against 1
    assert township_a == Decimal("300.0")  # 4 against 1
    assert township_b is None  # nobody found in 乙镇 in 2024
    assert indicators.get("new_users_growth").higher_is_better is False


def test_measures_count_by_decision_date_and_the_unit_responsible_then(personas, register):
    t, actor = personas.territory, personas.county_officer
    services.add_measure(
        actor=actor, person=register["a1"], kind="compulsory_isolation",
        decision_date=date(2025, 3, 10), start_date=date(2025, 3, 10),
    )  # fmt: skip
    services.add_measure(
        actor=actor, person=register["a2"], kind="community_detox",
        decision_date=date(2025, 6, 5), report_in_date=date(2025, 6, 12),
    )  # fmt: skip
    services.add_measure(  # decided, never reported in
        actor=actor, person=register["a3"], kind="community_detox", decision_date=date(2025, 9, 5)
    )
    services.add_measure(
        actor=actor, person=register["b1"], kind="community_detox",
        decision_date=date(2025, 2, 5), report_in_date=date(2025, 2, 10),
    )  # fmt: skip
    services.add_measure(
        actor=actor, person=register["moved"], kind="compulsory_isolation",
        decision_date=date(2025, 5, 1), start_date=date(2025, 5, 1),
    )  # fmt: skip
    # Moved after the decision: the isolation stays 乙镇's, although the running
    # measure's own path now says 甲一村.
    movement.transfer_person(
        actor=actor, person=register["moved"], to_unit=t.village_a, transferred_on=date(2025, 8, 1)
    )
    assert values("isolation_ordered", t, Y2025) == (2, 1, 1, 1)
    assert values("community_detox_ordered", t, Y2025) == (3, 2, 2, 1)
    assert values("isolation_ordered", t, Y2024) == (0, 0, 0, 0)
    county, township_a, _village, township_b = values("execution_rate", t, Y2025)
    assert township_a == Decimal("50.0")  # one of two reported in
    assert township_b == Decimal("100.0")
    assert county == Decimal("66.7")
    assert indicators.value("execution_rate", t.county.path, Y2024) is None  # nobody ordered


def test_minors_share_counts_users_found_and_enforcement_suspects(personas, register, monkeypatch):
    t = personas.territory
    county, township_a, _village, township_b = values("minors_share", t, Y2025)
    assert township_a == Decimal("25.0")  # one of four found in 甲镇 was 17
    assert township_b == Decimal("0.0")
    assert county == Decimal("16.7")  # one of six
    # The enforcement half, read through the registry: 甲镇 caught 4 suspects, 1 a minor.
    suspects = {t.township_a.path: 4}
    minors = {t.township_a.path: 1}

    def fake(key, table):
        return Indicator(
            key=key, name=key, unit="名", higher_is_better=True,
            compute=lambda path, period: sum(n for p, n in table.items() if p.startswith(path)),
        )  # fmt: skip

    monkeypatch.setitem(indicators.REGISTRY, "suspects_total", fake("suspects_total", suspects))
    monkeypatch.setitem(indicators.REGISTRY, "minor_suspects", fake("minor_suspects", minors))
    assert indicators.value("minors_share", t.township_a.path, Y2025) == Decimal("25.0")
    assert indicators.value("minors_share", t.county.path, Y2025) == Decimal("20.0")  # 2 of 10


def _ended_detox(actor, unit, found, report_in):
    person = make_person(actor, unit, first_found_on=found)
    services.add_measure(
        actor=actor,
        person=person,
        kind="community_detox",
        decision_date=report_in - timedelta(days=3),
        report_in_date=report_in,
        ended_on=report_in.replace(year=report_in.year + 3),
        end_reason="completed",
    )
    return person


def test_abstinent_three_years_at_the_year_end_and_its_growth(personas):
    t, actor = personas.territory, personas.county_officer
    _ended_detox(actor, t.village_a, date(2015, 1, 1), date(2015, 1, 15))  # clean from 2018-01-15
    _ended_detox(actor, t.grid_a, date(2019, 1, 1), date(2019, 1, 6))  # clean from 2022-01-06
    _ended_detox(actor, t.village_b, date(2016, 1, 1), date(2016, 2, 1))  # clean from 2019-02-01
    assert values("abstinent_3y", t, Y2025) == (3, 2, 2, 1)
    assert values("abstinent_3y", t, Y2024) == (2, 1, 1, 1)
    county, township_a, _village, township_b = values("abstinent_3y_growth", t, Y2025)
    assert (county, township_a, township_b) == (Decimal("50.0"), Decimal("100.0"), Decimal("0.0"))
    future = Period.year(timezone.localdate().year + 1)
    assert indicators.value("abstinent_3y", t.county.path, future) is None


def test_outflow_counts_by_kind_and_agrees_with_the_movement_count(personas, register):
    t, actor = personas.territory, personas.county_officer
    movement.record_outflow(
        actor=actor, kind="trafficking", caught_on=date(2025, 3, 3), place="外省某市",
        person=register["a1"],
    )  # fmt: skip
    movement.record_outflow(
        actor=actor,
        kind="using",
        caught_on=date(2025, 4, 4),
        place="外省某市",
        person=register["b1"],
    )
    movement.record_outflow(
        actor=actor, kind="trafficking", caught_on=date(2024, 5, 5), place="外省某县",
        name="未登记人员", org_unit=t.village_a,
    )  # fmt: skip
    assert values("outflow_trafficking", t, Y2025) == (1, 1, 1, 0)
    assert values("outflow_using", t, Y2025) == (1, 0, 0, 1)
    assert values("outflow_trafficking", t, Y2024) == (1, 1, 1, 0)
    for path in (t.county.path, t.township_a.path, t.township_b.path):
        for year in (2024, 2025):
            counts = movement.outflow_counts(path, year)
            period = Period.year(year)
            assert indicators.value("outflow_trafficking", path, period) == counts["trafficking"]
            assert indicators.value("outflow_using", path, period) == counts["using"]


def test_figures_of_the_day_tests_overdue_lost_control_and_teams_complete(personas):
    t, actor = personas.territory, personas.county_officer
    today = timezone.localdate()

    def detox(unit, reported_days_ago):
        person = make_person(actor, unit, first_found_on=today - timedelta(days=400))
        report_in = today - timedelta(days=reported_days_ago)
        services.add_measure(
            actor=actor, person=person, kind="community_detox",
            decision_date=report_in - timedelta(days=5), report_in_date=report_in,
        )  # fmt: skip
        return person

    lost = detox(t.village_a, 195)  # no test, no contact: overdue and lost
    kept = detox(t.grid_a, 20)  # tested five days ago, full team
    followup.record_test(
        actor=actor, person=kept, tested_on=today - timedelta(days=5), method="urine",
        result="negative",
    )  # fmt: skip
    for role in ("township_cadre", "community_police", "community_doctor", "family_member"):
        teams.add_team_member(
            actor=actor, person=kept, role=role, name=f"{role}成员", phone="13900001234"
        )
    visited = detox(t.village_b, 95)  # visited ten days ago, never tested
    followup.record_visit(
        actor=actor, person=visited, kind="home_visit", visited_on=today - timedelta(days=10),
        summary="在家",
    )  # fmt: skip
    this_year = Period.year(today.year)
    assert values("tests_overdue", t, this_year) == (2, 1, 1, 1)
    assert values("lost_control", t, this_year) == (1, 1, 1, 0)
    county, township_a, _village, township_b = values("teams_complete_rate", t, this_year)
    assert (county, township_a, township_b) == (Decimal("33.3"), Decimal("50.0"), Decimal("0.0"))
    # A figure of the day has no value for a year gone by.
    assert indicators.value("lost_control", t.county.path, Period.year(today.year - 1)) is None
    assert lost.pk != kept.pk


def test_every_people_indicator_is_registered_once_with_its_direction():
    from jindu.people.indicators import KEYS

    assert set(KEYS) == {
        "new_users_found", "new_users_growth", "isolation_ordered", "community_detox_ordered",
        "execution_rate", "abstinent_3y", "abstinent_3y_growth", "minors_share",
        "outflow_trafficking", "outflow_using", "tests_overdue", "lost_control",
        "teams_complete_rate",
    }  # fmt: skip
    lower = {k for k in KEYS if not indicators.get(k).higher_is_better}
    assert lower == {
        "new_users_growth", "minors_share", "outflow_trafficking", "outflow_using",
        "tests_overdue", "lost_control",
    }  # fmt: skip
