"""Each enforcement indicator on a small hand-made county with known answers: counted
by the date that decides it, rolled up from villages to townships to the county,
compared year on year, and the same whether asked one unit at a time or side by side."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jindu.core import indicators
from jindu.core.indicators import Period
from jindu.enforcement.indicators import KEYS
from tests.test_enforcement_factories import add_suspect, catch, d, driving, make_case, seize

Y2023 = Period.year(2023)


@pytest.fixture
def county(personas, territory):
    """Records of 2022–2024 in 甲一村, 甲镇 itself and 乙一村, entered by the county office."""
    office, police = personas.county_officer, territory.police_dept
    va, ta, vb = territory.village_a, territory.township_a, territory.village_b
    a1 = make_case(office, va, police, occurred_on=d("2023-03-01"), solved_on=d("2023-03-10"))
    make_case(office, ta, police, filed_on=d("2023-12-20"), solved_on=d("2024-01-05"))
    a3 = make_case(office, va, police, filed_on=d("2022-05-01"), solved_on=d("2022-05-03"))
    b1 = make_case(
        office, vb, police, filed_on=d("2023-06-01"), solved_on=d("2023-06-15"),
        street_dealing=True,
    )  # fmt: skip
    theft = make_case(
        office, va, police, offence="theft", filed_on=d("2023-09-01"), solved_on=d("2023-09-09"),
        caused_by_user=True, caused_kind="criminal",
    )  # fmt: skip
    make_case(office, vb, police, offence="robbery", filed_on=d("2022-02-02"),
              caused_by_user=True, caused_kind="public_order")  # fmt: skip
    add_suspect(office, a1, prosecuted_on=d("2023-04-01"))
    # 16 on the day it happened: a minor, referred in the next year.
    add_suspect(office, a1, birth=date(2006, 6, 1), prosecuted_on=d("2024-01-10"))
    # 18 on the very day it happened: no longer a minor.
    add_suspect(office, a1, birth=date(2005, 3, 1))
    add_suspect(office, b1, prosecuted_on=d("2023-07-01"), household="non_local")
    add_suspect(office, theft, prosecuted_on=d("2023-10-01"))
    seize(office, "heroin", "10.5", d("2023-03-10"), case=a1)
    seize(office, "methamphetamine", "2.3", d("2023-03-10"), case=a1)
    seize(office, "heroin", "0.1", d("2023-08-01"), org_unit=vb, department=police)
    seize(office, "ketamine", "5", d("2023-06-15"), case=b1)
    seize(office, "heroin", "100.0", d("2022-05-03"), case=a3)
    catch(office, va, police, d("2023-02-01"))
    catch(office, va, police, d("2023-11-30"))
    catch(office, vb, police, d("2023-05-05"), "methamphetamine")
    catch(office, vb, police, d("2023-12-31"), "ketamine")
    catch(office, vb, police, d("2024-01-01"), "methamphetamine")
    driving(office, va, police, d("2023-04-01"), licence_held=True,
            licence_reported_on=d("2023-04-02"))  # fmt: skip
    driving(office, vb, police, d("2023-12-28"), licence_held=True,
            licence_reported_on=d("2024-01-02"))  # fmt: skip
    driving(office, vb, police, d("2023-05-01"), result="negative", licence_held=True)
    from jindu.enforcement import services

    services.record_asset(actor=office, case=a1, confiscated_on=d("2023-03-10"), kind="cash",
                          amount="1000")  # fmt: skip
    services.record_asset(actor=office, case=b1, confiscated_on=d("2023-06-15"),
                          kind="vehicle", amount="2500.50")  # fmt: skip
    return territory


def values(territory, key, period=Y2023):
    t = territory
    return [
        indicators.value(key, unit.path, period)
        for unit in (t.county, t.township_a, t.village_a, t.township_b)
    ]


# Expected 2023 values for the county, 甲镇, 甲一村 and 乙镇.
EXPECTED_2023 = {
    "cases_solved": [2, 1, 1, 1],
    "suspects_prosecuted": [2, 1, 1, 1],
    "suspects_total": [4, 3, 3, 1],
    "minor_suspects": [1, 1, 1, 0],
    "seized_heroin_g": [Decimal("10.6"), Decimal("10.5"), Decimal("10.5"), Decimal("0.1")],
    "seized_meth_g": [Decimal("2.3"), Decimal("2.3"), Decimal("2.3"), Decimal("0.0")],
    "seized_total_g": [Decimal("17.9"), Decimal("12.8"), Decimal("12.8"), Decimal("5.1")],
    "users_caught": [4, 2, 2, 2],
    "users_caught_synthetic": [2, 0, 0, 2],
    "street_dealing_cases": [1, 0, 0, 1],
    "drug_driving_licences": [1, 1, 1, 0],
    "user_caused_cases": [1, 1, 1, 0],
    "assets_confiscated": [Decimal("3500.50"), Decimal("1000.00"), Decimal("1000.00"),
                           Decimal("2500.50")],
}  # fmt: skip


def test_every_enforcement_key_is_registered_with_its_unit_and_direction():
    assert set(KEYS) == set(EXPECTED_2023)
    assert indicators.get("seized_heroin_g").unit == "克"
    assert indicators.get("seized_heroin_g").decimals == 1
    assert indicators.get("users_caught").unit == "人次"
    assert indicators.get("user_caused_cases").higher_is_better is False
    assert all(indicators.get(k).area == "enforcement" for k in KEYS)


@pytest.mark.parametrize("key", sorted(EXPECTED_2023))
def test_each_indicator_for_2023_by_county_township_and_village(county, key):
    assert values(county, key) == EXPECTED_2023[key]


def test_cases_are_solved_in_the_year_of_their_solving_date(county):
    # 甲镇's December case is solved in January: it counts for 2024, not 2023.
    assert values(county, "cases_solved", Period.year(2024)) == [1, 1, 0, 0]
    assert values(county, "cases_solved", Period.year(2022)) == [1, 1, 1, 0]


def test_a_theft_caused_by_a_user_is_no_drug_case_but_counts_as_caused(county):
    assert indicators.value("cases_solved", county.village_a.path, Period.month(2023, 9)) == 0
    assert indicators.value("user_caused_cases", county.village_a.path, Y2023) == 1
    assert indicators.value("user_caused_cases", county.township_b.path, Period.year(2022)) == 1


def test_suspects_are_counted_by_their_prosecution_date(county):
    assert values(county, "suspects_prosecuted", Period.year(2024)) == [1, 1, 1, 0]
    assert indicators.value("suspects_prosecuted", county.county.path, Period.quarter(2023, 2)) == 1


def test_periods_narrow_by_month_quarter_and_range(county):
    path = county.county.path
    assert indicators.value("users_caught", path, Period.month(2023, 12)) == 1
    assert indicators.value("users_caught", path, Period.quarter(2023, 4)) == 2
    between = Period.between(d("2023-03-10"), d("2023-06-15"))
    assert indicators.value("seized_total_g", path, between) == Decimal("17.8")
    assert indicators.value("cases_solved", path, between) == 2


def test_year_on_year_of_heroin_and_cases_solved(county):
    heroin = indicators.yoy("seized_heroin_g", county.county.path, Y2023)
    assert (heroin.current, heroin.previous) == (Decimal("10.6"), Decimal("100.0"))
    assert heroin.ratio == Decimal("-0.894")
    assert heroin.moved_right_way(indicators.get("seized_heroin_g").higher_is_better) is False
    cases = indicators.yoy("cases_solved", county.county.path, Y2023)
    assert (cases.current, cases.previous, cases.ratio) == (2, 1, Decimal(1))
    caused = indicators.yoy("user_caused_cases", county.county.path, Y2023)
    # One caused case in each year: no change, which is not moving the right way.
    assert (caused.current, caused.previous) == (1, 1)
    assert caused.moved_right_way(False) is False


def test_side_by_side_equals_one_at_a_time(county, django_assert_max_num_queries):
    t = county
    paths = [t.county.path, t.township_a.path, t.township_b.path, t.village_a.path]
    for key in KEYS:
        with django_assert_max_num_queries(2):
            many = indicators.by_units(key, paths, Y2023)
        assert many == {p: indicators.value(key, p, Y2023) for p in paths}, key


def test_an_empty_subtree_counts_zero_not_unknown(county):
    assert indicators.value("seized_heroin_g", county.grid_a.path, Y2023) == Decimal("0.0")
    assert indicators.value("cases_solved", county.grid_a.path, Y2023) == 0
    assert indicators.by_units("assets_confiscated", [county.grid_b.path], Y2023) == {
        county.grid_b.path: Decimal("0.00")
    }


def test_a_saved_seizure_counts_at_once(county, personas):
    path = county.county.path
    before = indicators.value("seized_meth_g", path, Y2023)
    seize(personas.county_officer, "methamphetamine", "0.4", d("2023-12-01"),
          org_unit=county.village_a, department=county.police_dept)  # fmt: skip
    assert indicators.value("seized_meth_g", path, Y2023) == before + Decimal("0.4")


def test_side_by_side_across_counties_with_no_shared_ancestor(county, personas):
    from jindu.orgs import services as orgs

    other = orgs.create_unit(
        actor=None, name="邻县", level="county", parent=None, division_code="621198000000"
    )
    town = orgs.create_unit(
        actor=None, name="邻镇", level="township", parent=other, division_code="621198100000"
    )
    police = orgs.create_department(
        actor=None, county=other, name="邻县公安局", short_name="公安局"
    )
    make_case(None, town, police, solved_on=d("2023-05-05"))
    paths = [county.county.path, other.path, county.township_b.path]
    assert indicators.by_units("cases_solved", paths, Y2023) == {
        county.county.path: 2,
        other.path: 1,
        county.township_b.path: 1,
    }
