"""Measures through the pages: each of the law's rules refuses in Chinese next to the
field it concerns, the report-in deadline is flagged, and a person's status follows
the measures (it is never typed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jindu.people import services
from jindu.people.dates import add_months
from jindu.people.models import Measure
from tests.helpers import sign_in
from tests.people_factories import make_id_number, make_person


def _day(days_ago: int) -> str:
    return f"{timezone.localdate() - timedelta(days=days_ago):%Y-%m-%d}"


@dataclass(frozen=True)
class _Ago:
    """A day as parameters name it, turned into a date when the test runs, not when
    it is collected (a run that passes midnight in China would shift it)."""

    days: int


@pytest.fixture
def person(personas, territory):
    return make_person(
        personas.cadre_a,
        territory.village_a,
        name="冯甲",
        id_number=make_id_number(date(1980, 3, 3), 21),
    )


@pytest.fixture
def cadre(client, personas):
    return sign_in(client, personas.cadre_a)


def _add(client, person, **data):
    return client.post(reverse("people:measure_add", args=[person.pk]), data)


def _errors(response, field):
    return response.context["form"].errors.get(field, [])


def _status(client, person) -> str:
    return client.get(reverse("people:detail", args=[person.pk])).context["status"].label


def test_adding_community_detox_computes_its_end_and_sets_the_status(cadre, person):
    response = _add(
        cadre,
        person,
        kind="community_detox",
        decision_date=_day(40),
        report_in_date=_day(35),
        authority="青岚县公安局",
    )
    assert response.status_code == 302
    measure = Measure.objects.get()
    reported = timezone.localdate() - timedelta(days=35)
    assert measure.planned_end == add_months(reported, 36)
    assert measure.start_date == reported and measure.term_months == 36
    assert _status(cadre, person) == "社区戒毒中"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"decision_date": _Ago(-3)}, "decision_date", "决定日期不能晚于今天"),
        ({"decision_date": "1979-01-01"}, "decision_date", "决定日期不能早于出生日期"),
        (
            {"decision_date": _Ago(10), "report_in_date": _Ago(12)},
            "report_in_date",
            "报到日期不能早于决定日期",
        ),
        (
            {"decision_date": _Ago(10), "report_in_date": _Ago(-1)},
            "report_in_date",
            "报到日期不能晚于今天",
        ),
        (
            {"decision_date": _Ago(10), "term_months": "24"},
            "term_months",
            "社区戒毒期限为36个月（自报到之日起）",
        ),
        (
            {"decision_date": _Ago(30), "report_in_date": _Ago(25), "ended_on": _Ago(26)},
            "ended_on",
            "结束日期不能早于开始（报到）日期",
        ),
        (
            {"decision_date": _Ago(30), "report_in_date": _Ago(25), "ended_on": _Ago(5)},
            "end_reason",
            "请选择结束原因",
        ),
        ({"decision_date": ""}, "decision_date", "请填写决定日期"),
        ({"decision_date": "2024-13-01"}, "decision_date", "请输入有效日期"),
    ],
)
def test_community_detox_rules_are_explained_next_to_the_field(cadre, person, data, field, message):
    data = {k: _day(v.days) if isinstance(v, _Ago) else v for k, v in data.items()}
    response = _add(cadre, person, kind="community_detox", **data)
    assert response.status_code == 200
    assert any(message in e for e in _errors(response, field)), response.context["form"].errors
    assert message in response.content.decode()
    assert not Measure.objects.exists()


def test_a_missing_kind_is_asked_for(cadre, person):
    response = _add(cadre, person, decision_date=_day(3))
    assert "请选择措施种类" in _errors(response, "kind")


def test_rehab_needs_a_release_from_isolation_first(cadre, person):
    response = _add(cadre, person, kind="community_rehab", decision_date=_day(10))
    assert any("社区康复应在解除强制隔离戒毒后决定" in e for e in _errors(response, "kind"))


def test_rehab_after_release_from_isolation_is_accepted_within_its_term(cadre, personas, person):
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="compulsory_isolation",
        decision_date=timezone.localdate() - timedelta(days=800),
        ended_on=timezone.localdate() - timedelta(days=30),
        end_reason="completed",
    )
    response = _add(cadre, person, kind="community_rehab", decision_date=_day(20), term_months="40")
    assert "社区康复期限不超过36个月" in _errors(response, "term_months")
    response = _add(
        cadre,
        person,
        kind="community_rehab",
        decision_date=_day(20),
        report_in_date=_day(15),
        term_months="24",
    )
    assert response.status_code == 302
    assert _status(cadre, person) == "社区康复中"


def test_an_overlapping_exclusive_measure_is_refused(cadre, personas, person):
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=timezone.localdate() - timedelta(days=100),
        report_in_date=timezone.localdate() - timedelta(days=95),
    )
    response = _add(cadre, person, kind="compulsory_isolation", decision_date=_day(10))
    errors = _errors(response, "decision_date")
    assert any("与已有的社区戒毒" in e and "时间重叠" in e for e in errors)
    assert Measure.objects.count() == 1


def test_what_was_typed_survives_a_refused_measure(cadre, person):
    response = _add(
        cadre,
        person,
        kind="community_detox",
        decision_date=_day(10),
        report_in_date=_day(12),
        authority="青岚县公安局甲镇派出所",
    )
    page = response.content.decode()
    assert "青岚县公安局甲镇派出所" in page and _day(12) in page
    assert response.context["form"]["kind"].value() == "community_detox"


def test_the_form_has_no_status_field(cadre, person):
    form = cadre.get(reverse("people:measure_add", args=[person.pk])).context["form"]
    assert "status" not in form.fields and "planned_end" not in form.fields


# ------------------------------------------------------------------ report-in, end, edit


def test_a_person_not_reported_within_15_days_is_flagged_until_the_report_in(
    cadre, personas, person
):
    measure = services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=timezone.localdate() - timedelta(days=20),
    )
    page = cadre.get(reverse("people:detail", args=[person.pk])).content.decode()
    deadline = timezone.localdate() - timedelta(days=5)
    assert f"逾期未报到（应于{deadline:%Y-%m-%d}前报到）" in page
    url = reverse("people:measure_report_in", args=[person.pk, measure.pk])
    response = cadre.post(url, {"report_in_date": _day(2)}, follow=True)
    page = response.content.decode()
    assert "报到日期晚于决定之日起15日" in page
    assert "逾期未报到" not in page
    measure.refresh_from_db()
    assert measure.planned_end == add_months(timezone.localdate() - timedelta(days=2), 36)


def test_a_person_within_15_days_is_not_flagged(cadre, personas, person):
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=timezone.localdate() - timedelta(days=10),
    )
    page = cadre.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "逾期未报到" not in page


def test_a_report_in_before_the_decision_is_refused(cadre, personas, person):
    measure = services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=timezone.localdate() - timedelta(days=10),
    )
    url = reverse("people:measure_report_in", args=[person.pk, measure.pk])
    response = cadre.post(url, {"report_in_date": _day(11)})
    assert "报到日期不能早于决定日期" in response.content.decode()


def test_ending_a_measure_changes_the_status_and_needs_a_reason(cadre, personas, person):
    measure = services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=timezone.localdate() - timedelta(days=60),
        report_in_date=timezone.localdate() - timedelta(days=55),
    )
    url = reverse("people:measure_end", args=[person.pk, measure.pk])
    response = cadre.post(url, {"ended_on": _day(1)})
    assert "请选择结束原因" in response.content.decode()
    response = cadre.post(url, {"ended_on": _day(1), "end_reason": "relapsed"})
    assert response.status_code == 302
    assert _status(cadre, person) == "未在措施期（戒断未满三年）"
    # Converted to isolation: the new measure no longer overlaps.
    assert (
        _add(cadre, person, kind="compulsory_isolation", decision_date=_day(1)).status_code == 302
    )
    assert _status(cadre, person) == "强制隔离戒毒中"


def test_editing_a_measure_rechecks_the_rules(cadre, personas, person):
    measure = services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=timezone.localdate() - timedelta(days=30),
        report_in_date=timezone.localdate() - timedelta(days=25),
    )
    url = reverse("people:measure_edit", args=[person.pk, measure.pk])
    form = cadre.get(url).context["form"]
    assert form.initial["kind"] == "community_detox"
    data = {
        "kind": "community_detox",
        "decision_date": _day(30),
        "report_in_date": _day(31),
        "authority": "县公安局",
    }
    assert "报到日期不能早于决定日期" in cadre.post(url, data).content.decode()
    data["report_in_date"] = _day(28)
    assert cadre.post(url, data).status_code == 302
    measure.refresh_from_db()
    assert measure.authority == "县公安局"


def test_the_measures_table_shows_dates_authority_and_counts(cadre, personas, person):
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="compulsory_isolation",
        decision_date=date(2022, 1, 10),
        authority="青岚县公安局",
        ended_on=date(2024, 1, 10),
        end_reason="completed",
    )
    page = cadre.get(reverse("people:detail", args=[person.pk])).content.decode()
    for text in ("强制隔离戒毒", "2022-01-10", "青岚县公安局", "2024-01-10", "期满解除", "0 / 0"):
        assert text in page


def test_a_grid_worker_records_measures_for_their_grid(client, personas, territory):
    person = make_person(personas.cadre_a, territory.grid_a)
    sign_in(client, personas.grid_worker)
    response = _add(
        client, person, kind="community_detox", decision_date=_day(5), report_in_date=_day(3)
    )
    assert response.status_code == 302


def test_the_leader_cannot_add_a_measure(client, personas, person):
    sign_in(client, personas.leader)
    assert _add(client, person, kind="community_detox", decision_date=_day(5)).status_code == 403
