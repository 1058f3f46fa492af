"""The inspection pages by persona: every page keeps to the township's subtree (a 乙镇 record
is a 404 to 甲镇's people, every page a 403 to the administrators), forms put
Chinese errors next to their fields and keep what was typed, phones stay
masked, exports are audited."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.inspections import services
from jindu.inspections.models import Photo, ResponsibilityLetter, Venue, VenueInspection
from tests.helpers import sign_in
from tests.inspections_factories import (
    courier_check,
    inspect,
    make_outlet,
    make_patrol,
    make_venue,
    photo,
)

pytestmark = pytest.mark.django_db

OUTSIDE_B = ("cadre_a", "grid_worker", "police_officer")
ADMINS = ("sys_admin", "sec_admin", "audit_admin")


@pytest.fixture
def b_records(personas):
    """A venue (letter, failed inspection with a photo), an outlet and a patrol in 乙一村."""
    t = personas.territory
    venue = make_venue(personas.cadre_b, t.village_b, name="乙镇宾馆")
    letter = services.sign_letter(
        actor=personas.cadre_b, venue=venue, signed_on=date(2025, 1, 1), term_end=date(2026, 12, 31)
    )
    inspection = inspect(
        personas.cadre_b, venue, date(2025, 5, 5), failed=("publicity",), photos=(photo(),)
    )
    outlet = make_outlet(personas.cadre_b, t.village_b, name="乙镇快递点")
    courier_check(personas.cadre_b, outlet, date(2025, 5, 5), real_name=(10, 10))
    patrol = make_patrol(personas.cadre_b, t.village_b, date(2025, 5, 5), team="乙镇踏查组")
    return {
        "inspections:venue": venue.pk,
        "inspections:venue_edit": venue.pk,
        "inspections:letter_add": venue.pk,
        "inspections:inspection_add": venue.pk,
        "inspections:inspection_fix": inspection.pk,
        "inspections:photo": inspection.photos.get().pk,
        "inspections:letter_scan": letter.pk,
        "inspections:outlet": outlet.pk,
        "inspections:outlet_edit": outlet.pk,
        "inspections:courier_inspection_add": outlet.pk,
        "inspections:patrol": patrol.pk,
    }


OBJECT_PAGES = [
    "inspections:venue",
    "inspections:venue_edit",
    "inspections:letter_add",
    "inspections:inspection_add",
    "inspections:inspection_fix",
    "inspections:photo",
    "inspections:letter_scan",
    "inspections:outlet",
    "inspections:outlet_edit",
    "inspections:courier_inspection_add",
    "inspections:patrol",
]
LIST_PAGES = [
    "inspections:venues",
    "inspections:venue_export",
    "inspections:venue_create",
    "inspections:courier",
    "inspections:courier_export",
    "inspections:outlet_create",
    "inspections:patrols",
    "inspections:patrol_export",
    "inspections:patrol_add",
]


@pytest.mark.parametrize("name", OBJECT_PAGES)
def test_a_township_b_record_is_a_404_to_township_a(personas, b_records, client, name):
    url = reverse(name, kwargs={"pk": b_records[name]})
    for persona in OUTSIDE_B:
        sign_in(client, personas.users[persona])
        assert client.get(url).status_code == 404, persona
        assert client.post(url, {}).status_code in (404, 405), persona
    assert VenueInspection.objects.count() == 1 and ResponsibilityLetter.objects.count() == 1


@pytest.mark.parametrize("name", OBJECT_PAGES + LIST_PAGES)
def test_every_page_is_a_403_to_the_administrators(personas, b_records, client, name):
    url = reverse(name, kwargs={"pk": b_records[name]}) if name in b_records else reverse(name)
    for persona in ADMINS:
        sign_in(client, personas.users[persona])
        assert client.get(url).status_code == 403, persona


@pytest.mark.parametrize("name", [n for n in OBJECT_PAGES if n != "inspections:letter_scan"])
def test_the_township_and_the_county_open_the_record(personas, b_records, client, name):
    url = reverse(name, kwargs={"pk": b_records[name]})
    for persona in ("cadre_b", "county_officer"):
        sign_in(client, personas.users[persona])
        assert client.get(url).status_code == 200, persona


@pytest.mark.parametrize(
    "name", ["inspections:venues", "inspections:courier", "inspections:patrols"]
)
def test_lists_of_township_a_show_nothing_of_township_b(personas, b_records, client, name):
    make_venue(personas.cadre_a, personas.territory.village_a, name="甲镇宾馆")
    for persona in OUTSIDE_B:
        sign_in(client, personas.users[persona])
        response = client.get(reverse(name), {"year": 2025})
        assert response.status_code == 200
        assert "乙" not in response.content.decode(), persona
    sign_in(client, personas.county_officer)
    assert "乙镇" in client.get(reverse(name), {"year": 2025}).content.decode()


def test_the_leader_reads_but_cannot_write(personas, b_records, client):
    sign_in(client, personas.leader)
    assert client.get(reverse("inspections:venues")).status_code == 200
    page = reverse("inspections:venue", kwargs={"pk": b_records["inspections:venue"]})
    assert "录入检查" not in client.get(page).content.decode()
    assert client.get(reverse("inspections:venue_create")).status_code == 403


def test_a_department_reporter_sees_only_their_departments_venues(personas, client):
    t = personas.territory
    ours = make_venue(
        personas.cadre_a, t.village_a, name="学校旁出租屋", department=t.education_dept
    )
    theirs = make_venue(
        personas.cadre_a, t.village_a, name="派出所管旅馆", department=t.police_dept
    )
    sign_in(client, personas.dept_reporter)
    body = client.get(reverse("inspections:venues")).content.decode()
    assert ours.name in body and theirs.name not in body
    assert client.get(reverse("inspections:venue", kwargs={"pk": theirs.pk})).status_code == 404


# ------------------------------------------------------------------ venue forms


def test_a_venue_a_department_reporter_registers_is_their_departments(personas, client):
    t = personas.territory
    sign_in(client, personas.dept_reporter)
    form = client.get(reverse("inspections:venue_create")).context["form"]
    assert list(form.fields["department"].queryset) == [t.education_dept]
    response = client.post(
        reverse("inspections:venue_create"),
        {
            "name": "学校旁网吧",
            "kind": "internet_cafe",
            "org_unit": t.village_a.pk,
            "address": "甲一村5号",
            "operator_name": "刘老板",
            "registered_on": "2025-01-01",
            "department": t.police_dept.pk,
        },
    )
    assert response.context["form"].errors["department"] == ["请从列表中选择"]
    response = client.post(
        reverse("inspections:venue_create"),
        {
            "name": "学校旁网吧",
            "kind": "internet_cafe",
            "org_unit": t.village_a.pk,
            "address": "甲一村5号",
            "operator_name": "刘老板",
            "registered_on": "2025-01-01",
            "department": t.education_dept.pk,
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Venue.objects.get().department == t.education_dept


def test_a_cadre_registers_a_venue_and_sees_the_phone_masked(personas, client):
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("inspections:venue_create"),
        {
            "name": "鑫源网吧",
            "kind": "internet_cafe",
            "org_unit": personas.territory.village_a.pk,
            "address": "甲一村3号",
            "operator_name": "李老板",
            "operator_phone": "138 1234 5678",
            "registered_on": "2025-01-01",
        },
    )
    venue = Venue.objects.get()
    assert response.url == reverse("inspections:venue", kwargs={"pk": venue.pk})
    assert venue.operator_phone == "13812345678"
    page = client.get(response.url).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    edit = client.get(reverse("inspections:venue_edit", kwargs={"pk": venue.pk})).content.decode()
    assert "13812345678" not in edit and "138****5678" in edit


def test_an_empty_phone_on_edit_keeps_the_number(personas, client):
    venue = make_venue(personas.cadre_a, personas.territory.village_a)
    services.update_venue(actor=personas.cadre_a, venue=venue, operator_phone="", name="新名字")
    venue.refresh_from_db()
    assert (venue.name, venue.operator_phone) == ("新名字", "13812345678")


def test_the_venue_form_refuses_bad_input_next_to_each_field(personas, client):
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("inspections:venue_create"),
        {
            "name": "不完整的场所",
            "kind": "",
            "org_unit": personas.territory.village_b.pk,
            "address": "",
            "operator_name": "李老板",
            "operator_phone": "abc",
            "registered_on": "2999-01-01",
        },
    )
    errors = response.context["form"].errors
    assert errors["kind"] == ["请选择场所类别"]
    assert errors["org_unit"] == ["所选单位不存在或不在您的管辖范围内"]
    assert errors["address"] == ["请填写经营地址"]
    assert 'value="不完整的场所"' in response.content.decode()
    assert not Venue.objects.exists()
    response = client.post(
        reverse("inspections:venue_create"),
        {
            "name": "场所",
            "kind": "hotel",
            "org_unit": personas.territory.village_a.pk,
            "address": "1号",
            "operator_name": "李老板",
            "operator_phone": "abc",
            "registered_on": "2999-01-01",
        },
    )
    errors = response.context["form"].errors
    assert errors["operator_phone"] == ["请填写有效的电话号码（7至13位数字）"]
    assert errors["registered_on"] == ["登记日期不能晚于今天"]
    assert not Venue.objects.exists()


def test_moving_a_venue_takes_its_records_along(personas, client):
    venue = make_venue(personas.cadre_a, personas.territory.village_a)
    inspection = inspect(personas.cadre_a, venue, date(2025, 5, 5), photos=(photo(),))
    services.update_venue(
        actor=personas.county_officer, venue=venue, org_unit=personas.territory.village_b
    )
    for record in (inspection, inspection.photos.get()):
        record.refresh_from_db()
        assert record.org_path == personas.territory.village_b.path
    url = reverse("inspections:photo", kwargs={"pk": inspection.photos.get().pk})
    assert sign_in(client, personas.cadre_a).get(url).status_code == 404
    assert sign_in(client, personas.cadre_b).get(url).status_code == 200


# ------------------------------------------------------------------ inspection and fix forms


def _inspection_form(**extra):
    data = {
        "inspected_on": "2025-05-05",
        "mode": "covert",
        "inspectors": "张三、李四",
        "item_publicity": "pass",
        "item_staff_training": "skip",
        "item_registration": "pass",
        "item_patrol_record": "skip",
        "item_suspicious_report": "skip",
        "item_responsibility_letter": "skip",
    }
    data.update(extra)
    return data


def test_a_cadre_records_a_covert_failed_inspection(personas, client):
    venue = make_venue(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("inspections:inspection_add", kwargs={"pk": venue.pk}),
        _inspection_form(
            item_registration="fail",
            problem_registration="两名旅客未登记",
            fix_deadline="2025-05-20",
        ),
        follow=True,
    )
    inspection = VenueInspection.objects.get()
    assert (inspection.mode, inspection.passed) == ("covert", False)
    assert inspection.results == {
        "publicity": {"ok": True, "problem": ""},
        "registration": {"ok": False, "problem": "两名旅客未登记"},
    }
    assert "红色" in response.content.decode()


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"item_registration": "fail"}, "problem_registration", "请写明“登记制度”存在的问题"),
        ({"item_registration": "fail", "problem_registration": "未登记"}, "fix_deadline",
         "检查不合格时请填写整改期限"),
        ({"item_registration": "fail", "problem_registration": "未登记", "fix_deadline": "2025-05-01"},
         "fix_deadline", "整改期限不能早于检查日期"),
        ({"inspected_on": "2019-12-31"}, "inspected_on", "检查日期早于该场所的登记日期（2020-01-01）"),
        ({"inspected_on": "2999-01-01"}, "inspected_on", "检查日期不能晚于今天"),
        ({"inspected_on": "五月五日"}, "inspected_on", "请输入有效日期，如 2024-03-05"),
        ({"mode": ""}, "mode", "请选择检查方式（明察或暗访）"),
        ({"inspectors": ""}, "inspectors", "请填写检查人员"),
    ],
)  # fmt: skip
def test_a_bad_inspection_is_refused_and_nothing_is_written(
    personas, client, extra, field, message
):
    venue = make_venue(personas.cadre_a, personas.territory.village_a)
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("inspections:inspection_add", kwargs={"pk": venue.pk}), _inspection_form(**extra)
    )
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    body = response.content.decode()
    assert 'value="covert" checked' in body or field == "mode"
    assert not VenueInspection.objects.exists()


def test_an_inspection_with_nothing_checked_is_refused(personas):
    venue = make_venue(personas.cadre_a, personas.territory.village_a)
    with pytest.raises(ValidationError) as caught:
        services.record_venue_inspection(
            actor=personas.cadre_a,
            venue=venue,
            inspected_on=date(2025, 5, 5),
            mode="open",
            inspectors="张三",
            results={},
        )
    assert "请至少填写一个检查项目的结果" in caught.value.message_dict["results"]


def test_a_closed_venue_cannot_be_inspected_after_it_closed(personas):
    venue = make_venue(personas.cadre_a, personas.territory.village_a)
    services.update_venue(actor=personas.cadre_a, venue=venue, closed_on=date(2025, 3, 1))
    with pytest.raises(ValidationError) as caught:
        inspect(personas.cadre_a, venue, date(2025, 5, 5))
    assert "该场所已于2025-03-01停业" in caught.value.message_dict["inspected_on"]


@pytest.mark.parametrize(
    ("fixed_on", "note", "field", "message"),
    [
        ("2025-05-01", "已整改", "fixed_on", "整改完成日期不能早于检查日期"),
        ("2999-05-01", "已整改", "fixed_on", "整改完成日期不能晚于今天"),
        ("2025-05-10", "", "fix_note", "请填写整改情况"),
    ],
)
def test_a_bad_fix_is_refused(personas, client, fixed_on, note, field, message):
    venue = make_venue(personas.cadre_a, personas.territory.village_a)
    failed = inspect(personas.cadre_a, venue, date(2025, 5, 5), failed=("publicity",))
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("inspections:inspection_fix", kwargs={"pk": failed.pk}),
        {"fixed_on": fixed_on, "fix_note": note},
    )
    assert message in response.context["form"].errors[field]
    failed.refresh_from_db()
    assert failed.fixed_on is None


def test_a_fix_is_recorded_once_and_only_for_a_failure(personas):
    venue = make_venue(personas.cadre_a, personas.territory.village_a)
    passed = inspect(personas.cadre_a, venue, date(2025, 5, 5))
    with pytest.raises(ValidationError, match="该次检查合格，无需整改"):
        services.record_fix(
            actor=personas.cadre_a, inspection=passed, fixed_on=date(2025, 5, 6), fix_note="x"
        )
    failed = inspect(personas.cadre_a, venue, date(2025, 5, 7), failed=("publicity",))
    services.record_fix(
        actor=personas.cadre_a, inspection=failed, fixed_on=date(2025, 5, 8), fix_note="已整改"
    )
    with pytest.raises(ValidationError, match="已于2025-05-08整改"):
        services.record_fix(
            actor=personas.cadre_a, inspection=failed, fixed_on=date(2025, 5, 9), fix_note="再次"
        )


# ------------------------------------------------------------------ export


def test_the_venue_export_is_masked_scoped_and_audited(personas, b_records, client):
    venue = make_venue(personas.cadre_a, personas.territory.village_a, name="甲镇宾馆")
    inspect(personas.cadre_a, venue, date(2025, 5, 5), failed=("publicity",))
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("inspections:venue_export"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == ["甲镇宾馆"]
    assert rows[1][6] == "138****5678"
    assert (rows[1][8], rows[1][11]) == ("红", "不合格")
    event = AuditEvent.objects.filter(action=Action.EXPORTED).latest("seq")
    assert event.object_type == "inspections.venue" and '"rows":1' in event.detail


def test_photos_of_the_venue_page_load_without_a_query_per_photo(personas, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    venue = make_venue(personas.cadre_a, personas.territory.village_a)
    inspect(personas.cadre_a, venue, date(2025, 5, 5), photos=(photo(),))
    sign_in(client, personas.cadre_a)
    url = reverse("inspections:venue", kwargs={"pk": venue.pk})
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for day in (6, 7, 8):
        inspect(personas.cadre_a, venue, date(2025, 5, day), photos=(photo(), photo()))
    with CaptureQueriesContext(connection) as four:
        client.get(url)
    assert len(four) == len(one)
    assert Photo.objects.count() == 7
