"""The legacy register sheet (吸毒人员登记表): people, and optionally their current measure.

Columns are matched by their Chinese names in any order (``FIELDS``). People
are matched by ID number through the blind index: a person already registered
in the importing user's scope is updated where the sheet says something
different (a blank cell changes nothing), and left alone when it says the
same, so importing a sheet twice changes nothing; a person registered outside
the scope is a row error and is never moved. The responsible unit (a village
or grid in the scope) is found by name, by "township village grid" names
or by division code.

Built for 100,000-row sheets: everything the checks look up (existing people,
their measures, units, code lists) is loaded once in ``prefetch`` by chunked
queries, and the write is a handful of bulk statements through
``jindu.people.bulk`` with the dated facts computed from the sheet's values by
``refresh_facts``'s own rule.
"""

from __future__ import annotations

import itertools
import json
import logging
import operator
import re
import time
from collections import namedtuple
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.core import crypto, offload
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
    split_multi,
)
from jindu.core.offload import produced_apart
from jindu.people import idnumber, services, tallies
from jindu.people.bulk import (
    FACT_FIELDS,
    BulkWriter,
    MeasureDates,
    person_facts,
    refresh_facts_many,
)
from jindu.people.dates import add_months
from jindu.people.import_units import Unit, UnitFinder
from jindu.people.models import Measure, Person, Responsibility
from jindu.people.schedule import COMMUNITY_KINDS

logger = logging.getLogger(__name__)

_CHUNK = 5000
# The first rows the write's second process hands over: few, so that the inserts
# start while it builds the rest.
_FIRST_CHUNK = 500

# ------------------------------------------------------------------ cells


def _name(value: Any) -> str:
    name = clean_text(value)
    if len(name) > 50:
        raise CellError(_("姓名不能超过50个字"))
    return name


_TODAY: list[Any] = [0.0, None]


def _today() -> date:
    """Today's date, looked up once a minute: a sheet has 100,000 ID numbers to check."""
    now = time.monotonic()
    if now - _TODAY[0] > 60 or _TODAY[1] is None:
        _TODAY[:] = [now, timezone.localdate()]
    return _TODAY[1]


_WEIGHTED_ZEROS = ord("0") * sum(idnumber.WEIGHTS)
_BIRTHS: dict[str, date] = {}


def _plain_id_number(text: str, today: date) -> idnumber.IdNumber | None:
    """``idnumber.parse``'s rules for the common case, 18 plain characters (five times
    faster: a sheet has 100,000); None for anything else, which ``parse`` then judges."""
    if len(text) != 18 or not text.isascii() or not text[:17].isdigit():
        return None
    if text[:2] not in idnumber.PROVINCES or text[2:6] == "0000":
        return None
    born = _BIRTHS.get(text[6:14])
    if born is None:
        try:
            born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
        except ValueError:
            return None
        _BIRTHS[text[6:14]] = born
    if born > today or born.year < 1900:
        return None
    total = sum(map(operator.mul, text[:17].encode(), idnumber.WEIGHTS)) - _WEIGHTED_ZEROS
    if idnumber.CHECK[total % 11] != text[17]:
        return None
    return idnumber.IdNumber(value=text, birth_date=born, sex="M" if int(text[16]) % 2 else "F")


def _id_number(value: Any) -> idnumber.IdNumber:
    # ``parse`` normalises what people type (spaces, full-width digits, lower-case x,
    # a number cell). A number typed as a number loses nothing up to 15 digits;
    # beyond that Excel has rounded it and the check digit will say so.
    today = _today()
    if value.__class__ is str:
        plain = _plain_id_number(value, today)
        if plain is not None:
            return plain
    try:
        return idnumber.parse(value, today=today)
    except idnumber.IdNumberError as exc:
        raise CellError(str(exc)) from exc


_SEXES = {"男": "M", "男性": "M", "m": "M", "女": "F", "女性": "F", "f": "F"}


def _sex(value: Any) -> str:
    text = clean_text(value).lower()
    if text not in _SEXES:
        raise CellError(_("性别应填“男”或“女”，当前为“%(v)s”") % {"v": clean_text(value)})
    return _SEXES[text]


_PHONE = re.compile(r"^\+?[0-9][0-9-]{5,19}$")


def _phone(value: Any) -> str:
    text = code_text(value).replace("－", "-").replace("—", "-")
    if not _PHONE.match(text):
        raise CellError(_("联系电话“%(v)s”格式不正确") % {"v": clean_text(value)})
    return text


def _text(limit: int) -> Any:
    def parse(value: Any) -> str:
        text = clean_text(value)
        if len(text) > limit:
            raise CellError(_("不能超过%(n)d个字") % {"n": limit})
        return text

    return parse


def _memo(parse: Any, limit: int = 20_000) -> Any:
    """A parser that remembers what it made of a text: a register repeats its ethnicities,
    units, drug names and dates thousands of times. Errors are not remembered."""
    seen: dict[str, Any] = {}

    def cached(value: Any) -> Any:
        if value.__class__ is not str:
            return parse(value)
        found = seen.get(value, seen)
        if found is seen:
            found = parse(value)
            if len(seen) < limit:
                seen[value] = found
        return found

    return cached


_FLAGS = {"是": True, "否": False, "有": True, "无": False, "": None}


def _flag(value: Any) -> bool:
    """``parse_bool``, with the two answers nearly every cell holds looked up first."""
    found = _FLAGS.get(value) if value.__class__ is str else None
    return parse_bool(value) if found is None else found


_MEASURE_ALIASES = {
    "社戒": "community_detox", "社区戒毒": "community_detox", "社康": "community_rehab",
    "社区康复": "community_rehab", "强戒": "compulsory_isolation",
    "强制隔离": "compulsory_isolation", "强制隔离戒毒": "compulsory_isolation",
    "自愿戒毒": "voluntary", "美沙酮": "methadone", "美沙酮维持治疗": "methadone",
    "药物维持治疗": "methadone", "拘留": "detention", "行政拘留": "detention", "服刑": "prison",
    "判刑": "prison", "监狱服刑": "prison", "其他": "other",
}  # fmt: skip
_NO_MEASURE = {"无", "没有", "未采取", "/", "-", "—"}


def _measure_kind(value: Any) -> str:
    text = re.sub(r"\s+", "", clean_text(value))
    if text in _NO_MEASURE:
        return "none"
    kind = _MEASURE_ALIASES.get(text) or _MEASURE_ALIASES.get(text.removesuffix("中"))
    if kind is None:
        choices = "、".join(label for _v, label in Measure.Kind.choices)
        raise CellError(_("无法识别的措施“%(v)s”，可填：%(c)s") % {"v": text, "c": choices})
    return kind


# fmt: off
FIELDS = (
    Field("name", "姓名", aliases=("人员姓名", "吸毒人员姓名"), required=True, parse=_name),
    Field("id_number", "身份证号", required=True, parse=_id_number,
          aliases=("公民身份号码", "身份证号码", "身份证", "证件号码", "身份证件号码"),
          help=gettext_lazy("18位；15位旧号自动转换，末位小写x可以")),
    Field("sex", "性别", parse=_memo(_sex), help=gettext_lazy("可不填，由身份证号推出；填了须一致")),
    Field("birth_date", "出生日期", parse=parse_date,
          help=gettext_lazy("可不填；填了须与身份证号一致")),
    Field("ethnicity", "民族", parse=_memo(clean_text)),
    Field("household_address", "户籍地", parse=_text(200),
          aliases=("户籍地址", "户籍所在地", "户籍地详址", "户籍住址")),
    Field("current_address", "现住址", parse=_text(200),
          aliases=("居住地址", "现居住地", "现居住地址", "实际居住地", "现住地址")),
    Field("phone", "联系电话", parse=_phone,
          aliases=("手机号码", "手机号", "电话", "联系方式", "电话号码")),
    Field("unit", "责任单位", required=True, parse=_memo(clean_text),
          aliases=("所属村（社区）", "所属村(社区)", "村（社区）", "村(社区)", "网格", "所属网格",
                   "所属社区", "所属村", "管控单位"),
          help=gettext_lazy("您管辖范围内的村（社区）或网格：名称、“乡镇 村 网格”或12位区划代码")),
    Field("first_found_on", "初次发现日期", parse=_memo(parse_date),
          aliases=("首次发现时间", "首次发现日期", "初次发现时间", "发现日期")),
    Field("drug_types", "滥用毒品种类", parse=_memo(split_multi),
          aliases=("毒品种类", "吸食毒品种类", "滥用毒品", "吸食毒品"),
          help=gettext_lazy("可填多种，用顿号、逗号或斜杠隔开")),
    Field("how_found", "发现方式", aliases=("查获方式", "发现途径"), parse=_memo(clean_text)),
    Field("occupation", "职业", parse=_memo(_text(50))),
    Field("employment", "就业状况", aliases=("就业情况", "就业状态"), parse=_memo(clean_text)),
    Field("has_driving_licence", "是否持有驾驶证", parse=_flag,
          aliases=("持有驾驶证", "驾驶证", "有无驾驶证")),
    Field("sick_or_disabled", "病残", aliases=("是否病残", "病残情况"), parse=_flag),
    Field("poverty_by_drugs", "因毒致贫", parse=_flag,
          aliases=("因毒致贫返贫", "因毒致贫/返贫", "因毒致贫（返贫）", "因毒返贫", "是否因毒致贫")),
    Field("key_person", "重点人员", aliases=("是否重点人员",), parse=_flag),
    Field("key_person_reason", "重点人员原因", aliases=("列为重点人员原因",), parse=_text(200)),
    Field("notes", "备注", parse=clean_text),
    Field("measure_kind", "管控措施", parse=_memo(_measure_kind),
          aliases=("措施类型", "措施种类", "当前措施", "戒毒措施", "管控类型"),
          help=gettext_lazy("当前措施：社区戒毒、社区康复、强制隔离戒毒等；无措施可不填")),
    Field("decision_date", "决定日期", aliases=("措施决定日期", "决定时间"), parse=_memo(parse_date)),
    Field("report_in_date", "报到日期", aliases=("报到时间",), parse=_memo(parse_date)),
)
# fmt: on

# Person fields a row may set, compared with an existing person's to decide "update".
PLAIN = (
    "name", "ethnicity", "first_found_on", "how_found", "occupation", "employment",
    "has_driving_licence", "sick_or_disabled", "poverty_by_drugs", "key_person",
    "key_person_reason", "notes",
)  # fmt: skip
ENCRYPTED = ("household_address", "current_address", "phone")

# ------------------------------------------------------------------ lookups

# A registered person as the checks compare and the write updates them (its fields
# follow PLAIN and ENCRYPTED, hence not a typing.NamedTuple class).
_Known = namedtuple(
    "_Known",
    ("pk", "id_index", "org_unit_id", "org_path", "birth_date", *PLAIN, *ENCRYPTED, "drug_types"),
)


class _KnownMeasure(NamedTuple):
    """A registered person's measure as the checks read it."""

    pk: int
    person_id: int
    kind: str
    decision_date: date
    report_in_date: date | None
    start_date: date | None
    term_months: int | None
    planned_end: date | None
    ended_on: date | None

    def kind_label(self) -> str:
        return str(Measure.Kind(self.kind).label)


@dataclass
class _RowPlan:
    """What writing one row does, worked out during the checks."""

    number: idnumber.IdNumber
    index: bytes
    unit: Unit | None = None
    existing: Any = None
    changes: dict[str, Any] | None = None
    new_measure: dict[str, Any] | None = None
    # An existing measure whose missing report-in date the sheet supplies.
    report_in: tuple[int, date] | None = None
    # The ID number, addresses and phone encrypted beside the checks (``prepare``).
    sealed: tuple[bytearray | None, ...] | None = None


class _CodeMap:
    """A code list read once: a cell matches a code, a label, or one of the aliases.

    What each distinct cell resolved to is kept: a register names the same few
    ethnicities and drugs a hundred thousand times.
    """

    def __init__(self, list_key: str, aliases: dict[str, str] | None = None) -> None:
        from jindu.codes.models import CodeItem

        self.lookup: dict[str, str] = {}
        self.labels: list[str] = []
        items = CodeItem.objects.filter(code_list__key=list_key, active=True)
        for code, label in items.values_list("code", "label"):
            self.labels.append(label)
            for key in (code, label, *re.split(r"[（）()]", label)):
                if key.strip():
                    self.lookup.setdefault(key.strip().lower(), code)
        for alias, code in (aliases or {}).items():
            self.lookup.setdefault(alias.lower(), code)
        self.resolved: dict[str, str | None] = {}
        self.resolved_many: dict[tuple[str, ...], tuple[list[str], list[str]]] = {}

    def resolve(self, text: str) -> str | None:
        try:
            return self.resolved[text]
        except KeyError:
            pass
        key = text.lower()
        # "汉" for 汉族, "1" for 01: how ethnicity cells are often filled.
        code = self.lookup.get(key) or self.lookup.get(key + "族")
        if code is None and key.isdigit():
            code = self.lookup.get(key.zfill(2))
        self.resolved[text] = code
        return code

    def resolve_many(self, parts: list[str]) -> tuple[list[str], list[str]]:
        """The codes of several names in one cell (sorted, once each), and the names unknown."""
        key = tuple(parts)
        if key not in self.resolved_many:
            codes = [self.resolve(part) for part in parts]
            known = sorted({code for code in codes if code})
            unknown = [part for part, code in zip(parts, codes, strict=True) if not code]
            self.resolved_many[key] = (known, unknown)
        known, unknown = self.resolved_many[key]
        return list(known), unknown

    def choices(self) -> str:
        return "、".join(self.labels[:12])


# ------------------------------------------------------------------ the spec


@register_import
class PersonImport(ImportSpec):
    key = "persons"
    title = gettext_lazy("吸毒人员")
    object_type = "people.person"
    allow_partial = True
    default_partial = True
    contains_personal_data = True
    help = gettext_lazy(
        "每行一名人员。按身份证号对应：本辖区已登记的人员按表中填写的内容更新（空白单元格不改动），"
        "未登记的新增；已在其他单位登记的人员不能导入。可附当前措施（管控措施、决定日期、报到日期）。"
    )
    fields = FIELDS

    def __init__(self, *, actor: Any, **options: Any) -> None:
        super().__init__(actor=actor, **options)
        user = actor if getattr(actor, "is_authenticated", False) else None
        self.scope_path: str = user.scope_path if user else ""
        self.scope_name: str = user.org_unit.name if user and user.org_unit_id else ""
        self.today = timezone.localdate()
        self.existing: dict[bytes, _Known] = {}
        self.rows: Sequence[ImportRow] = ()
        self.measures: dict[int, list[_KnownMeasure]] = {}
        # Set by ``write``: the people it created, then those it updated.
        self.written_ids: list[int] = []
        # The rows given to ``prepare`` and their personal data being encrypted.
        self._sealing: tuple[Sequence[ImportRow], offload.Computed] | None = None

    # -- before the checks
    def prepare(self, rows: Sequence[ImportRow]) -> None:
        """Every row's ID number, addresses and phone encrypted in a second process while
        this one checks the rows: the write then only builds its rows around them
        (encrypting was half of that work). Nothing the checks do changes these values."""
        computed = offload.computed_apart(lambda: _seal_rows(rows))
        if computed is not None:
            self._sealing = (rows, computed)

    # -- prefetch
    def prefetch(self, rows: Sequence[ImportRow]) -> None:
        from jindu.people.models import FollowUpPolicy

        numbered = [row for row in rows if row.values.get("id_number") is not None]
        indexes = crypto.blind_index_many(
            [row.values["id_number"].value for row in numbered], "person-id"
        )
        for row, index in zip(numbered, indexes, strict=True):
            row.context = _RowPlan(row.values["id_number"], index)
        # Which ID numbers are registered already: a plain query per chunk (the ORM's
        # handling of 5,000 parameters costs more than the query), then the few
        # people found are loaded whole.
        table = connection.ops.quote_name(Person._meta.db_table)
        known: list[int] = []
        with connection.cursor() as cursor:
            for start in range(0, len(indexes), _CHUNK):
                chunk = indexes[start : start + _CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT id FROM {table} WHERE id_index IN ({marks})", chunk)  # noqa: S608
                known.extend(pk for (pk,) in cursor.fetchall())
        # As plain records, not model instances: a register imported again loads
        # 100,000 people, and building their instances cost more than the rest of the
        # checks (the fields' own conversions still decrypt and decode them).
        people = Person.objects.values_list(*_Known._fields)
        for start in range(0, len(known), _CHUNK):
            for person in map(_Known._make, people.filter(pk__in=known[start : start + _CHUNK])):
                self.existing[person.id_index] = person
        found = [p.pk for p in self.existing.values()]
        measures = Measure.objects.order_by("decision_date", "id").values_list(
            *_KnownMeasure._fields
        )
        for start in range(0, len(found), _CHUNK):
            for m in map(
                _KnownMeasure._make, measures.filter(person_id__in=found[start : start + _CHUNK])
            ):
                self.measures.setdefault(m.person_id, []).append(m)
        self.units_in_scope = UnitFinder(self.scope_path, self.scope_name)
        self.ethnicity = _CodeMap("ethnicity")
        self.how_found = _CodeMap(
            "how_found",
            {"公安机关查获": "police_seized", "查获": "police_seized", "排查": "community_screening",
             "自首": "self_reported", "自愿": "self_reported", "主动报告": "self_reported",
             "外地通报": "other_area_notice", "戒毒所转入": "isolation_transfer"},
        )  # fmt: skip
        self.employment = _CodeMap(
            "employment_status",
            {"有业": "employed", "在业": "employed", "务工": "employed", "待业": "unemployed",
             "学生": "student", "无": "none"},
        )  # fmt: skip
        self.drugs = _CodeMap("drug_type")
        self.policy = FollowUpPolicy.current()
        # Labels translated once, not once per row.
        # A code list not loaded (an empty map) leaves the cell's text as it is.
        coded = (("ethnicity", self.ethnicity, _("民族")), ("how_found", self.how_found, _("发现方式")),
                 ("employment", self.employment, _("就业状况")))  # fmt: skip
        self.coded = tuple(entry for entry in coded if entry[1].lookup)
        self.dated = (("first_found_on", _("初次发现日期")), ("decision_date", _("决定日期")),
                      ("report_in_date", _("报到日期")))  # fmt: skip

    # -- checks
    def check_rows(self, rows: Sequence[ImportRow]) -> None:
        self.rows = rows
        first: dict[bytes, ImportRow] = {}
        for row in rows:
            plan = row.context
            if plan is None:
                continue
            earlier = first.get(plan.index)
            if earlier is None:
                first[plan.index] = row
                continue
            message = _("与第%(row)d行的身份证号重复，同一人员只能有一行")
            row.error("id_number", message % {"row": earlier.number})
            if not any(k == "id_number" for k, _m in earlier.errors):
                earlier.error("id_number", message % {"row": row.number})
        self.units = self.units_in_scope.resolve(row.values.get("unit") for row in rows)
        # Every row is checked, even one already wrong, so that the preview lists all
        # of its problems at once.
        for row in rows:
            self.check_row(row)

    def check_row(self, row: ImportRow) -> None:
        values, plan = row.values, row.context
        self._codes(row)
        unit = self.units.get(values["unit"]) if values["unit"] else None
        if isinstance(unit, str):
            row.error("unit", unit)
        if plan is None:
            self._dates(row, None)
            self._measure(row)
            return
        plan.unit = unit if isinstance(unit, Unit) else None
        number: idnumber.IdNumber = plan.number
        birth = number.birth_date
        if values["sex"] and values["sex"] != number.sex:
            shown = {"s": "男" if number.sex == "M" else "女"}
            row.error("sex", _("性别与身份证号不符（身份证号显示为%(s)s）") % shown)
        if values["birth_date"] and values["birth_date"] != birth:
            shown = {"d": birth.isoformat()}
            row.error("birth_date", _("出生日期与身份证号不符（身份证号显示为%(d)s）") % shown)
        self._dates(row, birth)
        existing = self.existing.get(plan.index)
        if existing is not None:
            plan.existing = existing
            if self.scope_path and not existing.org_path.startswith(self.scope_path):
                row.error("id_number", _("该人员已在其他单位登记，不能导入；如人员已迁入本地，请联系原登记单位办理移交"))  # fmt: skip
                return
            # The sheet may name the village of a person kept in one of its grids, or
            # the reverse; another unit altogether is a transfer, not an import.
            unit = plan.unit
            if unit and not (existing.org_path.startswith(unit.path) or unit.path.startswith(existing.org_path)):  # fmt: skip
                row.error("unit", _("该人员现由其他村（社区）负责，与表中责任单位不同；变更责任单位请办理移交"))  # fmt: skip
        self._measure(row)
        if not row.ok:
            return
        if existing is None:
            row.outcome = "create"
            return
        plan.changes = self._changes(row, existing)
        changed = plan.changes or plan.new_measure or plan.report_in
        row.outcome = "update" if changed else "unchanged"

    def _codes(self, row: ImportRow) -> None:
        values = row.values
        for key, codes, label in self.coded:
            text = values[key]
            if text:
                code = codes.resolve(text)
                if code is None:
                    shown = {"l": label, "v": text, "c": codes.choices()}
                    row.error(key, _("无法识别的%(l)s“%(v)s”，可填：%(c)s") % shown)
                else:
                    values[key] = code
        parts = values["drug_types"]
        if parts is not None and self.drugs.lookup:
            found, unknown = self.drugs.resolve_many(parts)
            if unknown:
                shown = {"v": "、".join(unknown), "c": self.drugs.choices()}
                row.error("drug_types", _("无法识别的毒品种类“%(v)s”，可填：%(c)s") % shown)
            values["drug_types"] = found

    def _dates(self, row: ImportRow, birth: date | None) -> None:
        for key, label in self.dated:
            day = row.values[key]
            if day is None:
                continue
            if day > self.today:
                row.error(key, _("%(l)s不能晚于今天") % {"l": label})
            elif birth and day < birth:
                row.error(
                    key, _("%(l)s（%(d)s）不能早于出生日期") % {"l": label, "d": day.isoformat()}
                )

    def _measure(self, row: ImportRow) -> None:
        values, plan = row.values, row.context
        kind, decision = values["measure_kind"], values["decision_date"]
        report_in = values["report_in_date"]
        if kind in (None, "none"):
            if decision or report_in:
                row.error("measure_kind", _("填写了决定日期或报到日期，请同时填写管控措施"))
            return
        if decision is None:
            row.error("decision_date", _("填写了管控措施，请同时填写决定日期"))
            return
        if report_in and report_in < decision:
            row.error("report_in_date", _("报到日期不能早于决定日期"))
        if not row.ok:
            return
        # The rehab-after-isolation rule is not checked here: a legacy sheet holds the
        # current measure only, the isolation before it was recorded elsewhere.
        policy = self.policy
        term = {
            "community_detox": policy.detox_term_months,
            "community_rehab": policy.rehab_max_months,
            "compulsory_isolation": policy.isolation_term_months,
        }.get(kind)
        start = report_in if kind in COMMUNITY_KINDS else decision
        anchor = report_in if kind in COMMUNITY_KINDS else start
        planned = add_months(anchor, term) if anchor and term else None
        measure = {"kind": kind, "decision_date": decision, "report_in_date": report_in,
                   "start_date": start, "term_months": term, "planned_end": planned}  # fmt: skip
        existing = self.measures.get(plan.existing.pk, []) if plan and plan.existing else []
        for other in existing:
            if other.kind == kind and other.decision_date == decision:
                if report_in and other.report_in_date is None:
                    plan.report_in = (other.pk, report_in)  # type: ignore[union-attr]
                elif report_in and other.report_in_date != report_in:
                    row.error(
                        "report_in_date",
                        _("与系统中该措施的报到日期（%(d)s）不同，请在人员页面核对修改")
                        % {"d": other.report_in_date.isoformat()},
                    )
                return
        if kind in services.EXCLUSIVE:
            begin, end = anchor or decision, planned
            for other in existing:
                if other.kind not in services.EXCLUSIVE:
                    continue
                o_start = other.report_in_date or other.start_date or other.decision_date
                o_end = other.ended_on or other.planned_end
                if (o_end is None or begin < o_end) and (end is None or o_start < end):
                    shown = {"k": other.kind_label(), "d": o_start.isoformat()}
                    row.error("measure_kind", _("与已有的%(k)s（%(d)s起）时间重叠；如系转为新措施，请先在人员页面结束原措施") % shown)  # fmt: skip
                    return
        if plan is not None:
            plan.new_measure = measure

    def _changes(self, row: ImportRow, person: _Known) -> dict[str, Any]:
        values = row.values
        changes = {}
        for key in (*PLAIN, *ENCRYPTED):
            value = values[key]
            if value is None or value == "":
                continue
            current = getattr(person, key)
            # An encrypted field left empty reads back as None.
            if current is None and isinstance(value, str):
                current = ""
            if current != value:
                changes[key] = value
        drugs = values["drug_types"]
        if drugs and sorted(person.drug_types or []) != drugs:
            changes["drug_types"] = drugs
        return changes

    # -- writing
    def _take_sealed(self) -> bool:
        """Hand each row its personal data as ``prepare`` encrypted it; False if there is
        none (not prepared, or the second process failed: the write encrypts it then)."""
        sealing, self._sealing = self._sealing, None
        if sealing is None:
            return False
        rows, computed = sealing
        try:
            sealed = computed.result()
        except offload.OffloadError as exc:
            # The message names where it failed, never a value.
            logger.warning("import: personal data is encrypted during the write instead: %s", exc)
            return False
        for row, values in zip(rows, sealed, strict=True):
            if row.context is not None:
                row.context.sealed = values
        return True

    def write(self, rows: Sequence[ImportRow]) -> dict[str, int]:
        sealed = self._take_sealed()
        writer = BulkWriter()
        counts = {"created": 0, "updated": 0, "unchanged": 0, "measures": 0}
        new = [row for row in rows if row.outcome == "create"]
        created = self._create(writer, new, sealed=sealed)
        counts["created"] = len(created)
        updated: list[int] = []
        refresh: list[int] = []
        by_fields: dict[tuple[str, ...], list[tuple]] = {}
        measures: list[tuple] = []
        report_ins: list[tuple] = []
        for row in rows:
            counts["unchanged"] += row.outcome == "unchanged"
            if row.outcome != "update":
                continue
            plan = row.context
            person = plan.existing
            updated.append(person.pk)
            if plan.changes:
                fields = tuple(sorted(plan.changes))
                values = [self._db(key, plan.changes[key]) for key in fields]
                by_fields.setdefault(fields, []).append((*values, writer.now, person.pk))
                if "first_found_on" in plan.changes:
                    refresh.append(person.pk)
            if plan.new_measure:
                where = (person.pk, person.org_unit_id, person.org_path)
                measures.append(self._measure_row(writer, *where, plan.new_measure))
                refresh.append(person.pk)
            if plan.report_in:
                report_ins.append(plan.report_in)
                refresh.append(person.pk)
        for fields, updates in by_fields.items():
            writer.update(Person, (*fields, "updated_at"), updates)
        self._update_measure_report_ins(writer, report_ins)
        ids = writer.reserve_ids(Measure, len(measures))
        writer.insert(
            Measure, MEASURE_FIELDS, [(pk, *m) for pk, m in zip(ids, measures, strict=True)]
        )
        if refresh:
            refresh_facts_many(refresh)
        counts["updated"] = len(updated)
        counts["measures"] = len(measures) + self.created_measures
        # Everyone this import wrote, for whatever must follow in the same transaction.
        self.written_ids = [*created, *updated]
        # The counties' tallies count them right after the import commits; until then
        # the figures of the units in the importing scope are counted from the records
        # (jindu.core.tallies.defer), so none is stale and the import stays short.
        scope = getattr(self.actor, "scope_path", None) or "/"
        tallies.defer(self.written_ids, [scope])
        return counts

    def _update_measure_report_ins(self, writer: BulkWriter, report_ins: list[tuple]) -> None:
        if not report_ins:
            return
        # A community measure's term runs from report-in: its planned end follows.
        by_pk = {m.pk: m for ms in self.measures.values() for m in ms}
        updates = []
        for pk, day in report_ins:
            m = by_pk[pk]
            planned = m.planned_end
            if m.kind in COMMUNITY_KINDS and m.term_months:
                planned = add_months(day, m.term_months)
            updates.append((day.isoformat(), _iso(m.start_date or day), _iso(planned), pk))
        writer.update(Measure, ("report_in_date", "start_date", "planned_end"), updates)

    @staticmethod
    def _db(key: str, value: Any) -> Any:
        if key in ENCRYPTED:
            return crypto.encrypt(value)
        if key == "drug_types":
            return json.dumps(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    def _measure_row(
        self, writer: BulkWriter, person_id: int, unit_id: int, path: str, m: dict[str, Any]
    ) -> tuple:
        iso = _iso
        return (person_id, unit_id, path, m["kind"], m["decision_date"].isoformat(), iso(m["report_in_date"]),
                iso(m["start_date"]), m["term_months"], iso(m["planned_end"]), writer.now)  # fmt: skip

    def _create(
        self, writer: BulkWriter, rows: list[ImportRow], *, sealed: bool = False
    ) -> Sequence[int]:
        """Insert the new people, their measures and responsibilities; their keys.
        ``sealed``: each row's plan holds its personal data encrypted already."""
        self.created_measures = 0
        if not rows:
            return []
        today = self.today
        # In unit order, as the list reads them: each index then grows at its end
        # instead of everywhere (a quarter less work for SQLite), and keys follow.
        rows = sorted(rows, key=lambda row: row.context.unit.path)
        # Keys first, so that the rows can be built and written chunk by chunk with
        # no query in between (a pipeline's inserts run beside the building).
        ids = writer.reserve_ids(Person, len(rows))
        wanted = sum(1 for row in rows if row.context.new_measure)
        measure_keys = writer.reserve_ids(Measure, wanted)

        def build() -> Iterator[tuple[list[tuple], list[tuple]]]:
            """The people and measure rows, chunk by chunk, ready for the database."""
            drug_json: dict[tuple[str, ...], str] = {}
            # A register repeats its dates: each written as text once.
            iso = _IsoDates()
            measure_ids = iter(measure_keys)
            bounds = [0, *range(min(_FIRST_CHUNK, len(rows)), len(rows), _CHUNK), len(rows)]
            for start, stop in itertools.pairwise(bounds):
                chunk = rows[start:stop]
                secret = [row.context.sealed for row in chunk] if sealed else _seal_rows(chunk)
                people, measures = [], []
                for pk, row, (id_number, household, current, phone) in zip(
                    ids[start:stop], chunk, secret, strict=True
                ):
                    v, plan = row.values, row.context
                    unit, number, m = plan.unit, plan.number, plan.new_measure
                    latest = None
                    if m:
                        row_m = self._measure_row(writer, pk, unit.pk, unit.path, m)
                        measures.append((next(measure_ids), *row_m))
                        latest = MeasureDates(m["kind"], m["decision_date"], m["report_in_date"],
                                              m["start_date"], m["planned_end"], None)  # fmt: skip
                    found = v["first_found_on"]
                    if latest is None:  # the rule's answer with nothing but a finding
                        facts = ("", None, None, None, found, None)
                    else:
                        facts = person_facts(
                            first_found_on=found, latest=latest, last_met=None, last_visit=None,
                            last_positive=None,
                        )  # fmt: skip
                    kind, anchor, until, contact, clean, awaiting = facts
                    drugs = tuple(v["drug_types"] or ())
                    drugs_text = drug_json.get(drugs)
                    if drugs_text is None:
                        drugs_text = drug_json[drugs] = json.dumps(list(drugs))
                    people.append((
                        pk, unit.pk, unit.path, v["name"], number.sex, iso[number.birth_date],
                        id_number, plan.index, v["ethnicity"] or "", household, current, phone,
                        iso[found], drugs_text, v["how_found"] or "", v["occupation"] or "",
                        v["employment"] or "", bool(v["has_driving_licence"]),
                        bool(v["sick_or_disabled"]), bool(v["poverty_by_drugs"]),
                        bool(v["key_person"]), v["key_person_reason"] or "", v["notes"] or "",
                        kind, iso[anchor], iso[until], iso[contact], iso[clean], iso[awaiting],
                    ))  # fmt: skip
                yield people, measures

        # The rows are built and encrypted in a second process while this one stores
        # them (jindu.core.offload): the two halves of the work on two cores.
        built = produced_apart(build)
        with writer.pipeline() as put:
            for people, measures in built:
                put(Person, PERSON_FIELDS, people)
                put(Measure, MEASURE_FIELDS, measures)
        _open_responsibilities(ids, today)
        self.created_measures = wanted
        return ids

    def audit_detail(self) -> dict[str, Any]:
        # How many legacy 15-digit numbers the valid rows carry (stored as 18 digits).
        converted = sum(1 for row in self.rows if row.ok and row.context.number.converted_from_15)
        return {"scope": self.scope_name or _("全部"), "converted_from_15": converted}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


class _IsoDates(dict):
    """``_iso`` remembered: ``dates[day]`` is the day as ISO text (None for None)."""

    def __init__(self) -> None:
        super().__init__({None: None})

    def __missing__(self, day: date) -> str:
        text = self[day] = day.isoformat()
        return text


def _seal_rows(rows: Sequence[ImportRow]) -> list[tuple[bytearray | None, ...]]:
    """The ID number, addresses and phone of every row, encrypted in one batch per
    column (a row whose ID number is wrong gets none). As bytearrays, which SQLite
    binds directly (bytes only after a look-up, ``bulk.bind_directly``)."""
    columns = []
    for key in ("id_number", "household_address", "current_address", "phone"):
        if key == "id_number":
            texts = [getattr(row.values.get(key), "value", "") for row in rows]
        else:
            texts = [row.values.get(key) or "" for row in rows]
        sealed = map(bytearray, crypto.encrypt_many([t for t in texts if t]))
        # An empty value is stored as NULL, as ``EncryptedTextField`` stores it.
        columns.append([next(sealed) if t else None for t in texts])
    return list(zip(*columns, strict=True))


def _open_responsibilities(ids: Sequence[int], today: date) -> None:
    """Each new person's unit responsible from the first finding (or today), in one
    statement: the database copies 100,000 rows faster than Python can hand them over."""
    person = connection.ops.quote_name(Person._meta.db_table)
    table = connection.ops.quote_name(Responsibility._meta.db_table)
    if isinstance(ids, range):  # SQLite's keys: one block
        which, params = "id >= %s AND id < %s", [ids.start, ids.stop]
    elif max(ids) - min(ids) + 1 == len(ids):
        # PostgreSQL's keys (drawn from the sequence, all different) are one block unless
        # another session drew keys meanwhile: a range reads the new rows without probing
        # the key index 100,000 times.
        which, params = "id BETWEEN %s AND %s", [min(ids), max(ids)]
    else:
        which, params = "id = ANY(%s)", [list(ids)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (person_id, org_unit_id, org_path, valid_from, valid_to) "  # noqa: S608
            f"SELECT id, org_unit_id, org_path, COALESCE(first_found_on, %s), NULL "
            f"FROM {person} WHERE {which}",
            [today.isoformat(), *params],
        )


PERSON_FIELDS = (
    "id", "org_unit_id", "org_path", "name", "sex", "birth_date", "id_number", "id_index",
    "ethnicity", "household_address", "current_address", "phone", "first_found_on", "drug_types",
    "how_found", "occupation", "employment", "has_driving_licence", "sick_or_disabled",
    "poverty_by_drugs", "key_person", "key_person_reason", "notes",
    *FACT_FIELDS,
)  # fmt: skip
MEASURE_FIELDS = (
    "id", "person_id", "org_unit_id", "org_path", "kind", "decision_date", "report_in_date",
    "start_date", "term_months", "planned_end", "created_at",
)  # fmt: skip
