"""The register's Excel export: the list's filter and scope, masked by default, in
full only for a user who may reveal and gives a reason, always audited, and safe
to open in a spreadsheet."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import sign_in
from tests.people_factories import make_id_number, make_person

EXPORT = reverse("people:export")
ID = make_id_number(date(1986, 6, 6), 51)
PHONE = "13700001234"


def _rows(response) -> list[dict[str, object]]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


@pytest.fixture
def people(personas, territory):
    a = make_person(personas.cadre_a, territory.village_a, name="郑甲", id_number=ID, phone=PHONE)
    b = make_person(personas.cadre_b, territory.village_b, name="郑乙")
    return a, b


def _last_export() -> dict:
    event = AuditEvent.objects.filter(action=Action.EXPORTED).latest("seq")
    return json.loads(event.detail)


def test_the_export_is_masked_and_audited(client, personas, people):
    sign_in(client, personas.cadre_a)
    (row,) = _rows(client.get(EXPORT))
    assert row["姓名"] == "郑甲"
    assert row["身份证号"] == "621199********" + ID[-4:]
    assert row["联系电话"] == "137****1234"
    assert row["责任单位"] == "甲一村"
    detail = _last_export()
    assert detail["rows"] == 1 and detail["personal_data"] is False and detail["full"] is False


def test_the_export_follows_the_scope(client, personas, people):
    sign_in(client, personas.cadre_b)
    assert [r["姓名"] for r in _rows(client.get(EXPORT))] == ["郑乙"]
    client.logout()
    sign_in(client, personas.county_officer)
    assert sorted(r["姓名"] for r in _rows(client.get(EXPORT))) == ["郑乙", "郑甲"]


def test_the_export_follows_the_lists_filter(client, personas, territory, people):
    make_person(
        personas.cadre_a,
        territory.grid_a,
        name="郑网格",
        key_person=True,
        key_person_reason="暴力倾向",
    )
    sign_in(client, personas.cadre_a)
    rows = _rows(client.get(EXPORT, {"flags": "key_person"}))
    assert [r["姓名"] for r in rows] == ["郑网格"]
    assert "重点人员" in rows[0]["标记"]
    assert _last_export()["filter"]["flags"] == ["key_person"]
    rows = _rows(client.get(EXPORT, {"unit": territory.grid_a.pk}))
    assert [r["姓名"] for r in rows] == ["郑网格"]


def test_a_full_export_needs_a_reason(client, personas, people):
    sign_in(client, personas.cadre_a)
    response = client.post(EXPORT, {"full": "on", "reason": ""}, follow=True)
    assert "导出完整身份证号须填写原因（至少4个字）" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPORTED).exists()


def test_a_full_export_with_a_reason_shows_numbers_and_is_audited_as_personal_data(
    client, personas, people
):
    sign_in(client, personas.cadre_a)
    (row,) = _rows(client.post(EXPORT, {"full": "on", "reason": "报送县禁毒办核查"}))
    assert row["身份证号"] == ID and row["联系电话"] == PHONE
    detail = _last_export()
    assert detail["personal_data"] is True and detail["full"] is True
    assert detail["reason"] == "报送县禁毒办核查"


def test_a_posted_export_without_the_tick_stays_masked(client, personas, people):
    sign_in(client, personas.cadre_a)
    (row,) = _rows(client.post(EXPORT, {"reason": "例行导出名册"}))
    assert row["身份证号"] != ID
    assert _last_export()["personal_data"] is False


@pytest.mark.parametrize("name", ["grid_worker"])
def test_who_may_not_reveal_cannot_export_in_full(client, personas, territory, name):
    make_person(personas.cadre_a, territory.grid_a, id_number=ID)
    sign_in(client, personas.users[name])
    page = client.get(reverse("people:list")).content.decode()
    assert "导出完整身份证号" not in page
    response = client.post(EXPORT, {"full": "on", "reason": "报送县禁毒办核查"}, follow=True)
    assert "您无权导出完整身份证号" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPORTED).exists()
    (row,) = _rows(client.get(EXPORT))
    assert row["身份证号"] != ID


def test_department_reporter_exports_no_one(client, personas, territory):
    # People belong to no department, so a department reporter's register is empty.
    make_person(personas.cadre_a, territory.grid_a, id_number=ID)
    sign_in(client, personas.dept_reporter)
    assert _rows(client.get(EXPORT)) == []


def test_cells_cannot_carry_a_formula(client, personas, territory):
    make_person(personas.cadre_a, territory.village_a, name="=HYPERLINK(1)", occupation="+1")
    sign_in(client, personas.cadre_a)
    (row,) = _rows(client.get(EXPORT))
    assert row["姓名"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("name", ["sys_admin", "sec_admin", "audit_admin", "leader"])
def test_roles_without_personal_data_cannot_export(client, personas, people, name):
    sign_in(client, personas.users[name])
    assert client.get(EXPORT).status_code == 403
    assert client.post(EXPORT, {"full": "on", "reason": "报送县禁毒办核查"}).status_code == 403
