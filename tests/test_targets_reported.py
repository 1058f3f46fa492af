"""Reported values: who enters them, the range of a rate, the deadline and its unlock,
draft → submitted → approved or returned, and how the registry reads them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from jindu.audit.models import AuditEvent
from jindu.core import indicators
from jindu.core.indicators import Period
from jindu.notifications.models import Notification
from jindu.targets import reporting
from jindu.targets.models import ReportedValue
from tests.helpers import sign_in

THIS_YEAR = timezone.localdate().year
THIS_QUARTER = (timezone.localdate().month - 1) // 3 + 1


@pytest.fixture(autouse=True)
def _today():
    """This year and quarter as each test starts, not as the module was collected
    (a run may pass midnight on New Year's Eve in China)."""
    global THIS_YEAR, THIS_QUARTER
    THIS_YEAR = timezone.localdate().year
    THIS_QUARTER = (timezone.localdate().month - 1) // 3 + 1


def enter(personas, who="cadre_a", unit=None, value="91.5", year=None, **kw):
    return reporting.save_reported_value(
        actor=personas.users[who],
        key=kw.pop("key", "awareness_rate"),
        unit=unit or personas.territory.township_a,
        year=year or THIS_YEAR,
        value=value,
        **kw,
    )


def approved(personas, unit, value, year=None, sample_size=None):
    row = enter(personas, "county_officer", unit, value, year, sample_size=sample_size, submit=True)
    return reporting.approve_reported_value(actor=personas.county_officer, row=row)


@pytest.mark.parametrize("value", ["100.5", "-1", "abc", "1e400"])
def test_a_rate_outside_0_to_100_or_not_a_number_is_refused(personas, value):
    with pytest.raises(ValidationError) as caught:
        enter(personas, value=value)
    assert "value" in caught.value.message_dict
    assert not ReportedValue.objects.exists()


def test_a_rate_of_exactly_0_or_100_is_accepted(personas):
    assert enter(personas, value="100").value == Decimal("100")
    assert enter(personas, unit=personas.territory.township_b, who="cadre_b", value="0").value == 0


def test_only_the_responsible_township_enters_its_value(personas):
    t = personas.territory
    with pytest.raises(PermissionDenied):
        enter(personas, who="cadre_a", unit=t.township_b)
    with pytest.raises(PermissionDenied):
        enter(personas, who="police_officer")  # in 甲镇, but not the township's cadre
    with pytest.raises(ValidationError):
        enter(personas, who="county_officer", unit=t.county)  # a township figure
    # The platform rate is the education bureau's, at the county.
    row = reporting.save_reported_value(
        actor=personas.dept_reporter, key="student_platform_rate", unit=t.county,
        year=THIS_YEAR, quarter=THIS_QUARTER, value="96.2",
    )  # fmt: skip
    assert row.department == t.education_dept
    with pytest.raises(ValidationError) as caught:
        reporting.save_reported_value(
            actor=personas.dept_reporter, key="student_platform_rate", unit=t.county,
            year=THIS_YEAR, quarter=0, value="96.2",
        )  # fmt: skip
    assert "quarter" in caught.value.message_dict


def test_an_entry_after_the_deadline_is_refused_until_the_office_unlocks_it(personas):
    t = personas.territory
    last_year = THIS_YEAR - 1
    deadline = reporting.rule_for("awareness_rate").deadline(last_year, 0)
    assert deadline == date(THIS_YEAR, 1, 31)
    if timezone.localdate() <= deadline:
        pytest.skip("the test clock sits inside last year's reporting window")
    with pytest.raises(ValidationError) as caught:
        enter(personas, year=last_year)
    assert "已超过填报截止日期（" in caught.value.messages[0]
    assert "联系县禁毒办解锁" in caught.value.messages[0]
    with pytest.raises(PermissionDenied):
        reporting.unlock_reported_value(
            actor=personas.cadre_a, key="awareness_rate", unit=t.township_a, year=last_year,
            quarter=0, until=timezone.localdate(),
        )  # fmt: skip
    reporting.unlock_reported_value(
        actor=personas.county_officer, key="awareness_rate", unit=t.township_a, year=last_year,
        quarter=0, until=timezone.localdate() + timedelta(days=3),
    )  # fmt: skip
    row = enter(personas, year=last_year, value="88", submit=True)
    assert row.status == ReportedValue.Status.SUBMITTED


def test_draft_submitted_approved_and_only_approved_values_count(personas):
    t = personas.territory
    period = Period.year(THIS_YEAR)
    row = enter(personas, value="91.46")
    assert row.status == ReportedValue.Status.DRAFT
    assert indicators.value("awareness_rate", t.township_a.path, period) is None
    row = reporting.submit_reported_value(actor=personas.cadre_a, row=row)
    with pytest.raises(ValidationError):
        enter(personas, value="95")  # waiting for approval: not editable
    with pytest.raises(PermissionDenied):
        reporting.approve_reported_value(actor=personas.cadre_a, row=row)
    reporting.approve_reported_value(actor=personas.county_officer, row=row)
    assert indicators.value("awareness_rate", t.township_a.path, period) == Decimal("91.5")
    with pytest.raises(ValidationError):
        enter(personas, value="95")  # approved: the office must return it first
    assert AuditEvent.objects.filter(object_type="targets.reportedvalue").count() == 3


def test_a_returned_value_carries_the_note_tells_the_enterer_and_can_be_corrected(personas):
    row = enter(personas, value="91", submit=True)
    with pytest.raises(ValidationError) as caught:
        reporting.return_reported_value(actor=personas.county_officer, row=row, note=" ")
    assert "return_note" in caught.value.message_dict
    row = reporting.return_reported_value(
        actor=personas.county_officer, row=row, note="样本量不足，请补充调查"
    )
    assert row.status == ReportedValue.Status.RETURNED
    assert Notification.objects.filter(recipient=personas.cadre_a, body__contains="样本量").exists()
    row = enter(personas, value="92.5", sample_size=400, submit=True)
    assert row.status == ReportedValue.Status.SUBMITTED


def test_the_county_reads_its_own_value_else_the_weighted_mean_of_its_townships(personas):
    t = personas.territory
    period = Period.year(THIS_YEAR)
    approved(personas, t.township_a, "90", sample_size=300)
    approved(personas, t.township_b, "80", sample_size=100)
    assert indicators.value("awareness_rate", t.county.path, period) == Decimal("87.5")
    assert indicators.by_units(
        "awareness_rate", [t.township_a.path, t.township_b.path], period
    ) == {
        t.township_a.path: Decimal("90.0"),
        t.township_b.path: Decimal("80.0"),
    }
    # Without a sample size on every part: the plain mean.
    row = ReportedValue.objects.get(org_unit=t.township_b)
    ReportedValue.objects.filter(pk=row.pk).update(sample_size=None)
    assert indicators.value("awareness_rate", t.county.path, period) == Decimal("85.0")
    # A quarter asked of a yearly value: nothing reported for that quarter.
    assert indicators.value("awareness_rate", t.county.path, Period.quarter(THIS_YEAR, 1)) is None


def test_the_latest_quarter_answers_for_the_year(personas):
    t = personas.territory
    today = timezone.localdate()
    for quarter, value in ((1, "90"), (2, "95")):
        if date(THIS_YEAR, 3 * quarter - 2, 1) > today:
            pytest.skip("the test clock sits before the second quarter")
        reporting.unlock_reported_value(
            actor=personas.county_officer, key="student_platform_rate", unit=t.county,
            year=THIS_YEAR, quarter=quarter, until=today,
        )  # fmt: skip
        row = reporting.save_reported_value(
            actor=personas.dept_reporter, key="student_platform_rate", unit=t.county,
            year=THIS_YEAR, quarter=quarter, value=value, submit=True,
        )  # fmt: skip
        reporting.approve_reported_value(actor=personas.county_officer, row=row)
    year = Period.year(THIS_YEAR)
    assert indicators.value("student_platform_rate", t.county.path, year) == Decimal("95.0")
    q1 = Period.quarter(THIS_YEAR, 1)
    assert indicators.value("student_platform_rate", t.county.path, q1) == Decimal("90.0")


def test_the_entry_page_keeps_what_was_typed_and_names_the_field(client, personas):
    t = personas.territory
    sign_in(client, personas.cadre_a)
    url = (
        f"{reverse('targets:reported_enter')}?key=awareness_rate&unit={t.township_a.pk}"
        f"&year={THIS_YEAR}&quarter=0"
    )
    response = client.post(url, {"value": "120", "sample_size": "300", "submit": "1"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "比率须在0到100之间" in body
    assert 'value="120"' in body and 'value="300"' in body
    assert not ReportedValue.objects.exists()
    response = client.post(url, {"value": "93.2", "sample_size": "300", "submit": "1"})
    assert response.status_code == 302
    assert ReportedValue.objects.get().status == ReportedValue.Status.SUBMITTED


def test_a_township_sees_and_enters_only_its_own_row(client, personas):
    t = personas.territory
    enter(personas, who="cadre_b", unit=t.township_b, value="77.7")
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("targets:reported")).content.decode()
    assert "甲镇" in body and "乙镇" not in body and "77.7" not in body
    url = (
        f"{reverse('targets:reported_enter')}?key=awareness_rate&unit={t.township_b.pk}"
        f"&year={THIS_YEAR}&quarter=0"
    )
    assert client.get(url).status_code == 404


def test_the_office_changes_a_rule_and_bad_rules_are_refused(client, personas):
    with pytest.raises(PermissionDenied):
        reporting.update_rule(
            actor=personas.cadre_a, key="awareness_rate", level="township", department_name="",
            period_kind="year", deadline_days=10,
        )  # fmt: skip
    sign_in(client, personas.county_officer)
    url = f"{reverse('targets:rule_edit')}?key=awareness_rate"
    response = client.post(
        url, {"level": "township", "department_name": "教育局", "period_kind": "year",
              "deadline_days": "60"},
    )  # fmt: skip
    assert "成员单位在县级填报" in response.content.decode()
    response = client.post(
        url, {"level": "township", "department_name": "", "period_kind": "year",
              "deadline_days": "60"},
    )  # fmt: skip
    assert response.status_code == 302
    rule = reporting.rule_for("awareness_rate")
    assert rule.deadline(THIS_YEAR - 1, 0) == date(THIS_YEAR, 3, 1)
