"""The import pages: upload, preview with row errors, confirm, rejected rows, template."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.people.models import Person
from tests.helpers import sign_in
from tests.test_people_import import HEADER, ID_A, ID_B, row, sheet


def read_xlsx(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(content)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def upload(client, data, name="名册.xlsx"):
    return client.post(reverse("people:import"), {"file": SimpleUploadedFile(name, data)})


def test_preview_shows_row_errors_and_confirm_writes_the_valid_rows(client, personas):
    sign_in(client, personas.cadre_a)
    data = sheet([row(1), row(2, name="李某", id_number=ID_B, unit="乙一村")])
    response = upload(client, data)
    assert response.status_code == 302
    preview_url = response.url
    page = client.get(preview_url).content.decode()
    assert "导入前检查" in page and "第 4 行" in page and "所属村（社区）" in page
    assert "责任单位“乙一村”不在您的管辖范围（甲镇）内" in page
    assert "people-import.js" in page
    assert not Person.objects.exists(), "the preview writes nothing"
    response = client.post(preview_url, {"mode": "partial"})
    assert response.status_code == 302
    assert list(Person.objects.values_list("name", flat=True)) == ["张某"]
    page = client.get(preview_url).content.decode()
    assert "导入结果" in page and "另有 1 行有误未导入" in page
    client.post(preview_url, {"mode": "partial"})
    assert Person.objects.count() == 1, "confirming twice does not import twice"


def test_the_rejected_rows_come_back_with_an_explanation_column(client, personas):
    sign_in(client, personas.cadre_a)
    data = sheet([row(1), row(2, name="李某", id_number=ID_B, unit="丙村")])
    preview_url = upload(client, data).url
    client.post(preview_url, {"mode": "partial"})
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    response = client.get(reverse("people:import_rejected", args=[token]))
    assert response.status_code == 200
    rows = read_xlsx(response.content)
    header = next(r for r in rows if r and r[-1] == "错误说明")
    assert header[: len(HEADER)] == HEADER
    bad = next(r for r in rows if r and r[1] == "李某")
    assert bad[-1] == "所属村（社区）：找不到责任单位“丙村”"
    assert AuditEvent.objects.filter(action=Action.EXPORTED, object_type="people.person").exists()


def test_all_or_nothing_chosen_on_the_page_writes_nothing(client, personas):
    sign_in(client, personas.cadre_a)
    data = sheet([row(1), row(2, name="李某", id_number=ID_B, unit="丙村")])
    preview_url = upload(client, data).url
    client.post(preview_url, {"mode": "all"})
    assert not Person.objects.exists()
    assert "未导入任何数据" in client.get(preview_url).content.decode()


def test_a_file_that_is_not_excel_is_explained_on_the_upload_page(client, personas):
    sign_in(client, personas.cadre_a)
    response = upload(client, f"姓名,身份证号\n张某,{ID_A}\n".encode(), name="名册.csv")
    assert response.status_code == 200
    assert "不是Excel表格" in response.content.decode()


def test_another_users_import_answers_404(client, personas):
    sign_in(client, personas.cadre_a)
    preview_url = upload(client, sheet([row(1)])).url
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    sign_in(client, personas.cadre_b)
    assert client.get(preview_url).status_code == 404
    assert client.post(preview_url).status_code == 404
    assert client.get(reverse("people:import_rejected", args=[token])).status_code == 404
    assert not Person.objects.exists()


def test_the_upload_page_explains_the_columns_and_offers_the_template(client, personas):
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("people:import")).content.decode()
    assert "公民身份号码" in page and "所属村（社区）" in page and "按身份证号对应" in page
    assert reverse("people:import_template") in page
    rows = read_xlsx(client.get(reverse("people:import_template")).content)
    header = next(r for r in rows if r and "姓名" in r)
    assert "身份证号" in header and "责任单位" in header and "管控措施" in header


def test_administrators_and_leaders_cannot_import(client, personas):
    for name in ("sys_admin", "leader"):
        sign_in(client, personas.users[name])
        assert client.get(reverse("people:import")).status_code == 403


# ------------------------------------------------------------------ in the background


def _work():
    from django.core.management import call_command

    call_command("worker", "--once", stdout=io.StringIO())


def test_a_register_is_checked_and_written_by_the_worker_with_its_progress_on_the_page(
    client, personas, settings
):
    from jindu.core.models import Job, TallyPending

    settings.JOBS_INLINE = False
    sign_in(client, personas.cadre_a)
    data = sheet([row(1), row(2, name="李某", id_number=ID_B, unit="乙一村")])
    preview_url = upload(client, data).url
    page = client.get(preview_url).content.decode()
    assert "正在检查表格" in page and "排队等候" in page
    check = Job.objects.get()
    # The job names the stashed file by its token; no name or ID number in it.
    assert ID_A not in str(check.params) and "张某" not in str(check.params)

    _work()
    check.refresh_from_db()
    assert check.status == "done" and check.result == {"rows_read": 2, "valid": 1, "invalid": 1}
    assert check.stage == "已完成" and (check.done, check.total) == (2, 2)
    page = client.get(preview_url).content.decode()
    assert "责任单位“乙一村”不在您的管辖范围（甲镇）内" in page and "people-import.js" in page

    client.post(preview_url, {"mode": "partial"})
    page = client.get(preview_url).content.decode()
    assert "正在导入" in page and not Person.objects.exists()
    # The panel alone, as the page polls it: for its owner only.
    assert "正在导入" in client.get(preview_url + "?progress=1").content.decode()
    sign_in(client, personas.cadre_b)
    assert client.get(preview_url + "?progress=1").status_code == 404
    sign_in(client, personas.cadre_a)

    _work()  # the write, then the counting it queued for the tallies
    assert list(Person.objects.values_list("name", flat=True)) == ["张某"]
    write = Job.objects.get(kind="imports.commit")
    assert write.result["created"] == 1 and write.result["rejected"] == 1
    assert Job.objects.get(kind="tallies.settle").status == "done"
    assert not TallyPending.objects.exists()
    page = client.get(preview_url).content.decode()
    assert "导入结果" in page and "另有 1 行有误未导入" in page
    # The audit row written by the worker names the user and the address of the confirm.
    event = AuditEvent.objects.get(action=Action.IMPORTED)
    assert (event.username, event.client_address) == ("cadre_a", "127.0.0.1")
