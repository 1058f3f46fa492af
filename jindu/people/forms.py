"""Forms of the register's pages. They collect and parse input; the law's rules live
in ``jindu.people.services`` and its errors are put back next to these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jindu.codes import registry
from jindu.core.masking import mask
from jindu.orgs.models import OrgUnit
from jindu.people import idnumber, selectors
from jindu.people.models import FollowUpPolicy, Measure, Person
from jindu.people.selectors import FLAG_CHOICES, PersonFilter
from jindu.people.status import Status


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


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: Any, *, required: bool = False, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        help_text=help_text,
        error_messages={"invalid": _("请输入有效日期，如 2024-03-05")},
    )


class UnitChoiceField(forms.ModelChoiceField):
    """Units of the user's subtree, indented by depth below the user's own unit."""

    base_depth = 0

    def label_from_instance(self, obj: OrgUnit) -> str:
        return "　" * max(obj.depth - self.base_depth, 0) + obj.name


def unit_field(
    user: Any,
    *,
    required: bool,
    label: Any,
    empty_label: Any,
    responsible_under: OrgUnit | None = None,
) -> UnitChoiceField:
    if responsible_under is not None:
        qs = selectors.responsible_units(user, responsible_under)
    else:
        qs = OrgUnit.objects.for_user(user).filter(active=True).order_by("path")
    field = UnitChoiceField(
        queryset=qs,
        required=required,
        label=label,
        empty_label=empty_label,
        error_messages={
            "required": _("请选择责任单位"),
            "invalid_choice": _("所选单位不存在或不在您的管辖范围内"),
        },
    )
    top = responsible_under or user.org_unit
    field.base_depth = top.depth if top is not None else 0
    return field


def code_field(list_key: str, label: Any, current: str | None = None) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", _("（未填写）")), *registry.choices(list_key, current=current)],
        error_messages={"invalid_choice": _("请从列表中选择")},
    )


# ------------------------------------------------------------------ list


class ListFilterForm(forms.Form):
    name = forms.CharField(label=_("姓名包含"), required=False, max_length=50)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *Status.choices]
    )
    flags = forms.MultipleChoiceField(
        label=_("标记"),
        required=False,
        choices=FLAG_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("未知的标记：%(value)s")},
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only looked up by its value; the page draws its options with
        # ``selectors.unit_options``, never from this field's whole queryset.
        self.fields["unit"] = unit_field(
            user,
            required=False,
            label=_("单位（含下级）"),
            empty_label=_("（全部单位）"),
        )
        self.order_fields(["unit", "status", "flags", "name"])

    def to_filter(self) -> PersonFilter:
        """The valid part of the filter: a bad parameter is dropped, never fatal."""
        data = self.cleaned_data if self.is_bound else {}
        return PersonFilter(
            unit=data.get("unit"),
            status=data.get("status") or "",
            flags=frozenset(data.get("flags") or ()),
            name=(data.get("name") or "").strip(),
        )


class IdSearchForm(forms.Form):
    id_number = forms.CharField(
        label=_("按身份证号查找"),
        max_length=40,
        error_messages={"required": _("请输入身份证号")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
        help_text=_("精确查找；支持15位旧号，末位x不区分大小写"),
    )

    def clean_id_number(self) -> str:
        try:
            return idnumber.parse(self.cleaned_data["id_number"]).value
        except idnumber.IdNumberError as exc:
            raise ValidationError(str(exc)) from exc


class ExportForm(forms.Form):
    full = forms.BooleanField(label=_("导出完整身份证号"), required=False)
    reason = forms.CharField(
        label=_("导出原因"),
        required=False,
        max_length=200,
        help_text=_("导出完整身份证号、联系电话时必填，将记入审计日志"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("full") and len((data.get("reason") or "").strip()) < 4:
            self.add_error("reason", _("导出完整身份证号须填写原因（至少4个字）"))
        return data


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("查看原因"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("将记入审计日志"),
    )


# ------------------------------------------------------------------ person

# Person fields the form edits as they are (the secret ones are handled apart).
PLAIN_FIELDS = (
    "name",
    "ethnicity",
    "household_local",
    "first_found_on",
    "drug_types",
    "how_found",
    "occupation",
    "employment",
    "has_driving_licence",
    "licence_reported_on",
    "sick_or_disabled",
    "poverty_by_drugs",
    "key_person",
    "key_person_reason",
    "family_support",
    "use_started_on",
    "notes",
)
SECRET_FIELDS = ("household_address", "current_address", "phone")
# When editing, a box under each secret field clears what is stored (left empty, a
# secret field means "unchanged").
CLEAR_LABELS = {
    "household_address": _("清除户籍地"),
    "current_address": _("清除现住址"),
    "phone": _("清除联系电话"),
}


def clear_key(key: str) -> str:
    return f"clear_{key}"


class PersonForm(forms.Form):
    """Register a person (``person`` None) or edit one.

    When editing, the ID number, phone and addresses start empty and are kept
    unless typed again: filling them in would show them in full without a
    reason or an audit row. A stored phone or address is removed by ticking
    its "清除" box. Death, moving away and a change of responsible unit
    are events with pages of their own (``movement_views``), not edits.
    """

    name = forms.CharField(
        label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名")}
    )
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=40,
        error_messages={"required": _("请填写身份证号")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("18位；15位旧号将自动转换为18位，性别和出生日期由号码得出"),
    )
    household_address = forms.CharField(label=_("户籍地"), max_length=200, required=False)
    household_local = forms.BooleanField(label=_("本县户籍"), required=False, initial=True)
    current_address = forms.CharField(label=_("现住址"), max_length=200, required=False)
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    first_found_on = date_field(_("初次发现日期"))
    drug_types = forms.MultipleChoiceField(
        label=_("滥用毒品种类"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("未知的毒品种类：%(value)s")},
    )
    occupation = forms.CharField(label=_("职业"), max_length=50, required=False)
    has_driving_licence = forms.BooleanField(label=_("持有驾驶证"), required=False)
    licence_reported_on = date_field(_("驾驶证报请注销日期"))
    sick_or_disabled = forms.BooleanField(label=_("病残"), required=False)
    poverty_by_drugs = forms.BooleanField(label=_("因毒致贫/返贫"), required=False)
    key_person = forms.BooleanField(label=_("重点人员"), required=False)
    key_person_reason = forms.CharField(label=_("重点人员原因"), max_length=200, required=False)
    family_support = forms.BooleanField(label=_("有家庭支持"), required=False, initial=True)
    use_started_on = date_field(_("开始吸毒日期"))
    notes = forms.CharField(
        label=_("备注"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        user: Any,
        *args: Any,
        person: Person | None = None,
        under: OrgUnit | None = None,
        **kwargs: Any,
    ) -> None:
        self.person = person
        self.converted_from_15 = False
        if person is not None and "initial" not in kwargs:
            kwargs["initial"] = {key: getattr(person, key) for key in PLAIN_FIELDS}
        super().__init__(*args, **kwargs)
        current = person or Person()
        self.fields["ethnicity"] = code_field("ethnicity", _("民族"), current.ethnicity)
        self.fields["how_found"] = code_field("how_found", _("发现方式"), current.how_found)
        self.fields["employment"] = code_field(
            "employment_status", _("就业状况"), current.employment
        )
        drugs = registry.choices("drug_type")
        known = {code for code, _label in drugs}
        drugs += [
            (code, registry.label("drug_type", code))
            for code in (current.drug_types or [])
            if code not in known
        ]
        self.fields["drug_types"].choices = drugs
        if person is None:
            self.fields["org_unit"] = unit_field(
                user,
                responsible_under=under or user.org_unit,
                required=True,
                label=_("责任单位"),
                empty_label=_("请选择村（社区）或网格"),
            )
            self.fields["org_unit"].help_text = _("负责该人员的村（社区）或网格")
        else:
            self.fields["id_number"].required = False
            self.fields["id_number"].label = _("更正身份证号")
            self.fields["id_number"].help_text = _("当前：%(masked)s。留空则不修改") % {
                "masked": mask("id_number", person.id_number)
            }
            for key in SECRET_FIELDS:
                self.fields[key].help_text = _("当前：%(masked)s。留空则不修改") % {
                    "masked": mask(Person.personal_fields[key], getattr(person, key)) or _("未填写")
                }
                if getattr(person, key):
                    self.fields[clear_key(key)] = forms.BooleanField(
                        label=CLEAR_LABELS[key], required=False
                    )
        self.order_fields(
            [
                "name",
                "id_number",
                "ethnicity",
                "org_unit",
                "phone",
                "household_address",
                "household_local",
                "current_address",
                "first_found_on",
                "how_found",
                "drug_types",
                "use_started_on",
                "occupation",
                "employment",
                "has_driving_licence",
                "licence_reported_on",
                "sick_or_disabled",
                "poverty_by_drugs",
                "family_support",
                "key_person",
                "key_person_reason",
                "notes",
            ]
        )

    def clean_id_number(self) -> str:
        raw = self.cleaned_data.get("id_number") or ""
        if not raw.strip() and self.person is not None:
            return ""
        try:
            number = idnumber.parse(raw)
        except idnumber.IdNumberError as exc:
            raise ValidationError(str(exc)) from exc
        self.converted_from_15 = number.converted_from_15
        return number.value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("key_person") and not (data.get("key_person_reason") or "").strip():
            self.add_error("key_person_reason", _("请填写列为重点人员的原因"))
        if data.get("licence_reported_on") and not data.get("has_driving_licence"):
            self.add_error("licence_reported_on", _("未持有驾驶证时无需填写报请注销日期"))
        for key in SECRET_FIELDS:
            if data.get(clear_key(key)) and (data.get(key) or "").strip():
                self.add_error(key, _("已勾选清除，请不要同时填写新内容"))
        return data

    def person_fields(self) -> dict[str, Any]:
        """The fields for the service: every plain one, the secret ones when typed."""
        data = self.cleaned_data
        fields = {key: data[key] for key in PLAIN_FIELDS if key != "name"}
        fields["key_person_reason"] = (
            (data["key_person_reason"] or "").strip() if data["key_person"] else ""
        )
        for key in SECRET_FIELDS:
            value = (data.get(key) or "").strip()
            if value or self.person is None or data.get(clear_key(key)):
                fields[key] = value
        if self.person is not None:
            fields["name"] = data["name"]
            if data.get("id_number"):
                fields["id_number"] = data["id_number"]
        return fields


# ------------------------------------------------------------------ measures


def _terms_help() -> str:
    policy = FollowUpPolicy.current()
    return str(
        _(
            "留空按规则：社区戒毒%(detox)d个月，社区康复最长%(rehab)d个月，"
            "强制隔离戒毒%(isolation)d个月"
        )
        % {
            "detox": policy.detox_term_months,
            "rehab": policy.rehab_max_months,
            "isolation": policy.isolation_term_months,
        }
    )


class MeasureForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("措施种类"),
        choices=[("", _("请选择")), *Measure.Kind.choices],
        error_messages={"required": _("请选择措施种类")},
    )
    decision_date = date_field(_("决定日期"), required=True)
    authority = forms.CharField(label=_("决定机关"), max_length=100, required=False)
    report_in_date = date_field(_("报到日期"))
    start_date = date_field(_("开始日期"))
    term_months = forms.IntegerField(
        label=_("期限（月）"),
        required=False,
        min_value=1,
        max_value=600,
        error_messages={"invalid": _("请输入整数月数")},
    )
    ended_on = date_field(_("实际结束日期"))
    end_reason = forms.ChoiceField(
        label=_("结束原因"),
        required=False,
        choices=[("", _("（未结束）")), *Measure.EndReason.choices],
    )
    notes = forms.CharField(
        label=_("备注"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision_date"].error_messages["required"] = _("请填写决定日期")
        policy = FollowUpPolicy.current()
        self.fields["report_in_date"].help_text = _(
            "社区戒毒、社区康复人员应自决定之日起%(days)d日内报到；尚未报到可留空"
        ) % {"days": policy.report_in_days}
        self.fields["start_date"].help_text = _("社区戒毒、社区康复留空则以报到日期为准")
        self.fields["term_months"].help_text = _terms_help()

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["authority"] = (data.get("authority") or "").strip()
        data["end_reason"] = data.get("end_reason") or ""
        data["notes"] = data.get("notes") or ""
        return data


class EndMeasureForm(forms.Form):
    ended_on = date_field(_("实际结束日期"), required=True)
    end_reason = forms.ChoiceField(
        label=_("结束原因"),
        choices=[("", _("请选择")), *Measure.EndReason.choices],
        error_messages={"required": _("请选择结束原因")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ended_on"].error_messages["required"] = _("请填写结束日期")


class ReportInForm(forms.Form):
    report_in_date = date_field(_("报到日期"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["report_in_date"].error_messages["required"] = _("请填写报到日期")
