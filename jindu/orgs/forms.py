"""Forms of the territory and department pages. They only collect input: the rules
live in ``jindu.orgs.services`` and their errors are put back on these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jindu.orgs.division import SIGNIFICANT, Level


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's errors next to the fields they concern (the rest above the form)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class UnitForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    division_code = forms.CharField(
        label=_("统计用区划代码"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    sort_order = forms.IntegerField(
        label=_("排序"),
        required=False,
        min_value=-99999,
        max_value=99999,
        initial=0,
        help_text=_("数字小的排在前面"),
    )

    def __init__(
        self, *args: Any, level: str, parent_code: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if level == Level.GRID:
            # Grids are local and carry no official code.
            del self.fields["division_code"]
            return
        digits = SIGNIFICANT.get(Level(level))
        above = {12: 9, 9: 6, 6: 4, 4: 2}.get(digits or 0, 0)
        if parent_code and above:
            help_text = _("12位数字，以“%(prefix)s”开头") % {"prefix": parent_code[:above]}
            if digits and digits < 12:
                help_text += _("，末%(z)d位为0") % {"z": 12 - digits}
            self.fields["division_code"].help_text = help_text
        else:
            self.fields["division_code"].help_text = _("12位数字，可留空")


class MoveForm(forms.Form):
    q = forms.CharField(
        label=_("查找新的上级单位"),
        required=False,
        max_length=50,
        help_text=_("输入名称或区划代码"),
    )
    parent = forms.IntegerField(
        label=_("新的上级单位"), required=False, min_value=1, max_value=2**63 - 1
    )
    division_code = forms.CharField(
        label=_("新的统计用区划代码"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("新上级的代码前缀与本单位不同时必须填写；其下级单位的代码随之调整"),
    )

    def __init__(self, *args: Any, coded: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not coded:
            del self.fields["division_code"]


class DepartmentForm(forms.Form):
    county = forms.ChoiceField(label=_("所属县（区）"), required=True)
    name = forms.CharField(label=_("单位名称"), max_length=100)
    short_name = forms.CharField(label=_("简称"), max_length=30, required=False)
    duties = forms.CharField(
        label=_("禁毒工作职责"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    sort_order = forms.IntegerField(
        label=_("排序"),
        required=False,
        min_value=-99999,
        max_value=99999,
        initial=0,
        help_text=_("数字小的排在前面"),
    )

    def __init__(self, *args: Any, counties: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        counties = counties or []
        if len(counties) > 1:
            self.fields["county"].choices = [(str(c.pk), c.name) for c in counties]
        else:
            # One county (the usual case): nothing to choose.
            del self.fields["county"]


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Excel文件"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls"})
    )
    county = forms.ChoiceField(label=_("导入到哪个县（区）"), required=True)

    def __init__(self, *args: Any, counties: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        counties = counties or []
        if len(counties) > 1:
            self.fields["county"].choices = [(str(c.pk), c.name) for c in counties]
        else:
            del self.fields["county"]
