"""Member departments of the commission (禁毒委成员单位): who reads the list, who keeps
it, the Excel export and the Excel import."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.orgs import services
from jindu.orgs.models import Department
from jindu.orgs.selectors import departments_for
from tests.helpers import sign_in
from tests.test_excel_import import make_xlsx, read_xlsx

READERS = [
    "county_officer",
    "cadre_a",
    "cadre_b",
    "grid_worker",
    "police_officer",
    "dept_reporter",
    "leader",
    "sys_admin",
    "sec_admin",
]
MANAGERS = ["county_officer", "sys_admin"]
NOT_MANAGERS = [
    "cadre_a",
    "cadre_b",
    "grid_worker",
    "police_officer",
    "dept_reporter",
    "leader",
    "sec_admin",
    "audit_admin",
    "no_role",
]


def _snapshot():
    return list(
        Department.objects.order_by("pk").values_list(
            "name", "short_name", "duties", "sort_order", "active", "org_path"
        )
    )


def _other_county(personas):
    city = services.create_unit(
        actor=None, name="示例市", level="city", parent=None, division_code="621100000000"
    )
    services.move_unit(actor=None, unit=personas.territory.county, new_parent=city)
    other = services.create_unit(
        actor=None, name="外县", level="county", parent=city, division_code="621198000000"
    )
    services.create_department(actor=None, county=other, name="外县公安局")
    return other


# ------------------------------------------------------------------ reading


def test_departments_for_gives_a_township_cadre_the_county_above(personas):
    names = set(departments_for(personas.cadre_a).values_list("name", flat=True))
    assert names == {"青岚县公安局", "青岚县教育局"}
    assert set(departments_for(personas.grid_worker).values_list("name", flat=True)) == names


def test_departments_for_leaves_out_other_counties(personas):
    _other_county(personas)
    from jindu.accounts.models import User

    cadre = User.objects.get(pk=personas.cadre_a.pk)
    assert "外县公安局" not in set(departments_for(cadre).values_list("name", flat=True))


@pytest.mark.parametrize("name", READERS)
def test_everyone_working_in_the_county_reads_the_list(client, personas, name):
    sign_in(client, personas.users[name])
    page = client.get(reverse("orgs:departments")).content.decode()
    assert "青岚县公安局" in page and "打击毒品违法犯罪" in page


@pytest.mark.parametrize("name", ["audit_admin", "no_role"])
def test_roles_without_org_view_are_refused_the_list(client, personas, name):
    sign_in(client, personas.users[name])
    assert client.get(reverse("orgs:departments")).status_code == 403
    assert client.get(reverse("orgs:department_export")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, territory):
    response = client.get(reverse("orgs:departments"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_township_cadres_read_without_managing_buttons(client, personas):
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("orgs:departments")).content.decode()
    assert reverse("orgs:department_add") not in page
    assert reverse("orgs:department_edit", args=[personas.territory.police_dept.pk]) not in page


def test_retired_departments_are_hidden_from_readers_and_shown_to_managers(client, personas):
    services.update_department(
        actor=None, department=personas.territory.education_dept, active=False
    )
    sign_in(client, personas.leader)
    assert "青岚县教育局" not in client.get(reverse("orgs:departments")).content.decode()
    sign_in(client, personas.county_officer)
    page = client.get(reverse("orgs:departments")).content.decode()
    assert "青岚县教育局" in page and "已停用" in page


# ------------------------------------------------------------------ keeping


@pytest.mark.parametrize("name", NOT_MANAGERS)
def test_other_roles_cannot_change_the_list(client, personas, name):
    dept = personas.territory.police_dept
    sign_in(client, personas.users[name])
    before = _snapshot()
    assert client.get(reverse("orgs:department_add")).status_code == 403
    assert client.post(reverse("orgs:department_add"), {"name": "新局"}).status_code == 403
    assert (
        client.post(reverse("orgs:department_edit", args=[dept.pk]), {"name": "x"}).status_code
        == 403
    )
    assert client.post(reverse("orgs:department_retire", args=[dept.pk])).status_code == 403
    assert client.get(reverse("orgs:department_import")).status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize("name", MANAGERS)
def test_managers_add_edit_retire_and_restore(client, personas, name):
    sign_in(client, personas.users[name])
    response = client.post(
        reverse("orgs:department_add"),
        {
            "name": "青岚县卫生健康局",
            "short_name": "卫健局",
            "duties": "麻醉药品管理。\n戒毒医疗。",
            "sort_order": 3,
        },
    )
    assert response.status_code == 302
    dept = Department.objects.get(name="青岚县卫生健康局")
    assert (
        dept.org_unit == personas.territory.county
        and dept.org_path == personas.territory.county.path
    )
    client.post(
        reverse("orgs:department_edit", args=[dept.pk]),
        {
            "name": "青岚县卫生健康局",
            "short_name": "卫健",
            "duties": "麻醉药品管理。",
            "sort_order": 4,
        },
    )
    dept.refresh_from_db()
    assert (dept.short_name, dept.sort_order) == ("卫健", 4)
    client.post(reverse("orgs:department_retire", args=[dept.pk]))
    dept.refresh_from_db()
    assert not dept.active
    client.post(reverse("orgs:department_restore", args=[dept.pk]))
    dept.refresh_from_db()
    assert dept.active
    events = AuditEvent.objects.filter(object_type="orgs.department", object_id=str(dept.pk))
    assert events.filter(action=Action.RECORD_CREATED).count() == 1
    assert events.filter(action=Action.RECORD_UPDATED).count() == 3


def test_a_duplicate_name_is_explained_and_what_was_typed_is_kept(client, personas):
    sign_in(client, personas.county_officer)
    before = _snapshot()
    response = client.post(
        reverse("orgs:department_add"),
        {"name": "青岚县公安局", "short_name": "公安", "duties": "重复的职责说明"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "已在成员单位名单中" in page
    assert "重复的职责说明" in page
    assert _snapshot() == before


def test_another_countys_department_answers_404(client, personas):
    other = _other_county(personas)
    foreign = Department.objects.get(org_unit=other)
    sign_in(client, personas.county_officer)
    assert client.get(reverse("orgs:department_edit", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("orgs:department_retire", args=[foreign.pk])).status_code == 404
    assert Department.objects.get(pk=foreign.pk).active


# ------------------------------------------------------------------ export and import


def test_export_lists_the_departments_and_is_audited(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("orgs:department_export"))
    rows = read_xlsx(response.content)
    assert rows[0] == ["所属县（区）", "单位名称", "简称", "禁毒工作职责", "排序", "状态"]
    assert {r[1] for r in rows[1:]} == {"青岚县公安局", "青岚县教育局"}
    assert AuditEvent.objects.filter(action=Action.EXPORTED, object_type="orgs.department").exists()


def _upload(client, data):
    return client.post(
        reverse("orgs:department_import"), {"file": SimpleUploadedFile("成员单位.xlsx", data)}
    )


def test_import_adds_and_updates_by_name_and_can_leave_bad_rows_out(client, personas):
    data = make_xlsx(
        [
            ["青岚县禁毒委成员单位名单"],
            ["序号", "成员单位", "简称", "职责"],
            [1, "青岚县公安局", "公安局", "打击毒品违法犯罪，查处吸毒人员。"],
            [2, "青岚县教育局", "教育", "学校毒品预防教育。"],
            [3, "青岚县卫生健康局", "卫健局", "麻醉药品和精神药品管理。"],
            ["四", "青岚县民政局", "民政局", ""],
            [5, "", "无名", ""],
        ]
    )
    sign_in(client, personas.county_officer)
    preview_url = _upload(client, data).url
    page = client.get(preview_url).content.decode()
    assert "第 6 行" in page and "第 7 行" in page
    assert "只导入无误的行" in page
    client.post(preview_url, {"mode": "partial"})
    assert Department.objects.get(name="青岚县教育局").short_name == "教育"
    assert Department.objects.get(name="青岚县卫生健康局").sort_order == 3
    assert not Department.objects.filter(name="青岚县民政局").exists()
    page = client.get(preview_url).content.decode()
    assert "新增 1 条" in page and "更新 2 条" in page and "无变化 0 条" in page
    before = _snapshot()
    again = _upload(client, data).url
    client.post(again, {"mode": "partial"})
    assert _snapshot() == before, "the same sheet again changes nothing"


def test_import_all_or_nothing_writes_nothing_when_a_row_is_wrong(client, personas):
    data = make_xlsx([["单位名称", "简称"], ["青岚县商务局", "商务局"], ["", "无名"]])
    sign_in(client, personas.sys_admin)
    before = _snapshot()
    client.post(_upload(client, data).url, {"mode": "all"})
    assert _snapshot() == before


def test_department_import_refuses_a_file_that_is_not_excel(client, personas):
    sign_in(client, personas.county_officer)
    response = client.post(
        reverse("orgs:department_import"),
        {"file": SimpleUploadedFile("x.docx", b"PK\x03\x04nonsense")},
    )
    assert "不是Excel表格" in response.content.decode()


def test_command_imports_departments_into_the_named_county(personas, tmp_path):
    import io

    from django.core.management import call_command

    path = tmp_path / "成员单位.xlsx"
    path.write_bytes(make_xlsx([["单位名称", "简称"], ["青岚县司法局", "司法局"], ["", "无名"]]))
    out = io.StringIO()
    call_command("import", "departments", str(path), "--county", "621199", stdout=out)
    assert Department.objects.get(name="青岚县司法局").org_unit == personas.territory.county
    assert "有误 1 行" in out.getvalue()
    before = _snapshot()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command(
            "import",
            "departments",
            str(path),
            "--county",
            "621199",
            "--all-or-nothing",
            stdout=io.StringIO(),
        )
    assert _snapshot() == before
