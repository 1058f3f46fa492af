"""A large worksheet read on two cores.

python-calamine lets go of the interpreter lock while it parses a worksheet's XML
(two thirds of reading a 100,000-row register), but it parses one sheet on one
core. ``read_in_halves`` cuts the sheet's XML at a row boundary near its middle,
hands each half to calamine as a workbook of its own (every other part of the
file as it was: shared strings, styles, the merged cells after the rows), reads
the two in two threads and joins their rows into the grid a whole read gives:
from A1, every row as wide as the widest.

It relies on what every spreadsheet program writes (a ``<sheetData>`` of ``<row
r="…">`` elements, each cell with its own reference); whenever the file is not
like that, or the halves do not join cleanly, it returns None and the caller
reads the sheet whole. The threads are joined before it returns.
"""

from __future__ import annotations

import io
import posixpath
import re
import threading
import zipfile
from typing import Any
from xml.sax.saxutils import unescape

# A worksheet's XML at least this large (about 6,000 register rows) is read in halves.
SPLIT_BYTES = 4 << 20
# Nothing larger is inflated here (about 380,000 rows; calamine reads such a sheet
# whole, as it would anyway): the halves cost memory, three copies of the XML.
_MAX_BYTES = 256 << 20

_TAG = re.compile(rb"<(sheet|Relationship)\b([^>]*)>")
_ATTR = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_ENTITIES = {"&quot;": '"', "&apos;": "'"}

Grid = list[list[Any]]


def _attributes(text: bytes) -> dict[str, str]:
    return {k.decode(): unescape(v.decode("utf-8"), _ENTITIES) for k, v in _ATTR.findall(text)}


def _sheet_member(book: zipfile.ZipFile, name: str) -> str | None:
    """The zip member holding the worksheet called ``name`` (xl/workbook.xml and its rels)."""
    try:
        workbook = book.read("xl/workbook.xml")
        rels = book.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    rel_id = None
    for tag, attrs in _TAG.findall(workbook):
        if tag == b"sheet":
            found = _attributes(attrs)
            if found.get("name") == name:
                rel_id = found.get("r:id")
                break
    if rel_id is None:
        return None
    for tag, attrs in _TAG.findall(rels):
        if tag == b"Relationship":
            found = _attributes(attrs)
            if found.get("Id") == rel_id and found.get("Target"):
                target = found["Target"]
                if target.startswith("/"):
                    return target.lstrip("/")
                return posixpath.normpath(posixpath.join("xl", target))
    return None


def _halves(xml: bytes) -> tuple[bytes, bytes, int] | None:
    """The sheet's XML as two documents, cut before a row near the middle, and the
    number of the first row of the second."""
    start = xml.find(b"<sheetData>")
    end = xml.rfind(b"</sheetData>")
    if start < 0 or end < start:
        return None
    start += len(b"<sheetData>")
    cut = _ROW.search(xml, start + (end - start) // 2, end)
    if cut is None:
        return None
    head, tail = xml[:start], xml[end:]
    return (
        head + xml[start : cut.start()] + tail,
        head + xml[cut.start() : end] + tail,
        int(cut.group(1)),
    )


def _book(source: zipfile.ZipFile, member: str, xml: bytes) -> bytes:
    """The workbook with ``member`` replaced by ``xml`` (stored, not compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for info in source.infolist():
            if info.filename != member:
                out.writestr(info.filename, source.read(info.filename))
        out.writestr(member, xml)
    return buffer.getvalue()


def read_in_halves(data: bytes, name: str) -> tuple[Grid, list] | None:
    """The rows and merged ranges of worksheet ``name`` of an .xlsx, read in two
    threads; None where the sheet is small or not cut cleanly (read it whole)."""
    from python_calamine import CalamineWorkbook

    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        member = _sheet_member(source, name)
        if member is None:
            return None
        size = source.getinfo(member).file_size
        if not SPLIT_BYTES <= size <= _MAX_BYTES:
            return None
        halves = _halves(source.read(member))
        if halves is None:
            return None
        second_row = halves[2]
        books = [_book(source, member, halves[0]), _book(source, member, halves[1])]
        del halves
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
        return None
    results: list[Any] = [None, None]

    def read(i: int) -> None:
        try:
            sheet = CalamineWorkbook.from_filelike(io.BytesIO(books[i])).get_sheet_by_name(name)
            # The first half from A1, as a whole read gives it; the second from its
            # first cell (its start tells where that is).
            results[i] = (sheet, sheet.to_python(skip_empty_area=i == 1))
        except Exception as exc:  # noqa: BLE001 — the caller reads the sheet whole
            results[i] = exc

    other = threading.Thread(target=read, args=(1,), name="sheet-half", daemon=True)
    other.start()
    read(0)
    other.join()
    if any(isinstance(r, Exception) or r is None for r in results):
        return None
    (first, top), (second, bottom) = results
    return _joined(first, top, second, bottom, second_row)


def _joined(first: Any, top: Grid, second: Any, bottom: Grid, second_row: int) -> tuple | None:
    merged = list(first.merged_cell_ranges or [])
    if not bottom:
        return top, merged
    row0, col0 = second.start
    # The second half begins at or after the row the cut was made before, and after
    # the last row of the first.
    if row0 < second_row - 1 or row0 < len(top):
        return None
    # calamine gives an empty cell inside the grid as "".
    width = max(len(top[0]) if top else 0, col0 + len(bottom[0]))
    grid = top
    if top and len(top[0]) < width:
        grid = [row + [""] * (width - len(row)) for row in top]
    grid.extend([""] * width for _ in range(row0 - len(grid)))
    pad = width - col0 - len(bottom[0])
    if col0 or pad:
        lead, trail = [""] * col0, [""] * pad
        grid.extend(lead + row + trail for row in bottom)
    else:
        grid.extend(bottom)
    return grid, merged
