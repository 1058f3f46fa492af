"""Excel exports of the enforcement lists, each the list's own filter. ID numbers
never leave masked; labels of code lists are read once per file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Aggregate, Count, OuterRef, QuerySet, Subquery, Sum

from jindu.codes import registry
from jindu.core.excel import Column, Exporter
from jindu.core.masking import mask_id_number
from jindu.enforcement.models import (
    Case,
    CaseStatus,
    DrugDrivingTest,
    Seizure,
    Suspect,
    UserCaught,
)
from jindu.enforcement.selectors import synthetic_codes

YES_NO = {True: "是", False: "否"}


def _per_case(model: Any, aggregate: Aggregate) -> Subquery:
    rows = model.objects.filter(case=OuterRef("pk")).order_by().values("case")
    return Subquery(rows.annotate(n=aggregate).values("n")[:1])


class CaseExporter(Exporter):
    title = "涉毒案件"
    columns = (
        Column("案件编号", 22),
        Column("案件类别", 20),
        Column("发生地", 16),
        Column("办案单位", 16),
        Column("案发日期", 12),
        Column("立案日期", 12),
        Column("破案日期", 12),
        Column("结案日期", 12),
        Column("状态", 10),
        Column("零包贩毒", 8),
        Column("团伙案件", 8),
        Column("合成毒品案件", 10),
        Column("吸毒人员引发", 10),
        Column("犯罪嫌疑人数", 10),
        Column("缴获毒品（克）", 12),
        Column("简要案情", 40),
    )

    def __init__(self, cases: QuerySet[Case]) -> None:
        self.cases = cases

    def rows(self) -> Iterable[Sequence[Any]]:
        offences = registry.labels("offence")
        statuses = dict(CaseStatus.choices)
        # Subqueries, not joins: two joined lists would multiply each other's rows.
        qs = self.cases.annotate(
            n_suspects=_per_case(Suspect, Count("id")),
            grams=_per_case(Seizure, Sum("weight_g")),
        )
        for case in qs:
            yield (
                case.number,
                offences.get(case.offence, case.offence),
                case.org_unit.name,
                case.department.name,
                case.occurred_on,
                case.filed_on,
                case.solved_on,
                case.closed_on,
                statuses.get(case.status, ""),
                YES_NO[case.street_dealing],
                YES_NO[case.gang],
                YES_NO[case.synthetic_drug],
                case.get_caused_kind_display() if case.caused_by_user else "否",
                case.n_suspects or 0,
                float(case.grams) if case.grams is not None else 0.0,
                case.summary,
            )


class SeizureExporter(Exporter):
    title = "缴获毒品"
    columns = (
        Column("缴获日期", 12),
        Column("毒品种类", 20),
        Column("合成毒品", 8),
        Column("重量（克）", 12),
        Column("粒数", 8),
        Column("发生地", 16),
        Column("办案单位", 16),
        Column("案件编号", 22),
        Column("备注", 30),
    )

    def __init__(self, seizures: QuerySet[Seizure]) -> None:
        self.seizures = seizures

    def rows(self) -> Iterable[Sequence[Any]]:
        drugs = registry.labels("drug_type")
        synthetic = synthetic_codes()
        for s in self.seizures:
            yield (
                s.seized_on,
                drugs.get(s.drug_type, s.drug_type),
                YES_NO[s.drug_type in synthetic],
                float(s.weight_g),
                s.pills,
                s.org_unit.name,
                s.department.name,
                s.case.number if s.case_id else "",
                s.notes,
            )


class CaughtExporter(Exporter):
    title = "查处吸毒人员"
    columns = (
        Column("查获日期", 12),
        Column("姓名", 10),
        Column("身份证号", 22),
        Column("吸食毒品种类", 20),
        Column("合成毒品", 8),
        Column("处理结果", 14),
        Column("查获地", 16),
        Column("查处单位", 16),
        Column("已在名册", 8),
        Column("备注", 30),
    )

    def __init__(self, caught: QuerySet[UserCaught]) -> None:
        self.caught = caught

    def rows(self) -> Iterable[Sequence[Any]]:
        drugs = registry.labels("drug_type")
        synthetic = synthetic_codes()
        for c in self.caught:
            yield (
                c.caught_on,
                c.name,
                mask_id_number(c.id_number),
                drugs.get(c.drug_type, c.drug_type),
                YES_NO[c.drug_type in synthetic],
                c.get_outcome_display(),
                c.org_unit.name,
                c.department.name,
                YES_NO[c.person_id is not None],
                c.notes,
            )


class DrivingExporter(Exporter):
    title = "毒驾检测"
    columns = (
        Column("检测日期", 12),
        Column("姓名", 10),
        Column("身份证号", 22),
        Column("车牌号", 12),
        Column("检测结果", 8),
        Column("持有驾驶证", 10),
        Column("报请注销日期", 12),
        Column("检测地", 16),
        Column("检测单位", 16),
        Column("备注", 30),
    )

    def __init__(self, tests: QuerySet[DrugDrivingTest]) -> None:
        self.tests = tests

    def rows(self) -> Iterable[Sequence[Any]]:
        for t in self.tests:
            yield (
                t.tested_on,
                t.name,
                mask_id_number(t.id_number),
                t.plate,
                t.get_result_display(),
                YES_NO[t.licence_held],
                t.licence_reported_on,
                t.org_unit.name,
                t.department.name,
                t.notes,
            )
