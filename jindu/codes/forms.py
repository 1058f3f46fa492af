"""Forms of the code-list pages; the rules are in ``jindu.codes.services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeListForm(forms.Form):
    key = forms.CharField(
        label=_("标识"),
        max_length=50,
        help_text=_("英文小写字母开头，只含小写字母、数字和下划线，如 school_kind；建好后不能修改"),
    )
    name = forms.CharField(label=_("字典名称"), max_length=100)
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["key"]


class CodeItemForm(forms.Form):
    code = forms.CharField(
        label=_("代码"), max_length=50, help_text=_("字母、数字和下划线；保存后不能修改")
    )
    label = forms.CharField(label=_("名称"), max_length=100)
    sort_order = forms.IntegerField(
        label=_("排序"),
        required=False,
        min_value=-99999,
        max_value=99999,
        help_text=_("数字小的排在前面；留空排在最后"),
    )

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
