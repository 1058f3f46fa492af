"""The Excel import base: reading, header finding, cell normalisation, row errors,
the preview, writing once, and the rejected rows given back as a sheet."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.core import excel_stash
from jindu.core.excel_import import (
    CellError,
    Field,
    ImportFileError,
    ImportSpec,
    RejectedRowsExporter,
    clean_text,
    code_text,
    commit,
    parse_bool,
    parse_date,
    parse_int,
    split_multi,
    validate,
)


def make_xlsx(
    rows: list[list[Any]], *, merged: list[str] = (), sheets: dict | None = None
) -> bytes:
    """A workbook whose first sheet holds ``rows`` from A1 (``merged``: ranges like "A1:C1")."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            # Text typed into a cell, not a formula (openpyxl would take "=…" as one).
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for cells in merged:
        sheet.merge_cells(cells)
    for name, extra_rows in (sheets or {}).items():
        extra = workbook.create_sheet(name)
        for row in extra_rows:
            extra.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_xlsx(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


class PeopleSpec(ImportSpec):
    """A small spec the tests drive: it writes into a list instead of a table."""

    key = "test_people"
    title = "测试名单"
    object_type = "tests.person"
    fields = (
        Field("name", "姓名", aliases=("名字",), required=True),
        Field("id_number", "身份证号", aliases=("公民身份号码",), parse=code_text),
        Field("born", "出生日期", parse=parse_date),
        Field("count", "次数", parse=parse_int),
    )
    written: list[dict[str, Any]]

    def __init__(self, *, actor: Any = None, **options: Any) -> None:
        super().__init__(actor=actor, **options)
        self.written = []
        self.prefetched = 0

    def prefetch(self, rows):
        self.prefetched += 1

    def check_row(self, row):
        if row.values["name"] == "坏人":
            row.error("name", "名单里不能有这个名字")
        else:
            row.outcome = "create"

    def write(self, rows):
        self.written.extend(row.values for row in rows)
        return {"created": len(rows)}


# ------------------------------------------------------------------ cells


def test_full_width_digits_and_letters_become_half_width():
    assert clean_text("６２１１９９ＡＢｃ") == "621199ABc"
    assert code_text("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"


def test_chinese_punctuation_is_left_alone():
    assert clean_text("甲镇（街道）") == "甲镇（街道）"


def test_stray_spaces_are_trimmed_including_ideographic_space():
    assert clean_text("\u3000 张三 \u3000") == "张三"
    assert clean_text("张\u3000\u3000三") == "张 三"
    assert clean_text("\u200b甲镇\ufeff") == "甲镇"
    assert code_text(" 6211 9910 0000 ") == "621199100000"


def test_excel_numbers_that_are_codes_lose_the_float():
    assert clean_text(1.0) == "1"
    assert clean_text(621199100000.0) == "621199100000"
    assert clean_text(1e15) == "1000000000000000"
    assert clean_text(2.5) == "2.5"
    assert clean_text(0.00001) == "0.00001"


@pytest.mark.parametrize(
    "raw",
    [
        "2018.3.5",
        "2018年3月5日",
        "2018/03/05",
        "2018-3-5",
        "2018-03-05 00:00:00",
        "20180305",
        "２０１８年３月５日",
        43164,
        43164.0,
        "43164",
        date(2018, 3, 5),
        datetime(2018, 3, 5, 10, 30),
    ],
)
def test_dates_in_every_usual_form(raw):
    assert parse_date(raw) == date(2018, 3, 5)


@pytest.mark.parametrize("raw", ["2018-2-30", "2018年13月1日"])
def test_impossible_dates_are_named(raw):
    with pytest.raises(CellError, match="不存在"):
        parse_date(raw)


def test_unreadable_date_says_how_to_write_it():
    with pytest.raises(CellError, match="2018-03-05"):
        parse_date("去年春天")


def test_integers_booleans_and_lists():
    assert parse_int("1,234") == 1234
    assert parse_int(12.0) == 12
    with pytest.raises(CellError, match="整数"):
        parse_int("12.5")
    assert parse_bool("是") is True
    assert parse_bool("否") is False
    with pytest.raises(CellError):
        parse_bool("也许")
    assert split_multi("海洛因、冰毒，大麻") == ["海洛因", "冰毒", "大麻"]


# ------------------------------------------------------------------ header and file


@pytest.mark.django_db
def test_header_below_a_merged_title_row_and_columns_in_any_order():
    data = make_xlsx(
        [
            ["青岚县吸毒人员名单（2018年）", None, None, None],
            [None, None, None, None],
            ["次数", "出生日期", "备注", "名字"],
            [3, "2018.3.5", "x", "张三"],
        ],
        merged=["A1:D1"],
    )
    preview = validate(PeopleSpec(), data, filename="名单.xlsx")
    assert preview.header.row_number == 3
    (row,) = preview.rows
    assert row.number == 4
    assert row.values == {"name": "张三", "born": date(2018, 3, 5), "count": 3, "id_number": None}
    assert preview.header.ignored() == ["备注"]


@pytest.mark.django_db
def test_two_row_header_with_vertically_merged_cells():
    data = make_xlsx(
        [
            ["姓名", "基本信息", None],
            [None, "身份证号", "出生日期"],
            ["李四", "11010519491231002X", "1949-12-31"],
        ],
        merged=["A1:A2", "B1:C1"],
    )
    preview = validate(PeopleSpec(), data)
    assert preview.header.row_number == 2
    assert preview.rows[0].values["name"] == "李四"
    assert preview.rows[0].values["born"] == date(1949, 12, 31)


@pytest.mark.django_db
def test_header_marks_like_asterisks_and_required_notes_are_ignored():
    data = make_xlsx([["*姓名", "出生日期（必填）"], ["王五", "2001/1/2"]])
    preview = validate(PeopleSpec(), data)
    assert preview.rows[0].values["name"] == "王五"


@pytest.mark.django_db
def test_blank_rows_and_repeated_headers_are_skipped():
    data = make_xlsx([["姓名"], ["甲"], [None], ["姓名"], ["乙"]])
    preview = validate(PeopleSpec(), data)
    assert [(r.number, r.values["name"]) for r in preview.rows] == [(2, "甲"), (5, "乙")]


@pytest.mark.django_db
def test_header_is_found_on_a_later_sheet():
    data = make_xlsx([["说明：本工作簿第二页为名单"]], sheets={"名单": [["姓名"], ["赵六"]]})
    preview = validate(PeopleSpec(), data)
    assert preview.header.sheet == "名单"


def test_a_file_that_is_not_excel_is_refused_in_chinese():
    with pytest.raises(ImportFileError, match="不是Excel"):
        validate(PeopleSpec(), "姓名,次数\n张三,1\n".encode(), filename="名单.csv")


def test_a_damaged_workbook_is_refused_in_chinese():
    with pytest.raises(ImportFileError, match="不是Excel"):
        validate(PeopleSpec(), b"PK\x03\x04" + b"\x00" * 200, filename="坏.xlsx")


def test_an_empty_sheet_is_refused_in_chinese():
    with pytest.raises(ImportFileError, match="空"):
        validate(PeopleSpec(), make_xlsx([]))


def test_a_header_without_data_rows_is_refused():
    with pytest.raises(ImportFileError, match="没有数据"):
        validate(PeopleSpec(), make_xlsx([["姓名", "次数"]]))


def test_a_missing_required_column_is_named_with_its_aliases():
    with pytest.raises(ImportFileError, match="缺少必填列：“姓名”（或名字）"):
        validate(PeopleSpec(), make_xlsx([["次数", "出生日期"], [1, "2018-1-1"]]))


def test_a_sheet_with_no_known_header_says_what_was_expected():
    with pytest.raises(ImportFileError, match="没有找到表头"):
        validate(PeopleSpec(), make_xlsx([["甲", "乙"], [1, 2]]))


def test_a_column_given_twice_is_refused():
    with pytest.raises(ImportFileError, match="不止一次"):
        validate(PeopleSpec(), make_xlsx([["姓名", "名字"], ["张三", "张三"]]))


def test_an_oversized_file_is_refused(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    with pytest.raises(ImportFileError, match="超过"):
        validate(PeopleSpec(), make_xlsx([["姓名"], ["张三"]]))


# ------------------------------------------------------------------ rows, preview, commit


def _sheet_with_errors() -> bytes:
    return make_xlsx(
        [
            ["姓名", "出生日期", "次数"],
            ["张三", "2018.3.5", 1],
            [None, "2018.3.5", 2],
            ["李四", "明天", "两次"],
            ["坏人", "2018-1-1", 3],
            ["王五", 43164, 4],
        ]
    )


@pytest.mark.django_db
def test_every_row_is_checked_and_errors_name_row_and_column():
    spec = PeopleSpec()
    preview = validate(spec, _sheet_with_errors())
    errors = [(e.row, e.column) for e in preview.errors()]
    assert errors == [(3, "姓名"), (4, "出生日期"), (4, "次数"), (5, "姓名")]
    messages = [e.message for e in preview.errors()]
    assert messages[0] == "此项必填"
    assert "两次" in messages[2]
    assert len(preview.valid_rows) == 2
    assert spec.prefetched == 1, "lookups are loaded once for the whole sheet"
    assert spec.written == [], "nothing is written before confirmation"


@pytest.mark.django_db
def test_cells_of_nothing_but_spaces_count_as_empty():
    data = make_xlsx([["姓名", "出生日期", "次数"], ["\u3000 ", " ", 2], ["张三", "\u3000", 1]])
    first, second = validate(PeopleSpec(), data).rows
    assert first.errors == [("name", "此项必填")]
    assert second.errors == [] and second.values["born"] is None


@pytest.mark.django_db
def test_all_or_nothing_writes_nothing_when_a_row_is_wrong_and_audits_the_refusal():
    spec = PeopleSpec()
    result = commit(validate(spec, _sheet_with_errors()), partial=False)
    assert not result.written
    assert spec.written == []
    event = AuditEvent.objects.filter(action=Action.IMPORTED).get()
    assert event.result == "failure"
    assert '"rejected":3' in event.detail


@pytest.mark.django_db
def test_valid_rows_only_writes_the_good_rows_and_audits_the_counts():
    spec = PeopleSpec()
    result = commit(validate(spec, _sheet_with_errors(), filename="名单.xlsx"), partial=True)
    assert result.written
    assert [v["name"] for v in spec.written] == ["张三", "王五"]
    assert result.as_dict()["created"] == 2
    assert result.rejected == 3
    event = AuditEvent.objects.filter(action=Action.IMPORTED).get()
    assert event.result == "success"
    assert '"created":2' in event.detail
    assert "名单.xlsx" in event.detail


@pytest.mark.django_db
def test_a_spec_that_forbids_partial_writes_is_all_or_nothing_whatever_the_caller_asks():
    class Strict(PeopleSpec):
        allow_partial = False

    spec = Strict()
    assert not commit(validate(spec, _sheet_with_errors()), partial=True).written
    assert spec.written == []


@pytest.mark.django_db
def test_rejected_rows_come_back_with_their_own_columns_and_an_error_column():
    preview = validate(PeopleSpec(), _sheet_with_errors())
    rejected = preview.rejected()
    content, count = RejectedRowsExporter(rejected["headers"], rejected["rows"]).render()
    rows = read_xlsx(content)
    assert count == 3
    assert rows[0] == ["姓名", "出生日期", "次数", "错误说明"]
    assert rows[1][:3] == [None, "2018.3.5", 2] or rows[1][:3] == ["", "2018.3.5", 2]
    assert rows[1][3] == "姓名：此项必填"
    assert rows[2][0] == "李四"
    assert "出生日期：" in rows[2][3] and "次数：" in rows[2][3]
    assert rows[3][3] == "姓名：名单里不能有这个名字"


@pytest.mark.django_db
def test_rejected_rows_file_neutralises_formulas_typed_into_the_sheet():
    data = make_xlsx([["姓名", "次数"], ["=cmd|' /C calc'!A0", "x"]])
    rejected = validate(PeopleSpec(), data).rejected()
    content, _count = RejectedRowsExporter(rejected["headers"], rejected["rows"]).render()
    assert read_xlsx(content)[1][0] == "'=cmd|' /C calc'!A0"


@pytest.mark.django_db
def test_the_upload_stash_is_encrypted_and_belongs_to_its_uploader(personas, settings):
    from pathlib import Path

    data = make_xlsx([["姓名"], ["张三"]])
    token = excel_stash.stash_upload(
        user=personas.cadre_a, data=data, filename="名单.xlsx", options={"x": 1}
    )
    assert excel_stash.read_upload(user=personas.cadre_a, token=token) == (
        data,
        "名单.xlsx",
        {"x": 1},
    )
    with pytest.raises(excel_stash.StashMissing):
        excel_stash.read_upload(user=personas.cadre_b, token=token)
    with pytest.raises(excel_stash.StashMissing):
        excel_stash.read_upload(user=personas.cadre_a, token="../../etc/passwd")
    stored = b"".join(p.read_bytes() for p in (Path(settings.VAR_DIR) / "imports").iterdir())
    assert "张三".encode() not in stored and data[:50] not in stored
    excel_stash.drop_upload(user=personas.cadre_a, token=token)
    with pytest.raises(excel_stash.StashMissing):
        excel_stash.read_upload(user=personas.cadre_a, token=token)


@pytest.mark.django_db
def test_a_large_sheet_is_checked_without_a_query_per_row(django_assert_max_num_queries):
    rows = [["姓名", "身份证号", "出生日期", "次数"]]
    rows += [[f"人{i}", f"１１０１０５１９４９１２３１{i:04d}", "2018.3.5", i] for i in range(3000)]
    data = make_xlsx(rows)
    with django_assert_max_num_queries(0):
        preview = validate(PeopleSpec(), data)
    assert len(preview.rows) == 3000
    assert preview.rows[-1].values["id_number"] == "110105194912312999"


@pytest.mark.django_db
def test_a_rule_broken_during_the_write_rolls_everything_back():
    from django.core.exceptions import ValidationError

    from jindu.core.excel_import import ImportWriteError

    class Failing(PeopleSpec):
        def write(self, rows):
            AuditEvent.objects.count()  # a query inside the transaction, then the failure
            raise ValidationError("名称已被他人改动")

    with pytest.raises(ImportWriteError, match="名称已被他人改动"):
        commit(validate(Failing(), make_xlsx([["姓名"], ["张三"]])), partial=True)
    assert not AuditEvent.objects.filter(action=Action.IMPORTED).exists()


# ------------------------------------------------------------------ progress (a background job's)


@pytest.mark.django_db
def test_progress_is_told_of_each_step_and_once_per_5000_rows_not_per_row():
    rows = [["标题行"], ["姓名", "次数"]]
    rows += [[f"人{i}", i] for i in range(12001)]
    data = make_xlsx(rows)
    heard: list[tuple] = []

    def progress(stage, done=None, total=None):
        heard.append((stage, done, total))

    preview = validate(PeopleSpec(), data, progress=progress)
    assert heard == [
        ("读取文件", None, None),
        ("检查第 0 / 12,001 行", 0, 12001),
        ("检查第 5,000 / 12,001 行", 5000, 12001),
        ("检查第 10,000 / 12,001 行", 10000, 12001),
        ("查询已有数据", 12001, 12001),
        ("核对每一行", 12001, 12001),
    ]
    plain = validate(PeopleSpec(), data)
    assert [(r.number, r.values, r.errors) for r in preview.rows] == [
        (r.number, r.values, r.errors) for r in plain.rows
    ], "the same rows, numbered alike, with or without progress"
    assert preview.rows[-1].number == 12003
    heard.clear()
    result = commit(preview, partial=True, progress=progress)
    assert result.written
    assert heard == [("写入数据库", 0, 12001), ("写入完成", 12001, 12001)]


@pytest.mark.django_db
def test_a_write_that_fails_tells_progress_only_that_it_began():
    from django.core.exceptions import ValidationError

    from jindu.core.excel_import import ImportWriteError

    class Failing(PeopleSpec):
        def write(self, rows):
            raise ValidationError("名称已被他人改动")

    heard: list[str] = []
    preview = validate(Failing(), make_xlsx([["姓名"], ["张三"]]))
    with pytest.raises(ImportWriteError):
        commit(preview, partial=True, progress=lambda stage, *counts: heard.append(stage))
    assert heard == ["写入数据库"]
