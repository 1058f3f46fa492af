"""Excel exports of regulation: findings, a unit's ledger with running balances,
and the unit register. Contact phones never leave masked."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import QuerySet

from jindu.codes import registry
from jindu.core.excel import Column, Exporter
from jindu.regulation.models import EntryKind, Finding, RegulatedUnit
from jindu.regulation.selectors import ItemBook

STATUS_LABELS = {"open": "待交办", "assigned": "跟进中", "closed": "已办结"}


class FindingExporter(Exporter):
    title = "台账核对问题"
    columns = (
        Column("问题类型", 16),
        Column("单位", 28),
        Column("所在地", 14),
        Column("监管部门", 14),
        Column("品种", 22),
        Column("数量", 12),
        Column("计量单位", 8),
        Column("超期天数", 8),
        Column("所属期间起", 12),
        Column("所属期间止", 12),
        Column("发现日期", 12),
        Column("状态", 8),
        Column("跟进人/部门", 18),
        Column("办结日期", 12),
        Column("办结说明", 40),
    )

    def __init__(self, findings: QuerySet[Finding]) -> None:
        self.findings = findings

    def rows(self) -> Iterable[Sequence[Any]]:
        labels = registry.labels("measure_unit")
        qs = self.findings.select_related(
            "unit",
            "unit__org_unit",
            "unit__department",
            "substance",
            "assigned_user",
            "assigned_department",
        )
        for f in qs.iterator(chunk_size=2000):
            assignee = (
                f.assigned_user.full_name
                if f.assigned_user
                else (f.assigned_department.name if f.assigned_department else "")
            )
            yield (
                f.get_kind_display(),
                f.unit.name,
                f.unit.org_unit.name,
                f.unit.department.name,
                f.substance.name,
                f.amount,
                labels.get(f.substance.unit, f.substance.unit),
                f.days,
                f.period_start,
                f.period_end,
                f.found_on,
                STATUS_LABELS[f.status],
                assignee,
                f.closed_on,
                f.close_note,
            )


class LedgerExporter(Exporter):
    columns = (
        Column("品种", 22),
        Column("日期", 12),
        Column("类型", 10),
        Column("往来单位", 28),
        Column("单据号", 16),
        Column("填报数量", 12),
        Column("填报单位", 8),
        Column("折算数量", 12),
        Column("计量单位", 8),
        Column("结存", 12),
        Column("盘点差异", 12),
        Column("报告日期", 12),
        Column("备注", 24),
        Column("作废原因", 24),
    )

    def __init__(self, unit: RegulatedUnit, year: int, books: list[ItemBook]) -> None:
        self.unit, self.year, self.books = unit, year, books
        self.title = f"{unit.name}{year}年台账"[:60]

    def rows(self) -> Iterable[Sequence[Any]]:
        labels = registry.labels("measure_unit")
        kinds = dict(EntryKind.choices)
        for item in self.books:
            yield (
                item.substance.name,
                "",
                "上年结转",
                "",
                "",
                "",
                "",
                "",
                item.unit_label,
                item.carried,
                "",
                "",
                "",
                "",
            )
            for month in item.months:
                for line in month.lines:
                    e = line.entry
                    yield (
                        item.substance.name,
                        e.occurred_on,
                        kinds[e.kind],
                        e.counterparty_name,
                        e.document_no,
                        e.entered_quantity,
                        labels.get(e.entered_unit, e.entered_unit),
                        e.quantity,
                        item.unit_label,
                        line.balance,
                        line.difference,
                        e.reported_on,
                        e.notes,
                        e.void_reason,
                    )


class UnitExporter(Exporter):
    title = "易制毒化学品和精麻药品监管单位"
    columns = (
        Column("单位名称", 30),
        Column("统一社会信用代码", 20),
        Column("单位类别", 14),
        Column("所在地", 14),
        Column("监管部门", 16),
        Column("地址", 30),
        Column("登记日期", 12),
        Column("停业日期", 12),
        Column("证件最早到期", 12),
    )

    def __init__(self, units: QuerySet[RegulatedUnit]) -> None:
        self.units = units

    def rows(self) -> Iterable[Sequence[Any]]:
        kinds = registry.labels("regulated_unit_kind")
        for u in self.units.iterator(chunk_size=2000):
            yield (
                u.name,
                u.credit_code,
                kinds.get(u.kind, u.kind),
                u.org_unit.name,
                u.department.name,
                u.address,
                u.registered_on,
                u.closed_on,
                getattr(u, "soonest_until", None),
            )
