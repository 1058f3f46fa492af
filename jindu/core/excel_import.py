"""Excel import: the one mechanism every incoming sheet goes through.

A spec (``ImportSpec``) lists its columns (``Field``: a Chinese header, its
aliases, required or not, a parser). ``validate`` reads the workbook with
python-calamine, finds the header row among the first rows (a title row or a
merged header above it is fine), matches columns by name in any order,
normalises every cell (full-width digits and letters, stray spaces, Excel
numbers that are really codes, dates in the ways people type them) and checks
every row, collecting errors by the row number and column header the user sees
in Excel. Nothing is written then: ``commit`` writes in one transaction, either
all-or-nothing or valid rows only, and audits the run. ``RejectedRowsExporter``
gives the rejected rows back as a sheet with a "错误说明" column.
``jindu.core.excel_stash`` keeps an upload between the preview and the confirm.

Speed matters (a legacy register has 100,000 rows): the base issues no query
per row; a spec loads what it looks up once, in ``prefetch``. A large sheet is
cut in two: where the process may fork (the background worker, the command),
the second half is read and parsed in a second process (``SecondHalf``) while
this one reads and parses the first, so a spec's parsers must not use the
database (there, any use raises, and this process parses that half itself).
"""

from __future__ import annotations

import io
import logging
import pickle
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jindu.core import offload, sheet_halves
from jindu.core.excel import Column, Exporter
from jindu.core.memory import collector_paused

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------ errors


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not Excel, empty, no header …)."""


class CellError(ValueError):
    """A parser's Chinese explanation of why one cell is wrong."""


class ImportWriteError(Exception):
    """The write failed as a whole (someone changed the same data meanwhile)."""


# ------------------------------------------------------------------ cell normalisation

_HALFWIDTH = {
    **{0xFF10 + i: 0x30 + i for i in range(10)},  # ０-９
    **{0xFF21 + i: 0x41 + i for i in range(26)},  # Ａ-Ｚ
    **{0xFF41 + i: 0x61 + i for i in range(26)},  # ａ-ｚ
    0x3000: 0x20,  # ideographic space
    0x00A0: 0x20,  # no-break space (pasted from web pages)
    0x200B: None,  # zero-width space
    0xFEFF: None,  # byte-order mark
}
_BLANK_CHARS = " \t\r\n\u3000\u00a0\u200b\ufeff"
# Anything clean_text would change inside a string; most cells have none of it,
# and one search is cheaper than always translating (100,000-row sheets).
_DIRTY = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000\u00a0\u200b\ufeff\t\r\n]|\s\s")
_ALL_WS = re.compile(r"\s+")


def to_halfwidth(text: str) -> str:
    """Full-width digits and letters to ASCII; Chinese punctuation is left alone."""
    return text if text.isascii() else text.translate(_HALFWIDTH)


def number_text(value: float | int) -> str:
    """An Excel number as the code a person typed: 1.0 → "1", never scientific notation."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def clean_text(value: Any) -> str:
    """Any cell as trimmed text: half-width digits and letters, one space between words."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        if _DIRTY.search(value) is None:
            return value.strip()
        return " ".join(to_halfwidth(value).split())
    if kind is float or kind is int:
        return number_text(value)
    if kind is bool:
        return _("是") if value else _("否")
    if kind is datetime:
        return value.date().isoformat() if value.time() == dtime() else value.isoformat(sep=" ")
    if kind is date:
        return value.isoformat()
    return str(value).strip()


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if type(value) is str:
        return not value.strip() or not value.strip(_BLANK_CHARS)
    return False


def code_text(value: Any) -> str:
    """A code (division code, ID number, phone): no spaces at all, upper-case letters."""
    text = clean_text(value)
    if " " in text:
        text = _ALL_WS.sub("", text)
    return text.upper()


text = clean_text


EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PARTS = re.compile(
    r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,5}(?:\.\d+)?$")


def _from_serial(serial: float) -> date:
    if not 1 <= serial < 100000:
        raise CellError(_("无法识别的日期“%(value)s”") % {"value": number_text(serial)})
    return EXCEL_EPOCH + timedelta(days=int(serial))


def _ymd(year: int, month: int, day: int, shown: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise CellError(_("日期“%(value)s”不存在") % {"value": shown}) from exc


def parse_date(value: Any) -> date:
    """A date as people type it: 2018-3-5, 2018/03/05, 2018.3.5, 2018年3月5日, 20180305,
    a date-formatted cell, or an Excel serial number (43164)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError(_("无法识别的日期"))
    if isinstance(value, (int, float)):
        if 19000101 <= value <= 99991231 and float(value).is_integer():
            digits = str(int(value))
            return _ymd(int(digits[:4]), int(digits[4:6]), int(digits[6:]), digits)
        return _from_serial(float(value))
    shown = clean_text(value)
    match = _DATE_PARTS.match(shown)
    if match:
        return _ymd(int(match[1]), int(match[2]), int(match[3]), shown)
    match = _DATE_COMPACT.match(shown)
    if match:
        return _ymd(int(match[1]), int(match[2]), int(match[3]), shown)
    if _SERIAL.match(shown):
        return _from_serial(float(shown))
    raise CellError(
        _("无法识别的日期“%(value)s”，请写成 2018-03-05 或 2018年3月5日") % {"value": shown}
    )


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError(_("应为整数"))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError(_("应为整数，当前为“%(value)s”") % {"value": number_text(value)})
    shown = clean_text(value).replace(",", "").replace("，", "")
    try:
        return int(shown)
    except ValueError as exc:
        raise CellError(_("应为整数，当前为“%(value)s”") % {"value": shown}) from exc


def parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CellError(_("应为数字"))
    if isinstance(value, (int, float)):
        return Decimal(number_text(value))
    shown = clean_text(value).replace(",", "").replace("，", "")
    try:
        result = Decimal(shown)
    except InvalidOperation as exc:
        raise CellError(_("应为数字，当前为“%(value)s”") % {"value": shown}) from exc
    if not result.is_finite():
        raise CellError(_("应为数字，当前为“%(value)s”") % {"value": shown})
    return result


_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "✓", "✔", "对"}
_FALSE = {"否", "无", "n", "no", "false", "0", "×", "✗", "✘", "不是"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    shown = clean_text(value).lower()
    if shown in _TRUE:
        return True
    if shown in _FALSE:
        return False
    raise CellError(_("应填“是”或“否”，当前为“%(value)s”") % {"value": shown})


_MULTI_SEP = re.compile(r"[、,，;；/|\s]+")


def split_multi(value: Any) -> list[str]:
    """A cell holding several values: "海洛因、冰毒" → ["海洛因", "冰毒"]."""
    return [part for part in _MULTI_SEP.split(clean_text(value)) if part]


def header_key(value: Any) -> str:
    """How a header is compared: no spaces, half-width, no required-marks or trailing colon."""
    key = _ALL_WS.sub("", clean_text(value))
    key = key.replace("（必填）", "").replace("(必填)", "").strip("*＊:：")
    return key.lower()


# ------------------------------------------------------------------ spec


@dataclass(frozen=True)
class Field:
    """One column a spec reads.

    ``parse`` turns a non-blank cell into a value or raises ``CellError``; a blank
    cell gives ``default`` (or an error if ``required``).
    """

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    parse: Callable[[Any], Any] = text
    default: Any = None
    help: str = ""

    def names(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


class ImportRow:
    """One data row: its Excel row number, the original cells, parsed values, errors.

    The cells are what the rejected-rows file gives back. A valid row of a large
    sheet's second half, parsed in a second process, does not carry them (None):
    ``validate`` fetches the cells of the rows it rejects only."""

    __slots__ = ("number", "cells", "values", "errors", "outcome", "context")

    def __init__(self, number: int, cells: list[Any] | None) -> None:
        self.number = number
        self.cells = cells
        self.values: dict[str, Any] = {}
        self.errors: list[tuple[str, str]] = []
        # What writing this row would do: "create", "update" or "unchanged".
        self.outcome = ""
        # Whatever the spec found for this row during checks (the existing object …).
        self.context: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, key: str, message: str) -> None:
        """Record an error against a field key ("" for the row as a whole)."""
        self.errors.append((key, str(message)))


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportSpec:
    """What one kind of sheet contains and how its rows are checked and written.

    Subclasses set the class attributes and implement ``check_row`` (or
    ``check_rows`` for checks across rows) and ``write``. ``prefetch`` loads
    every lookup the checks need in bulk, once.
    """

    key: ClassVar[str]
    title: ClassVar[str]
    object_type: ClassVar[str]
    fields: ClassVar[Sequence[Field]] = ()
    # Whether the user may choose to write the valid rows and leave the rest.
    allow_partial: ClassVar[bool] = True
    default_partial: ClassVar[bool] = False
    contains_personal_data: ClassVar[bool] = False
    header_scan_rows: ClassVar[int] = 10
    help: ClassVar[str] = ""
    # Templates receive the spec class itself to show its columns; never call it.
    do_not_call_in_templates: ClassVar[bool] = True

    def __init__(self, *, actor: Any, **options: Any) -> None:
        self.actor = actor
        self.options = options

    # -- command line
    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        """Extra options of ``jindu import <key>``."""

    @classmethod
    def from_cli(cls, *, actor: Any, options: dict[str, Any]) -> ImportSpec:
        return cls(actor=actor)

    # -- checks
    def prepare(self, rows: Sequence[ImportRow]) -> None:
        """The rows are about to be checked and then written at once (``validate``'s
        ``for_write``): work for the write that no check changes may start here, to
        run beside the checks (the person import encrypts personal data in a second
        process). Nothing is written, and nothing a check reads may change."""

    def prefetch(self, rows: Sequence[ImportRow]) -> None:
        """Load, in a few queries, everything ``check_row`` will look up."""

    def check_rows(self, rows: Sequence[ImportRow]) -> None:
        for row in rows:
            if row.ok:
                self.check_row(row)

    def check_row(self, row: ImportRow) -> None:
        row.outcome = row.outcome or "create"

    # -- writing
    def write(self, rows: Sequence[ImportRow]) -> dict[str, int]:
        """Write the rows (all valid) inside the caller's transaction; return counts."""
        raise NotImplementedError

    def audit_detail(self) -> dict[str, Any]:
        """What the audit row says about this run besides the counts."""
        return {}


IMPORTS: dict[str, type[ImportSpec]] = {}


def register_import(spec: type[ImportSpec]) -> type[ImportSpec]:
    """Make a spec available to ``jindu import <key>`` (and to the apps' import pages)."""
    IMPORTS[spec.key] = spec
    return spec


# ------------------------------------------------------------------ reading

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class SheetData:
    name: str
    # The grid from A1, so that index + 1 is the row number Excel shows.
    rows: list[list[Any]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    # A large sheet's rows after ``rows``, being read in a second process (below).
    rest: SecondHalf | None = None


def max_upload_bytes() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def _not_excel() -> ImportFileError:
    return ImportFileError(
        _("文件不是Excel表格（.xlsx 或 .xls）。请在Excel或WPS中“另存为”.xlsx格式后再导入。")
    )


def read_sheets(data: bytes, *, spec: ImportSpec | None = None) -> Iterator[SheetData]:
    """Every visible worksheet of a workbook, read with python-calamine.

    A large sheet is read on two cores where it can be cut cleanly in two. Given the
    ``spec`` its rows are for, and where this process may fork, the second half is
    read and then parsed for the spec in a second process (the sheet's ``rest``),
    which ``_parse_rows`` asks for once it knows the header; otherwise in a thread,
    and joined to the first."""
    if len(data) > max_upload_bytes():
        raise ImportFileError(
            _("文件超过%(mb)d MB，请分成几个文件导入") % {"mb": max_upload_bytes() // (1024 * 1024)}
        )
    if not data:
        raise ImportFileError(_("文件是空的"))
    if not (data.startswith(XLSX_MAGIC) or data.startswith(XLS_MAGIC)):
        raise _not_excel()
    from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError as exc:
        raise ImportFileError(_("文件设有密码，请去掉密码后再导入")) from exc
    except Exception as exc:
        if data.startswith(XLSX_MAGIC):
            # A workbook some other program wrote in a way calamine refuses.
            yield from _read_with_openpyxl(data)
            return
        raise _not_excel() from exc
    for meta in workbook.sheets_metadata:
        # Hidden sheets hold lookup lists; chart sheets hold no cells.
        if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
            continue
        if data.startswith(XLSX_MAGIC):
            apart = _read_apart(data, meta.name, spec) if spec is not None else None
            if apart is not None:
                yield apart
                continue
            halves = sheet_halves.read_in_halves(data, meta.name)
            if halves is not None:
                yield SheetData(meta.name, *halves)
                continue
        yield _read_whole(workbook, meta.name)


def _read_whole(workbook: Any, name: str) -> SheetData:
    """Worksheet ``name`` of an open calamine workbook, read whole, from A1."""
    try:
        sheet = workbook.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:
        raise ImportFileError(
            _("无法读取工作表“%(name)s”，文件可能已损坏") % {"name": name}
        ) from exc
    return SheetData(name, rows, list(sheet.merged_cell_ranges or []))


def _read_with_openpyxl(data: bytes) -> Iterator[SheetData]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _not_excel() from exc
    try:
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                continue
            rows = [list(row) for row in sheet.iter_rows(values_only=True)]
            # A grid like calamine's: every row as wide as the widest.
            width = max((len(row) for row in rows), default=0)
            yield SheetData(sheet.title, [row + [None] * (width - len(row)) for row in rows])
    finally:
        workbook.close()


# ------------------------------------------------------------------ header


@dataclass
class Header:
    sheet: str
    row_number: int
    # Column index → the field read from it.
    columns: dict[int, Field]
    # Column index → the header text as written in the sheet.
    labels: dict[int, str]
    first_col: int
    last_col: int

    def label_for(self, key: str) -> str:
        for index, spec_field in self.columns.items():
            if spec_field.key == key:
                return self.labels[index]
        for spec_field in self.columns.values():
            if spec_field.key == key:
                return spec_field.header
        return ""

    def ignored(self) -> list[str]:
        return [
            label
            for index, label in sorted(self.labels.items())
            if index not in self.columns and label
        ]


def _merged_filler(sheet: SheetData) -> dict[tuple[int, int], Any]:
    """Cells covered by a merged range, mapped to the value of its top-left cell."""
    covered: dict[tuple[int, int], Any] = {}
    for (r1, c1), (r2, c2) in sheet.merged:
        if r1 >= 40:  # only the top of a sheet can hold the header
            continue
        value = sheet.rows[r1][c1] if r1 < len(sheet.rows) and c1 < len(sheet.rows[r1]) else None
        for r in range(r1, min(r2, 40) + 1):
            for c in range(c1, c2 + 1):
                covered[(r, c)] = value
    return covered


def find_header(
    spec: type[ImportSpec] | ImportSpec, sheets: Iterable[SheetData]
) -> tuple[Header, SheetData]:
    """The first sheet whose top rows hold a row of the spec's column names."""
    lookup: dict[str, Field] = {}
    for spec_field in spec.fields:
        for name in spec_field.names():
            lookup.setdefault(header_key(name), spec_field)
    required = [f for f in spec.fields if f.required]
    best_incomplete: tuple[int, set[str], str] | None = None
    saw_data = False
    for sheet in sheets:
        if any(any(not is_blank(v) for v in row) for row in sheet.rows):
            saw_data = True
        filler = _merged_filler(sheet)
        # The row naming the most columns wins: under a two-row header the lower
        # row names more (the upper one holds group titles such as 基本信息).
        best: tuple[int, dict[int, Field], dict[int, str], list[str]] | None = None
        for r, row in enumerate(sheet.rows[: spec.header_scan_rows]):
            columns: dict[int, Field] = {}
            labels: dict[int, str] = {}
            duplicated: list[str] = []
            for c in range(len(row)):
                value = row[c]
                if is_blank(value):
                    value = filler.get((r, c))
                if is_blank(value):
                    continue
                label = clean_text(value)
                labels[c] = label
                spec_field = lookup.get(header_key(label))
                if spec_field is None:
                    continue
                if spec_field in columns.values():
                    duplicated.append(label)
                    continue
                columns[c] = spec_field
            if not columns:
                continue
            found = {f.key for f in columns.values()}
            if any(f.key not in found for f in required):
                if best_incomplete is None or len(found) > len(best_incomplete[1]):
                    best_incomplete = (r, found, sheet.name)
                continue
            if best is None or len(columns) > len(best[1]):
                best = (r, columns, labels, duplicated)
        if best is None:
            continue
        r, columns, labels, duplicated = best
        if duplicated:
            raise ImportFileError(
                _("工作表“%(sheet)s”第%(row)d行的列“%(col)s”出现了不止一次，请只保留一列")
                % {"sheet": sheet.name, "row": r + 1, "col": duplicated[0]}
            )
        return Header(sheet.name, r + 1, columns, labels, min(labels), max(labels)), sheet
    if not saw_data:
        raise ImportFileError(_("表格是空的，没有任何内容"))
    if best_incomplete is not None:
        _row, found, sheet_name = best_incomplete
        missing_names = "、".join(
            f"“{f.header}”" + (f"（或{'、'.join(f.aliases)}）" if f.aliases else "")
            for f in required
            if f.key not in found
        )
        raise ImportFileError(
            _("工作表“%(sheet)s”缺少必填列：%(cols)s")
            % {"sheet": sheet_name, "cols": missing_names}
        )
    expected = "、".join(f"“{f.header}”" for f in (required or spec.fields))
    raise ImportFileError(
        _("没有找到表头：前%(n)d行中应有一行写着%(cols)s等列名")
        % {"n": spec.header_scan_rows, "cols": expected}
    )


# ------------------------------------------------------------------ validation


@dataclass
class Preview:
    """Everything found in a sheet before anything is written."""

    spec: ImportSpec
    filename: str
    header: Header
    rows: list[ImportRow]
    seconds: float = 0.0

    @property
    def valid_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.ok]

    @property
    def invalid_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if not row.ok]

    @property
    def has_errors(self) -> bool:
        return any(not row.ok for row in self.rows)

    def errors(self) -> Iterator[RowError]:
        for row in self.rows:
            for key, message in row.errors:
                yield RowError(row.number, self.header.label_for(key) if key else "", message)

    def outcomes(self) -> Counter[str]:
        return Counter(row.outcome for row in self.rows if row.ok)

    def column_labels(self) -> list[str]:
        return [
            self.header.labels.get(c, "")
            for c in range(self.header.first_col, self.header.last_col + 1)
        ]

    def error_text(self, row: ImportRow) -> str:
        parts = []
        for key, message in row.errors:
            label = self.header.label_for(key) if key else ""
            parts.append(f"{label}：{message}" if label else message)
        return "；".join(parts)

    def summary(self, *, error_limit: int | None = None) -> dict[str, Any]:
        """A plain-data digest for the preview page, the command line and the stash."""
        outcomes = self.outcomes()
        errors = []
        for error in self.errors():
            if error_limit is not None and len(errors) >= error_limit:
                break
            errors.append(error.as_dict())
        invalid = len(self.invalid_rows)
        return {
            "spec": self.spec.key,
            "title": str(self.spec.title),
            "file": self.filename,
            "sheet": self.header.sheet,
            "header_row": self.header.row_number,
            "columns": [
                {"label": self.header.labels[c], "field": f.header}
                for c, f in sorted(self.header.columns.items())
            ],
            "ignored_columns": self.header.ignored(),
            "rows_read": len(self.rows),
            "valid": len(self.rows) - invalid,
            "invalid": invalid,
            "would_create": outcomes.get("create", 0),
            "would_update": outcomes.get("update", 0),
            "unchanged": outcomes.get("unchanged", 0),
            "error_count": sum(len(row.errors) for row in self.rows),
            "errors": errors,
        }

    def rejected(self) -> dict[str, Any]:
        """The rejected rows with the sheet's own columns, for the "错误说明" file."""
        return {
            "headers": self.column_labels(),
            "rows": [
                [*(_jsonable(v) for v in row.cells), self.error_text(row)]
                for row in self.invalid_rows
            ],
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _blank(value: Any) -> bool:
    if value is None or value == "":
        return True
    return value.__class__ is str and not value.strip(_BLANK_CHARS)


# Rows read between two progress reports.
PROGRESS_ROWS = 5000
# What a long import tells its user how far it is (``progress(stage, done, total)``).
Progress = Callable[..., None]


def _in_blocks(
    body: list[list[Any]], progress: Progress, done: int = 0, total: int | None = None
) -> Iterator[list[list[Any]]]:
    """The rows in blocks of ``PROGRESS_ROWS``, reporting progress before each block
    (the caller chains the blocks: nothing is done per row). ``done`` rows of ``total``
    were checked before these."""
    total = done + len(body) if total is None else total
    for start in range(0, len(body), PROGRESS_ROWS):
        _checking(progress, done + start, total)
        yield body[start : start + PROGRESS_ROWS]


def _checking(progress: Progress, done: int, total: int) -> None:
    shown = {"done": f"{done:,}", "total": f"{total:,}"}
    progress(_("检查第 %(done)s / %(total)s 行") % shown, done, total)


class _RowParser:
    """Turns a sheet's data rows into ``ImportRow``s for a spec and a header: the same
    in this process and in the one that parses a large sheet's second half."""

    def __init__(self, spec: ImportSpec, header: Header, header_cells: Sequence[Any]) -> None:
        # Written for speed (a legacy register has 100,000 rows of 20 columns): the
        # sheet is a full grid (every row equally wide), so cells are read by index.
        self.columns = [
            (c, f.key, f.parse, f.required, f.default) for c, f in sorted(header.columns.items())
        ]
        self.absent = [(f.key, f.default) for f in spec.fields if f not in header.columns.values()]
        self.first, self.stop = header.first_col, header.last_col + 1
        self.header_keys = {c: header_key(label) for c, label in header.labels.items()}
        self.probe_col = self.columns[0][0]
        # The header row's cell in the first column read: a row repeating the header
        # is recognised by it first.
        self.probe_raw = header_cells[self.probe_col]

    def parse(self, body: Iterable[list[Any]], number: int) -> list[ImportRow]:
        """The rows of ``body``, whose first is the row after row ``number``."""
        columns, absent, first, stop = self.columns, self.absent, self.first, self.stop
        header_keys, probe_col, probe_raw = self.header_keys, self.probe_col, self.probe_raw
        required_msg = _("此项必填")
        rows: list[ImportRow] = []
        for cells in body:
            number += 1
            probe = cells[probe_col]
            if _blank(probe) and all(_blank(v) for v in cells):
                continue
            # Some sheets repeat the header on every printed page.
            if probe == probe_raw and all(
                header_key(cells[c]) == k for c, k in header_keys.items()
            ):
                continue
            row = ImportRow(number, cells[first:stop])
            values = row.values
            for c, key, parse, required, default in columns:
                raw = cells[c]
                if raw is not None and raw != "":
                    try:
                        value = parse(raw)
                    except CellError as exc:
                        if not _blank(raw):
                            row.errors.append((key, str(exc)))
                            values[key] = default
                            continue
                    else:
                        # Only a cell of spaces parses to nothing; it counts as empty.
                        if value != "":
                            values[key] = value
                            continue
                if required:
                    row.errors.append((key, required_msg))
                values[key] = default
            for key, default in absent:
                values[key] = default
            rows.append(row)
        return rows


def _parse_rows(
    spec: ImportSpec, header: Header, sheet: SheetData, progress: Progress | None = None
) -> list[ImportRow]:
    """Every data row under the header. A sheet whose second half is in a second
    process (``sheet.rest``) has it parsed there while this process parses the first."""
    header_cells = sheet.rows[header.row_number - 1]
    parser = _RowParser(spec, header, header_cells)
    rest = sheet.rest
    if rest is not None:
        rest.parse(header, header_cells)
    body = sheet.rows[header.row_number :]
    total = len(body) + (rest.count if rest is not None else 0)
    blocks: Iterable[list[Any]] = body
    if progress is not None:
        blocks = chain.from_iterable(_in_blocks(body, progress, 0, total))
    rows = parser.parse(blocks, header.row_number)
    if rest is not None:
        rows.extend(rest.rows(spec, parser, progress, len(body), total))
    return rows


def validate(
    spec: ImportSpec,
    data: bytes,
    *,
    filename: str = "",
    progress: Progress | None = None,
    for_write: bool = False,
) -> Preview:
    """Read and check every row; write nothing. Raises ``ImportFileError`` for the whole file.

    ``progress(stage, done, total)``, if given, hears of each step (a background job's).
    ``for_write``: ``commit`` follows at once, so the spec may prepare the write
    beside the checks (``ImportSpec.prepare``)."""
    started = time.perf_counter()
    read: list[SheetData] = []
    with collector_paused():
        try:
            if progress is not None:
                progress(_("读取文件"))
            header, sheet = find_header(spec, _passed_by(read_sheets(data, spec=spec), read))
            rows = _parse_rows(spec, header, sheet, progress)
            if not rows:
                raise ImportFileError(
                    _("工作表“%(sheet)s”在表头（第%(row)d行）下面没有数据")
                    % {"sheet": header.sheet, "row": header.row_number}
                )
            if for_write:
                spec.prepare(rows)
            if progress is not None:
                progress(_("查询已有数据"), len(rows), len(rows))
            spec.prefetch(rows)
            if progress is not None:
                progress(_("核对每一行"), len(rows), len(rows))
            spec.check_rows(rows)
            if sheet.rest is not None:
                sheet.rest.give_cells(row for row in rows if not row.ok)
        finally:
            for each in read:
                if each.rest is not None:
                    each.rest.close()
    return Preview(spec, filename, header, rows, time.perf_counter() - started)


def _passed_by(sheets: Iterable[SheetData], read: list[SheetData]) -> Iterator[SheetData]:
    """The sheets, each kept in ``read``; a sheet's second process is stopped as soon as
    the next sheet is asked for (the header was not in it)."""
    for sheet in sheets:
        read.append(sheet)
        yield sheet
        if sheet.rest is not None:
            sheet.rest.close()


# ------------------------------------------------------------------ a large sheet's second half


# What a second process sends back of each row it parsed: the values in this order.
def _value_keys(spec: ImportSpec) -> list[str]:
    return [f.key for f in spec.fields]


def _read_apart(data: bytes, name: str, spec: ImportSpec) -> SheetData | None:
    """Worksheet ``name`` with its first half read here and its second half read in a
    second process, which parses it for ``spec`` once told the header (``SecondHalf``);
    None where the sheet is small, cannot be cut, or this process may not fork.

    Two processes rather than two threads: calamine builds the rows' Python objects
    holding the interpreter lock, and parsing them is Python; apart, both halves of
    both steps run at once."""
    halves = sheet_halves.plan_halves(data, name)
    if halves is None:
        return None
    channel = offload.talk_apart(lambda channel: _serve_second_half(channel, halves, spec))
    if channel is None:
        return None
    try:
        first, top = sheet_halves.read_half(halves, 0)
        hello = channel.recv()
    except Exception:  # noqa: BLE001 — calamine refused a half, or the child failed
        channel.close()
        return None
    merged = list(first.merged_cell_ranges or [])
    if hello is None:  # nothing after the cut but empty rows
        channel.close()
        return SheetData(name, top, merged)
    row0, count = hello
    if not sheet_halves.second_half_fits(halves, top, row0):
        channel.close()
        return None
    return SheetData(name, top, merged, SecondHalf(channel, data, name, len(top), count))


class SecondHalf:
    """The rows of a large sheet after its first half, read in a second process, which
    parses them once ``parse`` tells it the header, hands them back (``rows``), and
    then the cells of those rows this process rejects (``give_cells``). Should the
    second process fail, this one reads the sheet whole and does its part itself."""

    def __init__(
        self, channel: offload.Channel, data: bytes, name: str, start: int, count: int
    ) -> None:
        self.channel: offload.Channel | None = channel
        self.data, self.name = data, name
        # The grid row (from 0) the second half follows on from, and how many rows
        # it holds (empty ones included).
        self.start, self.count = start, count
        self.first_col = self.stop = 0
        self._grid: list[list[Any]] | None = None

    def parse(self, header: Header, header_cells: Sequence[Any]) -> None:
        """Tell the second process the header: it parses its rows at once. The fields
        go by their keys (their parsers do not pickle; the process has them)."""
        self.first_col, self.stop = header.first_col, header.last_col + 1
        keyed = replace(header, columns={c: f.key for c, f in header.columns.items()})
        if self.channel is not None:
            try:
                self.channel.send((keyed, list(header_cells)))
            except offload.OffloadError as exc:
                self._lost(exc)

    def rows(
        self,
        spec: ImportSpec,
        parser: _RowParser,
        progress: Progress | None,
        done: int,
        total: int,
    ) -> list[ImportRow]:
        """The second half's rows as the second process parsed them (or, should it
        have failed, as this process parses them from a whole read)."""
        if self.channel is not None:
            try:
                return self._received(spec, progress, done, total)
            except offload.OffloadError as exc:
                self._lost(exc)
        grid = self._whole()
        body = grid[self.start :]
        blocks: Iterable[list[Any]] = body
        if progress is not None:
            blocks = chain.from_iterable(_in_blocks(body, progress, done, total))
        return parser.parse(blocks, self.start)

    def _received(
        self, spec: ImportSpec, progress: Progress | None, done: int, total: int
    ) -> list[ImportRow]:
        assert self.channel is not None
        keys = _value_keys(spec)
        rows: list[ImportRow] = []
        while (block := self.channel.recv()) is not None:
            if progress is not None:
                _checking(progress, done, total)
            # Our own fork's pipe: nothing else can write into it.
            for number, values, errors in pickle.loads(block):  # noqa: S301
                row = ImportRow(number, None)
                row.values = dict(zip(keys, values, strict=True))
                row.errors = errors
                rows.append(row)
            done += PROGRESS_ROWS
        return rows

    def give_cells(self, rows: Iterable[ImportRow]) -> None:
        """Fill in the cells of the rows that have none (the second half's rejected rows)."""
        wanting = [row for row in rows if row.cells is None]
        if not wanting:
            return
        numbers = [row.number for row in wanting]
        cells: list[list[Any]] | None = None
        if self.channel is not None:
            try:
                self.channel.send(numbers)
                cells = self.channel.recv()
            except offload.OffloadError as exc:
                self._lost(exc)
        if cells is None:
            grid = self._whole()
            cells = [grid[n - 1][self.first_col : self.stop] for n in numbers]
        for row, row_cells in zip(wanting, cells, strict=True):
            row.cells = row_cells

    def _lost(self, exc: offload.OffloadError) -> None:
        # The message names where it failed, never a value.
        logger.warning(
            "import: the second half of sheet %r is read here instead: %s", self.name, exc
        )
        self.close()

    def _whole(self) -> list[list[Any]]:
        """The sheet read whole, here, once: what the second process should have done
        failed."""
        if self._grid is None:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_filelike(io.BytesIO(self.data))
            self._grid = _read_whole(book, self.name).rows
        return self._grid

    def close(self) -> None:
        """Stop the second process (it may be waiting to be asked for cells)."""
        channel, self.channel = self.channel, None
        if channel is not None:
            channel.close()


def _serve_second_half(
    channel: offload.Channel, halves: sheet_halves.Halves, spec: ImportSpec
) -> None:
    """The second process: read the second half, parse it once told the header, send
    the parsed rows, then the cells of whichever rows it is asked for."""
    second, bottom = sheet_halves.read_half(halves, 1)
    if not bottom:
        channel.send(None)
        return
    row0, col0 = second.start
    channel.send((row0, len(bottom)))
    keyed, header_cells = channel.recv()
    by_key = {f.key: f for f in spec.fields}
    header = replace(keyed, columns={c: by_key[key] for c, key in keyed.columns.items()})
    first_col, last_col = header.first_col, header.last_col
    # As the whole read gives them: from column A, at least as wide as the header.
    trail = [""] * max(0, last_col + 1 - col0 - len(bottom[0]))
    if col0 or trail:
        lead = [""] * col0
        bottom = [lead + row + trail for row in bottom]
    parser = _RowParser(spec, header, header_cells)
    keys = _value_keys(spec)
    # Block by block, each sent as soon as it is parsed: the first process takes them
    # in once it has parsed its own half.
    for start in range(0, len(bottom), PROGRESS_ROWS):
        rows = parser.parse(bottom[start : start + PROGRESS_ROWS], row0 + start)
        block = [(r.number, tuple([r.values[k] for k in keys]), r.errors) for r in rows]
        channel.send(pickle.dumps(block, protocol=pickle.HIGHEST_PROTOCOL))
    channel.send(None)
    while True:
        numbers = channel.recv()
        channel.send([bottom[n - row0 - 1][first_col : last_col + 1] for n in numbers])


# ------------------------------------------------------------------ writing


@dataclass
class ImportResult:
    written: bool
    partial: bool
    rows_read: int
    valid: int
    rejected: int
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "mode": "valid_rows_only" if self.partial else "all_or_nothing",
            "rows_read": self.rows_read,
            "valid": self.valid,
            "rejected": self.rejected,
            "created": self.counts.get("created", 0),
            "updated": self.counts.get("updated", 0),
            "unchanged": self.counts.get("unchanged", 0),
        }


def commit(
    preview: Preview, *, partial: bool | None = None, progress: Progress | None = None
) -> ImportResult:
    """Write the checked rows in one transaction and audit the run.

    ``partial``: write the valid rows and leave the rest (if the spec allows);
    otherwise any row error means nothing is written. ``progress(stage, done,
    total)``, if given, hears when the write starts and when it is over.
    """
    from jindu.audit.actions import Action, Result
    from jindu.audit.services import record

    spec = preview.spec
    partial = (spec.default_partial if partial is None else partial) and spec.allow_partial
    valid = preview.valid_rows
    result = ImportResult(
        False, partial, len(preview.rows), len(valid), len(preview.rows) - len(valid)
    )
    detail = {"file": preview.filename, **result.as_dict(), **spec.audit_detail()}
    if (preview.has_errors and not partial) or not valid:
        with transaction.atomic():
            record(
                actor=spec.actor,
                action=Action.IMPORTED,
                object_type=spec.object_type,
                object_repr=str(spec.title),
                result=Result.FAILURE,
                detail=detail,
            )
        return result
    if progress is not None:
        progress(_("写入数据库"), 0, len(valid))
    try:
        with transaction.atomic(), collector_paused():
            result.counts = dict(spec.write(valid))
            result.written = True
            record(
                actor=spec.actor,
                action=Action.IMPORTED,
                object_type=spec.object_type,
                object_repr=str(spec.title),
                detail={**detail, **result.as_dict()},
            )
    except IntegrityError as exc:
        raise ImportWriteError(
            _("导入时发现数据已被他人修改，未写入任何数据。请重新上传文件预览后再导入。")
        ) from exc
    except ValidationError as exc:
        # A rule the write itself enforces (a service's check) caught what the preview
        # could not see; the transaction is gone, so nothing was written.
        raise ImportWriteError(
            _("导入未完成，未写入任何数据：%(reason)s") % {"reason": "；".join(exc.messages)}
        ) from exc
    if progress is not None:
        progress(_("写入完成"), len(valid), len(valid))
    return result


# ------------------------------------------------------------------ rejected rows


class RejectedRowsExporter(Exporter):
    """The rejected rows with the sheet's own columns and what is wrong with each."""

    title = "导入错误行"

    def __init__(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        title: str = "",
        personal: bool = False,
    ) -> None:
        self.columns = [Column(h or " ", 16) for h in headers] + [Column(_("错误说明"), 60)]
        self._rows = rows
        self.contains_personal_data = personal
        if title:
            self.title = title

    def rows(self) -> Iterable[Sequence[Any]]:
        return self._rows
