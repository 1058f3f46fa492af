"""The risk score: each factor, the grade, configured weights, and bulk scoring."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jindu.people import followup, risk
from jindu.people.dates import add_years
from jindu.people.models import FollowUpPolicy
from tests.people_factories import make_person

TODAY = timezone.localdate


def _test(personas, person, days_ago, result):
    followup.record_test(
        actor=personas.cadre_a,
        person=person,
        tested_on=TODAY() - timedelta(days=days_ago),
        method="urine",
        result=result,
    )


@pytest.fixture
def troubled(personas):
    """Heroin and ice for five years, two relapses, three breaches, no work, no family."""
    person = make_person(
        personas.cadre_a,
        personas.territory.village_a,
        birth=date(1980, 1, 1),
        drug_types=["heroin", "methamphetamine"],
        use_started_on=add_years(TODAY(), -5),
        first_found_on=add_years(TODAY(), -4),
        employment="none",
        family_support=False,
    )
    _test(personas, person, 400, "positive")
    _test(personas, person, 30, "positive")
    _test(personas, person, 300, "evaded")
    _test(personas, person, 250, "refused")
    followup.record_absence(
        actor=personas.cadre_a,
        person=person,
        left_on=TODAY() - timedelta(days=500),
        authorised=False,
        returned_on=TODAY() - timedelta(days=490),
    )
    followup.record_absence(
        actor=personas.cadre_a,
        person=person,
        left_on=TODAY() - timedelta(days=200),
        authorised=True,
        returned_on=TODAY() - timedelta(days=190),
    )
    return person


def _points(result):
    return {f.key: f.points for f in result.factors}


def test_every_factor_counts_with_the_default_weights(troubled):
    result = risk.score(troubled, TODAY())
    assert _points(result) == {
        "drug_heroin": 25,
        "drug_synthetic": 15,
        "years_of_use": 10,  # 5 years x 2
        "relapse": 20,  # 2 positives x 10
        "breach": 15,  # evaded, refused, one departure without leave: 3 x 5
        "unemployed": 10,
        "no_family_support": 10,
        "recent_positive": 20,
    }
    assert result.total == 125
    assert result.grade == risk.Grade.HIGH and result.grade_label == "高风险"


def test_each_factor_explains_itself_in_chinese(troubled):
    explanations = {f.key: f.explanation for f in risk.score(troubled, TODAY()).factors}
    assert "海洛因" in explanations["drug_heroin"]
    assert "甲基苯丙胺（冰毒）" in explanations["drug_synthetic"]
    assert explanations["years_of_use"].startswith("吸毒史5年")
    assert explanations["relapse"] == "检测阳性2次（复吸）"
    assert explanations["breach"] == "逃避检测1次、拒绝检测1次、擅自离开1次"
    assert "无业" in explanations["unemployed"]
    assert "近6个月内检测阳性" in explanations["recent_positive"]


def test_a_recent_evaded_test_adds_its_own_points(personas, troubled):
    _test(personas, troubled, 10, "evaded")
    points = _points(risk.score(troubled, TODAY()))
    assert points["recent_evaded"] == 10
    assert points["breach"] == 20  # four breaches, capped at 20


def test_counts_are_capped(personas, troubled):
    for days in (60, 90, 120):
        _test(personas, troubled, days, "positive")
    assert _points(risk.score(troubled, TODAY()))["relapse"] == 30


def test_a_traditional_drug_alone_scores_as_traditional(personas):
    person = make_person(personas.cadre_a, personas.territory.village_a, drug_types=["cannabis"])
    result = risk.score(person, TODAY())
    assert _points(result) == {"drug_traditional": 10}
    assert "大麻" in result.factors[0].explanation
    assert result.grade == risk.Grade.LOW


def test_heroin_outranks_other_traditional_drugs(personas):
    person = make_person(
        personas.cadre_a, personas.territory.village_a, drug_types=["heroin", "opium"]
    )
    assert _points(risk.score(person, TODAY())) == {"drug_heroin": 25}


def test_years_of_use_fall_back_to_the_first_finding(personas):
    person = make_person(
        personas.cadre_a, personas.territory.village_a, first_found_on=add_years(TODAY(), -3)
    )
    result = risk.score(person, TODAY())
    assert _points(result) == {"years_of_use": 6}
    assert "初次发现" in result.factors[0].explanation


def test_a_person_with_nothing_against_them_is_low_risk_with_no_factors(personas):
    person = make_person(personas.cadre_a, personas.territory.village_a, employment="employed")
    result = risk.score(person, TODAY())
    assert result.factors == [] and result.total == 0 and result.grade == risk.Grade.LOW


def test_old_tests_are_not_recent(personas):
    person = make_person(personas.cadre_a, personas.territory.village_a)
    _test(personas, person, 200, "positive")
    assert "recent_positive" not in _points(risk.score(person, TODAY()))


def test_a_score_on_an_earlier_day_ignores_later_tests(troubled):
    earlier = TODAY() - timedelta(days=100)
    points = _points(risk.score(troubled, earlier))
    assert points["relapse"] == 10 and "recent_positive" not in points


def test_medium_grade_between_the_thresholds(personas):
    person = make_person(
        personas.cadre_a, personas.territory.village_a, drug_types=["heroin"], family_support=False
    )
    result = risk.score(person, TODAY())
    assert result.total == 35 and result.grade == risk.Grade.MEDIUM


# ------------------------------------------------------------------ configuration


def test_the_policy_overrides_weights_and_thresholds(troubled):
    policy = FollowUpPolicy.current()
    policy.risk_weights = {
        "drug_heroin": 0,
        "relapse_each": 3,
        "grade_high": 100,
        "grade_medium": 50,
    }
    policy.save()
    result = risk.score(troubled, TODAY())
    points = _points(result)
    assert "drug_heroin" not in points
    assert points["relapse"] == 6
    assert result.total == 125 - 25 - 20 + 6
    assert result.grade == risk.Grade.MEDIUM


def test_the_policy_can_widen_the_recent_window_and_the_unemployed_codes(personas):
    person = make_person(personas.cadre_a, personas.territory.village_a, employment="flexible")
    _test(personas, person, 200, "positive")
    policy = FollowUpPolicy.current()
    policy.risk_weights = {"recent_months": 12, "unemployed_codes": ["flexible"]}
    policy.save()
    points = _points(risk.score(person, TODAY()))
    assert points["recent_positive"] == 20 and points["unemployed"] == 10


def test_bad_overrides_keep_the_defaults_and_are_reported(troubled):
    bad = {
        "drug_heroin": "many",
        "relapse_each": -1,
        "nonsense": 1,
        "grade_high": 10,
        "grade_medium": 50,
    }
    assert set(risk.weight_errors(bad)) == {"drug_heroin", "relapse_each", "nonsense"}
    policy = FollowUpPolicy.current()
    policy.risk_weights = bad
    policy.save()
    weights = risk.weights(policy)
    assert weights["drug_heroin"] == 25 and weights["relapse_each"] == 10
    # Thresholds that contradict each other fall back to the defaults together.
    assert (weights["grade_high"], weights["grade_medium"]) == (60, 30)
    assert risk.score(troubled, TODAY()).total == 125


def test_the_defaults_file_and_the_override_share_their_keys():
    assert risk.weight_errors(dict(risk.default_weights())) == {}


# ------------------------------------------------------------------ bulk


def test_bulk_scores_match_single_scores_in_a_fixed_number_of_queries(personas, troubled):
    others = [
        make_person(personas.cadre_a, personas.territory.village_a, drug_types=["ketamine"])
        for _ in range(6)
    ]
    for person in others[:3]:
        _test(personas, person, 20, "positive")
    people = [troubled, *others]
    FollowUpPolicy.current()
    with CaptureQueriesContext(connection) as one:
        risk.bulk_risk(people[:1], TODAY())
    with CaptureQueriesContext(connection) as seven:
        results = risk.bulk_risk(people, TODAY())
    assert len(seven) == len(one) <= 4
    for person in people:
        assert results[person.pk] == risk.score(person, TODAY())


def test_bulk_of_nobody_asks_nothing():
    # No database fixture: a single query would fail the test.
    assert risk.bulk_risk([], TODAY()) == {}
