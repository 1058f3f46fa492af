"""A large sheet read in pieces beside the parsing gives exactly the rows a whole read
gives, and falls back to the whole read for whatever it does not cut the simple way."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import pytest

from jindu.core import excel_import
from jindu.core.excel_import import commit, read_sheets, validate
from jindu.people.importer import PersonImport
from jindu.people.models import Measure, Person, Responsibility
from tests.people_factories import make_id_number
from tests.test_people_import import HEADER, row, sheet


@pytest.fixture
def pieces(monkeypatch):
    """Every sheet read in pieces of a few kilobytes (a real one: 16 MB of XML)."""
    monkeypatch.setattr(excel_import, "_PIECES_FROM", 0)
    monkeypatch.setattr(excel_import, "_PIECE_XML", 3000)
    monkeypatch.setattr(excel_import, "_INFLATE", 1024)


def whole(data: bytes) -> list:
    """The sheets as calamine reads them whole."""
    sheets = []
    for found in read_sheets(data):
        assert found.more is None
        sheets.append(found)
    return sheets


def in_pieces(data: bytes) -> list:
    return list(read_sheets(data))


def same_grid(pieces_rows: list[list], whole_rows: list[list]) -> None:
    """Row for row the same cells; a row read in pieces may be narrower (trailing blanks)."""
    assert len(pieces_rows) == len(whole_rows)
    for number, (got, want) in enumerate(zip(pieces_rows, whole_rows, strict=True), 1):
        assert got == want[: len(got)], number
        assert all(cell == "" for cell in want[len(got) :]), number


def workbook(shared_strings: bool = True) -> bytes:
    """Cells of every kind, a merged title, gaps of empty rows, a late wider column."""
    from openpyxl import Workbook

    book = Workbook(write_only=not shared_strings)
    ws = book.create_sheet("名册")
    book.create_sheet("说明").append(["这一页没有表头"])
    rows = [["青岚县吸毒人员登记表"], ["序号", "姓名", "日期", "数", "是否", "时间"]]
    for i in range(600):
        if i % 97 == 5:
            rows.append([])
            rows.append([])
            continue
        rows.append([
            i, f"姓名{i}" if i % 7 else None, date(2020, 1 + i % 12, 1 + i % 28), i * 1.5,
            i % 2 == 0, datetime(2021, 3, 4, 5, 6, 7),
        ])  # fmt: skip
    rows.append([None, None, None, None, None, None, None, None, "最后一行更宽"])
    if shared_strings:
        for values in rows:
            ws.append(values)
        ws.merge_cells("A1:F1")
        del book["Sheet"]
    else:
        for values in rows:
            ws.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite(data: bytes, change) -> bytes:
    """The workbook with its first worksheet's XML changed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.endswith("sheet1.xml"):
                content = change(content)
            target.writestr(info.filename, content)
    return out.getvalue()


@pytest.mark.parametrize("shared_strings", [True, False])
def test_pieces_give_the_rows_of_a_whole_read(pieces, monkeypatch, shared_strings):
    data = workbook(shared_strings)
    got = in_pieces(data)
    assert got[0].more is not None  # really read in pieces
    assert len(got[0].rows) < 100
    monkeypatch.setattr(excel_import, "_PIECES_FROM", 1 << 60)
    want = whole(data)
    assert [s.name for s in got] == [s.name for s in want]
    for piece_sheet, whole_sheet in zip(got, want, strict=True):
        assert piece_sheet.merged == whole_sheet.merged
        same_grid(list(piece_sheet.rows_from(0)), whole_sheet.rows)


def test_rows_from_a_later_row(pieces):
    data = workbook()
    first, *_rest = in_pieces(data)
    expected = excel_import._plain_sheet(data, "名册").rows[250:]
    same_grid(list(first.rows_from(250)), expected)


def test_a_sheet_starting_right_and_below_a1(pieces, monkeypatch):
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    for i in range(400):
        ws.cell(row=5 + i, column=3, value=f"值{i}")
        ws.cell(row=5 + i, column=4, value=i)
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    got = in_pieces(data)[0]
    assert got.more is not None
    monkeypatch.setattr(excel_import, "_PIECES_FROM", 1 << 60)
    same_grid(list(got.rows_from(0)), whole(data)[0].rows)


@pytest.mark.parametrize(
    "change",
    [
        # rows without numbers: calamine would count them from each piece's start
        lambda xml: re.sub(rb'<row r="\d+"', b"<row", xml),
        # CDATA or a comment could hold what looks like a row
        lambda xml: xml.replace(b"<t>", b'<t><![CDATA[<row r="1">]]>', 1),
        lambda xml: xml.replace(b"<sheetData>", b"<sheetData><!-- <row r='9'> -->", 1),
    ],
    ids=["no row numbers", "cdata", "comment"],
)
def test_unusual_xml_is_read_whole(pieces, monkeypatch, change):
    data = rewrite(workbook(), change)
    got = in_pieces(data)
    monkeypatch.setattr(excel_import, "_PIECES_FROM", 1 << 60)
    want = whole(data)
    for piece_sheet, whole_sheet in zip(got, want, strict=True):
        assert piece_sheet.merged == whole_sheet.merged
        same_grid(list(piece_sheet.rows_from(0)), whole_sheet.rows)


def test_a_broken_piece_reads_the_rest_whole(pieces, monkeypatch):
    data = workbook()
    calls = []
    real = excel_import._parse_piece

    def flaky(workbook_bytes, name):
        calls.append(name)
        if len(calls) == 3:
            raise ValueError("broken piece")
        return real(workbook_bytes, name)

    monkeypatch.setattr(excel_import, "_parse_piece", flaky)
    got = in_pieces(data)[0]
    rows = list(got.rows_from(0))
    monkeypatch.setattr(excel_import, "_PIECES_FROM", 1 << 60)
    same_grid(rows, whole(data)[0].rows)


def test_a_damaged_sheet_is_refused_as_a_whole_read_refuses_it(pieces):
    data = rewrite(workbook(), lambda xml: xml[: len(xml) // 2])
    with pytest.raises(excel_import.ImportFileError):
        for found in read_sheets(data):
            list(found.rows_from(0))


def test_the_register_import_in_pieces_writes_what_a_whole_read_writes(
    personas, pieces, monkeypatch
):
    user = personas.cadre_a
    rows = [
        row(i, name=f"人员{i}", id_number=make_id_number(date(1980, 1, 1 + i % 28), 100 + i),
            unit="甲一村" if i % 2 else "甲一村第一网格")
        for i in range(1, 120)
    ]  # fmt: skip
    rows[7][HEADER.index("公民身份号码")] = "123"
    data = sheet(rows)
    assert next(read_sheets(data)).more is not None
    preview = validate(PersonImport(actor=user), data, filename="名册.xlsx")
    monkeypatch.setattr(excel_import, "_PIECES_FROM", 1 << 60)
    again = validate(PersonImport(actor=user), data, filename="名册.xlsx")
    assert preview.summary() == again.summary()
    assert [r.cells for r in preview.rows] == [r.cells for r in again.rows]
    result = commit(preview, partial=True)
    assert result.counts["created"] == 118 and result.rejected == 1
    assert Person.objects.count() == Responsibility.objects.count() == 118
    assert Measure.objects.count() == 0
