"""The catalogue as data: the regulation's three categories with later listings and the
pharmaceutical items marked, controlled medicines, a loader that adds what is
missing and keeps an administrator's edits, and additions without code."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from jindu.regulation import catalogue
from jindu.regulation.models import Substance
from tests.test_regulation_factories import days_ago, line, make_unit


def _names(category: str) -> set[str]:
    return set(Substance.objects.filter(category=category).values_list("name", flat=True))


@pytest.mark.django_db
def test_the_three_categories_hold_the_annexs_items():
    assert {"1-苯基-2-丙酮", "胡椒醛", "黄樟素", "麻黄素类物质", "N-苯乙基-4-哌啶酮"} <= _names(
        "precursor_1"
    )
    assert {"苯乙酸", "醋酸酐", "三氯甲烷", "乙醚", "哌啶", "溴素", "1-苯基-1-丙酮"} <= _names(
        "precursor_2"
    )
    assert {"甲苯", "丙酮", "甲基乙基酮", "高锰酸钾", "硫酸", "盐酸"} <= _names("precursor_3")


@pytest.mark.django_db
def test_later_listings_and_pharmaceutical_items_are_marked():
    assert Substance.objects.get(name="羟亚胺").listed_year == 2008
    assert Substance.objects.get(name="溴素").listed_year == 2017
    assert Substance.objects.get(name="胡椒醛").listed_year is None
    pharmaceutical = set(
        Substance.objects.filter(pharmaceutical=True).values_list("name", flat=True)
    )
    assert pharmaceutical == {"麦角酸", "麦角胺", "麦角新碱", "麻黄素类物质"}


@pytest.mark.django_db
def test_every_item_has_a_unit_and_liquids_a_density():
    assert not Substance.objects.filter(unit="").exists()
    acetone = Substance.objects.get(name="丙酮")
    assert (acetone.unit, acetone.density) == ("L", Decimal("0.7910"))
    assert Substance.objects.get(name="高锰酸钾").density is None


@pytest.mark.django_db
def test_the_controlled_medicines_come_in_their_three_classes():
    for category in ("narcotic", "psychotropic_1", "psychotropic_2"):
        assert Substance.objects.filter(category=category, catalogue="medicine").count() >= 5
    assert Substance.objects.get(name="盐酸哌替啶注射液").unit == "ampoule"


@pytest.mark.django_db
def test_loading_again_adds_what_is_missing_and_keeps_the_administrators_edits(personas):
    acetone = Substance.objects.get(name="丙酮")
    catalogue.update_substance(
        actor=personas.sys_admin, substance=acetone, density=Decimal("0.79"), notes="本县口径"
    )
    Substance.objects.filter(code="P3-07").delete()
    assert catalogue.load_catalogue() == 1
    acetone.refresh_from_db()
    assert (acetone.density, acetone.notes) == (Decimal("0.7900"), "本县口径")
    assert catalogue.load_catalogue() == 0


@pytest.mark.django_db
def test_an_administrator_adds_a_later_listing_which_a_unit_can_then_handle(personas, territory):
    added = catalogue.add_substance(
        actor=personas.sys_admin,
        code="P2-12",
        name="4-哌啶酮",
        category="precursor_2",
        unit="kg",
        listed_year=2024,
    )
    assert (added.catalogue, added.builtin) == ("precursor", False)
    unit = make_unit(
        personas.county_officer, territory.village_a, territory.police_dept, items={"4-哌啶酮": 50}
    )
    assert line(personas.county_officer, unit, "4-哌啶酮", "purchase", days_ago(2), 3).quantity == 3


@pytest.mark.django_db
def test_a_bad_addition_is_refused_on_its_fields(personas):
    with pytest.raises(ValidationError) as caught:
        catalogue.add_substance(
            actor=personas.sys_admin, code="P1-01", name="", category="nope", unit="kg", density=-1
        )
    assert set(caught.value.message_dict) == {"code", "name", "category", "density"}


@pytest.mark.django_db
def test_the_unit_of_an_item_with_ledger_lines_cannot_change(personas, territory):
    unit = make_unit(personas.county_officer, territory.village_a, territory.police_dept)
    line(personas.county_officer, unit, "丙酮", "use", days_ago(2), 1)
    with pytest.raises(ValidationError) as caught:
        catalogue.update_substance(
            actor=personas.sys_admin, substance=Substance.objects.get(name="丙酮"), unit="kg"
        )
    assert caught.value.message_dict["unit"] == ["该品种已有台账记录，不能修改计量单位"]
