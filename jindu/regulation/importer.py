"""``ledger``: ledger lines from a sheet (``jindu import ledger FILE`` and the import page).

One row per line: 单位名称 (or 统一社会信用代码), 品种, 类型, 日期, 数量, 计量单位,
往来单位, 单据号, 报告日期, 备注. Every row is checked by the same rules as the
entry form (``jindu.regulation.ledger.LedgerRules``); a row identical to a line
already in the ledger is left alone, so loading the same sheet twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
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
    parse_date,
    parse_decimal,
    register_import,
)
from jindu.regulation.ledger import LedgerRules, LineInput, record_entries
from jindu.regulation.models import EntryKind, LedgerEntry, RegulatedUnit, Substance

KIND_WORDS = {
    EntryKind.OPENING: ("期初", "期初结存", "期初库存", "上期结存", "期初余额"),
    EntryKind.PURCHASE: ("购入", "购进", "采购", "购买", "进货"),
    EntryKind.PRODUCTION: ("生产", "生产入库", "产成品入库"),
    EntryKind.TRANSFER_IN: ("调入", "调拨入库", "移库入"),
    EntryKind.SALE: ("销售", "售出", "出售", "销售出库"),
    EntryKind.USE: ("使用", "领用", "消耗", "使用消耗", "生产领用"),
    EntryKind.TRANSFER_OUT: ("调出", "调拨出库", "移库出"),
    EntryKind.LOSS: ("损耗", "丢失", "损耗/丢失", "损失", "被盗"),
    EntryKind.DESTRUCTION: ("销毁", "报废销毁"),
    EntryKind.COUNT: ("盘点", "盘点实存", "实存", "库存盘点", "实际库存"),
}
UNIT_WORDS = {"公斤": "kg", "千克": "kg", "克": "g", "吨": "t", "升": "L", "毫升": "mL"}


def _kind_cell(value: Any) -> str:
    text = clean_text(value)
    for kind, words in KIND_WORDS.items():
        if text in (kind.value, kind.label, *words):
            return kind.value
    raise CellError(
        _("不认识的类型“%(value)s”，应为：%(kinds)s")
        % {"value": text, "kinds": "、".join(str(k.label) for k in EntryKind)}
    )


@register_import
class LedgerImport(ImportSpec):
    key = "ledger"
    title = gettext_lazy("台账")
    object_type = "regulation.ledgerentry"
    allow_partial = True
    help = gettext_lazy(
        "每行一条台账记录：单位名称（或统一社会信用代码）、品种、类型（期初结存、购入、生产入库、调入、"
        "销售、使用消耗、调出、损耗/丢失、销毁、盘点实存）、日期、数量、计量单位，购入和销售须填往来单位。"
        "已登记的往来单位按全称或统一社会信用代码自动关联。与系统中已有记录完全相同的行不会重复导入。"
    )
    fields = (
        Field("unit", "单位名称", aliases=("监管单位", "企业名称", "单位全称")),
        Field("credit_code", "统一社会信用代码", aliases=("信用代码",), parse=code_text),
        Field(
            "substance",
            "品种",
            aliases=("品名", "品种名称", "化学品名称", "药品名称", "目录编号"),
            required=True,
        ),
        Field(
            "kind",
            "类型",
            aliases=("业务类型", "出入库类型", "摘要"),
            required=True,
            parse=_kind_cell,
        ),
        Field(
            "occurred_on", "日期", aliases=("业务日期", "发生日期"), required=True, parse=parse_date
        ),
        Field("quantity", "数量", required=True, parse=parse_decimal),
        Field("measure_unit", "计量单位", aliases=("单位（计量）",), required=True),
        Field(
            "counterparty",
            "往来单位",
            aliases=("购货单位", "供货单位", "对方单位", "客户"),
            default="",
        ),
        Field("document_no", "单据号", aliases=("票据号", "凭证号", "发票号", "单号"), default=""),
        Field(
            "reported_on",
            "报告日期",
            aliases=("备案日期", "流向报告日期"),
            parse=parse_date,
        ),
        Field("notes", "备注", default=""),
    )

    def __init__(self, *, actor: Any, **options: Any) -> None:
        super().__init__(actor=actor, **options)
        self.units_by_name: dict[str, RegulatedUnit] = {}
        self.units_by_code: dict[str, RegulatedUnit] = {}
        self.substances: dict[str, Substance] = {}
        self.measure_codes: dict[str, str] = {}
        self.rules: LedgerRules | None = None
        self.existing: set[tuple[Any, ...]] = set()

    def _scope(self) -> Any:
        actor = self.actor
        if actor is not None and getattr(actor, "is_authenticated", False):
            return RegulatedUnit.objects.for_user(actor)
        return RegulatedUnit.objects.all()

    def prefetch(self, rows: Sequence[ImportRow]) -> None:
        names = {r.values.get("unit") for r in rows if r.values.get("unit")}
        codes = {r.values.get("credit_code") for r in rows if r.values.get("credit_code")}
        units = list(self._scope().filter(Q(name__in=names) | Q(credit_code__in=codes)))
        for unit in units:
            self.units_by_name.setdefault(unit.name, unit)
            if unit.credit_code:
                self.units_by_code[unit.credit_code] = unit
        for substance in Substance.objects.all():
            for key in (
                substance.code,
                substance.name,
                *substance.aliases.replace("；", "、").split("、"),
            ):
                key = key.strip()
                if key:
                    self.substances.setdefault(key, substance)
        for item in registry.items("measure_unit"):
            self.measure_codes[item.code] = item.code
            self.measure_codes[item.code.lower()] = item.code
            self.measure_codes[item.label] = item.code
        for word, code in UNIT_WORDS.items():
            if code in self.measure_codes.values():
                self.measure_codes.setdefault(word, code)
        self.rules = LedgerRules(units, [r.values.get("counterparty") or "" for r in rows])
        days = [r.values["occurred_on"] for r in rows if r.values.get("occurred_on")]
        if units and days:
            self.existing = set(
                LedgerEntry.objects.filter(
                    unit__in=units,
                    voided_at__isnull=True,
                    occurred_on__gte=min(days),
                    occurred_on__lte=max(days),
                ).values_list(
                    "unit_id",
                    "substance_id",
                    "kind",
                    "occurred_on",
                    "entered_quantity",
                    "document_no",
                )
            )

    def _unit(self, row: ImportRow) -> RegulatedUnit | None:
        code, name = row.values.get("credit_code"), row.values.get("unit")
        if code:
            unit = self.units_by_code.get(code)
            if unit is None:
                row.error(
                    "credit_code",
                    _("您的管辖范围内没有统一社会信用代码为“%(code)s”的监管单位") % {"code": code},
                )
            return unit
        if not name:
            row.error("unit", _("请填写单位名称或统一社会信用代码"))
            return None
        unit = self.units_by_name.get(name)
        if unit is None:
            row.error("unit", _("您的管辖范围内没有名为“%(name)s”的监管单位") % {"name": name})
        return unit

    def check_rows(self, rows: Sequence[ImportRow]) -> None:
        assert self.rules is not None
        for row in rows:
            if not row.ok:
                continue
            values = row.values
            unit = self._unit(row)
            substance = self.substances.get(values["substance"])
            if substance is None:
                row.error("substance", _("目录中没有“%(name)s”") % {"name": values["substance"]})
            measure = self.measure_codes.get(values["measure_unit"]) or self.measure_codes.get(
                values["measure_unit"].lower()
            )
            if measure is None:
                row.error(
                    "measure_unit",
                    _("不认识的计量单位“%(unit)s”") % {"unit": values["measure_unit"]},
                )
            if not row.ok or unit is None:
                continue
            signature = (
                unit.pk,
                substance.pk,
                values["kind"],
                values["occurred_on"],
                values["quantity"],
                (values["document_no"] or "").strip(),
            )
            if signature in self.existing:
                row.outcome = "unchanged"
                continue
            line = LineInput(
                unit=unit,
                substance=substance,
                kind=values["kind"],
                occurred_on=values["occurred_on"],
                quantity=values["quantity"],
                measure_unit=measure,
                counterparty=values["counterparty"] or "",
                document_no=values["document_no"] or "",
                reported_on=values["reported_on"],
                notes=values["notes"] or "",
            )
            try:
                checked = self.rules.check(line)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    target = key if key in {f.key for f in self.fields} else ""
                    for message in messages:
                        row.error(target, message)
                continue
            self.rules.accept(checked)
            row.context = checked
            row.outcome = "create"

    def write(self, rows: Sequence[ImportRow]) -> dict[str, int]:
        new = [row.context for row in rows if row.outcome == "create"]
        record_entries(actor=self.actor, rows=new, source="import")
        return {
            "created": len(new),
            "unchanged": sum(1 for row in rows if row.outcome == "unchanged"),
        }
