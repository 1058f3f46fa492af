"""Forms of the venue, courier and patrol pages. They collect and parse input; the rules
live in ``jindu.inspections.services`` and its errors come back next to these fields."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jindu.codes import registry
from jindu.core.masking import mask
from jindu.inspections import stash
from jindu.inspections.checks import RECORD_LEVELS
from jindu.inspections.images import MAX_PHOTOS, CheckedFile, check_photo, check_scan
from jindu.inspections.models import COURIER_RULES, InspectionRules, Patrol, VenueInspection
from jindu.inspections.selectors import Colour, LetterState, VenueFilter
from jindu.orgs.division import Level
from jindu.orgs.forms import apply_errors
from jindu.orgs.models import OrgUnit
from jindu.orgs.selectors import departments_for

__all__ = ["apply_errors"]


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
            "required": _("请填写%(label)s") % {"label": label},
            "invalid": _("请输入有效日期，如 2024-03-05"),
        },
    )


def text_field(
    label: Any, max_length: int, *, required: bool = True, **kwargs: Any
) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        error_messages={
            "required": _("请填写%(label)s") % {"label": label},
            "max_length": _("不能超过%(limit_value)d个字"),
        },
        **kwargs,
    )


def count_field(label: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
        error_messages={"invalid": _("请填写整数"), "min_value": _("不能为负数")},
    )


def decimal_field(label: Any, *, places: int, digits: int, **attrs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=digits,
        decimal_places=places,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any", **attrs}),
        error_messages={
            "invalid": _("请填写数字"),
            "max_digits": _("数字位数过多，请核实"),
            "max_decimal_places": _("最多保留%(max)s位小数"),
            "max_whole_digits": _("数字过大，请核实"),
        },
    )


def code_choice(
    list_key: str, label: Any, *, current: str = "", blank: Any = None
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[("", blank or _("（请选择）")), *registry.choices(list_key, current=current)],
        error_messages={
            "required": _("请选择%(label)s") % {"label": label},
            "invalid_choice": _("请从列表中选择"),
        },
    )


class UnitChoiceField(forms.ModelChoiceField):
    """Units of the user's subtree, indented by depth below the user's own unit."""

    base_depth = 0

    def label_from_instance(self, obj: OrgUnit) -> str:
        return "　" * max(obj.depth - self.base_depth, 0) + obj.name


def unit_field(
    user: Any, *, levels: Any, required: bool, label: Any, empty: Any
) -> UnitChoiceField:
    qs = OrgUnit.objects.for_user(user).filter(active=True, level__in=levels).order_by("path")
    field = UnitChoiceField(
        queryset=qs,
        required=required,
        label=label,
        empty_label=empty,
        error_messages={
            "required": _("请选择所在单位"),
            "invalid_choice": _("所选单位不存在或不在您的管辖范围内"),
        },
    )
    field.base_depth = user.org_unit.depth if user.org_unit_id else 0
    return field


def filter_unit_field(user: Any) -> UnitChoiceField:
    """The unit to narrow a list to: the user's unit and the level below it, so that the
    county chooses among townships and a township among its villages (a list of every
    village of a county is too long to use)."""
    field = unit_field(
        user,
        levels=(Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE),
        required=False,
        label=_("单位（含下级）"),
        empty=_("（全部单位）"),
    )
    depth = user.org_unit.depth if user.org_unit_id else 0
    field.queryset = field.queryset.filter(depth__lte=depth + 1)
    return field


def department_field(user: Any) -> forms.ModelChoiceField:
    field = forms.ModelChoiceField(
        queryset=departments_for(user).filter(active=True).order_by("sort_order", "id"),
        required=False,
        label=_("监管部门"),
        empty_label=_("（未指定）"),
        help_text=_("负责监管该场所的成员单位，如旅馆归公安、网吧和娱乐场所归文旅"),
        error_messages={
            "required": _("请选择监管部门"),
            "invalid_choice": _("请从列表中选择"),
        },
    )
    if user.scoped_to_department:
        # A department's reporter sees only its own records, so records it writes are its own.
        field.queryset = field.queryset.filter(pk=user.department_id)
        field.required = True
        field.initial = user.department_id
        field.empty_label = None
    return field


# ------------------------------------------------------------------ photos


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.Field):
    """The chosen files as they came; ``PhotoFormMixin.clean_photos`` judges each by content."""

    widget = MultipleFileInput

    def clean(self, value: Any) -> Any:
        return value


class PhotoFormMixin:
    """Several photos, each checked by content; good ones survive a refused submission."""

    photo_label = _("现场照片")

    def _add_photo_fields(self, user: Any) -> None:
        self.user = user
        self.accepted_photos: list[CheckedFile] = []
        self.fields["photos"] = PhotosField(  # type: ignore[attr-defined]
            label=self.photo_label,
            required=False,
            widget=MultipleFileInput(
                attrs={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"}
            ),
            help_text=_("可选多张，JPEG、PNG或WebP格式，每张不超过5MB，最多%(n)d张")
            % {"n": MAX_PHOTOS},
        )
        self.fields["kept_photos"] = forms.CharField(required=False, widget=forms.HiddenInput)  # type: ignore[attr-defined]
        self.fields["discard_kept"] = forms.BooleanField(  # type: ignore[attr-defined]
            label=_("不要上次保留的照片"), required=False
        )

    def kept_photos(self) -> list[CheckedFile]:
        data = self.data  # type: ignore[attr-defined]
        if not data or data.get("discard_kept"):
            return []
        return stash.load(self.user, stash.split_tokens(data.get("kept_photos", "")))

    def clean_photos(self) -> list[CheckedFile]:
        files = self.files  # type: ignore[attr-defined]
        uploads = files.getlist(self.add_prefix("photos")) if files else []  # type: ignore[attr-defined]
        good, errors = self.kept_photos(), []
        for upload in uploads:
            try:
                good.append(check_photo(upload))
            except ValidationError as exc:
                errors.extend(exc.messages)
        self.accepted_photos = good
        if len(good) > MAX_PHOTOS:
            errors.append(str(_("一次最多上传%(n)d张照片") % {"n": MAX_PHOTOS}))
        if errors:
            raise ValidationError(errors)
        return good

    def keep_for_next_time(self) -> int:
        """After a refusal: keep the photos that passed and put their tokens in the form."""
        tokens = stash.keep(self.user, self.accepted_photos)
        data = self.data.copy()  # type: ignore[attr-defined]
        data["kept_photos"] = ",".join(tokens)
        data.pop("discard_kept", None)
        self.data = data
        return len(tokens)

    def kept_count(self) -> int:
        return len(stash.split_tokens(self.data.get("kept_photos", ""))) if self.data else 0  # type: ignore[attr-defined]

    def used_tokens(self) -> list[str]:
        return [p.stash_token for p in self.accepted_photos if p.stash_token]


# ------------------------------------------------------------------ venues


class VenueFilterForm(forms.Form):
    on = forms.DateField(label=_("查看日期"), required=False, widget=DateInput())
    colour = forms.ChoiceField(
        label=_("颜色"),
        required=False,
        choices=[("", _("全部颜色")), *Colour.choices],
    )
    kind = forms.ChoiceField(label=_("类别"), required=False)
    letter = forms.ChoiceField(
        label=_("责任书"), required=False, choices=[("", _("全部")), *LetterState.choices]
    )
    name = forms.CharField(label=_("名称包含"), required=False, max_length=50)

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("全部类别")), *registry.choices("venue_kind")]
        self.fields["unit"] = filter_unit_field(user)
        self.order_fields(["unit", "colour", "kind", "letter", "name", "on"])

    def _valid(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    def to_filter(self) -> VenueFilter:
        """The valid part of the filter: a bad parameter is dropped, never fatal."""
        data = self._valid()
        return VenueFilter(
            unit=data.get("unit"),
            colour=data.get("colour") or "",
            kind=data.get("kind") or "",
            letter=data.get("letter") or "",
            name=(data.get("name") or "").strip(),
        )

    def day(self) -> date:
        today = timezone.localdate()
        on = self._valid().get("on")
        return on if on and on <= today else today


class VenueForm(forms.Form):
    name = text_field(_("场所名称"), 100)
    address = text_field(_("经营地址"), 200)
    operator_name = text_field(_("经营业主/负责人"), 50)
    operator_phone = forms.CharField(
        label=_("业主联系电话"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    licence_number = text_field(_("营业执照/许可证号"), 60, required=False)
    registered_on = date_field(_("登记日期"), help_text=_("纳入重点场所管理的日期"))
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, user: Any, *args: Any, venue: Any = None, **kwargs: Any) -> None:
        if venue is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": venue.name,
                    "kind": venue.kind,
                    "org_unit": venue.org_unit_id,
                    "address": venue.address,
                    "operator_name": venue.operator_name,
                    "licence_number": venue.licence_number,
                    "department": venue.department_id,
                    "registered_on": venue.registered_on,
                    "closed_on": venue.closed_on,
                    "notes": venue.notes,
                },
            )
        else:
            kwargs.setdefault("initial", {"registered_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["kind"] = code_choice(
            "venue_kind", _("场所类别"), current=venue.kind if venue else ""
        )
        self.fields["org_unit"] = unit_field(
            user,
            levels=RECORD_LEVELS,
            required=True,
            label=_("所在村（社区）"),
            empty=_("（请选择）"),
        )
        self.fields["department"] = department_field(user)
        if venue is not None:
            self.fields["operator_phone"].help_text = _("留空则保留原号码（%(masked)s）") % {
                "masked": mask("phone", venue.operator_phone) or _("未填写")
            }
            self.fields["closed_on"] = date_field(
                _("停业日期"), required=False, help_text=_("停业后不再列入检查")
            )
        self.order_fields(
            ["name", "kind", "org_unit", "address", "operator_name", "operator_phone",
             "licence_number", "department", "registered_on", "closed_on", "notes"]
        )  # fmt: skip

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        keys = [
            "name", "kind", "org_unit", "address", "operator_name", "operator_phone",
            "licence_number", "department", "registered_on", "notes",
        ]  # fmt: skip
        if "closed_on" in self.fields:
            keys.append("closed_on")
        return {key: data.get(key) for key in keys}


class LetterForm(forms.Form):
    signed_on = date_field(_("签订日期"))
    term_end = date_field(_("责任期限至"))
    signed_by = text_field(_("签订人（业主方）"), 50, required=False)
    scan = forms.FileField(
        label=_("责任书扫描件"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}),
        help_text=_("可选，PDF或图片，不超过5MB"),
    )
    notes = text_field(_("备注"), 200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        today = timezone.localdate()
        kwargs.setdefault(
            "initial",
            {"signed_on": today, "term_end": date(today.year, 12, 31)},
        )
        super().__init__(*args, **kwargs)

    def clean_scan(self) -> CheckedFile | None:
        upload = self.cleaned_data.get("scan")
        return check_scan(upload) if upload else None


class InspectionForm(PhotoFormMixin, forms.Form):
    RESULT_CHOICES = (("pass", _("合格")), ("fail", _("不合格")), ("skip", _("未检查")))

    inspected_on = date_field(_("检查日期"))
    mode = forms.ChoiceField(
        label=_("检查方式"),
        choices=VenueInspection.Mode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择检查方式（明察或暗访）")},
    )
    inspectors = text_field(_("检查人员"), 200, help_text=_("多人用顿号分隔"))
    fix_deadline = date_field(_("整改期限"), required=False, help_text=_("有不合格项目时必填"))
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"inspected_on": timezone.localdate(), "mode": "open", "inspectors": user.full_name},
        )
        super().__init__(*args, **kwargs)
        self.items = registry.items("venue_check_item")
        for item in self.items:
            self.fields[f"item_{item.code}"] = forms.ChoiceField(
                label=item.label,
                choices=self.RESULT_CHOICES,
                initial="pass",
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                error_messages={"required": _("请选择结果"), "invalid_choice": _("请选择结果")},
            )
            self.fields[f"problem_{item.code}"] = text_field(
                _("“%(item)s”存在的问题") % {"item": item.label}, 300, required=False
            )
        self._add_photo_fields(user)

    def item_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "code": item.code,
                "label": item.label,
                "result": self[f"item_{item.code}"],
                "problem": self[f"problem_{item.code}"],
            }
            for item in self.items
        ]

    def results(self) -> dict[str, tuple[bool, str]]:
        data = self.cleaned_data
        results = {}
        for item in self.items:
            choice = data.get(f"item_{item.code}")
            if choice in ("pass", "fail"):
                results[item.code] = (choice == "pass", data.get(f"problem_{item.code}") or "")
        return results


class FixForm(forms.Form):
    fixed_on = date_field(_("整改完成日期"))
    fix_note = text_field(
        _("整改情况"),
        300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明如何整改、由谁核实"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"fixed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


# ------------------------------------------------------------------ courier


class PeriodForm(forms.Form):
    """A year and, optionally, a quarter of it."""

    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("季度"),
        required=False,
        coerce=int,
        empty_value=0,
        choices=[("", _("全年")), *[(q, _("第%(q)d季度") % {"q": q}) for q in range(1, 5)]],
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"] = filter_unit_field(user)

    def chosen(self) -> dict[str, Any]:
        """The valid parts of the query string; a bad parameter falls back to its default."""
        if self.is_bound:
            self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "year": data.get("year") or timezone.localdate().year,
            "quarter": data.get("quarter") or 0,
            "unit": data.get("unit"),
        }


class OutletForm(forms.Form):
    name = text_field(_("网点名称"), 100)
    company = text_field(_("所属企业/品牌"), 60, help_text=_("如邮政、顺丰、中通"))
    address = text_field(_("地址"), 200)
    contact_name = text_field(_("负责人"), 50, required=False)
    contact_phone = forms.CharField(
        label=_("负责人电话"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, user: Any, *args: Any, outlet: Any = None, **kwargs: Any) -> None:
        if outlet is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": outlet.name,
                    "kind": outlet.kind,
                    "company": outlet.company,
                    "org_unit": outlet.org_unit_id,
                    "address": outlet.address,
                    "contact_name": outlet.contact_name,
                    "department": outlet.department_id,
                    "notes": outlet.notes,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["kind"] = code_choice(
            "courier_kind", _("类别"), current=outlet.kind if outlet else ""
        )
        self.fields["org_unit"] = unit_field(
            user,
            levels=RECORD_LEVELS,
            required=True,
            label=_("所在村（社区）"),
            empty=_("（请选择）"),
        )
        department = department_field(user)
        department.help_text = _("通常为邮政管理部门或公安")
        self.fields["department"] = department
        if outlet is not None:
            self.fields["contact_phone"].help_text = _("留空则保留原号码（%(masked)s）") % {
                "masked": mask("phone", outlet.contact_phone) or _("未填写")
            }
        self.order_fields(
            ["name", "kind", "company", "org_unit", "address", "contact_name", "contact_phone",
             "department", "notes"]
        )  # fmt: skip

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class CourierInspectionForm(forms.Form):
    inspected_on = date_field(_("检查日期"))
    inspectors = text_field(_("检查人员"), 200, help_text=_("多人用顿号分隔"))
    problems = forms.CharField(
        label=_("发现问题"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"inspected_on": timezone.localdate(), "inspectors": user.full_name}
        )
        super().__init__(*args, **kwargs)
        for rule, label in COURIER_RULES:
            self.fields[f"{rule}_sampled"] = count_field(_("%(rule)s抽查件数") % {"rule": label})
            self.fields[f"{rule}_complied"] = count_field(_("%(rule)s合规件数") % {"rule": label})

    def rule_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "label": label,
                "sampled": self[f"{rule}_sampled"],
                "complied": self[f"{rule}_complied"],
            }
            for rule, label in COURIER_RULES
        ]

    def counts(self) -> dict[str, tuple[int, int]]:
        data = self.cleaned_data
        return {
            rule: (data.get(f"{rule}_sampled") or 0, data.get(f"{rule}_complied") or 0)
            for rule, _label in COURIER_RULES
        }


# ------------------------------------------------------------------ patrols


class PatrolForm(PhotoFormMixin, forms.Form):
    photo_label = _("踏查照片")

    patrolled_on = date_field(_("踏查日期"))
    check_level = forms.ChoiceField(
        label=_("踏查/核查层级"),
        required=False,
        choices=Patrol.CheckLevel.choices,
        help_text=_(
            "上级核查发现问题时选择相应层级；省级、国家级核查发现非法种植将对该乡镇一票否决"
        ),
        error_messages={"invalid_choice": _("请从列表中选择")},
    )
    place = text_field(_("踏查地点"), 200, required=False, help_text=_("如村后废弃院落、某某林班"))
    team = text_field(_("踏查人员"), 300, help_text=_("多人用顿号分隔"))
    distance_km = decimal_field(_("踏查里程（公里）"), places=2, digits=7, min=0)
    area_mu = decimal_field(_("踏查面积（亩）"), places=1, digits=9, min=0)
    plants_found = count_field(_("发现毒品原植物（株）"))
    plants_destroyed = count_field(_("铲除（株）"))
    latitude = decimal_field(_("纬度"), places=6, digits=9)
    longitude = decimal_field(_("经度"), places=6, digits=9)
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"patrolled_on": timezone.localdate(), "team": user.full_name})
        super().__init__(*args, **kwargs)
        self.fields["org_unit"] = unit_field(
            user,
            levels=(Level.TOWNSHIP, Level.VILLAGE),
            required=True,
            label=_("乡镇/村（社区）"),
            empty=_("（请选择）"),
        )
        self.fields["land_kind"] = code_choice("land_kind", _("地类"))
        self.fields["plant_species"] = forms.MultipleChoiceField(
            label=_("植物种类"),
            required=False,
            choices=registry.choices("illicit_plant"),
            widget=forms.CheckboxSelectMultiple,
            error_messages={"invalid_choice": _("未知的植物种类：%(value)s")},
        )
        self._add_photo_fields(user)
        self.order_fields(
            ["org_unit", "patrolled_on", "check_level", "land_kind", "place", "team",
             "distance_km", "area_mu", "plants_found", "plants_destroyed", "plant_species",
             "latitude", "longitude", "notes", "photos"]
        )  # fmt: skip

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        keys = (
            "org_unit", "patrolled_on", "check_level", "land_kind", "place", "team",
            "distance_km", "area_mu", "plants_found", "plants_destroyed", "plant_species",
            "latitude", "longitude", "notes",
        )  # fmt: skip
        values = {key: data.get(key) for key in keys}
        values["plants_found"] = values["plants_found"] or 0
        values["plants_destroyed"] = values["plants_destroyed"] or 0
        values["check_level"] = values["check_level"] or ""
        values["plant_species"] = values["plant_species"] or []
        return values


class SeasonForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"] = filter_unit_field(user)

    def chosen(self) -> dict[str, Any]:
        if self.is_bound:
            self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"year": data.get("year") or timezone.localdate().year, "unit": data.get("unit")}


# ------------------------------------------------------------------ rules

MONTHS = [(m, _("%(m)d月") % {"m": m}) for m in range(1, 13)]


class RulesForm(forms.Form):
    venue_period_months = forms.TypedChoiceField(
        label=_("重点场所检查周期"),
        coerce=int,
        choices=InspectionRules.VenuePeriod.choices,
        help_text=_("每个周期内未检查的场所显示为黄色"),
    )
    letter_warning_days = forms.IntegerField(
        label=_("责任书到期提前提醒（天）"),
        min_value=1,
        max_value=365,
        error_messages={
            "min_value": _("不能小于%(limit_value)s"),
            "max_value": _("不能大于%(limit_value)s"),
        },
    )
    patrol_first_month = forms.TypedChoiceField(
        label=_("踏查季起始月份"), coerce=int, choices=MONTHS
    )
    patrol_last_month = forms.TypedChoiceField(
        label=_("踏查季截止月份"), coerce=int, choices=MONTHS
    )
    patrol_minimum = forms.IntegerField(
        label=_("踏查季每乡镇最少踏查次数"),
        min_value=1,
        max_value=100,
        help_text=_("常见规定：2月至9月不少于6次"),
        error_messages={
            "min_value": _("不能小于%(limit_value)s"),
            "max_value": _("不能大于%(limit_value)s"),
        },
    )
