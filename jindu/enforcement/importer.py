"""``cases``: cases and their seizures from one sheet (``jindu import cases FILE`` and the
import page).

One row per case, or per seizure of a case: a case with three seizures takes
three rows with the same 案件编号, the case's columns filled on the first (later
rows may repeat them, and must then agree). A case already on file (same number
in the county) is brought up to date from the sheet's non-blank cells — a
solving date added, say; a seizure already on file (same case, day, drug and
weight) is left alone, so loading the same sheet twice adds nothing. Every row
is checked by the rules of the entry forms before anything is written; the
lookups (places, departments, code lists, cases on file) are loaded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.codes import registry
from jindu.core.excel_import import (
    CellError,
    Field,
    ImportRow,
    ImportSpec,
    clean_text,
    code_text,
    parse_bool,
    parse_date,
    register_import,
)
from jindu.enforcement import rules, services
from jindu.enforcement.models import Case, CausedKind, Seizure
from jindu.orgs.division import Level
from jindu.orgs.models import Department, OrgUnit

# The columns that describe the case itself (the rest describe one seizure).
CASE_COLUMNS = (
    "offence", "place", "department", "occurred_on", "filed_on", "solved_on", "closed_on",
    "street_dealing", "gang", "synthetic_drug", "caused_kind", "summary",
)  # fmt: skip
_CAUSED = {
    "刑事": CausedKind.CRIMINAL,
    "刑事案件": CausedKind.CRIMINAL,
    "治安": CausedKind.PUBLIC_ORDER,
    "治安案件": CausedKind.PUBLIC_ORDER,
    "否": "",
    "无": "",
}


def _number(value: Any) -> str:
    text = " ".join(clean_text(value).split()).upper()
    if len(text) > services.MAX_NUMBER:
        raise CellError(_("案件编号不能超过40个字符"))
    return text


def _caused(value: Any) -> str:
    text = clean_text(value)
    if text in _CAUSED:
        return str(_CAUSED[text])
    if text in CausedKind.values:
        return text
    if text == "是":
        raise CellError(_("请写明“刑事”或“治安”"))
    raise CellError(_("应填“刑事”“治安”或“否”，当前为“%(v)s”") % {"v": text})


def _weight(value: Any) -> Any:
    try:
        return rules.parse_weight(value)
    except ValidationError as exc:
        raise CellError(exc.message_dict["weight_g"][0]) from exc


def _pills(value: Any) -> Any:
    try:
        return rules.parse_pills(value)
    except ValidationError as exc:
        raise CellError(exc.message_dict["pills"][0]) from exc


def _summary(value: Any) -> str:
    text = clean_text(value)
    if len(text) > 2000:
        raise CellError(_("简要案情不能超过2000个字"))
    return text


@dataclass
class PlannedCase:
    """What the sheet says about one case, gathered from its rows."""

    first_row: int
    number: str
    existing: Case | None = None
    # The case's values as the first row describing it gave them, once checked.
    values: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    checked: bool = False
    failed: bool = False
    written: Case | None = None


def _labels(list_key: str) -> dict[str, str]:
    """Code list entries by code, by label, and by the words of a label in brackets:
    "甲基苯丙胺（冰毒）" is found as 冰毒 too."""
    found: dict[str, str] = {}
    for item in registry.items(list_key):
        found.setdefault(item.code.lower(), item.code)
        found.setdefault(item.label, item.code)
        if "（" in item.label and item.label.endswith("）"):
            outer, inner = item.label[:-1].split("（", 1)
            found.setdefault(outer, item.code)
            for word in inner.replace("、", "/").split("/"):
                found.setdefault(word, item.code)
    return found


@register_import
class CaseImport(ImportSpec):
    key = "cases"
    title = gettext_lazy("涉毒案件及缴获")
    object_type = "enforcement.case"
    allow_partial = True
    help = gettext_lazy(
        "每行一起案件，或案件的一笔缴获：同一案件有多笔缴获的，写多行、案件编号相同，案件信息写在第一行。"
        "发生地写乡镇（街道）或村（社区）的名称（同名的写“乡镇 村”）或12位区划代码；办案单位不填则为县公安局。"
        "已有的案件按编号更新，已有的缴获记录不会重复导入。"
    )
    fields = (
        Field("number", "案件编号", aliases=("案号", "案件号", "立案编号"), required=True,
              parse=_number),
        Field("offence", "案件类别", aliases=("案由", "案件性质", "案件类型")),
        Field("place", "发生地", aliases=("案发地", "案发地点", "发案地", "案发乡镇")),
        Field("department", "办案单位", aliases=("办案部门", "主办单位")),
        Field("occurred_on", "案发日期", aliases=("发案日期",), parse=parse_date),
        Field("filed_on", "立案日期", aliases=("立案时间",), parse=parse_date),
        Field("solved_on", "破案日期", aliases=("破案时间",), parse=parse_date),
        Field("closed_on", "结案日期", aliases=("结案时间",), parse=parse_date),
        Field("street_dealing", "零包贩毒", aliases=("是否零包",), parse=parse_bool),
        Field("gang", "团伙案件", aliases=("团伙", "是否团伙"), parse=parse_bool),
        Field("synthetic_drug", "合成毒品案件", aliases=("除冰肃毒", "合成毒品"),
              parse=parse_bool),
        Field("caused_kind", "吸毒人员引发", aliases=("吸毒人员引发案件",), parse=_caused),
        Field("summary", "简要案情", aliases=("案情", "案情摘要"), parse=_summary),
        Field("drug_type", "毒品种类", aliases=("缴获毒品种类", "毒品名称", "毒品")),
        Field("weight_g", "缴获重量（克）", aliases=("重量（克）", "缴获重量", "重量", "克数"),
              parse=_weight),
        Field("pills", "粒数", aliases=("缴获粒数",), parse=_pills),
        Field("seized_on", "缴获日期", aliases=("缴获时间",), parse=parse_date),
    )  # fmt: skip

    def __init__(self, *, actor: Any, **options: Any) -> None:
        super().__init__(actor=actor, **options)
        self.places_by_name: dict[str, list[OrgUnit]] = {}
        self.places_by_code: dict[str, OrgUnit] = {}
        self.places_by_pair: dict[tuple[str, str], OrgUnit] = {}
        self.departments: dict[int, list[Department]] = {}
        self.offences: dict[str, str] = {}
        self.drugs: dict[str, str] = {}
        self.existing: dict[tuple[int, str], Case] = {}
        self.in_scope: set[int] = set()
        self.seizures_on_file: set[tuple[Any, ...]] = set()
        self.plans: dict[tuple[int, str], PlannedCase] = {}
        self.today: date = timezone.localdate()

    # -- lookups, once
    def _units(self) -> Any:
        qs = OrgUnit.objects.filter(level__in=[Level.TOWNSHIP, Level.VILLAGE], active=True)
        if rules.is_user(self.actor):
            qs = qs.within(self.actor.scope_path)
        return qs

    def prefetch(self, rows: Sequence[ImportRow]) -> None:
        units = list(self._units().select_related("parent"))
        for unit in units:
            self.places_by_name.setdefault(unit.name, []).append(unit)
            if unit.division_code:
                self.places_by_code[unit.division_code] = unit
            if unit.level == Level.VILLAGE and unit.parent is not None:
                self.places_by_pair[(unit.parent.name, unit.name)] = unit
        departments = Department.objects.filter(active=True).order_by("sort_order", "id")
        for department in departments:
            self.departments.setdefault(department.org_unit_id, []).append(department)
        self.offences = _labels("offence")
        self.drugs = _labels("drug_type")
        numbers = {r.values["number"] for r in rows if r.values.get("number")}
        cases = list(Case.objects.filter(number__in=numbers).select_related("department"))
        for case in cases:
            self.existing[(case.department.org_unit_id, case.number)] = case
        if rules.is_user(self.actor):
            self.in_scope = set(
                Case.objects.for_user(self.actor)
                .filter(pk__in=[c.pk for c in cases])
                .values_list("pk", flat=True)
            )
        else:
            self.in_scope = {c.pk for c in cases}
        self.seizures_on_file = set(
            Seizure.objects.filter(case__in=cases).values_list(
                "case_id", "seized_on", "drug_type", "weight_g"
            )
        )

    def _place(self, row: ImportRow) -> OrgUnit | None:
        text = row.values.get("place") or ""
        if not text:
            return None
        code = code_text(text)
        if code.isdigit() and len(code) == 12:
            unit = self.places_by_code.get(code)
            if unit is None:
                row.error("place", _("您的管辖范围内没有区划代码为%(c)s的乡镇或村") % {"c": code})
            return unit
        words = text.split()
        if len(words) == 2:
            unit = self.places_by_pair.get((words[0], words[1]))
            if unit is not None:
                return unit
        found = self.places_by_name.get(text, [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            row.error("place", _("有多个名为“%(n)s”的单位，请写成“乡镇 村”") % {"n": text})
        else:
            row.error("place", _("您的管辖范围内没有名为“%(n)s”的乡镇或村") % {"n": text})
        return None

    def _department(self, row: ImportRow, place: OrgUnit) -> Department | None:
        county_ids = [i for i in place.ancestor_ids() if i in self.departments]
        candidates = [d for i in county_ids for d in self.departments[i]]
        name = row.values.get("department") or ""
        if name:
            for d in candidates:
                if name in (d.name, d.short_name):
                    return d
            row.error("department", _("本县没有名为“%(n)s”的成员单位") % {"n": name})
            return None
        for d in candidates:
            if "公安" in d.short_name or "公安" in d.name:
                return d
        row.error("department", _("请填写办案单位（本县未登记公安局）"))
        return None

    # -- checks
    def check_rows(self, rows: Sequence[ImportRow]) -> None:
        for row in rows:
            if row.ok:
                self._check(row)

    def _check(self, row: ImportRow) -> None:
        values = row.values
        has_case = any(values.get(k) not in (None, "") for k in CASE_COLUMNS)
        place = self._place(row) if values.get("place") else None
        offence = None
        if values.get("offence"):
            offence = self.offences.get(values["offence"]) or self.offences.get(
                values["offence"].lower()
            )
            if offence is None:
                row.error("offence", _("不认识的案件类别“%(v)s”") % {"v": values["offence"]})
        department = self._department(row, place) if place is not None else None
        if not row.ok:
            return
        plan = self._plan_for(row, department.org_unit_id if department else None)
        if plan is None:
            return
        if plan.failed:
            row.error("", _("第%(n)d行的案件信息有误，本行未导入") % {"n": plan.first_row})
            return
        row.context = plan
        if has_case:
            self._check_case(row, plan, self._given(row, place, department, offence, plan))
            if not row.ok:
                return
        self._check_seizure(row, plan)
        if row.ok and not row.outcome:
            row.outcome = "unchanged"

    def _given(
        self,
        row: ImportRow,
        place: OrgUnit | None,
        department: Department | None,
        offence: str | None,
        plan: PlannedCase,
    ) -> dict[str, Any]:
        """The case's values this row fills in (blank cells say nothing)."""
        values = row.values
        given: dict[str, Any] = {}
        if offence:
            given["offence"] = offence
        if place is not None:
            given["org_unit"] = place
        # The police by default, for a new case; a case on file keeps its department.
        if department is not None and (values.get("department") or plan.existing is None):
            given["department"] = department
        for key in ("occurred_on", "filed_on", "solved_on", "closed_on", "summary", "caused_kind"):
            if values.get(key) not in (None, ""):
                given[key] = values[key]
        for key in ("street_dealing", "gang", "synthetic_drug"):
            if values.get(key) is not None:
                given[key] = values[key]
        return given

    def _plan_for(self, row: ImportRow, county: int | None) -> PlannedCase | None:
        number = row.values["number"]
        if county is None:
            # A later row of a case named earlier in the sheet, or a case on file.
            matches = [p for (_c, n), p in self.plans.items() if n == number]
            if len(matches) == 1:
                return matches[0]
            on_file = [
                case
                for (_c, n), case in self.existing.items()
                if n == number and case.pk in self.in_scope
            ]
            if len(on_file) == 1:
                case = on_file[0]
                key = (case.department.org_unit_id, number)
                return self.plans.setdefault(key, PlannedCase(row.number, number, existing=case))
            row.error("place", _("新案件须填写案件类别、发生地和立案日期"))
            return None
        key = (county, number)
        existing = self.existing.get(key)
        if existing is not None and existing.pk not in self.in_scope:
            row.error("number", _("本县已有该编号的案件，但不在您的管辖范围内"))
            return None
        return self.plans.setdefault(key, PlannedCase(row.number, number, existing=existing))

    def _row_errors(self, row: ImportRow, errors: rules.Errors) -> None:
        keys = {f.key for f in self.fields}
        for key, messages in errors.by_field.items():
            target = "place" if key == "org_unit" else key
            for message in messages:
                row.error(target if target in keys else "", message)

    def _check_case(self, row: ImportRow, plan: PlannedCase, given: dict[str, Any]) -> None:
        if plan.checked:
            for key, value in given.items():
                if plan.values.get(key, value) != value:
                    target = "place" if key == "org_unit" else key
                    row.error(target, _("与第%(n)d行同一案件的信息不一致") % {"n": plan.first_row})
            return
        base = plan.existing
        current = {
            key: getattr(base, key) if base else None
            for key in ("offence", "org_unit", "department", "occurred_on", "filed_on",
                        "solved_on", "closed_on")
        }  # fmt: skip
        merged = {"number": plan.number, **current, **given}
        errors = rules.Errors()
        if base is None:
            if not merged.get("offence"):
                errors.add("offence", _("新案件须填写案件类别"))
            if merged.get("org_unit") is None:
                errors.add("place", _("新案件须填写发生地"))
            if merged.get("filed_on") is None:
                errors.add("filed_on", _("新案件须填写立案日期"))
        if merged.get("org_unit") is not None:
            rules.check_place(self.actor, merged["org_unit"], errors, field="place")
            rules.check_department(self.actor, merged.get("department"), merged["org_unit"], errors)
        services.check_case_dates(merged, errors, self.today)
        self._row_errors(row, errors)
        plan.checked = True
        if not row.ok:
            plan.failed = True
            return
        plan.values = given
        if base is None:
            row.outcome = "create"
            return
        plan.changes = {key: value for key, value in given.items() if getattr(base, key) != value}
        if plan.changes:
            row.outcome = "update"

    def _check_seizure(self, row: ImportRow, plan: PlannedCase) -> None:
        values = row.values
        drug, weight = values.get("drug_type"), values.get("weight_g")
        if not drug and weight is None:
            if values.get("seized_on") or values.get("pills"):
                row.error("drug_type", _("填写了缴获信息，请同时填写毒品种类和重量"))
            return
        if not drug:
            row.error("drug_type", _("请填写缴获毒品种类"))
            return
        code = self.drugs.get(drug) or self.drugs.get(drug.lower())
        if code is None:
            row.error("drug_type", _("不认识的毒品种类“%(v)s”") % {"v": drug})
            return
        if weight is None:
            row.error("weight_g", _("请填写缴获重量（克）"))
            return
        known = plan.values
        base = plan.existing

        def of_case(key: str) -> Any:
            return known.get(key) or (getattr(base, key) if base is not None else None)

        day = values.get("seized_on") or of_case("solved_on") or of_case("filed_on")
        if day is None:
            row.error("seized_on", _("请填写缴获日期"))
            return
        if day > self.today:
            row.error("seized_on", _("缴获日期不能晚于今天"))
            return
        occurred = of_case("occurred_on")
        if occurred is not None and day < occurred:
            row.error("seized_on", _("缴获日期不能早于案发日期"))
            return
        values["_seizure"] = (code, weight, values.get("pills"), day)
        if base is not None and (base.pk, day, code, weight) in self.seizures_on_file:
            return
        row.outcome = row.outcome or "create"

    # -- writing
    def write(self, rows: Sequence[ImportRow]) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for row in rows:
            plan: PlannedCase = row.context
            case = self._write_case(plan)
            seizure = row.values.get("_seizure")
            if seizure is not None:
                code, weight, pills, day = seizure
                if (case.pk, day, code, weight) not in self.seizures_on_file:
                    services.record_seizure(
                        actor=self.actor,
                        case=case,
                        seized_on=day,
                        drug_type=code,
                        weight_g=weight,
                        pills=pills,
                    )
                    self.seizures_on_file.add((case.pk, day, code, weight))
            counts[{"create": "created", "update": "updated"}.get(row.outcome, "unchanged")] += 1
        return counts

    def _write_case(self, plan: PlannedCase) -> Case:
        if plan.written is not None:
            return plan.written
        values = plan.values
        if plan.existing is None:
            plan.written = services.create_case(
                actor=self.actor,
                number=plan.number,
                offence=values["offence"],
                filed_on=values["filed_on"],
                org_unit=values["org_unit"],
                department=values["department"],
                occurred_on=values.get("occurred_on"),
                solved_on=values.get("solved_on"),
                closed_on=values.get("closed_on"),
                street_dealing=values.get("street_dealing") or False,
                gang=values.get("gang") or False,
                synthetic_drug=values.get("synthetic_drug") or False,
                caused_by_user=bool(values.get("caused_kind")),
                caused_kind=values.get("caused_kind") or "",
                summary=values.get("summary") or "",
            )
            return plan.written
        changes = dict(plan.changes)
        if "caused_kind" in changes:
            changes["caused_by_user"] = bool(changes["caused_kind"])
        if changes:
            services.update_case(actor=self.actor, case=plan.existing, **changes)
        plan.written = plan.existing
        return plan.existing
