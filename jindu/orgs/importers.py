"""Sheets that load the territory and the member departments.

``units``: a sheet of statistical division codes and names (统计用区划代码, 名称;
a 城乡分类代码 column is ignored). Parent and level follow from each code;
existing codes are renamed when the name differs and otherwise left alone, so
loading the same sheet twice changes nothing. All or nothing.

``departments``: member departments of one county (单位名称, 简称, 禁毒工作职责,
排序), matched by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.core.excel_import import (
    CellError,
    Field,
    ImportRow,
    ImportSpec,
    clean_text,
    code_text,
    parse_int,
    register_import,
)
from jindu.orgs import services
from jindu.orgs.division import ORDER, SIGNIFICANT, expand_code, level_of_code, parent_code
from jindu.orgs.models import Department, OrgUnit

_CHUNK = 5000


def division_code_cell(value: Any) -> str:
    code = code_text(value)
    if not code.isdigit():
        raise CellError(_("区划代码只能是数字，当前为“%(code)s”") % {"code": code})
    code = expand_code(code)
    if len(code) != 12:
        raise CellError(
            _("区划代码须为12位数字，当前为“%(code)s”（%(n)d位）") % {"code": code, "n": len(code)}
        )
    if level_of_code(code) is None:
        raise CellError(
            _("“%(code)s”不是有效的统计用区划代码：省、市、县各2位，乡3位，村3位，下级各位补0")
            % {"code": code}
        )
    return code


def name_cell(value: Any) -> str:
    name = clean_text(value)
    if len(name) > services.NAME_MAX:
        raise CellError(_("名称不能超过%(n)d个字") % {"n": services.NAME_MAX})
    return name


def _in_chunks(values: Sequence[str]) -> list[list[str]]:
    return [list(values[i : i + _CHUNK]) for i in range(0, len(values), _CHUNK)]


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


@register_import
class UnitImport(ImportSpec):
    key = "units"
    title = gettext_lazy("区划代码")
    object_type = "orgs.orgunit"
    allow_partial = False
    help = gettext_lazy(
        "每行一个单位：统计用区划代码和名称（可含“城乡分类代码”列，导入时忽略）。"
        "上级和层级由代码推出，上级须已在系统中或同在本表。已有的代码名称不同则更名，相同则不变。"
        "表中任何一行有误，整表都不导入。"
    )
    fields = (
        Field(
            "code",
            "统计用区划代码",
            aliases=("区划代码", "行政区划代码", "统计代码", "代码"),
            required=True,
            parse=division_code_cell,
            help=gettext_lazy("12位数字；6位县代码、9位乡镇代码会自动补0"),
        ),
        Field(
            "name", "名称", aliases=("单位名称", "区划名称", "名字"), required=True, parse=name_cell
        ),
    )

    def __init__(self, *, actor: Any, **options: Any) -> None:
        super().__init__(actor=actor, **options)
        user = _user(actor)
        self.scope_unit: OrgUnit | None = user.org_unit if user else None
        self.existing: dict[str, OrgUnit] = {}
        self.tree_is_empty = False

    def prefetch(self, rows: Sequence[ImportRow]) -> None:
        codes: set[str] = set()
        for row in rows:
            code = row.values.get("code")
            if code:
                codes.add(code)
                above = parent_code(code)
                if above:
                    codes.add(above)
        for chunk in _in_chunks(sorted(codes)):
            self.existing.update(
                (u.division_code, u) for u in OrgUnit.objects.filter(division_code__in=chunk)
            )
        self.tree_is_empty = not OrgUnit.objects.exists()

    def _outside_scope(self, code: str) -> bool:
        """Whether a code cannot lie in the importing user's subtree, by its digits alone."""
        if self.scope_unit is None:
            return False
        scope_code = self.scope_unit.division_code
        if not scope_code:
            return True
        digits = SIGNIFICANT.get(self.scope_unit.level)
        return not digits or not code.startswith(scope_code[:digits])

    def _in_scope(self, unit: OrgUnit) -> bool:
        return self.scope_unit is None or unit.path.startswith(self.scope_unit.path)

    @staticmethod
    def _order(row: ImportRow) -> tuple[int, int]:
        code = row.values.get("code")
        level = level_of_code(code) if code else None
        return (ORDER.index(level) if level else len(ORDER), row.number)

    def check_rows(self, rows: Sequence[ImportRow]) -> None:
        seen: dict[str, ImportRow] = {}
        self.root_code: str | None = None
        # Parents before children, so that a child can rely on its parent's verdict.
        for row in sorted(rows, key=self._order):
            code = row.values.get("code")
            if not code:
                continue
            if code in seen:
                row.error("code", _("与第%(row)d行的区划代码重复") % {"row": seen[code].number})
                continue
            seen[code] = row
            if row.ok:
                self._check(row, seen)

    def _check(self, row: ImportRow, seen: dict[str, ImportRow]) -> None:
        code, name = row.values["code"], row.values["name"]
        if self._outside_scope(code):
            row.error(
                "code",
                _("区划代码“%(code)s”不在您的管辖范围（%(unit)s）内")
                % {"code": code, "unit": self.scope_unit.name},
            )
            return
        existing = self.existing.get(code)
        if existing is not None:
            if not self._in_scope(existing):
                row.error(
                    "code",
                    _("区划代码“%(code)s”（%(name)s）不在您的管辖范围内")
                    % {"code": code, "name": existing.name},
                )
            elif existing.name == name:
                row.outcome = "unchanged"
            else:
                row.outcome, row.context = "update", existing
            return
        above = parent_code(code)
        parent = self.existing.get(above) if above else None
        if parent is not None:
            if not self._in_scope(parent):
                row.error("code", _("上级单位“%(name)s”不在您的管辖范围内") % {"name": parent.name})
            elif not parent.active:
                row.error(
                    "code", _("上级单位“%(name)s”已撤销，不能在其下导入") % {"name": parent.name}
                )
            else:
                row.outcome = "create"
            return
        parent_row = seen.get(above) if above else None
        if parent_row is not None:
            if parent_row.ok:
                row.outcome = "create"
            else:
                row.error(
                    "code",
                    _("上级区划（第%(row)d行）有误，本行也不能导入") % {"row": parent_row.number},
                )
            return
        if self.scope_unit is None and self.tree_is_empty and self.root_code is None:
            # The first load into an empty system: the topmost code becomes the root.
            self.root_code = code
            row.outcome = "create"
            return
        row.error(
            "code",
            _("上级区划代码“%(code)s”在系统和本表中都不存在，请把上级单位一并列入表中")
            % {"code": above or "—"},
        )

    def write(self, rows: Sequence[ImportRow]) -> dict[str, int]:
        new = [
            services.NewUnit(
                name=row.values["name"],
                level=level_of_code(row.values["code"]),
                code=row.values["code"],
                parent_code=None
                if row.values["code"] == self.root_code
                else parent_code(row.values["code"]),
            )
            for row in rows
            if row.outcome == "create"
        ]
        renames = [(row.context, row.values["name"]) for row in rows if row.outcome == "update"]
        counts = services.load_units(actor=self.actor, new=new, renames=renames)
        counts["unchanged"] = sum(1 for row in rows if row.outcome == "unchanged")
        return counts

    def audit_detail(self) -> dict[str, Any]:
        return {"scope": self.scope_unit.name if self.scope_unit else ""}


@register_import
class DepartmentImport(ImportSpec):
    key = "departments"
    title = gettext_lazy("成员单位")
    object_type = "orgs.department"
    allow_partial = True
    help = gettext_lazy(
        "每行一个成员单位：单位名称（必填）、简称、禁毒工作职责、排序。"
        "按单位名称对应：已有的单位更新简称、职责和排序，没有的新增。"
    )
    fields = (
        Field(
            "name",
            "单位名称",
            aliases=("成员单位", "名称", "部门", "部门名称"),
            required=True,
            parse=name_cell,
        ),
        Field("short_name", "简称", aliases=("单位简称",), default=""),
        Field(
            "duties",
            "禁毒工作职责",
            aliases=("职责", "工作职责", "主要职责", "禁毒职责"),
            default="",
        ),
        Field("sort_order", "排序", aliases=("序号", "顺序"), parse=parse_int),
    )

    def __init__(self, *, actor: Any, county: OrgUnit, **options: Any) -> None:
        super().__init__(actor=actor, county=county, **options)
        self.county = county
        self.existing: dict[str, Department] = {}

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parser.add_argument("--county", help=_("成员单位所属县（区）的统计用区划代码"))

    @classmethod
    def from_cli(cls, *, actor: Any, options: dict[str, Any]) -> ImportSpec:
        from django.core.management.base import CommandError

        code = options.get("county")
        counties = OrgUnit.objects.filter(level="county", active=True)
        if code:
            counties = counties.filter(division_code=expand_code(code_text(code)))
        if counties.count() != 1:
            raise CommandError(_("请用 --county 指定一个县（区）的区划代码"))
        return cls(actor=actor, county=counties.get())

    def prefetch(self, rows: Sequence[ImportRow]) -> None:
        self.existing = {d.name: d for d in Department.objects.filter(org_unit=self.county)}

    def check_rows(self, rows: Sequence[ImportRow]) -> None:
        seen: dict[str, int] = {}
        for row in rows:
            name = row.values.get("name")
            if name and name in seen:
                row.error("name", _("与第%(row)d行重复") % {"row": seen[name]})
                continue
            if name:
                seen[name] = row.number
            if row.ok:
                self.check_row(row)

    def check_row(self, row: ImportRow) -> None:
        values = row.values
        if len(values["short_name"]) > 30:
            row.error("short_name", _("简称不能超过30个字"))
            return
        if values["sort_order"] is not None and abs(values["sort_order"]) > 99999:
            row.error("sort_order", _("排序应在-99999到99999之间"))
            return
        existing = self.existing.get(values["name"])
        if existing is None:
            row.outcome = "create"
            return
        row.context = existing
        changed = (
            values["short_name"] != existing.short_name
            or values["duties"] != existing.duties
            or (values["sort_order"] is not None and values["sort_order"] != existing.sort_order)
        )
        row.outcome = "update" if changed else "unchanged"

    def write(self, rows: Sequence[ImportRow]) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for row in rows:
            values = row.values
            if row.outcome == "create":
                services.create_department(
                    actor=self.actor,
                    county=self.county,
                    name=values["name"],
                    short_name=values["short_name"],
                    duties=values["duties"],
                    sort_order=values["sort_order"] or 0,
                )
                counts["created"] += 1
            elif row.outcome == "update":
                services.update_department(
                    actor=self.actor,
                    department=row.context,
                    short_name=values["short_name"],
                    duties=values["duties"],
                    sort_order=values["sort_order"],
                )
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        return counts

    def audit_detail(self) -> dict[str, Any]:
        return {"county": self.county.name}
