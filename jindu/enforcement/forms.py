"""Forms of the enforcement pages. They collect and parse input; the rules live in the
services (``services``, ``caught``, ``rules``), whose errors are put back next to
these fields. Numbers (weights, amounts) are taken as text, so that "-3" or
"1,5" get the service's Chinese message rather than a browser's."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jindu.codes import registry
from jindu.core.masking import mask_id_number
from jindu.enforcement.models import CaseStatus, CausedKind, DrivingResult, Household, Outcome
from jindu.enforcement.selectors import CaseFilter, DatedFilter, townships_for, year_choices
from jindu.orgs.division import Level
from jindu.orgs.models import Department, OrgUnit
from jindu.orgs.selectors import departments_for

ID_ATTRS = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
NUMBER_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}


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


def date_field(label: Any, *, required: bool = False, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        help_text=help_text,
        error_messages={"invalid": _("请输入有效日期，如 2024-03-05")},
    )


def id_field(label: Any = None, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label or _("身份证号"),
        max_length=40,
        required=required,
        widget=forms.TextInput(attrs=ID_ATTRS),
        help_text=_("18位；15位旧号自动转换。性别、出生日期由号码得出"),
    )


def code_choices(list_key: str, *, blank: Any = "—", current: str = "") -> list[tuple[str, Any]]:
    return [("", blank), *registry.choices(list_key, current=current or None)]


def place_choices(user: Any) -> list[tuple[Any, str]]:
    """Townships and villages of the user's subtree, villages indented under their township."""
    units = (
        OrgUnit.objects.for_user(user)
        .filter(level__in=[Level.TOWNSHIP, Level.VILLAGE], active=True)
        .order_by("path")
    )
    return [
        ("", "—"),
        *((u.pk, ("　" if u.level == Level.VILLAGE else "") + u.name) for u in units),
    ]


def department_choices(user: Any) -> list[tuple[Any, str]]:
    departments = departments_for(user).filter(active=True).order_by("sort_order", "id")
    if user.scoped_to_department:
        departments = departments.filter(pk=user.department_id)
    return [("", "—"), *((d.pk, d.name) for d in departments)]


def police_department(user: Any) -> Department | None:
    """The department a new record is handled by unless chosen: the user's own, else the police."""
    if user.department_id:
        return user.department
    candidates = departments_for(user).filter(active=True)
    return (
        candidates.filter(short_name__contains="公安").order_by("sort_order", "id").first()
        or candidates.filter(name__contains="公安").order_by("sort_order", "id").first()
    )


def place_of(user: Any, pk: Any) -> OrgUnit | None:
    return OrgUnit.objects.for_user(user).filter(pk=pk).first() if pk else None


def department_of(user: Any, pk: Any) -> Department | None:
    return departments_for(user).filter(pk=pk).first() if pk else None


class PlacedForm(Form):
    """A record that happened somewhere and was handled by a department."""

    org_unit = forms.TypedChoiceField(label=_("发生地（乡镇或村、社区）"), coerce=int)
    department = forms.TypedChoiceField(label=_("办案单位"), coerce=int)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["org_unit"].choices = place_choices(user)
        self.fields["department"].choices = department_choices(user)
        if not self.is_bound and not self.initial.get("department"):
            default = police_department(user)
            self.initial["department"] = default.pk if default else None
        # Someone in a township or village records what happened there, most days.
        own = user.org_unit
        here = own is not None and own.level in (Level.TOWNSHIP, Level.VILLAGE)
        if here and not self.is_bound and not self.initial.get("org_unit"):
            self.initial["org_unit"] = user.org_unit_id

    def place_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "org_unit": place_of(self.user, data.get("org_unit")),
            "department": department_of(self.user, data.get("department")),
        }


# ------------------------------------------------------------------ cases


class CaseForm(PlacedForm):
    number = forms.CharField(label=_("案件编号"), max_length=40)
    offence = forms.ChoiceField(label=_("案件类别"))
    occurred_on = date_field(_("案发日期"))
    filed_on = date_field(_("立案日期"), required=True)
    solved_on = date_field(_("破案日期"), help_text=_("破案后填写；破案数按破案日期统计"))
    closed_on = date_field(_("结案日期"))
    street_dealing = forms.BooleanField(label=_("零包贩毒"), required=False)
    gang = forms.BooleanField(label=_("团伙案件"), required=False)
    synthetic_drug = forms.BooleanField(label=_("合成毒品案件（除冰肃毒）"), required=False)
    caused_by_user = forms.BooleanField(label=_("由吸毒人员引发"), required=False)
    caused_kind = forms.ChoiceField(
        label=_("引发案件性质"), required=False, choices=[("", "—"), *CausedKind.choices]
    )
    caused_id_number = id_field(_("引发案件的吸毒人员身份证号"), required=False)
    summary = forms.CharField(
        label=_("简要案情"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip

    field_order = [
        "number", "offence", "org_unit", "department", "occurred_on", "filed_on", "solved_on",
        "closed_on", "street_dealing", "gang", "synthetic_drug", "caused_by_user",
        "caused_kind", "caused_id_number", "summary",
    ]  # fmt: skip

    def __init__(self, *args: Any, case: Any = None, **kwargs: Any) -> None:
        if case is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                key: getattr(case, key)
                for key in (
                    "number", "offence", "occurred_on", "filed_on", "solved_on", "closed_on",
                    "street_dealing", "gang", "synthetic_drug", "caused_by_user",
                    "caused_kind", "summary",
                )
            } | {"org_unit": case.org_unit_id, "department": case.department_id}  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["offence"].choices = code_choices(
            "offence", current=case.offence if case else ""
        )
        if case is None and not self.is_bound:
            self.initial.setdefault("filed_on", timezone.localdate())
        field = self.fields["caused_id_number"]
        field.help_text = _("名册中已登记的吸毒人员，按身份证号关联")
        if case is not None and case.caused_person_id:
            field.help_text = _("已关联：%(name)s（%(masked)s）。留空则不修改") % {
                "name": case.caused_person.name,
                "masked": mask_id_number(case.caused_person.id_number),
            }

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            key: data.get(key)
            for key in (
                "number", "offence", "occurred_on", "filed_on", "solved_on", "closed_on",
                "street_dealing", "gang", "synthetic_drug", "caused_by_user", "caused_kind",
                "summary",
            )
        }  # fmt: skip
        values["caused_id_number"] = (data.get("caused_id_number") or "").strip() or None
        return values | self.place_values()


class FilterForm(forms.Form):
    def _valid_part(self) -> dict[str, Any]:
        """The fields that are valid: a bad parameter is dropped, never fatal."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data


class CaseFilterForm(FilterForm):
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *CaseStatus.choices]
    )
    offence = forms.ChoiceField(label=_("案件类别"), required=False)
    township = forms.TypedChoiceField(label=_("乡镇"), coerce=int, required=False)
    number = forms.CharField(label=_("案件编号"), required=False, max_length=40)

    def __init__(self, *args: Any, user: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["year"].choices = [("", _("全部年度"))] + [
            (y, f"{y}年") for y in year_choices(today)
        ]
        self.fields["offence"].choices = [("", _("全部类别")), *registry.choices("offence")]
        townships = townships_for(user)
        self._townships = {t.pk: t for t in townships}
        if townships:
            self.fields["township"].choices = [("", _("全部乡镇"))] + [
                (t.pk, t.name) for t in townships
            ]
        else:
            del self.fields["township"]

    def to_filter(self) -> CaseFilter:
        """The valid part of the filter: a bad parameter is dropped, never fatal."""
        data = self._valid_part()
        return CaseFilter(
            year=data.get("year"),
            status=data.get("status") or "",
            offence=data.get("offence") or "",
            township=self._townships.get(data.get("township")),
            number=(data.get("number") or "").strip(),
        )


class DatedFilterForm(FilterForm):
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False, empty_value=None)
    township = forms.TypedChoiceField(label=_("乡镇"), coerce=int, required=False)
    drug_type = forms.ChoiceField(label=_("毒品种类"), required=False)

    def __init__(
        self, *args: Any, user: Any, today: date, drug: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("全部年度"))] + [
            (y, f"{y}年") for y in year_choices(today)
        ]
        townships = townships_for(user)
        self._townships = {t.pk: t for t in townships}
        if townships:
            self.fields["township"].choices = [("", _("全部乡镇"))] + [
                (t.pk, t.name) for t in townships
            ]
        else:
            del self.fields["township"]
        if drug:
            self.fields["drug_type"].choices = [("", _("全部种类")), *registry.choices("drug_type")]
        else:
            del self.fields["drug_type"]

    def to_filter(self) -> DatedFilter:
        data = self._valid_part()
        return DatedFilter(
            year=data.get("year"),
            township=self._townships.get(data.get("township")),
            drug_type=data.get("drug_type") or "",
        )


# ------------------------------------------------------------------ suspects, seizures, assets


class SuspectForm(Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = id_field()
    household = forms.ChoiceField(
        label=_("户籍"), choices=Household.choices, widget=forms.RadioSelect
    )
    caught_on = date_field(_("到案日期"), required=True)
    prosecuted_on = date_field(_("移送起诉日期"), help_text=_("公诉犯罪嫌疑人按此日期统计"))
    sentenced_on = date_field(_("判决日期"))
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, suspect: Any = None, case: Any = None, **kwargs: Any) -> None:
        if suspect is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                key: getattr(suspect, key)
                for key in ("name", "household", "caught_on", "prosecuted_on", "sentenced_on",
                            "notes")
            }  # fmt: skip
        super().__init__(*args, **kwargs)
        self.suspect = suspect
        if suspect is not None:
            # Typed again only to correct it: filling it in would show it in full.
            field = self.fields["id_number"]
            field.required = False
            field.label = _("更正身份证号")
            field.help_text = _("当前：%(masked)s。留空则不修改") % {
                "masked": mask_id_number(suspect.id_number)
            }
        elif case is not None and not self.is_bound:
            self.initial.setdefault("caught_on", case.occurred_on or case.filed_on)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            key: data.get(key)
            for key in ("name", "household", "caught_on", "prosecuted_on", "sentenced_on",
                        "notes")
        }  # fmt: skip
        raw = (data.get("id_number") or "").strip()
        if raw or self.suspect is None:
            values["id_number"] = raw
        return values


class SeizureForm(PlacedForm):
    seized_on = date_field(_("缴获日期"), required=True)
    drug_type = forms.ChoiceField(label=_("毒品种类"))
    weight_g = forms.CharField(
        label=_("重量（克）"), max_length=24, widget=forms.TextInput(attrs=NUMBER_ATTRS),
        help_text=_("以克为单位，精确到0.1克"),
    )  # fmt: skip
    pills = forms.CharField(
        label=_("粒数"), max_length=12, required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("片剂、丸剂可填"),
    )  # fmt: skip
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    field_order = ["seized_on", "drug_type", "weight_g", "pills", "org_unit", "department", "notes"]

    def __init__(self, *args: Any, seizure: Any = None, case: Any = None, **kwargs: Any) -> None:
        if seizure is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "seized_on": seizure.seized_on,
                "drug_type": seizure.drug_type,
                "weight_g": seizure.weight_g,
                "pills": seizure.pills,
                "notes": seizure.notes,
                "org_unit": seizure.org_unit_id,
                "department": seizure.department_id,
            }
        super().__init__(*args, **kwargs)
        self.fields["drug_type"].choices = code_choices(
            "drug_type", current=seizure.drug_type if seizure else ""
        )
        self.case = case or (seizure.case if seizure is not None else None)
        if self.case is not None:
            # The case's department handles it; where it was seized defaults to the case's place.
            del self.fields["department"]
            self.fields["org_unit"].required = False
            self.fields["org_unit"].help_text = _("不填则为案件发生地")
        if seizure is None and not self.is_bound:
            if self.case is not None:
                # Drugs in a case are mostly seized where and when it was solved.
                self.initial["org_unit"] = self.case.org_unit_id
                self.initial["seized_on"] = self.case.solved_on or self.case.filed_on
            self.initial.setdefault("seized_on", timezone.localdate())

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {key: data.get(key) for key in ("seized_on", "drug_type", "weight_g", "pills",
                                                  "notes")}  # fmt: skip
        values["org_unit"] = place_of(self.user, data.get("org_unit"))
        if self.case is None:
            values["department"] = department_of(self.user, data.get("department"))
        return values


class AssetForm(Form):
    confiscated_on = date_field(_("收缴日期"), required=True)
    kind = forms.ChoiceField(label=_("资产类别"))
    amount = forms.CharField(
        label=_("价值（元）"), max_length=24, widget=forms.TextInput(attrs=NUMBER_ATTRS)
    )
    description = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, asset: Any = None, **kwargs: Any) -> None:
        if asset is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "confiscated_on": asset.confiscated_on,
                "kind": asset.kind,
                "amount": asset.amount,
                "description": asset.description,
            }
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = code_choices(
            "asset_kind", current=asset.kind if asset else ""
        )
        if asset is None and not self.is_bound:
            self.initial.setdefault("confiscated_on", timezone.localdate())

    def values(self) -> dict[str, Any]:
        return {key: self.cleaned_data.get(key) for key in self.fields}


# ------------------------------------------------------------------ users caught, drug driving


class CaughtForm(PlacedForm):
    caught_on = date_field(_("查获日期"), required=True)
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = id_field()
    drug_type = forms.ChoiceField(label=_("吸食毒品种类"))
    outcome = forms.ChoiceField(label=_("处理结果"), choices=[("", "—"), *Outcome.choices])
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)
    register = forms.BooleanField(
        label=_("尚未登记的，同时登记到吸毒人员名册"), required=False,
        help_text=_("已在名册中的人员按身份证号自动关联"),
    )  # fmt: skip
    register_unit = forms.TypedChoiceField(
        label=_("名册责任单位（村、社区或网格）"), coerce=int, required=False
    )

    field_order = [
        "caught_on", "name", "id_number", "drug_type", "outcome", "org_unit", "department",
        "notes", "register", "register_unit",
    ]  # fmt: skip

    def __init__(self, *args: Any, caught: Any = None, **kwargs: Any) -> None:
        if caught is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                key: getattr(caught, key)
                for key in ("caught_on", "name", "drug_type", "outcome", "notes")
            } | {"org_unit": caught.org_unit_id, "department": caught.department_id}
        super().__init__(*args, **kwargs)
        self.caught = caught
        self.fields["drug_type"].choices = code_choices(
            "drug_type", current=caught.drug_type if caught else ""
        )
        if caught is not None:
            field = self.fields["id_number"]
            field.required = False
            field.label = _("更正身份证号")
            field.help_text = _("当前：%(masked)s。留空则不修改") % {
                "masked": mask_id_number(caught.id_number)
            }
            del self.fields["register"]
            del self.fields["register_unit"]
        else:
            units = (
                OrgUnit.objects.for_user(self.user)
                .filter(level__in=[Level.VILLAGE, Level.GRID], active=True)
                .order_by("path")
            )
            self.fields["register_unit"].choices = [("", "—")] + [
                (u.pk, ("　" if u.level == Level.GRID else "") + u.name) for u in units
            ]
            if not self.is_bound:
                self.initial.setdefault("caught_on", timezone.localdate())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("register") and not data.get("register_unit"):
            self.add_error("register_unit", _("同时登记到名册时，请选择责任单位"))
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {key: data.get(key) for key in ("caught_on", "name", "drug_type", "outcome",
                                                  "notes")}  # fmt: skip
        raw = (data.get("id_number") or "").strip()
        if raw or self.caught is None:
            values["id_number"] = raw
        return values | self.place_values()

    def registration_unit(self) -> OrgUnit | None:
        if not self.cleaned_data.get("register"):
            return None
        return place_of(self.user, self.cleaned_data.get("register_unit"))


class DrivingForm(PlacedForm):
    tested_on = date_field(_("检测日期"), required=True)
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = id_field()
    plate = forms.CharField(label=_("车牌号"), max_length=20, required=False)
    result = forms.ChoiceField(
        label=_("检测结果"), choices=DrivingResult.choices, widget=forms.RadioSelect
    )
    licence_held = forms.BooleanField(label=_("持有驾驶证"), required=False)
    licence_reported_on = date_field(
        _("报请注销驾驶证日期"), help_text=_("检测阳性且持有驾驶证的，报请车管部门注销")
    )
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    field_order = [
        "tested_on", "name", "id_number", "plate", "result", "licence_held",
        "licence_reported_on", "org_unit", "department", "notes",
    ]  # fmt: skip

    def __init__(self, *args: Any, test: Any = None, **kwargs: Any) -> None:
        if test is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                key: getattr(test, key)
                for key in ("tested_on", "name", "plate", "result", "licence_held",
                            "licence_reported_on", "notes")
            } | {"org_unit": test.org_unit_id, "department": test.department_id}  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].label = _("检测地（乡镇或村、社区）")
        self.fields["department"].label = _("检测单位")
        self.test = test
        if test is not None:
            field = self.fields["id_number"]
            field.required = False
            field.label = _("更正身份证号")
            field.help_text = _("当前：%(masked)s。留空则不修改") % {
                "masked": mask_id_number(test.id_number)
            }
        elif not self.is_bound:
            self.initial.setdefault("tested_on", timezone.localdate())

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            key: data.get(key)
            for key in ("tested_on", "name", "plate", "result", "licence_held",
                        "licence_reported_on", "notes")
        }  # fmt: skip
        raw = (data.get("id_number") or "").strip()
        if raw or self.test is None:
            values["id_number"] = raw
        return values | self.place_values()


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("查看原因"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("将记入审计日志"),
    )
