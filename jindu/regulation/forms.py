"""Forms of the regulation pages. They collect and parse input; the rules live in the
services (``services``, ``ledger``, ``campaigns``, ``catalogue``), whose errors are
put back next to these fields."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jindu.codes import registry
from jindu.core.indicators import Period
from jindu.orgs.division import Level
from jindu.orgs.models import OrgUnit
from jindu.orgs.selectors import departments_for
from jindu.regulation.models import EntryKind, FindingKind, RegulationPolicy, Substance
from jindu.regulation.selectors import UnitFilter

QUANTITY_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's errors next to the fields they concern (the rest above the form)."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            target = name if name in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class Form(forms.Form):
    """A form whose empty required fields say which in plain words (请填写…/请选择…)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ChoiceField):
                field.error_messages["required"] = _("请选择%(label)s") % {"label": field.label}
            else:
                field.error_messages["required"] = _("请填写%(label)s") % {"label": field.label}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        help_text=help_text,
        error_messages={
            "invalid": _("请输入有效日期，如 2024-03-05"),
            "required": _("请填写日期"),
        },
    )


def quantity_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.CharField:
    # A text field: the service parses the number, so "-3" or "1,5" get its Chinese message.
    return forms.CharField(
        label=label,
        required=required,
        max_length=24,
        help_text=help_text,
        widget=forms.TextInput(attrs=QUANTITY_ATTRS),
        error_messages={"required": _("请填写数量")},
    )


def code_choices(
    list_key: str, *, blank: Any = None, current: str | None = None
) -> list[tuple[str, Any]]:
    choices: list[tuple[str, Any]] = [("", blank)] if blank is not None else []
    return choices + registry.choices(list_key, current=current)


def place_choices(user: Any) -> list[tuple[int, str]]:
    """Townships and villages of the user's subtree, villages indented under their township."""
    units = (
        OrgUnit.objects.for_user(user)
        .filter(level__in=[Level.TOWNSHIP, Level.VILLAGE], active=True)
        .order_by("path")
    )
    return [(u.pk, ("　" if u.level == Level.VILLAGE else "") + u.name) for u in units]


class UnitForm(Form):
    name = forms.CharField(label=_("单位名称"), max_length=100)
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=18, required=False)
    kind = forms.ChoiceField(label=_("单位类别"))
    department = forms.TypedChoiceField(label=_("监管部门"), coerce=int)
    org_unit = forms.TypedChoiceField(label=_("所在乡镇或村（社区）"), coerce=int)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    registered_on = date_field(_("登记日期"), help_text=_("台账记录不能早于此日期"))
    closed_on = date_field(_("停业/注销日期"), required=False)
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: Any, current_kind: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = code_choices(
            "regulated_unit_kind", blank="—", current=current_kind
        )
        departments = departments_for(user).filter(active=True).order_by("sort_order", "id")
        if user.scoped_to_department:
            departments = departments.filter(pk=user.department_id)
        self.fields["department"].choices = [("", "—"), *((d.pk, d.name) for d in departments)]
        self.fields["org_unit"].choices = [("", "—"), *place_choices(user)]
        if not self.is_bound and not self.initial.get("registered_on"):
            self.initial["registered_on"] = timezone.localdate()


class LicenceForm(Form):
    kind = forms.ChoiceField(label=_("证件种类"))
    number = forms.CharField(label=_("证件编号"), max_length=60)
    issuer = forms.CharField(label=_("发证机关"), max_length=100, required=False)
    valid_from = date_field(_("有效期起"))
    valid_until = date_field(_("有效期至"))
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, current_kind: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = code_choices("licence_kind", blank="—", current=current_kind)


class AllowanceForm(Form):
    substance = forms.TypedChoiceField(label=_("品种"), coerce=int)
    yearly_quantity = quantity_field(
        _("年度核定购买量"), required=False, help_text=_("按品种的计量单位填写；不填为不限")
    )
    licence = forms.TypedChoiceField(
        label=_("依据证件"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, licences: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        labels = registry.labels("measure_unit")
        self.fields["substance"].choices = [("", "—")] + [
            (s.pk, f"{s.code} {s.name}（{labels.get(s.unit, s.unit)}）")
            for s in Substance.objects.filter(active=True).order_by("catalogue", "category", "code")
        ]
        self.fields["licence"].choices = [("", _("本单位任一有效证件"))] + [
            (lic.pk, lic.number) for lic in licences
        ]


class ContactForm(Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    title = forms.CharField(label=_("职务"), max_length=50, required=False)
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )


class ItemSelect(forms.Select):
    """Options that carry their item's unit of measure, for the form's script."""

    def __init__(self, *args: Any, units: dict[int, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = units or {}

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        unit = self.units.get(getattr(value, "value", value))
        if unit:
            option["attrs"]["data-unit"] = unit
        return option


class EntryForm(Form):
    substance = forms.TypedChoiceField(label=_("品种"), coerce=int, widget=ItemSelect)
    kind = forms.ChoiceField(label=_("类型"), choices=[("", "—"), *EntryKind.choices])
    occurred_on = date_field(_("日期"))
    quantity = quantity_field(_("数量"))
    measure_unit = forms.ChoiceField(label=_("计量单位"))
    counterparty = forms.CharField(
        label=_("往来单位"),
        max_length=100,
        required=False,
        help_text=_(
            "已登记的单位请填全称或统一社会信用代码，系统自动关联；购入、销售、调入、调出须填"
        ),
    )
    document_no = forms.CharField(label=_("单据号"), max_length=60, required=False)
    reported_on = date_field(
        _("报告日期"), required=False, help_text=_("销售向公安机关报告（备案）的日期")
    )
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, items: list[Substance] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["substance"].choices = [("", "—")] + [(s.pk, s.name) for s in items]
        self.fields["substance"].widget.units = {s.pk: s.unit for s in items}
        self.fields["measure_unit"].choices = code_choices("measure_unit")
        if not self.is_bound:
            self.initial.setdefault("occurred_on", timezone.localdate())
            if len(items) == 1:
                self.initial.setdefault("substance", items[0].pk)
                self.initial.setdefault("measure_unit", items[0].unit)


class VoidForm(Form):
    reason = forms.CharField(label=_("作废原因"), max_length=200)


class ReportedForm(Form):
    reported_on = date_field(_("报告日期"))


def last_year_to(today: date) -> Period:
    """The 365 days up to today: the default view, whatever the time of year."""
    period = Period.between(today - timedelta(days=364), today)
    return Period(period.start, period.end, str(_("近一年")))


class PeriodForm(Form):
    """A year, a quarter of a year, a month, or the last twelve months (the default)."""

    year = forms.IntegerField(label=_("年份"), required=False, min_value=2000, max_value=2100)
    quarter = forms.IntegerField(label=_("季度"), required=False, min_value=1, max_value=4)
    month = forms.IntegerField(label=_("月份"), required=False, min_value=1, max_value=12)

    def period(self, today: date) -> Period:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        year = data.get("year")
        if not year or year > today.year:
            return last_year_to(today)
        if data.get("month"):
            return Period.month(year, data["month"])
        if data.get("quarter"):
            return Period.quarter(year, data["quarter"])
        return Period.year(year)


class UnitFilterForm(Form):
    place = forms.TypedChoiceField(label=_("所在地"), coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(label=_("单位类别"), required=False)
    department = forms.TypedChoiceField(
        label=_("监管部门"), coerce=int, required=False, empty_value=None
    )
    category = forms.ChoiceField(label=_("涉及品种类别"), required=False)
    licence = forms.ChoiceField(
        label=_("证件"),
        required=False,
        choices=[("", _("全部")), ("expiring", _("即将到期")), ("expired", _("已过期或无证"))],
    )
    name = forms.CharField(label=_("名称或信用代码"), required=False, max_length=50)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["place"].choices = [("", _("全部"))] + place_choices(user)
        self.fields["kind"].choices = code_choices("regulated_unit_kind", blank=_("全部"))
        departments = departments_for(user).order_by("sort_order", "id")
        self.fields["department"].choices = [("", _("全部"))] + [
            (d.pk, d.name) for d in departments
        ]
        self.fields["category"].choices = code_choices("substance_category", blank=_("全部"))

    def to_filter(self) -> UnitFilter:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        place = None
        if data.get("place"):
            place = OrgUnit.objects.for_user(self.user).filter(pk=data["place"]).first()
        return UnitFilter(
            place=place,
            kind=data.get("kind") or "",
            department_id=data.get("department"),
            licence=data.get("licence") or "",
            name=(data.get("name") or "").strip(),
            substance_category=data.get("category") or "",
        )

    def criteria(self) -> dict[str, str]:
        """The chosen filters in words, as a campaign remembers them."""
        result = {}
        if not (self.is_bound and self.is_valid()):
            return result
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            label = dict(getattr(field, "choices", [])).get(value, value)
            result[str(field.label)] = str(label).strip()
        return result


class FindingFilterForm(Form):
    kind = forms.ChoiceField(
        label=_("问题类型"), required=False, choices=[("", _("全部")), *FindingKind.choices]
    )
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[
            ("", _("全部")),
            ("open", _("未办结")),
            ("unassigned", _("未交办")),
            ("closed", _("已办结")),
        ],
    )
    year = forms.IntegerField(label=_("年份"), required=False, min_value=2000, max_value=2100)
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AssignForm(Form):
    assignee = forms.ChoiceField(label=_("交由"))

    def __init__(
        self, *args: Any, users: list[Any] = (), department: Any = None, **kwargs: Any
    ) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = [("", "—")]
        if department is not None:
            choices.append((f"d{department.pk}", f"{department.name}（{_('监管部门')}）"))
        choices += [(f"u{u.pk}", f"{u.full_name}（{u.org_unit.name}）") for u in users]
        self.fields["assignee"].choices = choices


class CloseForm(Form):
    note = forms.CharField(
        label=_("办结说明"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    closed_on = date_field(_("办结日期"), required=False)


class CampaignForm(UnitFilterForm):
    title = forms.CharField(label=_("检查名称"), max_length=100)
    starts_on = date_field(_("开始日期"))
    ends_on = date_field(_("结束日期"))
    description = forms.CharField(
        label=_("工作要求"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    field_order = ["title", "starts_on", "ends_on", "description"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        del self.fields["name"]

    def criteria(self) -> dict[str, str]:
        chosen = super().criteria()
        for field in ("title", "starts_on", "ends_on", "description"):
            chosen.pop(str(self.fields[field].label), None)
        return chosen


class CheckForm(Form):
    checked_on = date_field(_("检查日期"))
    checkers = forms.CharField(label=_("检查人员"), max_length=100, help_text=_("多人用顿号分隔"))
    result = forms.ChoiceField(label=_("检查结果"))
    notes = forms.CharField(
        label=_("情况说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["result"].choices = code_choices("check_result", blank="—")
        if not self.is_bound:
            self.initial.setdefault("checked_on", timezone.localdate())


class SubstanceForm(Form):
    code = forms.CharField(label=_("编号"), max_length=20, help_text=_("如 P2-12；字母、数字和“-”"))
    name = forms.CharField(label=_("品种名称"), max_length=100)
    aliases = forms.CharField(label=_("别名"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("类别"))
    unit = forms.ChoiceField(label=_("计量单位"))
    density = forms.DecimalField(
        label=_("密度（千克/升）"),
        required=False,
        max_digits=8,
        decimal_places=4,
        help_text=_("填写后可按升与千克换算；不填则不换算"),
        error_messages={"invalid": _("密度应为数字")},
    )
    pharmaceutical = forms.BooleanField(label=_("药品类易制毒化学品"), required=False)
    listed_year = forms.IntegerField(
        label=_("增补年份"), required=False, min_value=2005, max_value=2100
    )
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(
        self, *args: Any, editing: bool = False, current: Substance | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = code_choices(
            "substance_category", blank="—", current=current.category if current else None
        )
        self.fields["unit"].choices = code_choices(
            "measure_unit", blank="—", current=current.unit if current else None
        )
        if editing:
            del self.fields["code"]
        else:
            del self.fields["active"]


class PolicyForm(Form):
    licence_warning_days = forms.IntegerField(
        label=_("证件到期提前提醒天数"), min_value=1, max_value=365
    )
    match_window_days = forms.IntegerField(
        label=_("购销比对日期相差天数"),
        min_value=0,
        max_value=90,
        help_text=_("销售与对方购入的日期相差不超过此天数视为对应"),
    )
    match_tolerance_percent = forms.DecimalField(
        label=_("购销比对数量允许误差（%）"),
        min_value=0,
        max_value=50,
        max_digits=5,
        decimal_places=2,
    )

    def __init__(self, *args: Any, policy: RegulationPolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.categories = registry.items("substance_category")
        for item in self.categories:
            self.fields[f"report_{item.code}"] = forms.IntegerField(
                label=_("%(category)s销售报告期限（天）") % {"category": item.label},
                required=False,
                min_value=1,
                max_value=365,
                help_text=_("不填则不设期限"),
                initial=policy.deadline_days(item.code),
            )

    def report_days(self) -> dict[str, int | None]:
        return {item.code: self.cleaned_data.get(f"report_{item.code}") for item in self.categories}
