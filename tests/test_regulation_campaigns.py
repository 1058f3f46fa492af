"""Special-check campaigns: the units chosen by filters, checks recorded, coverage
(checked / listed) overall and per township, and who sees which part."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jindu.regulation import campaigns, selectors
from jindu.regulation.models import CampaignTarget
from jindu.regulation.selectors import UnitFilter
from tests.helpers import sign_in
from tests.test_regulation_factories import days_ago, make_unit, today


@pytest.fixture
def office(personas):
    return personas.county_officer


@pytest.fixture
def register(office, territory):
    """Three 公安 units in 甲镇 (one a producer), two in 乙镇, one 教育局 unit in 甲镇."""
    return {
        "a1": make_unit(office, territory.village_a, territory.police_dept, name="甲一经营部"),
        "a2": make_unit(office, territory.village_a, territory.police_dept, name="甲二经营部"),
        "a3": make_unit(
            office, territory.township_a, territory.police_dept, name="甲镇化工厂", kind="producer"
        ),
        "b1": make_unit(office, territory.village_b, territory.police_dept, name="乙一经营部"),
        "b2": make_unit(office, territory.village_b, territory.police_dept, name="乙二经营部"),
        "school": make_unit(
            office, territory.township_a, territory.education_dept, name="甲镇中学实验室"
        ),
    }


def _campaign(actor, **filters):
    return campaigns.create_campaign(
        actor=actor,
        name="专项核对检查",
        starts_on=days_ago(10),
        ends_on=today() + timedelta(days=20),
        filters=UnitFilter(**filters),
    )


def _check(actor, campaign, unit, result="passed"):
    target = CampaignTarget.objects.get(campaign=campaign, unit=unit)
    return campaigns.record_check(
        actor=actor,
        target=target,
        checked_on=days_ago(1),
        checkers="县禁毒办、县公安局",
        result=result,
    )


def test_a_campaign_lists_the_units_its_filters_choose(office, register, territory):
    by_kind = _campaign(office, kind="producer")
    assert [t.unit.name for t in by_kind.targets.all()] == ["甲镇化工厂"]
    by_place = _campaign(office, place=territory.township_b)
    assert sorted(t.unit.name for t in by_place.targets.all()) == ["乙一经营部", "乙二经营部"]
    by_department = _campaign(office, department_id=territory.education_dept.pk)
    assert [t.unit.name for t in by_department.targets.all()] == ["甲镇中学实验室"]


def test_a_campaign_with_nothing_to_check_is_refused(office, register):
    with pytest.raises(ValidationError) as caught:
        _campaign(office, kind="pharmacy")
    assert "没有找到需要检查的单位" in caught.value.messages[0]


def test_coverage_counts_checked_over_listed_overall_and_per_township(office, register, territory):
    campaign = _campaign(office)
    _check(office, campaign, register["a1"])
    _check(office, campaign, register["a1"], result="rectify")  # a unit checked twice counts once
    _check(office, campaign, register["b1"])
    total, townships = selectors.coverage(office, campaign)
    assert (total.checked, total.listed) == (2, 6)
    rows = {t.name: (t.checked, t.listed) for t in townships}
    assert rows == {"甲镇": (1, 4), "乙镇": (1, 2)}
    assert [t.rate for t in townships if t.name == "乙镇"] == [Decimal(50)]


def test_a_township_sees_its_own_part_of_a_county_campaign(personas, office, register):
    campaign = _campaign(office)
    _check(office, campaign, register["b1"])
    total, townships = selectors.coverage(personas.cadre_a, campaign)
    assert (total.checked, total.listed) == (0, 4)
    assert [t.name for t in townships] == ["甲镇"]


def test_the_education_reporter_sees_only_their_departments_units_of_a_campaign(
    personas, office, register
):
    campaign = _campaign(office)
    total, _townships = selectors.coverage(personas.dept_reporter, campaign)
    assert total.listed == 1


def test_a_township_campaign_is_not_seen_by_another_township(client, personas, register):
    campaign = _campaign(personas.cadre_b)
    assert campaign.targets.count() == 2
    sign_in(client, personas.cadre_a)
    assert client.get(reverse("regulation:campaign", args=[campaign.pk])).status_code == 404
    target = campaign.targets.first()
    assert client.get(reverse("regulation:check_add", args=[target.pk])).status_code == 404


def test_a_check_before_the_campaign_or_in_the_future_is_refused(office, register):
    campaign = _campaign(office)
    target = CampaignTarget.objects.get(campaign=campaign, unit=register["a1"])
    for day, message in (
        (days_ago(11), "检查日期早于本次专项检查的开始日期"),
        (today() + timedelta(days=1), "检查日期不能晚于今天"),
    ):
        with pytest.raises(ValidationError) as caught:
            campaigns.record_check(
                actor=office, target=target, checked_on=day, checkers="张三", result="passed"
            )
        assert message in caught.value.message_dict["checked_on"][0]
    assert not target.checks.exists()


def test_checks_are_recorded_on_the_page_and_coverage_follows(client, office, register):
    campaign = _campaign(office)
    target = CampaignTarget.objects.get(campaign=campaign, unit=register["a1"])
    sign_in(client, office)
    response = client.post(
        reverse("regulation:check_add", args=[target.pk]),
        {
            "checked_on": days_ago(2).isoformat(),
            "checkers": "县禁毒办",
            "result": "passed",
            "notes": "",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("regulation:campaign", args=[campaign.pk]))
    assert (page.context["total"].checked, page.context["total"].listed) == (1, 6)
    listed = client.get(reverse("regulation:campaigns")).context["rows"]
    assert [(r["coverage"].checked, r["coverage"].listed) for r in listed] == [(1, 6)]


def test_a_campaign_is_opened_on_the_page_with_its_filters_remembered(client, office, register):
    sign_in(client, office)
    response = client.post(
        reverse("regulation:campaign_add"),
        {
            "title": "春季易制毒专项检查",
            "starts_on": days_ago(1).isoformat(),
            "ends_on": (today() + timedelta(days=30)).isoformat(),
            "kind": "trader",
        },
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "单位类别：经营企业" in page
