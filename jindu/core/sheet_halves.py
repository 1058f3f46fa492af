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
like that, stored in a way it does not copy (encrypted, Zip64, another method than
stored or deflated), damaged (its checksum), or the halves do not join cleanly, it
returns None and the caller reads the sheet whole. The threads are joined before it returns.

``plan_halves`` and ``read_half`` are the same two steps for a caller that reads the
second half elsewhere (``jindu.core.excel_import`` reads and parses it in a second
process).
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import threading
import zipfile
import zlib
from typing import Any, NamedTuple
from xml.sax.saxutils import unescape

# A worksheet's XML at least this large (about 6,000 register rows) is read in halves.
SPLIT_BYTES = 4 << 20
# Nothing larger is inflated here (about 380,000 rows; calamine reads such a sheet
# whole, as it would anyway): the halves cost memory, the XML three times over (inflated,
# in the halves' workbooks, and in calamine's copy of them).
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


def _cut(xml: bytes) -> tuple[int, int, int, int] | None:
    """Where the rows start and end in the sheet's XML, where they are cut (before a
    row near the middle), and the number of the first row of the second half."""
    start = xml.find(b"<sheetData>")
    end = xml.rfind(b"</sheetData>")
    if start < 0 or end < start:
        return None
    start += len(b"<sheetData>")
    cut = _ROW.search(xml, start + (end - start) // 2, end)
    if cut is None:
        return None
    return start, cut.start(), end, int(cut.group(1))


# The parts of a zip file (PKWARE APPNOTE 4.3.7, 4.3.12, 4.3.16), little-endian.
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIGNATURE, _CENTRAL_SIGNATURE, _END_SIGNATURE = 0x04034B50, 0x02014B50, 0x06054B50
_STORED, _DEFLATED = 0, 8
_UTF8_NAME = 0x800
_JAN_1_1980 = 0x21


class _Member(NamedTuple):
    """A zip member as the halves' workbooks hold it: its data as pieces of bytes
    (compressed as in the file, or stored), to be joined once."""

    name: str
    method: int
    crc: int
    size: int
    pieces: list[Any]


def _raw(data: bytes, info: zipfile.ZipInfo) -> memoryview | None:
    """A member's data as it sits in the file (compressed), without a copy."""
    offset = info.header_offset
    if offset + _LOCAL.size > len(data):
        return None
    fields = _LOCAL.unpack_from(data, offset)
    if fields[0] != _LOCAL_SIGNATURE:
        return None
    begin = offset + _LOCAL.size + fields[9] + fields[10]
    if begin + info.compress_size > len(data):
        return None
    return memoryview(data)[begin : begin + info.compress_size]


def _zip(members: list[_Member]) -> bytes:
    """A zip file of ``members``, built in one allocation."""
    parts: list[Any] = []
    central: list[bytes] = []
    offset = 0
    for m in members:
        name = m.name.encode("utf-8")
        flags = 0 if name.isascii() else _UTF8_NAME
        packed = sum(len(piece) for piece in m.pieces)
        head = (m.method, 0, _JAN_1_1980, m.crc, packed, m.size, len(name))
        local = _LOCAL.pack(_LOCAL_SIGNATURE, 20, flags, *head, 0) + name
        parts += [local, *m.pieces]
        central.append(
            _CENTRAL.pack(_CENTRAL_SIGNATURE, 20, 20, flags, *head, 0, 0, 0, 0, 0, offset)
        )
        central.append(name)
        offset += len(local) + packed
    directory = b"".join(central)
    count = len(members)
    parts += [directory, _END.pack(_END_SIGNATURE, 0, 0, count, count, len(directory), offset, 0)]
    return b"".join(parts)


class Halves(NamedTuple):
    """A sheet's XML inflated once and where it is cut: what each half's workbook is
    built from."""

    name: str
    xml: memoryview
    start: int
    middle: int
    end: int
    # The number (from 1) of the row the second half starts at.
    second_row: int
    sheet_info: zipfile.ZipInfo
    infos: list[zipfile.ZipInfo]
    raws: list[memoryview]


def plan_halves(data: bytes, name: str) -> Halves | None:
    """Where worksheet ``name`` of an .xlsx is cut in two; None where the sheet is small
    or cannot be cut cleanly (read it whole)."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        member = _sheet_member(source, name)
        if member is None:
            return None
        infos = source.infolist()
        if any(
            info.flag_bits & 1  # encrypted
            or info.compress_type not in (_STORED, _DEFLATED)
            or max(info.file_size, info.compress_size, info.header_offset) >= 0xFFFFFFFF
            for info in infos
        ):
            return None
        sheet_info = source.getinfo(member)
        if not SPLIT_BYTES <= sheet_info.file_size <= _MAX_BYTES:
            return None
        raws = [_raw(data, info) for info in infos]
        if any(raw is None for raw in raws):
            return None
        packed = raws[infos.index(sheet_info)]
        if sheet_info.compress_type == _DEFLATED:
            xml = zlib.decompress(packed, -zlib.MAX_WBITS, sheet_info.file_size)
        else:
            xml = bytes(packed)
        if len(xml) != sheet_info.file_size or zlib.crc32(xml) != sheet_info.CRC:
            return None
        cut = _cut(xml)
        if cut is None:
            return None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error):
        return None
    return Halves(name, memoryview(xml), *cut, sheet_info, infos, raws)  # type: ignore[arg-type]


def read_half(halves: Halves, i: int) -> tuple[Any, Grid]:
    """Half ``i`` (0 or 1) as calamine reads it: its sheet and its rows. The first half
    is from A1, as a whole read gives it; the second from its first cell (the sheet's
    ``start`` tells where that is)."""
    from python_calamine import CalamineWorkbook

    xml, start, end = halves.xml, halves.start, halves.end
    rows = xml[start : halves.middle] if i == 0 else xml[halves.middle : end]
    pieces = [xml[:start], rows, xml[end:]]
    crc = 0
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
    size = sum(len(piece) for piece in pieces)
    book = _zip([
        _Member(info.filename, _STORED, crc, size, pieces)
        if info is halves.sheet_info
        else _Member(info.filename, info.compress_type, info.CRC, info.file_size, [raw])
        for info, raw in zip(halves.infos, halves.raws, strict=True)
    ])  # fmt: skip
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(book)).get_sheet_by_name(halves.name)
    del book
    return sheet, sheet.to_python(skip_empty_area=i == 1)


def second_half_fits(halves: Halves, first: Grid, row0: int) -> bool:
    """Whether the second half, whose first row is grid row ``row0`` (from 0), begins
    where it may: at or after the row the cut was made before, and after the last
    row of the first half."""
    return row0 >= halves.second_row - 1 and row0 >= len(first)


def read_in_halves(data: bytes, name: str) -> tuple[Grid, list] | None:
    """The rows and merged ranges of worksheet ``name`` of an .xlsx, read in two
    threads; None where the sheet is small or not cut cleanly (read it whole).

    Each half is a workbook of its own: the other members copied as they are
    (still compressed), the sheet stored with half its rows. The sheet's XML is
    inflated once and each half's workbook joined from slices of it in one go:
    every copy of tens of megabytes costs a large import its page faults.
    """
    halves = plan_halves(data, name)
    if halves is None:
        return None
    results: list[Any] = [None, None]

    def read(i: int) -> None:
        try:
            results[i] = read_half(halves, i)
        except Exception as exc:  # noqa: BLE001 — the caller reads the sheet whole
            results[i] = exc

    other = threading.Thread(target=read, args=(1,), name="sheet-half", daemon=True)
    other.start()
    read(0)
    other.join()
    if any(isinstance(r, Exception) or r is None for r in results):
        return None
    (first, top), (second, bottom) = results
    return _joined(halves, first, top, second, bottom)


def _joined(halves: Halves, first: Any, top: Grid, second: Any, bottom: Grid) -> tuple | None:
    merged = list(first.merged_cell_ranges or [])
    if not bottom:
        return top, merged
    row0, col0 = second.start
    if not second_half_fits(halves, top, row0):
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
