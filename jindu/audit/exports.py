"""The audit log as an Excel workbook: for the audit administrator and ``jindu audit export``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.audit.actions import Action, Result
from jindu.audit.models import AuditEvent
from jindu.audit.services import record
from jindu.core.excel import Column, Exporter
from jindu.core.roles import ROLE_LABELS, Role

# One sheet holds 1,048,576 rows, the header included.
EXCEL_MAX_ROWS = 1_048_575
# A download in the browser stays small; the command exports any range.
WEB_MAX_ROWS = 100_000


class ExportTooLarge(ValueError):
    """The filter matches more rows than one export may hold."""


def role_labels(codes: str) -> str:
    labels = []
    for code in filter(None, (codes or "").split(",")):
        try:
            labels.append(str(ROLE_LABELS[Role(code)]))
        except ValueError:  # a role retired since the row was written
            labels.append(code)
    return "、".join(labels)


_COLUMNS = (
    Column(gettext_lazy("序号"), 10),
    Column(gettext_lazy("时间"), 20),
    Column(gettext_lazy("用户名"), 16),
    Column(gettext_lazy("角色"), 18),
    Column(gettext_lazy("单位"), 18),
    Column(gettext_lazy("客户端地址"), 16),
    Column(gettext_lazy("操作"), 18),
    Column(gettext_lazy("操作代码"), 22),
    Column(gettext_lazy("对象类型"), 18),
    Column(gettext_lazy("对象ID"), 10),
    Column(gettext_lazy("对象"), 24),
    Column(gettext_lazy("结果"), 8),
    Column(gettext_lazy("详情"), 40),
    Column(gettext_lazy("摘要算法"), 10),
    Column(gettext_lazy("前一条摘要"), 66),
    Column(gettext_lazy("摘要"), 66),
)


class AuditExporter(Exporter):
    def __init__(self, queryset: models.QuerySet, limit: int = EXCEL_MAX_ROWS) -> None:
        self.queryset = queryset
        self.limit = limit
        # openpyxl takes plain strings: translate now, in the current language.
        self.title = _("审计日志")  # type: ignore[misc]
        self.columns = tuple(  # type: ignore[misc]
            Column(str(column.header), column.width) for column in _COLUMNS
        )

    def filename(self) -> str:
        from django.utils import timezone

        return f"{self.title}-{timezone.localdate():%Y%m%d}.xlsx"

    def rows(self) -> Iterable[Sequence[Any]]:
        actions = dict(Action.choices)
        results = dict(Result.choices)
        # Rows appended since ``export_events`` checked the size are left out.
        for event in self.queryset.order_by("seq")[: self.limit].iterator(chunk_size=2000):
            yield (
                event.seq,
                event.at,
                event.username,
                role_labels(event.roles),
                event.org_name,
                event.client_address,
                str(actions.get(event.action, event.action)),
                event.action,
                event.object_type,
                event.object_id,
                event.object_repr,
                str(results.get(event.result, event.result)),
                event.detail,
                event.algorithm,
                event.prev_hash,
                event.hash,
            )


def export_events(
    *,
    queryset: models.QuerySet,
    filters: dict[str, Any],
    actor: Any,
    limit: int = EXCEL_MAX_ROWS,
    username: str = "",
    client_address: str | None = None,
) -> tuple[bytes, int]:
    """Render the rows as a workbook and audit the export with its filter.

    Raises ``ExportTooLarge`` (and audits nothing) when the filter matches more
    rows than ``limit``.
    """
    # Asked before rendering: one probe past the limit, rather than building a
    # workbook only to throw it away.
    if queryset.order_by("seq").values_list("seq", flat=True)[limit : limit + 1].exists():
        raise ExportTooLarge(
            _("符合条件的记录超过 %(limit)s 条，请缩小时间范围后分批导出") % {"limit": limit}
        )
    exporter = AuditExporter(queryset, limit)
    content, count = exporter.render()
    with transaction.atomic():
        record(
            actor=actor,
            action=Action.AUDIT_EXPORTED,
            object_type=AuditEvent._meta.label_lower,
            object_repr=str(exporter.title),
            username=username,
            client_address=client_address,
            detail={"rows": count, "filters": filters},
        )
    return content, count
