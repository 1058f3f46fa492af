"""A large worksheet read in two halves on two threads gives exactly the grid and the
merged ranges a whole read gives, whatever the halves look like; a sheet that cannot
be cut cleanly is read whole."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import pytest
from python_calamine import CalamineWorkbook

from jindu.core import excel_import, sheet_halves


@pytest.fixture(autouse=True)
def _cut_small_sheets(monkeypatch):
    monkeypatch.setattr(sheet_halves, "SPLIT_BYTES", 1)


def whole(data: bytes, name: str) -> tuple[list, list]:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(name)
    return sheet.to_python(skip_empty_area=False), list(sheet.merged_cell_ranges or [])


def xlsxwriter_book(name: str, write) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("说明").write_string(0, 0, "另一张表")
    write(book, book.add_worksheet(name))
    book.close()
    return buffer.getvalue()


def register(book, ws) -> None:
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.merge_range(0, 0, 0, 5, "吸毒人员登记表")
    ws.write_row(1, 0, ["序号", "姓名", "身份证号", "发现日期", "次数", "备注"])
    for i in range(400):
        r = i + 2
        ws.write_number(r, 0, i + 1)
        ws.write_string(r, 1, f"人员{i % 37}")
        ws.write_string(r, 2, f"1101051949123{i:05d}")
        ws.write_datetime(r, 3, datetime(2018, 3, 1 + i % 28), day)
        ws.write_number(r, 4, i * 1.5)
        if i < 100:
            ws.write_string(r, 5, "旧")  # the last column is empty in the second half


def test_a_register_sheet_read_in_halves_is_the_whole_read():
    data = xlsxwriter_book("名册", register)
    got = sheet_halves.read_in_halves(data, "名册")
    assert got is not None
    assert got == whole(data, "名册")
    grid, merged = got
    assert len(grid) == 402 and all(len(row) == 6 for row in grid)
    assert grid[401][5] == "" and merged == [((0, 0), (0, 5))]


def test_empty_rows_across_the_cut_and_a_narrower_second_half_with_an_empty_first_column():
    def write(book, ws):
        ws.write_row(0, 0, ["编号", "姓名", "电话", "地址"])
        for r in range(1, 60):
            ws.write_row(r, 0, [r, f"甲{r}", f"139{r:08d}", "甲村"])
        # Row 60 is most of the XML, so the cut falls after it; rows 61-180 are empty,
        # then rows with nothing in column A and two columns only.
        ws.write_row(59, 0, list(range(300)))
        for r in range(180, 300):
            ws.write_row(r, 1, [f"乙{r}", f"{r}"])

    data = xlsxwriter_book("名册", write)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml")
    assert sheet_halves._cut(xml)[3] == 181  # the second half starts after the gap
    got = sheet_halves.read_in_halves(data, "名册")
    assert got is not None and got == whole(data, "名册")
    grid = got[0]
    assert len(grid) == 300 and {len(row) for row in grid} == {300}
    assert grid[150] == [""] * 300 and grid[200][:3] == ["", "乙200", "200"]


def test_an_openpyxl_sheet_with_text_in_its_cells_and_an_escaped_sheet_name():
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("A&B<名册>")
    sheet.append(["姓名", "日期"])
    for i in range(300):
        sheet.append([f"人员{i}", f"2018.3.{1 + i % 28}"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    got = sheet_halves.read_in_halves(data, "A&B<名册>")
    assert got is not None and got == whole(data, "A&B<名册>")


def _rewritten(data: bytes, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                content = change(content)
            target.writestr(info.filename, content)
    return out.getvalue()


def test_a_sheet_that_cannot_be_cut_cleanly_is_read_whole():
    data = xlsxwriter_book("名册", register)
    # Rows without their numbers: no row to cut before.
    unnumbered = _rewritten(data, lambda xml: re.sub(rb'(<row\b[^>]*?) r="\d+"', rb"\1", xml))
    assert sheet_halves.read_in_halves(unnumbered, "名册") is None
    # A namespace prefix on the elements: no <sheetData> to find.
    prefixed = _rewritten(data, lambda xml: xml.replace(b"<sheetData>", b"<x:sheetData>"))
    assert sheet_halves.read_in_halves(prefixed, "名册") is None

    # Rows numbered out of order: the second half would start above the first's end.
    def jumbled(xml: bytes) -> bytes:
        return re.sub(rb'<row r="(3\d\d)"', lambda m: b'<row r="%d"' % (int(m[1]) - 300), xml)

    assert sheet_halves.read_in_halves(_rewritten(data, jumbled), "名册") is None
    # No such sheet, not a zip, or below the size worth cutting.
    assert sheet_halves.read_in_halves(data, "没有这张表") is None
    assert sheet_halves.read_in_halves(b"PK\x03\x04 broken", "名册") is None


def test_a_small_sheet_is_read_whole(monkeypatch):
    monkeypatch.setattr(sheet_halves, "SPLIT_BYTES", 4 << 20)
    assert sheet_halves.read_in_halves(xlsxwriter_book("名册", register), "名册") is None


def test_read_sheets_gives_the_same_sheets_read_in_halves_or_whole(monkeypatch):
    data = xlsxwriter_book("名册", register)
    halves = [(s.name, s.rows, s.merged) for s in excel_import.read_sheets(data)]
    monkeypatch.setattr(sheet_halves, "read_in_halves", lambda data, name: None)
    read_whole = [(s.name, s.rows, s.merged) for s in excel_import.read_sheets(data)]
    assert halves == read_whole
    assert [name for name, _r, _m in halves] == ["说明", "名册"]


class _Unseekable(io.RawIOBase):
    """A stream zipfile cannot seek back in: it writes each member's sizes after its data."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.buffer += data
        return len(data)


def test_members_stored_or_with_their_sizes_after_the_data_are_copied_as_they_are():
    data = xlsxwriter_book("名册", register)
    source = zipfile.ZipFile(io.BytesIO(data))
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    streamed = _Unseekable()
    with zipfile.ZipFile(streamed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            with target.open(info.filename, "w") as member:
                member.write(source.read(info.filename))
    described = bytes(streamed.buffer)
    assert all(i.flag_bits & 0x08 for i in zipfile.ZipFile(io.BytesIO(described)).infolist())
    for book in (stored.getvalue(), described):
        got = sheet_halves.read_in_halves(book, "名册")
        assert got is not None and got == whole(book, "名册")


def test_a_damaged_sheet_is_left_to_the_whole_read():
    data = bytearray(xlsxwriter_book("名册", register))
    source = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = source.getinfo("xl/worksheets/sheet2.xml")
    # One byte of the compressed rows changed: the sheet no longer matches its checksum.
    header = info.header_offset
    name_len, extra_len = (
        int.from_bytes(data[header + 26 : header + 28], "little"),
        int.from_bytes(data[header + 28 : header + 30], "little"),
    )
    at = header + 30 + name_len + extra_len + info.compress_size // 2
    data[at] ^= 0xFF
    assert sheet_halves.read_in_halves(bytes(data), "名册") is None
