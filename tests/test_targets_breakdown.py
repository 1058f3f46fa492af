"""Targets and their breakdown: a unit outside the county refused, parts that do not
add up shown, a zero target "不适用", completion colours against the year gone by."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from jindu.orgs import services as orgs
from jindu.targets import completion, services
from jindu.targets.models import Target, TargetShare
from tests.helpers import sign_in
from tests.people_factories import make_person

YEAR = 2025


def target(personas, key="new_users_found", value="10", year=YEAR):
    return services.set_target(
        actor=personas.county_officer, county=personas.territory.county, year=year, key=key,
        value=value,
    )  # fmt: skip


def test_a_target_may_be_fractional_but_not_negative_or_on_an_unknown_indicator(personas):
    assert target(personas, value="10.5").value == Decimal("10.5")
    for bad, field in (("-1", "value"), ("", "value"), ("1.0001", "value"), ("x", "value")):
        with pytest.raises(ValidationError) as caught:
            target(personas, value=bad)
        assert field in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        target(personas, key="no_such_indicator")
    assert "indicator_key" in caught.value.message_dict


def test_only_the_county_office_sets_targets(personas):
    with pytest.raises(PermissionDenied):
        services.set_target(
            actor=personas.cadre_a, county=personas.territory.county, year=YEAR,
            key="new_users_found", value="3",
        )  # fmt: skip


def test_a_breakdown_to_a_unit_outside_the_county_is_refused_and_nothing_is_written(personas):
    t = personas.territory
    other_county = orgs.create_unit(
        actor=None, name="邻县", level="county", parent=None, division_code="621198000000"
    )
    elsewhere = orgs.create_unit(
        actor=None, name="邻县某镇", level="township", parent=other_county,
        division_code="621198100000",
    )  # fmt: skip
    whole = target(personas)
    with pytest.raises(ValidationError) as caught:
        services.set_share(actor=personas.county_officer, target=whole, unit=elsewhere, value=3)
    assert "不在本县范围内" in caught.value.messages[0]
    with pytest.raises(ValidationError) as caught:
        services.set_breakdown(
            actor=personas.county_officer, target=whole,
            townships={t.township_a: "6", elsewhere: "4"}, departments={},
        )  # fmt: skip
    assert f"unit_{elsewhere.pk}" in caught.value.message_dict
    assert not TargetShare.objects.exists()  # 甲镇's part was not written either
    with pytest.raises(ValidationError):
        services.set_share(actor=personas.county_officer, target=whole, unit=t.village_a, value=1)


def test_the_sums_of_the_parts_show_where_they_do_not_add_up(personas):
    t = personas.territory
    whole = target(personas, value="10")
    services.set_breakdown(
        actor=personas.county_officer, target=whole,
        townships={t.township_a: "6", t.township_b: "3"},
        departments={t.police_dept: "10"},
    )  # fmt: skip
    (row,) = services.breakdown_rows(t.county, YEAR)
    assert row.township_sum == Decimal("9") and row.townships_add_up is False
    assert row.department_sum == Decimal("10") and row.departments_add_up is True
    assert row.mismatch
    services.set_share(actor=personas.county_officer, target=whole, unit=t.township_b, value="4")
    (row,) = services.breakdown_rows(t.county, YEAR)
    assert not row.mismatch
    services.set_share(actor=personas.county_officer, target=whole, unit=t.township_b, value="")
    assert not TargetShare.objects.filter(org_unit=t.township_b).exists()


def test_the_list_page_highlights_a_breakdown_that_does_not_add_up(client, personas):
    t = personas.territory
    whole = target(personas, value="10")
    services.set_breakdown(
        actor=personas.county_officer, target=whole,
        townships={t.township_a: "6", t.township_b: "3"}, departments={},
    )  # fmt: skip
    sign_in(client, personas.county_officer)
    body = client.get(reverse("targets:list"), {"year": YEAR}).content.decode()
    assert 'data-mismatch="1"' in body
    assert "与县目标不一致" in body


def test_the_breakdown_form_keeps_typed_values_and_puts_errors_beside_them(client, personas):
    t = personas.territory
    whole = target(personas, value="10")
    sign_in(client, personas.county_officer)
    url = reverse("targets:breakdown", kwargs={"pk": whole.pk})
    response = client.post(url, {f"unit_{t.township_a.pk}": "6", f"unit_{t.township_b.pk}": "-2"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "目标值不能为负数" in body
    assert 'value="6"' in body and 'value="-2"' in body
    assert not TargetShare.objects.exists()
    response = client.post(url, {f"unit_{t.township_a.pk}": "6", f"unit_{t.township_b.pk}": "4"})
    assert response.status_code == 302
    assert TargetShare.objects.count() == 2


@pytest.mark.parametrize(
    ("completion_pct", "elapsed", "higher", "expected"),
    [
        ("60", "50", True, "green"),
        ("50", "50", True, "green"),
        ("40", "50", True, "yellow"),
        ("39.9", "50", True, "red"),
        ("40", "50", False, "green"),
        ("90", "50", False, "yellow"),
        ("100.1", "50", False, "red"),
    ],
)
def test_the_colour_rule(completion_pct, elapsed, higher, expected):
    assert completion.colour(Decimal(completion_pct), Decimal(elapsed), higher) == expected


def test_a_zero_target_is_not_applicable_never_a_division(personas):
    assert completion.colour(None, Decimal("50")) == "na"
    target(personas, value="0")
    (row,) = completion.completion_for(personas.territory.county, YEAR, date(YEAR, 6, 30))
    assert row.completion is None and row.colour == "na"
    assert str(row.label) == "不适用"


def test_elapsed_share_of_the_year():
    assert completion.elapsed_percent(2025, date(2025, 12, 31)) == Decimal(100)
    assert completion.elapsed_percent(2024, date(2024, 7, 1)) == Decimal(50)  # a leap year
    assert completion.elapsed_percent(2025, date(2030, 1, 1)) == Decimal(100)


def test_completion_for_the_county_and_a_township_on_any_day(personas):
    t, actor = personas.territory, personas.county_officer
    whole = target(personas, value="8")
    services.set_breakdown(
        actor=actor, target=whole, townships={t.township_a: "4", t.township_b: "4"}, departments={}
    )
    for day in (date(YEAR, 2, 1), date(YEAR, 3, 1), date(YEAR, 5, 1)):
        make_person(actor, t.village_a, first_found_on=day)
    make_person(actor, t.village_b, first_found_on=date(YEAR, 9, 1))
    # 30 June: 3 of 8 for the county, 37.5 % at 49.6 % of the year, under 80 % of it: red.
    (county,) = completion.completion_for(t.county, YEAR, date(YEAR, 6, 30))
    assert (county.actual, county.completion) == (3, Decimal("37.5"))
    assert county.colour == "red"
    (township_a,) = completion.completion_for(t.township_a, YEAR, date(YEAR, 6, 30))
    assert township_a.completion == Decimal("75") and township_a.colour == "green"
    (township_a_march,) = completion.completion_for(t.township_a, YEAR, date(YEAR, 2, 15))
    assert township_a_march.actual == 1
    keys, columns = completion.townships_side_by_side(
        t.county, [t.township_a, t.township_b], YEAR, date(YEAR, 12, 31)
    )
    assert keys == ["new_users_found"]
    assert [c.cells[0].completion for c in columns] == [Decimal("75"), Decimal("25")]


def test_a_township_sees_only_its_own_parts_and_figures(client, personas):
    t = personas.territory
    whole = target(personas, value="10", year=timezone.localdate().year)
    services.set_breakdown(
        actor=personas.county_officer, target=whole,
        townships={t.township_a: "7", t.township_b: "3"}, departments={t.police_dept: "10"},
    )  # fmt: skip
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("targets:list")).content.decode()
    assert "甲镇承担的目标任务" in body
    assert "乙镇" not in body
    assert client.get(reverse("targets:breakdown", kwargs={"pk": whole.pk})).status_code == 403
    sign_in(client, personas.county_officer)
    body = client.get(reverse("targets:list")).content.decode()
    assert "甲镇" in body and "乙镇" in body
    assert Target.objects.count() == 1
