"""Cultivation patrols: coverage per township and season under the county's rule, and the
one-vote veto that a provincial or national finding puts on a township."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jindu.audit.models import AuditEvent
from jindu.core import indicators
from jindu.core.indicators import Period
from jindu.inspections import coverage, patrol_services, services
from jindu.inspections.models import InspectionRules, Patrol
from tests.helpers import sign_in
from tests.inspections_factories import make_patrol

pytestmark = pytest.mark.django_db

YEAR = 2025
SEASON_DAYS = [date(YEAR, m, 10) for m in (2, 3, 4, 5, 6, 7, 8, 9)]
AFTER_SEASON = date(YEAR, 12, 31)


def patrol_a(personas, day: date, **extra):
    return make_patrol(personas.cadre_a, personas.territory.village_a, day, **extra)


def patrol_b(personas, day: date, **extra):
    return make_patrol(personas.cadre_b, personas.territory.village_b, day, **extra)


def rows(path: str, on: date = AFTER_SEASON, year: int = YEAR):
    return {row.unit.name: row for row in coverage.coverage(path, year, on=on)}


def test_six_patrols_between_february_and_september_meet_the_rule(personas):
    for day in SEASON_DAYS[:6]:
        patrol_a(personas, day)
    for day in SEASON_DAYS[:5]:
        patrol_b(personas, day)
    result = rows(personas.territory.county.path)
    assert (result["甲镇"].patrols, result["甲镇"].state) == (6, "met")
    assert (result["乙镇"].patrols, result["乙镇"].state, result["乙镇"].remaining) == (
        5,
        "short",
        1,
    )


def test_patrols_outside_the_season_do_not_count(personas):
    for day in (date(YEAR, 1, 20), date(YEAR, 10, 1), date(YEAR, 11, 5), date(YEAR - 1, 6, 1)):
        patrol_a(personas, day)
    patrol_a(personas, date(YEAR, 2, 1))
    patrol_a(personas, date(YEAR, 9, 30))
    assert rows(personas.territory.township_a.path)["甲镇"].patrols == 2


def test_checks_by_higher_levels_do_not_count_as_the_townships_patrols(personas):
    for day in SEASON_DAYS[:5]:
        patrol_a(personas, day)
    patrol_a(personas, SEASON_DAYS[5], check_level="city", team="市禁毒办核查组")
    assert rows(personas.territory.township_a.path)["甲镇"].patrols == 5


def test_a_season_in_progress_is_running_not_short(personas):
    patrol_a(personas, date(YEAR, 3, 1))
    during = rows(personas.territory.county.path, on=date(YEAR, 5, 1))
    assert (during["甲镇"].patrols, during["甲镇"].state) == (1, "running")
    before = rows(personas.territory.county.path, on=date(YEAR, 1, 15))
    assert before["乙镇"].state == "not_started"
    # Counted up to the day asked about, not what was entered later for later days.
    patrol_a(personas, date(YEAR, 6, 1))
    assert rows(personas.territory.county.path, on=date(YEAR, 5, 1))["甲镇"].patrols == 1


def test_the_season_and_the_minimum_are_the_county_rule(personas):
    for day in (date(YEAR, 5, 1), date(YEAR, 6, 1), date(YEAR, 10, 15)):
        patrol_a(personas, day)
    services.update_inspection_rules(
        actor=personas.county_officer, patrol_first_month=5, patrol_last_month=10, patrol_minimum=3
    )
    result = rows(personas.territory.township_a.path)["甲镇"]
    assert (result.patrols, result.minimum, result.met) == (3, 3, True)
    assert result.season.label == "2025年5月至10月"


def test_the_rule_refuses_a_season_that_ends_before_it_starts(personas):
    with pytest.raises(ValidationError) as caught:
        services.update_inspection_rules(
            actor=personas.county_officer, patrol_first_month=9, patrol_last_month=2
        )
    assert "截止月份不能早于起始月份" in caught.value.message_dict["patrol_last_month"]
    assert InspectionRules.current().patrol_first_month == 2


def test_coverage_for_a_grid_worker_counts_their_own_subtree(personas):
    make_patrol(personas.grid_worker, personas.territory.grid_a, SEASON_DAYS[0])
    patrol_a(personas, SEASON_DAYS[1])
    result = rows(personas.territory.grid_a.path)
    assert list(result) == ["甲镇"] and result["甲镇"].patrols == 1


# ------------------------------------------------------------------ the one-vote veto


def test_a_national_finding_marks_the_township_for_the_veto(personas):
    patrol_b(personas, date(YEAR, 7, 1), check_level="national", plants_found=12,
             plants_destroyed=12, plant_species=["poppy"], team="国家核查组")  # fmt: skip
    marked = coverage.veto_townships(personas.territory.county.path, YEAR)
    assert [t.name for t in marked] == ["乙镇"]
    assert rows(personas.territory.county.path)["乙镇"].vetoed
    assert not rows(personas.territory.county.path)["甲镇"].vetoed


def test_a_provincial_finding_marks_it_too(personas):
    patrol_a(personas, date(YEAR, 4, 1), check_level="provincial", plants_found=3,
             plants_destroyed=3, plant_species=["cannabis"])  # fmt: skip
    assert [t.name for t in coverage.veto_townships(personas.territory.county.path, YEAR)] == [
        "甲镇"
    ]


@pytest.mark.parametrize(
    ("level", "found"),
    [("city", 5), ("", 5), ("national", 0)],
    ids=["city-check", "own-patrol", "national-check-found-nothing"],
)
def test_other_findings_do_not_mark_the_township(personas, level, found):
    patrol_a(personas, date(YEAR, 4, 1), check_level=level, plants_found=found,
             plants_destroyed=found, plant_species=["poppy"] if found else [])  # fmt: skip
    assert coverage.veto_townships(personas.territory.county.path, YEAR) == []


def test_the_veto_belongs_to_its_year(personas):
    patrol_a(personas, date(YEAR - 1, 8, 1), check_level="national", plants_found=1,
             plants_destroyed=1, plant_species=["poppy"])  # fmt: skip
    assert coverage.veto_townships(personas.territory.county.path, YEAR) == []
    assert len(coverage.veto_townships(personas.territory.county.path, YEAR - 1)) == 1


def test_the_veto_is_found_from_a_village_path_too(personas):
    patrol_a(personas, date(YEAR, 8, 1), check_level="national", plants_found=1,
             plants_destroyed=1, plant_species=["poppy"])  # fmt: skip
    assert [t.name for t in coverage.veto_townships(personas.territory.grid_a.path, YEAR)] == [
        "甲镇"
    ]
    assert coverage.veto_townships(personas.territory.township_b.path, YEAR) == []


def test_the_patrol_page_shows_the_veto_and_the_progress(personas, client):
    for day in SEASON_DAYS[:6]:
        patrol_a(personas, day)
    patrol_b(personas, date(YEAR, 7, 1), check_level="national", plants_found=7,
             plants_destroyed=7, plant_species=["poppy"], team="国家核查组")  # fmt: skip
    sign_in(client, personas.county_officer)
    body = client.get(reverse("inspections:patrols"), {"year": YEAR}).content.decode()
    assert 'data-township="甲镇" data-state="met"' in body
    assert 'data-township="乙镇" data-state="short" data-veto' in body
    assert "一票否决" in body


def test_recording_a_national_finding_warns_the_recorder(personas, client):
    sign_in(client, personas.county_officer)
    response = client.post(
        reverse("inspections:patrol_add"),
        {
            "org_unit": personas.territory.village_b.pk,
            "patrolled_on": "2025-07-01",
            "check_level": "national",
            "land_kind": "abandoned_yard",
            "team": "国家核查组",
            "area_mu": "3",
            "plants_found": "9",
            "plants_destroyed": "9",
            "plant_species": ["poppy"],
        },
        follow=True,
    )
    assert "一票否决" in response.content.decode()
    assert Patrol.objects.get().check_level == "national"


# ------------------------------------------------------------------ indicators


def test_patrol_indicators(personas):
    for day in SEASON_DAYS[:6]:
        patrol_a(personas, day)
    patrol_a(personas, date(YEAR, 11, 1))  # outside the season
    patrol_b(personas, SEASON_DAYS[0], plants_found=4, plants_destroyed=3,
             plant_species=["cannabis"])  # fmt: skip
    patrol_b(personas, SEASON_DAYS[1], check_level="national", plants_found=2,
             plants_destroyed=2, plant_species=["poppy"], team="国家核查组")  # fmt: skip
    t = personas.territory
    year = Period.year(YEAR)
    assert indicators.by_units("patrols_in_season", [t.county.path, t.township_b.path], year) == {
        t.county.path: 7,
        t.township_b.path: 1,
    }
    assert indicators.value("townships_patrol_rule_met", t.county.path, year) == 1
    assert indicators.value("plants_destroyed", t.county.path, year) == 5
    assert indicators.value("plants_destroyed", t.township_a.path, year) == 0
    assert indicators.value("patrol_veto_marks", t.county.path, year) == 1
    assert indicators.value("patrol_veto_marks", t.county.path, Period.quarter(YEAR, 3)) == 0
    # A quarter only counts the season's months inside it.
    assert indicators.value("patrols_in_season", t.township_a.path, Period.quarter(YEAR, 1)) == 2


# ------------------------------------------------------------------ bad input


def _values(personas, **changes):
    return {
        "org_unit": personas.territory.village_a,
        "patrolled_on": date(YEAR, 5, 1),
        "land_kind": "field",
        "team": "踏查组",
        "distance_km": "2.5",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"latitude": "60.1", "longitude": "105.2"}, "latitude", "纬度应在3.8至53.6之间（中国境内）"),
        ({"latitude": "35.1", "longitude": "-70"}, "longitude", "经度应在73.5至135.1之间（中国境内）"),
        ({"latitude": "35.1"}, "longitude", "请同时填写纬度和经度，或都不填"),
        ({"plants_found": 3, "plants_destroyed": 5, "plant_species": ["poppy"]},
         "plants_destroyed", "铲除株数不能多于发现株数"),
        ({"plants_found": -1}, "plants_found", "株数不能为负数"),
        ({"plants_found": 2, "plants_destroyed": 2}, "plant_species", "发现毒品原植物时请选择植物种类"),
        ({"plants_found": 2, "plants_destroyed": 2, "plant_species": ["tulip"]},
         "plant_species", "未知的植物种类：tulip"),
        ({"distance_km": None}, "distance_km", "请填写踏查里程或踏查面积（至少一项）"),
        ({"distance_km": "-3"}, "distance_km", "踏查里程应大于0且不超过500公里"),
        ({"area_mu": "0"}, "area_mu", "踏查面积应大于0且不超过1000000亩"),
        ({"patrolled_on": date(2999, 5, 1)}, "patrolled_on", "踏查日期不能晚于今天"),
        ({"land_kind": "moon"}, "land_kind", "“moon”不是有效的地类"),
        ({"check_level": "galactic"}, "check_level", "请选择踏查/核查层级"),
        ({"team": ""}, "team", "请填写踏查人员"),
    ],
)  # fmt: skip
def test_bad_patrols_are_refused_on_their_field(personas, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        patrol_services.record_patrol(actor=personas.cadre_a, **_values(personas, **changes))
    assert message in caught.value.message_dict[field]
    assert not Patrol.objects.exists()


def test_a_patrol_cannot_be_recorded_in_another_township(personas):
    with pytest.raises(ValidationError) as caught:
        patrol_services.record_patrol(
            actor=personas.cadre_a, **_values(personas, org_unit=personas.territory.village_b)
        )
    assert "不在您的管辖范围内" in caught.value.message_dict["org_unit"][0]


def test_a_valid_gps_point_and_photos_are_kept(personas):
    patrol = patrol_services.record_patrol(
        actor=personas.cadre_a,
        **_values(personas, latitude="35.521234", longitude="105.734567", area_mu="12.5"),
    )
    assert (patrol.latitude, patrol.longitude) == (Decimal("35.521234"), Decimal("105.734567"))
    assert AuditEvent.objects.filter(object_type="inspections.patrol", object_id=str(patrol.pk))


def test_the_patrol_form_shows_errors_in_chinese_and_keeps_the_input(personas, client):
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("inspections:patrol_add"),
        {
            "org_unit": personas.territory.village_a.pk,
            "patrolled_on": "2025-05-01",
            "land_kind": "field",
            "team": "张三、李四",
            "distance_km": "abc",
            "latitude": "99",
            "longitude": "105",
            "notes": "村后山坡",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["distance_km"] == ["请填写数字"]
    body = response.content.decode()
    assert "张三、李四" in body and "村后山坡" in body
    assert not Patrol.objects.exists()


def test_the_rules_page_is_the_county_offices_and_audited(personas, client):
    url = reverse("inspections:rules")
    assert sign_in(client, personas.cadre_a).get(url).status_code == 403
    sign_in(client, personas.county_officer)
    response = client.post(
        url,
        {
            "venue_period_months": "3",
            "letter_warning_days": "45",
            "patrol_first_month": "3",
            "patrol_last_month": "2",
            "patrol_minimum": "6",
        },
    )
    assert "截止月份不能早于起始月份" in response.content.decode()
    response = client.post(
        url,
        {
            "venue_period_months": "3",
            "letter_warning_days": "45",
            "patrol_first_month": "3",
            "patrol_last_month": "10",
            "patrol_minimum": "8",
        },
    )
    assert response.status_code == 302
    rules = InspectionRules.current()
    assert (rules.letter_warning_days, rules.patrol_first_month, rules.patrol_minimum) == (45, 3, 8)
    assert AuditEvent.objects.filter(object_type="inspections.inspectionrules").exists()
