"""Excel export and import: the one mechanism every list and every legacy sheet goes through.

Exports are small classes that yield rows; ``Exporter.render`` writes the file,
neutralising formula injection, and ``export_response`` audits the export. The
import side (header matching, normalisation, row-numbered Chinese errors, one
write) lives in ``jindu.core.excel_import``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from django.http import HttpResponse
from django.utils import timezone

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_cell(value: Any) -> Any:
    """A value that a spreadsheet will show and never evaluate."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (int, float, date)):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 16


class Exporter:
    """Subclasses set ``title``, ``columns`` and yield rows from ``rows()``."""

    title: ClassVar[str] = "导出"
    columns: ClassVar[Sequence[Column]] = ()
    # Personal data in an export is audited as a view of personal data.
    contains_personal_data: ClassVar[bool] = False

    def rows(self) -> Iterable[Sequence[Any]]:
        raise NotImplementedError

    def filename(self) -> str:
        return f"{self.title}-{timezone.localdate():%Y%m%d}.xlsx"

    def render(self) -> tuple[bytes, int]:
        from openpyxl import Workbook
        from openpyxl.styles import Font, PatternFill
        from openpyxl.utils import get_column_letter

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(self.title[:31])
        for index, column in enumerate(self.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A2"
        from openpyxl.cell import WriteOnlyCell

        header = []
        for column in self.columns:
            cell = WriteOnlyCell(sheet, value=column.header)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE7F3")
            header.append(cell)
        sheet.append(header)
        count = 0
        for row in self.rows():
            sheet.append([safe_cell(value) for value in row])
            count += 1
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue(), count


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    from urllib.parse import quote

    response = HttpResponse(content, content_type=XLSX_MIME)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def export_response(
    exporter: Exporter, *, actor: Any, object_type: str, detail: dict[str, Any] | None = None
) -> HttpResponse:
    """Render an export, audit it (rows, filters) and answer it as a download."""
    from django.db import transaction

    from jindu.audit.actions import Action
    from jindu.audit.services import record

    content, count = exporter.render()
    with transaction.atomic():
        record(
            actor=actor,
            action=Action.EXPORTED,
            object_type=object_type,
            object_repr=exporter.title,
            detail={
                "rows": count,
                "personal_data": exporter.contains_personal_data,
                **(detail or {}),
            },
        )
    return xlsx_response(content, exporter.filename())
