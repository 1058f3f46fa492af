"""Importing cases and their seizures from one sheet: several rows to a case, row errors
by row and column in Chinese, nothing written when asked all or nothing, the same
sheet twice adding nothing, a case on file brought up to date, the importing
user's scope, the command line and the pages."""

from __future__ import annotations

import io
import json
from decimal import Decimal

from django.core.management import call_command
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.core.excel_import import commit, validate
from jindu.enforcement.importer import CaseImport
from jindu.enforcement.models import Case, Seizure
from tests.helpers import sign_in
from tests.test_enforcement_factories import d, make_case

HEADER = ["序号", "案号", "案由", "案发地", "立案日期", "破案日期", "零包贩毒", "团伙",
          "吸毒人员引发", "毒品种类", "缴获重量（克）", "缴获日期"]  # fmt: skip


def sheet(rows, *, header=HEADER):
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(["青岚县2023年涉毒案件统计表"])
    ws.append(header)
    for r in rows:
        ws.append(r)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def row(n, number="青公禁〔2023〕1号", offence="走私、贩卖、运输、制造毒品", place="甲一村", filed="2023.3.1",
        solved="2023-3-10", street="否", gang="否", caused=None, drug="海洛因", grams=12.5,
        seized=None):  # fmt: skip
    return [n, number, offence, place, filed, solved, street, gang, caused, drug, grams, seized]


GOOD = [
    row(1),
    # The same case's second seizure: only the number and the seizure.
    row(2, offence=None, place=None, filed=None, solved=None, street=None, gang=None,
        drug="冰毒", grams="3.4", seized="2023-03-11"),
    row(3, number="青公禁〔2023〕2号", offence="零包贩毒", place="甲镇 甲一村", filed="20230405",
        solved=None, street="是", drug="K粉", grams=0.8),
    row(4, number="青公禁〔2023〕3号", offence="盗窃", place="621199100201", filed="2023年6月1日",
        solved="2023年6月9日", caused="刑事", drug=None, grams=None),
]  # fmt: skip


def run(user, data, *, partial=False):
    preview = validate(CaseImport(actor=user), data, filename="案件.xlsx")
    return preview, commit(preview, partial=partial)


def errors_of(preview):
    return [(e.row, e.column, e.message) for e in preview.errors()]


def test_the_police_import_cases_with_several_seizures_each(personas, territory):
    preview, result = run(personas.police_officer, sheet(GOOD))
    assert errors_of(preview) == []
    assert result.written and result.counts["created"] == 4
    first = Case.objects.get(number="青公禁〔2023〕1号")
    assert (first.offence, first.filed_on, first.solved_on) == (
        "trafficking",
        d("2023-03-01"),
        d("2023-03-10"),
    )
    assert first.department == territory.police_dept and first.org_unit == territory.village_a
    assert sorted(first.seizures.values_list("drug_type", "weight_g", "seized_on")) == [
        ("heroin", Decimal("12.5"), d("2023-03-10")),
        ("methamphetamine", Decimal("3.4"), d("2023-03-11")),
    ]
    second = Case.objects.get(number="青公禁〔2023〕2号")
    assert second.street_dealing and second.solved_on is None
    assert second.seizures.get().drug_type == "ketamine"
    assert second.seizures.get().seized_on == d("2023-04-05")
    theft = Case.objects.get(number="青公禁〔2023〕3号")
    assert theft.caused_by_user and theft.caused_kind == "criminal"
    assert AuditEvent.objects.filter(
        action=Action.IMPORTED, object_type="enforcement.case"
    ).exists()


def test_importing_the_same_sheet_twice_adds_nothing(personas):
    run(personas.police_officer, sheet(GOOD))
    before = (Case.objects.count(), Seizure.objects.count())
    _preview, result = run(personas.police_officer, sheet(GOOD))
    assert result.counts == {"created": 0, "updated": 0, "unchanged": 4}
    assert (Case.objects.count(), Seizure.objects.count()) == before


def test_a_case_on_file_is_solved_from_the_sheet(personas, territory):
    case = make_case(personas.county_officer, territory.village_a, territory.police_dept,
                     number="青公禁〔2023〕1号")  # fmt: skip
    assert case.solved_on is None
    _preview, result = run(personas.police_officer, sheet([row(1, place=None, offence=None)]))
    assert result.counts["updated"] == 1
    case.refresh_from_db()
    assert case.solved_on == d("2023-03-10") and case.seizures.count() == 1


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(personas):
    rows = [
        *GOOD,
        row(5, number="坏1", filed="2023-03-10", solved="2023-03-01"),
        row(6, number="坏2", grams=-5),
        row(7, number="坏3", place="丙村"),
        row(8, number="坏4", drug="白糖"),
        row(9, number="坏5", grams="1.5千克"),
        row(10, number="坏6", offence=None, place=None, filed=None),
        row(11, number="青公禁〔2023〕1号", offence=None, place=None, filed=None,
            solved="2023-03-11"),
    ]  # fmt: skip
    preview, result = run(personas.police_officer, sheet(rows))
    assert errors_of(preview) == [
        (7, "破案日期", "破案日期不能早于立案日期"),
        (8, "缴获重量（克）", "重量不能为负数"),
        (9, "案发地", "您的管辖范围内没有名为“丙村”的乡镇或村"),
        (10, "毒品种类", "不认识的毒品种类“白糖”"),
        (11, "缴获重量（克）", "重量请以克为单位填写（1千克=1000克）"),
        (12, "案发地", "新案件须填写案件类别、发生地和立案日期"),
        (13, "破案日期", "与第3行同一案件的信息不一致"),
    ]
    assert not result.written and not Case.objects.exists()


def test_valid_rows_only_writes_the_good_ones(personas):
    rows = [*GOOD, row(5, number="坏1", filed="2023-03-10", solved="2023-03-01")]
    preview, result = run(personas.police_officer, sheet(rows), partial=True)
    assert result.written and result.rejected == 1
    assert Case.objects.count() == 3 and not Case.objects.filter(number="坏1").exists()
    assert preview.rejected()["rows"][0][-1] == "破案日期：破案日期不能早于立案日期"


def test_a_township_imports_only_into_its_own_villages(personas):
    rows = [row(1, place="乙一村")]
    preview, result = run(personas.police_officer, sheet(rows))
    assert errors_of(preview) == [(3, "案发地", "您的管辖范围内没有名为“乙一村”的乡镇或村")]
    _preview, result = run(personas.county_officer, sheet(rows))
    assert result.written and Case.objects.get().org_unit.name == "乙一村"


def test_a_case_number_of_another_township_is_refused(personas, territory):
    make_case(personas.county_officer, territory.village_b, territory.police_dept,
              number="青公禁〔2023〕1号")  # fmt: skip
    preview, _result = run(personas.police_officer, sheet([row(1)]))
    assert errors_of(preview) == [(3, "案号", "本县已有该编号的案件，但不在您的管辖范围内")]


def test_the_command_imports_as_a_user(personas, tmp_path):
    path = tmp_path / "案件.xlsx"
    path.write_bytes(sheet(GOOD))
    out = io.StringIO()
    call_command("import", "cases", str(path), "--user", "police_officer", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["rows_read"], report["valid"], report["created"]) == (4, 4, 4)
    assert Case.objects.count() == 3


def test_the_import_pages_preview_then_write(client, personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    sign_in(client, personas.police_officer)
    assert client.get(reverse("enforcement:import")).status_code == 200
    template = client.get(reverse("enforcement:import_template"))
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")
    upload = SimpleUploadedFile("案件.xlsx", sheet(GOOD))
    response = client.post(reverse("enforcement:import"), {"file": upload})
    assert response.status_code == 302 and not Case.objects.exists()
    preview = client.get(response.url)
    assert preview.status_code == 200 and "案号" in preview.content.decode()
    client.post(response.url, {"mode": "all"})
    assert Case.objects.count() == 3


def test_the_import_pages_show_the_background_jobs_progress_to_its_owner_only(
    client, personas, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.JOBS_INLINE = False
    sign_in(client, personas.police_officer)
    upload = SimpleUploadedFile("案件.xlsx", sheet(GOOD))
    preview_url = client.post(reverse("enforcement:import"), {"file": upload}).url
    panel = client.get(preview_url + "?progress=1", HTTP_HX_REQUEST="true")
    assert panel.status_code == 200 and "排队等候" in panel.content.decode()
    sign_in(client, personas.cadre_a)  # may import cases, but this import is not theirs
    assert client.get(preview_url + "?progress=1").status_code == 404
    assert client.get(preview_url).status_code == 404
    sign_in(client, personas.police_officer)
    call_command("worker", "--once", stdout=io.StringIO())
    assert "案号" in client.get(preview_url).content.decode()
    client.post(preview_url, {"mode": "all"})
    assert "正在导入" in client.get(preview_url).content.decode() and not Case.objects.exists()
    call_command("worker", "--once", stdout=io.StringIO())
    assert Case.objects.count() == 3
    assert "导入结果" in client.get(preview_url).content.decode()
