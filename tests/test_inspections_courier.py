"""Courier outlets and the three 100 % rules: each rule's compliance rate is the sum of the
items that complied over the sum of the items sampled, per outlet, township and
period; never an average of percentages. Bad counts are refused in Chinese."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jindu.core import indicators
from jindu.core.indicators import Period
from jindu.inspections import courier_services, rates
from jindu.inspections.models import CourierInspection, CourierOutlet
from tests.helpers import sign_in
from tests.inspections_factories import courier_check, make_outlet

pytestmark = pytest.mark.django_db

Q1, Q2 = Period.quarter(2025, 1), Period.quarter(2025, 2)


@pytest.fixture
def outlets(personas):
    """Two outlets in 甲镇 with very different sample sizes, one in 乙镇."""
    t = personas.territory
    small = make_outlet(personas.cadre_a, t.village_a, name="甲镇小网点")
    big = make_outlet(personas.cadre_a, t.village_a, name="甲镇分拨中心", kind="sorting_centre")
    other = make_outlet(personas.cadre_b, t.village_b, name="乙镇快递点")
    # small: 1 of 2 complied (50 %); big: 99 of 100 (99 %).
    courier_check(personas.cadre_a, small, date(2025, 4, 3), real_name=(2, 1))
    courier_check(personas.cadre_a, big, date(2025, 5, 3), real_name=(100, 99))
    courier_check(personas.cadre_b, other, date(2025, 5, 9), real_name=(10, 10), xray=(10, 7))
    return {"small": small, "big": big, "other": other}


def test_a_township_rate_sums_the_items_never_averages_the_outlets(personas, outlets):
    path = personas.territory.township_a.path
    rate = indicators.value("courier_real_name_rate", path, Q2)
    # (1 + 99) / (2 + 100) = 98.0 %, where the average of 50 % and 99 % would say 74.5 %.
    assert rate == Decimal("98.0")


def test_each_outlet_has_its_own_rate(personas, outlets):
    checks = rates.in_period(CourierInspection.objects.all(), Q2)
    per_outlet = rates.by_outlet(checks)
    assert per_outlet[outlets["small"].pk].rate("real_name") == Decimal(50)
    assert per_outlet[outlets["big"].pk].rate("real_name") == Decimal(99)


def test_several_checks_of_one_outlet_add_up(personas, outlets):
    courier_check(personas.cadre_a, outlets["small"], date(2025, 6, 1), real_name=(8, 8))
    checks = rates.in_period(CourierInspection.objects.all(), Q2)
    compliance = rates.by_outlet(checks)[outlets["small"].pk]
    assert (compliance.complied("real_name"), compliance.sampled("real_name")) == (9, 10)
    assert compliance.inspections == 2


def test_the_county_rolls_up_its_townships_by_sums(personas, outlets):
    t = personas.territory
    rows = rates.by_township(rates.in_period(CourierInspection.objects.all(), Q2), t.county.path)
    by_name = {row.unit.name: row.compliance for row in rows}
    assert by_name["甲镇"].rate("real_name") == Decimal(100) / Decimal(102) * 100
    assert by_name["乙镇"].rate("xray") == Decimal(70)
    county = indicators.by_units(
        "courier_real_name_rate", [t.county.path, t.township_a.path, t.township_b.path], Q2
    )
    # (1 + 99 + 10) / (2 + 100 + 10)
    assert county[t.county.path] == Decimal("98.2")
    assert county[t.township_b.path] == Decimal("100.0")


def test_a_rule_nobody_sampled_has_no_rate_rather_than_zero(personas, outlets):
    path = personas.territory.township_a.path
    assert indicators.value("courier_xray_rate", path, Q2) is None
    assert indicators.value("courier_open_box_rate", path, Q2) is None


def test_rates_belong_to_their_period(personas, outlets):
    courier_check(personas.cadre_a, outlets["small"], date(2025, 2, 1), real_name=(10, 0))
    path = personas.territory.township_a.path
    assert indicators.value("courier_real_name_rate", path, Q1) == Decimal("0.0")
    assert indicators.value("courier_real_name_rate", path, Q2) == Decimal("98.0")
    assert indicators.value("courier_real_name_rate", path, Period.year(2025)) == Decimal(
        "89.3"
    )  # 100 / 112


def test_the_list_shows_township_rates_from_sums(personas, outlets, client):
    sign_in(client, personas.county_officer)
    response = client.get(reverse("inspections:courier"), {"year": 2025, "quarter": 2})
    body = response.content.decode()
    assert "98.0%" in body and "(100/102)" in body
    assert "甲镇小网点" in body and "乙镇快递点" in body


def test_a_township_cadre_sees_only_their_outlets(personas, outlets, client):
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("inspections:courier"), {"year": 2025}).content.decode()
    assert "甲镇小网点" in body and "乙镇" not in body
    other = reverse("inspections:outlet", kwargs={"pk": outlets["other"].pk})
    assert client.get(other).status_code == 404


def test_an_outlet_in_the_postal_departments_charge_is_seen_by_its_reporter(
    personas, outlets, client
):
    """A department's reporter sees the outlets their department regulates, and no other."""
    from jindu.orgs import services as orgs

    postal = orgs.create_department(
        actor=None,
        county=personas.territory.county,
        name="青岚县邮政管理局",
        short_name="邮政管理局",
    )
    reporter = personas.dept_reporter
    reporter.department = postal
    reporter.save()
    courier_services.update_outlet(actor=personas.cadre_a, outlet=outlets["big"], department=postal)
    sign_in(client, reporter)
    body = client.get(reverse("inspections:courier"), {"year": 2025}).content.decode()
    assert "甲镇分拨中心" in body and "甲镇小网点" not in body


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("counts", "field", "message"),
    [
        ({"real_name": (5, 6)}, "real_name_complied", "实名登记合规件数（6）不能多于抽查件数（5）"),
        ({"open_box": (-1, 0)}, "open_box_sampled", "件数不能为负数"),
        ({"xray": (3, -2)}, "xray_complied", "件数不能为负数"),
        ({"real_name": (2.5, 1)}, "real_name_sampled", "请填写整数件数"),
        ({}, "real_name_sampled", "请至少填写一项规定的抽查件数"),
        ({"real_name": (0, 0)}, "real_name_sampled", "请至少填写一项规定的抽查件数"),
    ],
)
def test_bad_counts_are_refused_on_their_field(personas, outlets, counts, field, message):
    with pytest.raises(ValidationError) as caught:
        courier_services.record_courier_inspection(
            actor=personas.cadre_a,
            outlet=outlets["small"],
            inspected_on=date(2025, 5, 1),
            inspectors="周检查",
            counts=counts,
        )
    assert message in caught.value.message_dict[field]
    assert CourierInspection.objects.count() == 3


def test_the_form_puts_each_error_next_to_its_field_and_keeps_the_input(personas, outlets, client):
    sign_in(client, personas.cadre_a)
    url = reverse("inspections:courier_inspection_add", kwargs={"pk": outlets["small"].pk})
    response = client.post(
        url,
        {
            "inspected_on": "2025-05-01",
            "inspectors": "周检查、吴检查",
            "real_name_sampled": "5",
            "real_name_complied": "6",
            "open_box_sampled": "-3",
            "open_box_complied": "",
            "xray_sampled": "三十",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["open_box_sampled"] == ["不能为负数"]
    assert form.errors["xray_sampled"] == ["请填写整数"]
    body = response.content.decode()
    assert 'value="周检查、吴检查"' in body and 'value="三十"' in body
    assert CourierInspection.objects.count() == 3
    # Once the form's own checks pass, the service's rule lands on its field too.
    response = client.post(
        url,
        {
            "inspected_on": "2025-05-01",
            "inspectors": "周检查",
            "real_name_sampled": "5",
            "real_name_complied": "6",
        },
    )
    assert (
        "实名登记合规件数（6）不能多于抽查件数（5）"
        in response.context["form"].errors["real_name_complied"]
    )


def test_a_future_check_date_is_refused(personas, outlets):
    with pytest.raises(ValidationError) as caught:
        courier_check(personas.cadre_a, outlets["small"], date(2999, 1, 1), real_name=(1, 1))
    assert "检查日期不能晚于今天" in caught.value.message_dict["inspected_on"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "请填写网点名称"),
        ({"kind": "spaceship"}, "kind", "不是有效的网点类别"),
        ({"contact_phone": "12ab"}, "contact_phone", "请填写有效的电话号码"),
    ],
)
def test_a_bad_outlet_is_refused_in_chinese(personas, changes, field, message):
    values = {
        "org_unit": personas.territory.village_a,
        "name": "网点",
        "kind": "outlet",
        "company": "中通",
        "address": "主街1号",
        **changes,
    }
    with pytest.raises(ValidationError) as caught:
        courier_services.register_outlet(actor=personas.cadre_a, **values)
    assert any(message in m for m in caught.value.message_dict[field])
    assert not CourierOutlet.objects.exists()


def test_an_outlet_cannot_be_placed_outside_the_users_township(personas):
    with pytest.raises(ValidationError) as caught:
        make_outlet(personas.cadre_a, personas.territory.village_b)
    assert "不在您的管辖范围内" in str(caught.value)


def test_the_export_is_audited_and_masks_the_phone(personas, outlets, client):
    import io

    from openpyxl import load_workbook

    from jindu.audit.actions import Action
    from jindu.audit.models import AuditEvent

    sign_in(client, personas.county_officer)
    response = client.get(reverse("inspections:courier_export"), {"year": 2025, "quarter": 2})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("乡镇", "网点名称")
    small = next(r for r in rows if r[1] == "甲镇小网点")
    assert small[5] == "139****2222"
    assert small[7:10] == (2, 1, 50.0)
    assert AuditEvent.objects.filter(
        action=Action.EXPORTED, object_type="inspections.courieroutlet"
    ).exists()
