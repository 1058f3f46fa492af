"""Loading the territory from a sheet of division codes: in the pages (upload,
preview, confirm) and with ``jindu import units``."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.core.excel_import import commit, validate
from jindu.orgs.importers import UnitImport
from jindu.orgs.models import OrgUnit, OrgUnitHistory
from tests.helpers import sign_in
from tests.test_excel_import import make_xlsx, read_xlsx

HEADER = ["统计用区划代码", "城乡分类代码", "名称"]
GOOD_ROWS = [
    # Children before parents on purpose: the import sorts them.
    ["621199102201", "220", "丙一村"],
    ["621199102000", "", "丙镇"],
    ["６２１１９９１０２２０２", "220", "丙二村"],
    [621199100202.0, "220", "甲二村"],
    ["621199100000", "", "甲镇"],
]


def _sheet(rows, title="青岚县统计用区划代码（2024年）"):
    return make_xlsx([[title], HEADER, *rows], merged=["A1:C1"])


def _snapshot():
    return list(
        OrgUnit.objects.order_by("pk").values_list("name", "division_code", "path", "active")
    )


def _run(user, data, *, partial=False):
    preview = validate(UnitImport(actor=user), data, filename="区划.xlsx")
    return preview, commit(preview, partial=partial)


# ------------------------------------------------------------------ the import itself


def test_a_sheet_of_codes_builds_the_tree_with_parents_and_levels_inferred(personas):
    preview, result = _run(personas.county_officer, _sheet(GOOD_ROWS))
    assert not preview.has_errors
    assert result.written and result.counts == {"created": 4, "updated": 0, "unchanged": 1}
    t = personas.territory
    township = OrgUnit.objects.get(division_code="621199102000")
    assert (township.name, township.level, township.parent_id) == ("丙镇", "township", t.county.pk)
    for code in ("621199102201", "621199102202"):
        village = OrgUnit.objects.get(division_code=code)
        assert village.level == "village" and village.parent_id == township.pk
        assert village.path == f"{township.path}{village.pk}/" and village.depth == 2
    assert OrgUnit.objects.get(division_code="621199100202").parent_id == t.township_a.pk
    created = OrgUnitHistory.objects.filter(change="created", actor=personas.county_officer)
    assert created.count() == 4
    event = AuditEvent.objects.filter(action=Action.IMPORTED).latest("seq")
    assert '"created":4' in event.detail and event.username == "county_officer"


def test_importing_the_same_sheet_twice_changes_nothing(personas):
    _run(personas.county_officer, _sheet(GOOD_ROWS))
    before = _snapshot()
    history = OrgUnitHistory.objects.count()
    preview, result = _run(personas.county_officer, _sheet(GOOD_ROWS))
    assert result.counts == {"created": 0, "updated": 0, "unchanged": 5}
    assert _snapshot() == before
    assert OrgUnitHistory.objects.count() == history


def test_an_existing_code_with_a_new_name_is_renamed_with_history(personas):
    _preview, result = _run(personas.county_officer, _sheet([["621199100201", "", "甲一社区"]]))
    assert result.counts["updated"] == 1
    village = OrgUnit.objects.get(pk=personas.territory.village_a.pk)
    assert village.name == "甲一社区"
    assert village.history.filter(change="renamed", old_name="甲一村").exists()


def test_row_errors_are_named_by_row_and_column_and_nothing_is_half_loaded(personas):
    rows = [
        ["621199102000", "", "丙镇"],
        ["62119910220", "", "短一位"],
        ["621199102201", "", ""],
        ["621199102000", "", "丙镇重复"],
        ["621199103201", "", "无上级村"],
        ["6211991A2201", "", "有字母"],
        ["621199000201", "", "缺乡镇段"],
    ]
    before = _snapshot()
    preview, result = _run(personas.county_officer, _sheet(rows))
    errors = {(e.row, e.column): e.message for e in preview.errors()}
    assert "12位数字" in errors[(4, "统计用区划代码")]
    assert errors[(5, "名称")] == "此项必填"
    assert "与第3行的区划代码重复" in errors[(6, "统计用区划代码")]
    assert "621199103000" in errors[(7, "统计用区划代码")]
    assert "只能是数字" in errors[(8, "统计用区划代码")]
    assert "不是有效的统计用区划代码" in errors[(9, "统计用区划代码")]
    assert not result.written, "one wrong row stops the whole sheet"
    assert _snapshot() == before


def test_a_village_under_a_broken_township_row_is_refused_with_it(personas):
    rows = [["621199102000", "", ""], ["621199102201", "", "丙一村"]]
    preview, _result = _run(personas.county_officer, _sheet(rows))
    errors = {(e.row, e.column): e.message for e in preview.errors()}
    assert "上级区划（第3行）有误" in errors[(4, "统计用区划代码")]


def test_codes_outside_the_importing_users_subtree_are_refused(personas):
    rows = [
        ["621199100203", "", "甲三村"],
        ["621199101202", "", "乙二村"],
        ["621199000000", "", "青岚县"],
        ["621198000000", "", "外县"],
    ]
    before = _snapshot()
    preview, result = _run(personas.cadre_a, _sheet(rows))
    errors = {e.row: e.message for e in preview.errors()}
    assert set(errors) == {4, 5, 6}
    assert all("管辖范围" in m for m in errors.values())
    assert not result.written and _snapshot() == before


def test_the_system_loads_a_first_county_into_an_empty_tree(db):
    data = _sheet([["621199100000", "", "甲镇"], ["621199000000", "", "青岚县"]])
    preview, result = _run(None, data)
    assert result.written
    county = OrgUnit.objects.get(division_code="621199000000")
    assert county.parent is None and county.path == f"/{county.pk}/"
    assert OrgUnit.objects.get(division_code="621199100000").parent == county


def test_short_civil_affairs_codes_are_accepted(personas):
    _preview, result = _run(personas.county_officer, _sheet([["621199102", "", "丙镇"]]))
    assert result.written
    assert OrgUnit.objects.filter(division_code="621199102000", name="丙镇").exists()


# ------------------------------------------------------------------ the pages


def _upload(client, data, name="区划.xlsx", url="orgs:import"):
    return client.post(reverse(url), {"file": SimpleUploadedFile(name, data)})


def test_upload_shows_a_preview_and_writes_only_on_confirm(client, personas):
    sign_in(client, personas.county_officer)
    before = _snapshot()
    response = _upload(client, _sheet(GOOD_ROWS))
    assert response.status_code == 302
    preview_url = response.url
    page = client.get(preview_url).content.decode()
    assert "导入前检查" in page and "检查通过" in page
    assert _snapshot() == before, "the preview writes nothing"
    response = client.post(preview_url)
    assert response.status_code == 302
    assert OrgUnit.objects.filter(division_code="621199102000").exists()
    page = client.get(preview_url).content.decode()
    assert "导入结果" in page
    again = _snapshot()
    client.post(preview_url)
    assert _snapshot() == again, "confirming twice does not import twice"


def test_a_sheet_with_errors_cannot_be_confirmed_and_the_rejected_rows_download(client, personas):
    sign_in(client, personas.county_officer)
    response = _upload(client, _sheet([["621199102000", "", "丙镇"], ["62119910220", "", "坏码"]]))
    preview_url = response.url
    page = client.get(preview_url).content.decode()
    assert "第 4 行" in page and "12位数字" in page
    assert "确认导入" not in page
    before = _snapshot()
    client.post(preview_url, {"mode": "partial"})
    assert _snapshot() == before, "the units sheet is all or nothing"
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    download = client.get(reverse("orgs:import_rejected", args=[token]))
    assert download.status_code == 200
    rows = read_xlsx(download.content)
    assert rows[0] == [*HEADER, "错误说明"]
    assert rows[1][0] == "62119910220" and "12位数字" in rows[1][3]
    assert AuditEvent.objects.filter(action=Action.EXPORTED, object_type="orgs.orgunit").exists()


def test_a_file_that_is_not_excel_is_refused_on_the_upload_page(client, personas):
    sign_in(client, personas.county_officer)
    response = _upload(client, "统计用区划代码,名称\n621199102000,丙镇\n".encode(), name="区划.csv")
    assert response.status_code == 200
    assert "不是Excel表格" in response.content.decode()


def test_an_empty_sheet_is_refused_on_the_upload_page(client, personas):
    sign_in(client, personas.sys_admin)
    response = _upload(client, make_xlsx([]))
    assert response.status_code == 200 and "表格是空的" in response.content.decode()


def test_another_users_import_answers_404(client, personas):
    sign_in(client, personas.county_officer)
    preview_url = _upload(client, _sheet(GOOD_ROWS)).url
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    sign_in(client, personas.sys_admin)
    assert client.get(preview_url).status_code == 404
    assert client.post(preview_url).status_code == 404
    assert client.get(reverse("orgs:import_rejected", args=[token])).status_code == 404
    assert not OrgUnit.objects.filter(division_code="621199102000").exists()


def test_the_upload_page_explains_the_columns(client, personas):
    sign_in(client, personas.county_officer)
    page = client.get(reverse("orgs:import")).content.decode()
    assert "统计用区划代码" in page and "行政区划代码" in page and "整表都不导入" in page


def test_the_blank_template_has_the_headers(client, personas):
    sign_in(client, personas.county_officer)
    rows = read_xlsx(client.get(reverse("orgs:import_template")).content)
    assert rows == [["统计用区划代码", "名称"]]


# ------------------------------------------------------------------ the command


def _file(tmp_path, data, name="区划.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_command_dry_run_reports_and_writes_nothing(personas, tmp_path):
    out = io.StringIO()
    before = _snapshot()
    call_command(
        "import", "units", _file(tmp_path, _sheet(GOOD_ROWS)), "--dry-run", "--json", stdout=out
    )
    report = json.loads(out.getvalue())
    assert report["rows_read"] == 5 and report["valid"] == 5 and report["created"] == 4
    assert report["written"] is False and report["dry_run"] is True
    assert _snapshot() == before


def test_command_imports_as_a_user_and_names_row_errors(personas, tmp_path):
    out = io.StringIO()
    call_command(
        "import",
        "units",
        _file(tmp_path, _sheet(GOOD_ROWS)),
        "--user",
        "county_officer",
        stdout=out,
    )
    assert "已导入" in out.getvalue()
    assert OrgUnit.objects.filter(division_code="621199102000").exists()
    bad = _file(tmp_path, _sheet([["621199101202", "", "乙二村"]]), name="坏.xlsx")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", "units", bad, "--user", "cadre_a", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["errors"][0]["row"] == 3 and report["errors"][0]["column"] == "统计用区划代码"
    assert "管辖范围" in report["errors"][0]["message"]


def test_command_refuses_a_file_that_is_not_excel(personas, tmp_path):
    path = _file(tmp_path, b"not a workbook", name="x.xlsx")
    with pytest.raises(CommandError, match="不是Excel"):
        call_command("import", "units", path, stdout=io.StringIO())


def test_command_lists_its_subcommands(capsys):
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["import"], "import")
    parser = command.create_parser("jindu", "import")
    usage = parser.format_help()
    assert re.search(r"units", usage) and re.search(r"departments", usage)


# ------------------------------------------------------------------ in the background


@pytest.fixture
def queued(settings):
    """Imports wait for a worker, as in production."""
    settings.JOBS_INLINE = False


def _work():
    call_command("worker", "--once", stdout=io.StringIO())


def _poll(client, preview_url):
    return client.get(preview_url + "?progress=1", HTTP_HX_REQUEST="true")


def test_the_check_and_the_write_run_in_the_background_with_their_progress_shown(
    client, personas, queued
):
    from jindu.core.models import Job

    sign_in(client, personas.county_officer)
    before = _snapshot()
    preview_url = _upload(client, _sheet(GOOD_ROWS)).url
    page = client.get(preview_url).content.decode()
    assert 'data-job-status="queued"' in page and "排队等候" in page
    assert "正在检查表格" in page and f'hx-get="{preview_url}?progress=1"' in page
    assert 'hx-trigger="every 1s"' in page
    assert '<meta http-equiv="refresh" content="3">' in page, "without JavaScript it refreshes"
    panel = _poll(client, preview_url)
    assert panel.status_code == 200
    assert "<html" not in panel.content.decode() and "排队等候" in panel.content.decode()
    job = Job.objects.get()
    assert (job.kind, job.actor, job.org_path) == (
        "imports.validate",
        personas.county_officer,
        personas.territory.county.path,
    )
    assert set(job.params) == {"spec", "token", "options"} and job.params["spec"] == "units"

    _work()
    done = _poll(client, preview_url)
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    assert client.get(preview_url + "?progress=1").url == preview_url, "without htmx: back"
    page = client.get(preview_url).content.decode()
    assert "导入前检查" in page and "检查通过" in page and "jd-job" not in page
    assert Job.objects.get(pk=job.pk).result == {"rows_read": 5, "valid": 5, "invalid": 0}

    assert client.post(preview_url).url == preview_url
    page = client.get(preview_url).content.decode()
    assert "正在导入" in page and 'data-job-status="queued"' in page
    client.post(preview_url)
    assert Job.objects.filter(kind="imports.commit").count() == 1, "a second confirm waits"
    assert _snapshot() == before, "nothing is written until the worker writes it"
    _work()
    page = client.get(preview_url).content.decode()
    assert "导入结果" in page and "新增 4 条" in page
    write = Job.objects.get(kind="imports.commit")
    assert write.status == "done" and write.params["partial"] is False
    assert write.result["created"] == 4 and write.stage == "已完成"
    assert OrgUnit.objects.filter(division_code="621199102000").exists()


def test_the_panel_follows_the_progress_the_worker_writes(client, personas, queued):
    from jindu.core import jobs

    sign_in(client, personas.county_officer)
    preview_url = _upload(client, _sheet(GOOD_ROWS)).url
    panel = _poll(client, preview_url).content.decode()
    assert "<progress" in panel and "value=" not in panel, "nothing counted yet: no figure"
    job = jobs.claim("a worker")  # the worker takes the job and reports how far it is
    jobs.Progress(job)("检查第 5,000 / 12,000 行", 5000, 12000)
    panel = _poll(client, preview_url).content.decode()
    assert 'data-job-status="running"' in panel
    assert 'max="12000" value="5000"' in panel
    assert '<span class="jd-job-stage">检查第 5,000 / 12,000 行</span> · 41%' in panel
    jobs.run(job)
    assert _poll(client, preview_url)["HX-Refresh"] == "true"


def test_the_panel_in_english(client, personas, queued):
    from jindu.core.models import Job

    sign_in(client, personas.county_officer)
    client.cookies["django_language"] = "en"
    preview_url = _upload(client, _sheet(GOOD_ROWS)).url
    page = client.get(preview_url).content.decode()
    assert "Checking the sheet, please wait" in page and "Waiting in the queue" in page
    assert Job.objects.get().stage == "排队等候", "kept in Chinese, shown translated"


def test_a_file_the_background_check_cannot_read_is_explained_and_dropped(
    client, personas, queued, settings
):
    from pathlib import Path

    sign_in(client, personas.county_officer)
    response = _upload(client, b"not a workbook at all", name="区划.xlsx")
    preview_url = response.url
    _work()
    page = client.get(preview_url).content.decode()
    assert "检查未完成" in page and "不是Excel表格" in page
    assert f'href="{reverse("orgs:import")}"' in page, "upload again"
    assert "http-equiv" not in page, "no refresh once the job is over"
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    assert not list((Path(settings.VAR_DIR) / "imports").glob(f"*-{token}.*"))


def test_a_write_that_fails_in_the_background_loses_nothing_and_may_be_confirmed_again(
    client, personas, queued, monkeypatch
):
    from django.db import IntegrityError

    sign_in(client, personas.county_officer)
    preview_url = _upload(client, _sheet(GOOD_ROWS)).url
    _work()
    before = _snapshot()

    def clash(self, rows):
        raise IntegrityError("duplicate key")

    with monkeypatch.context() as patch:
        patch.setattr(UnitImport, "write", clash)
        client.post(preview_url)
        _work()
    page = client.get(preview_url).content.decode()
    assert "导入时发现数据已被他人修改，未写入任何数据" in page
    assert "确认导入" in page and "导入前检查" in page
    assert _snapshot() == before
    client.post(preview_url)
    _work()
    assert "导入结果" in client.get(preview_url).content.decode()
    assert OrgUnit.objects.filter(division_code="621199102000").exists()


def test_nobody_else_sees_an_import_or_its_progress(client, personas, queued):
    sign_in(client, personas.county_officer)
    preview_url = _upload(client, _sheet(GOOD_ROWS)).url
    assert _poll(client, preview_url).status_code == 200
    sign_in(client, personas.sys_admin)  # may import units too, but not this one
    assert _poll(client, preview_url).status_code == 404
    assert client.get(preview_url).status_code == 404
    assert client.post(preview_url).status_code == 404
    _work()
    assert _poll(client, preview_url).status_code == 404
    assert client.get(preview_url).status_code == 404


# ------------------------------------------------------------------ every import's pages, as everyone

# Every import on the shared pages: its URL names and who may use it.
ORG_MANAGERS = {"county_officer", "sys_admin"}
RECORD_WRITERS = {"county_officer", "cadre_a", "cadre_b", "grid_worker", "police_officer",
                  "dept_reporter"}  # fmt: skip
IMPORT_PAGES = {
    "units": ("orgs:import", "orgs:import_preview", "orgs:import_template", ORG_MANAGERS),
    "departments": (
        "orgs:department_import",
        "orgs:department_import_preview",
        "orgs:department_import_template",
        ORG_MANAGERS,
    ),
    "cases": (
        "enforcement:import",
        "enforcement:import_preview",
        "enforcement:import_template",
        RECORD_WRITERS,
    ),
    "ledger": (
        "regulation:import",
        "regulation:import_preview",
        "regulation:import_template",
        RECORD_WRITERS,
    ),
    "persons": ("people:import", "people:import_preview", "people:import_template", RECORD_WRITERS),
}


def _filled_template(client, template_url):
    """The import's own blank template with one row of nonsense: a sheet the check reads
    (every column found) and refuses row by row."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get(reverse(template_url)).content))
    sheet = book.active
    width = max(len(r) for r in sheet.iter_rows(values_only=True))
    sheet.append(["？"] * width)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _owners_token(client, personas, key):
    upload_url, preview_url, template_url, allowed = IMPORT_PAGES[key]
    sign_in(client, personas.county_officer)
    response = client.post(
        reverse(upload_url),
        {"file": SimpleUploadedFile("表.xlsx", _filled_template(client, template_url))},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response.url


@pytest.mark.parametrize("key", list(IMPORT_PAGES))
def test_every_import_page_as_every_persona(client, personas, key):
    from tests.personas import PERSONAS

    upload_url, preview_url, template_url, allowed = IMPORT_PAGES[key]
    owners = _owners_token(client, personas, key)  # the county officer's own import
    for name in PERSONAS:
        user = personas.users[name]
        sign_in(client, user)
        upload_page = client.get(reverse(upload_url))
        if name not in allowed:
            assert upload_page.status_code == 403, name
            assert client.post(reverse(upload_url)).status_code == 403, name
            assert client.get(owners).status_code == 403, name
            assert client.get(owners + "?progress=1").status_code == 403, name
            assert client.post(owners).status_code == 403, name
            continue
        assert upload_page.status_code == 200, name
        response = client.post(
            reverse(upload_url),
            {"file": SimpleUploadedFile("表.xlsx", _filled_template(client, template_url))},
        )
        assert response.status_code == 302, name
        page = client.get(response.url)
        assert page.status_code == 200 and "导入前检查" in page.content.decode(), name
        assert "第 2 行" in page.content.decode() or "第 3 行" in page.content.decode(), name
        finished = client.get(response.url + "?progress=1", HTTP_HX_REQUEST="true")
        assert finished.status_code == 204 and finished["HX-Refresh"] == "true", name
        if name != "county_officer":
            # Another user's import and its job: as if they did not exist.
            assert client.get(owners).status_code == 404, name
            assert client.get(owners + "?progress=1").status_code == 404, name
            assert client.post(owners, {"mode": "partial"}).status_code == 404, name
