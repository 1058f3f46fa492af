"""The regulation figures in the indicator registry: each for a subtree and a period,
and several subtrees at once agreeing with one at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jindu.core import indicators
from jindu.core.indicators import Period
from jindu.regulation import campaigns, reconcile
from jindu.regulation.models import CampaignTarget, Finding, RegulatedUnit
from jindu.regulation.selectors import UnitFilter
from tests.test_regulation_factories import days_ago, line, make_unit, today

KEYS = [
    "regulation.units_registered",
    "regulation.units_checked",
    "regulation.discrepancies_found",
    "regulation.discrepancies_closed",
    "regulation.licences_expiring",
]


@pytest.fixture
def county(personas, territory):
    office = personas.county_officer
    a = make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        licence_until=today() + timedelta(days=5),
    )
    b = make_unit(office, territory.village_b, territory.police_dept)
    make_unit(office, territory.village_b, territory.police_dept, registered_on=today())
    for unit in (a, b):
        line(office, unit, "丙酮", "opening", days_ago(60), 10)
        line(office, unit, "丙酮", "count", days_ago(30), 8)
    reconcile.run(
        actor=office,
        units=RegulatedUnit.objects.all(),
        period=Period.between(days_ago(90), today()),
    )
    campaigns.close_finding(actor=office, finding=Finding.objects.get(unit=a), note="已核实")
    campaign = campaigns.create_campaign(
        actor=office, name="检查", starts_on=days_ago(5), ends_on=today(), filters=UnitFilter()
    )
    for unit in (a, a):
        target = CampaignTarget.objects.get(campaign=campaign, unit=unit)
        campaigns.record_check(
            actor=office, target=target, checked_on=days_ago(1), checkers="甲", result="passed"
        )
    return territory


def test_every_regulation_indicator_is_registered():
    assert set(KEYS) <= set(indicators.REGISTRY)


def test_the_figures_for_the_county_and_each_township(county):
    period = Period.between(days_ago(90), today())
    values = indicators.values(KEYS, county.county.path, period)
    assert values == {
        "regulation.units_registered": 3,
        "regulation.units_checked": 1,
        "regulation.discrepancies_found": 2,
        "regulation.discrepancies_closed": 1,
        "regulation.licences_expiring": 0,
    }
    assert (
        indicators.value(
            "regulation.licences_expiring",
            county.township_a.path,
            Period.between(today(), today() + timedelta(days=30)),
        )
        == 1
    )


def test_a_unit_registered_after_the_period_is_not_counted(county):
    last_month = Period.between(days_ago(60), days_ago(30))
    assert indicators.value("regulation.units_registered", county.county.path, last_month) == 2


@pytest.mark.parametrize("key", KEYS)
def test_several_townships_at_once_agree_with_one_at_a_time(county, key):
    period = Period.between(days_ago(90), today() + timedelta(days=30))
    paths = [county.county.path, county.township_a.path, county.township_b.path, county.grid_a.path]
    many = indicators.by_units(key, paths, period)
    assert many == {p: indicators.value(key, p, period) for p in paths}
