"""A large sheet's second half read and parsed in a second process gives exactly the
preview one process gives: the same rows, values, errors and rejected cells; and
whatever goes wrong over there, this process finishes the work itself."""

from __future__ import annotations

import io
import os
from datetime import datetime
from typing import Any

import pytest

from jindu.core import excel_import, offload, sheet_halves
from jindu.core.excel_import import CellError, Field, ImportSpec, code_text, parse_date, validate

PARENT = os.getpid()


def _count(value: Any) -> int:
    if isinstance(value, str) and not value.strip().isdigit():
        raise CellError(f"应为整数，当前为“{value}”")
    return int(value)


class RosterSpec(ImportSpec):
    key = "test_roster"
    title = "测试花名册"
    object_type = "tests.roster"
    fields = (
        Field("name", "姓名", required=True),
        Field("id_number", "身份证号", parse=code_text),
        Field("found", "发现日期", parse=parse_date),
        Field("count", "次数", parse=_count),
        Field("note", "备注"),  # not in the sheet: every row gets its default
    )

    def check_rows(self, rows):
        seen: dict[str, int] = {}
        for row in rows:
            number = row.values["id_number"]
            if number and number in seen:
                row.error("id_number", f"与第{seen[number]}行重复")
            seen.setdefault(number, row.number)
            if row.ok:
                row.outcome = "create"


def roster(rows: int = 600) -> bytes:
    """A title over the header, the header repeated as on printed pages, blank rows,
    errors spread over both halves, and rows starting in column B near the end."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("说明").write_string(0, 0, "填表说明")
    ws = book.add_worksheet("花名册")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.merge_range(0, 1, 0, 4, "花名册")
    header = ["姓名", "身份证号", "发现日期", "次数"]
    ws.write_row(1, 1, header)
    r = 2
    for i in range(rows):
        if i % 97 == 50:
            ws.write_row(r, 1, header)
            r += 1
        if i % 61 == 7:
            r += 1  # a blank row
        name = "" if i % 113 == 3 else f"人员{i}"
        number = f"11010519491231{i % 500:04d}"
        count: Any = "两次" if i % 89 == 11 else i % 7
        found: Any = datetime(2018, 1, 1 + i % 28) if i % 3 else f"2018年{1 + i % 12}月5日"
        if i % 131 == 17:
            found = "明天"
        if name:
            ws.write_string(r, 1, name)
        ws.write_string(r, 2, number.lower() if i % 2 else number)
        if isinstance(found, datetime):
            ws.write_datetime(r, 3, found, day)
        else:
            ws.write_string(r, 3, found)
        ws.write(r, 4, count)
        r += 1
    book.close()
    return buffer.getvalue()


def preview_of(data: bytes) -> tuple[list, dict, dict]:
    preview = validate(RosterSpec(actor=None), data, filename="花名册.xlsx")
    rows = [(row.number, row.values, row.errors, row.outcome) for row in preview.rows]
    return rows, preview.summary(), preview.rejected()


def _no_children_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.fixture(autouse=True)
def _cut_small_sheets(monkeypatch):
    monkeypatch.setattr(sheet_halves, "SPLIT_BYTES", 1)


@pytest.fixture
def one_process(monkeypatch):
    """The preview as one process gives it (the halves read in two threads)."""

    def preview(data: bytes):
        with monkeypatch.context() as m:
            m.setattr(offload, "INLINE", True)
            return preview_of(data)

    return preview


@pytest.fixture
def apart_reads(monkeypatch):
    """How many sheets were read with a second process."""
    made: list[str] = []
    real = excel_import._read_apart

    def counted(data, name, spec):
        sheet = real(data, name, spec)
        if sheet is not None and sheet.rest is not None:
            made.append(name)
        return sheet

    monkeypatch.setattr(excel_import, "_read_apart", counted)
    return made


def test_the_second_half_parsed_apart_gives_the_preview_of_one_process(one_process, apart_reads):
    data = roster()
    expected = one_process(data)
    assert apart_reads == []
    got = preview_of(data)
    assert apart_reads == ["花名册"]
    assert got == expected
    rows, summary, rejected = got
    # Every data row, none of the repeated headers or blank rows; errors in both halves.
    assert summary["rows_read"] == 600
    wrong = [number for number, _v, errors, _o in rows if errors]
    assert wrong[0] < rows[300][0] < wrong[-1]
    assert summary["error_count"] > 20
    _no_children_left()


class FailingApart(RosterSpec):
    """Its count column cannot be parsed in a second process (as if a parser broke the
    rule and looked something up in the database)."""

    fields = (
        *RosterSpec.fields[:3],
        Field("count", "次数", parse=lambda v: _count(v) if os.getpid() == PARENT else 1 / 0),
        RosterSpec.fields[4],
    )


def test_a_second_process_that_fails_leaves_its_half_to_this_one(one_process, apart_reads, caplog):
    data = roster()
    expected = one_process(data)
    with caplog.at_level("WARNING", logger="jindu.core.excel_import"):
        preview = validate(FailingApart(actor=None), data, filename="花名册.xlsx")
    # Said in the log, where it failed and never a value.
    (logged,) = caplog.records
    assert "ZeroDivisionError" in logged.getMessage()
    assert "1101051949" not in logged.getMessage() and "人员" not in logged.getMessage()
    assert apart_reads == ["花名册"]
    got = [(row.number, row.values, row.errors, row.outcome) for row in preview.rows]
    assert (got, preview.summary(), preview.rejected()) == expected
    _no_children_left()


def test_a_second_process_gone_before_the_rejected_cells_are_asked_for(
    one_process, apart_reads, monkeypatch
):
    import signal

    data = roster()
    expected = one_process(data)
    real = excel_import.SecondHalf.give_cells

    def killed_first(self, rows):
        os.kill(self.channel.pid, signal.SIGKILL)
        return real(self, rows)

    monkeypatch.setattr(excel_import.SecondHalf, "give_cells", killed_first)
    assert preview_of(data) == expected
    assert apart_reads == ["花名册"]
    _no_children_left()


def tally_then(named_list: bool) -> bytes:
    """A large sheet of figures with no header the spec knows, and maybe a list after it."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    tally = book.add_worksheet("统计")
    for r in range(400):
        tally.write_row(r, 0, ["乡镇", r, r * 2])
    if named_list:
        ws = book.add_worksheet("名单")
        ws.write_row(0, 0, ["姓名", "次数"])
        for r in range(1, 400):
            ws.write_row(r, 0, [f"人员{r}", r % 5])
    book.close()
    return buffer.getvalue()


def test_a_large_sheet_without_the_header_is_passed_by(apart_reads):
    preview = validate(RosterSpec(actor=None), tally_then(named_list=True))
    assert apart_reads == ["统计", "名单"]
    assert preview.header.sheet == "名单" and len(preview.rows) == 399
    assert [row.values["count"] for row in preview.rows[-3:]] == [2, 3, 4]
    _no_children_left()


def test_no_header_anywhere_stops_every_second_process(apart_reads):
    with pytest.raises(excel_import.ImportFileError):
        validate(RosterSpec(actor=None), tally_then(named_list=False))
    assert apart_reads == ["统计"]
    _no_children_left()
