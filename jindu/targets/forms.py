"""Forms of the targets pages. They only collect input; the rules live in the services,
whose errors are put back next to these fields (``apply_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jindu.orgs.forms import apply_errors  # noqa: F401  (re-exported for the views)
from jindu.targets.models import LetterKind, PeriodKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def year_choices(back: int = 9) -> list[tuple[int, str]]:
    this = timezone.localdate().year
    return [(y, f"{y}年") for y in range(this + 1, this - back - 1, -1)]


class YearForm(forms.Form):
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False)
    on = forms.DateField(label=_("统计截至"), required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices(back=12)

    def chosen_year(self) -> int:
        value = self.cleaned_data.get("year") if self.is_valid() else None
        return int(value) if value else timezone.localdate().year

    def chosen_day(self) -> Any:
        return self.cleaned_data.get("on") if self.is_valid() else None


class TargetForm(forms.Form):
    indicator_key = forms.ChoiceField(label=_("指标"))
    value = forms.CharField(
        label=_("市上下达目标值"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("可为小数，如 10.5；目标为0时完成率显示“不适用”"),
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicator_key"].choices = [("", _("请选择")), *choices]


class ReportedForm(forms.Form):
    value = forms.CharField(
        label=_("数值（%）"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    sample_size = forms.IntegerField(
        label=_("样本量"),
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text=_("调查人数或学生数；汇总全县数值时按样本量加权"),
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class ReturnForm(forms.Form):
    return_note = forms.CharField(label=_("退回意见"), max_length=200)


class UnlockForm(forms.Form):
    unlocked_until = forms.DateField(label=_("允许补报至"), widget=DATE)


class LetterForm(forms.Form):
    county_signatory = forms.CharField(label=_("县禁毒委签订人"), max_length=50, required=False)
    unit_signatory = forms.CharField(label=_("责任单位签订人"), max_length=50, required=False)
    duties = forms.CharField(
        label=_("工作职责"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("每行一条，生成时自动编号"),
    )


class IssueForm(forms.Form):
    issued_on = forms.DateField(label=_("下发日期"), widget=DATE)


class SignForm(forms.Form):
    signed_on = forms.DateField(label=_("签订日期"), widget=DATE)
    scan = forms.FileField(
        label=_("签字盖章扫描件"),
        required=False,
        help_text=_("PDF或JPEG、PNG、WebP图片，不超过10MB"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,image/jpeg,image/png,image/webp"}),
    )


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(label=_("责任书种类"), choices=LetterKind.choices)
    file = forms.FileField(
        label=_("模板文件（.docx）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".docx"}),
        help_text=_("可用占位符：{{单位}} {{年度}} {{县名}} {{签订日期}} {{县签字人}} "
                    "{{单位签字人}} {{目标任务表}} {{职责}} {{整治任务}}"),
    )  # fmt: skip


class KeyTownshipForm(forms.Form):
    township = forms.TypedChoiceField(label=_("乡镇（街道）"), coerce=int)
    listed_on = forms.DateField(label=_("列入日期"), widget=DATE)
    listed_by = forms.CharField(label=_("列入机关"), max_length=100, required=False)
    reason = forms.CharField(label=_("列入原因"), max_length=300, required=False)

    def __init__(self, *args: Any, townships: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["township"].choices = [("", _("请选择")), *((t.pk, t.name) for t in townships)]


class DelistForm(forms.Form):
    delisted_on = forms.DateField(label=_("摘帽日期"), widget=DATE)


class TaskForm(forms.Form):
    task = forms.CharField(label=_("整治任务"), max_length=300)
    deadline = forms.DateField(label=_("完成时限"), widget=DATE)
    note = forms.CharField(label=_("备注"), max_length=300, required=False)


class TaskDoneForm(forms.Form):
    done_on = forms.DateField(label=_("完成日期"), widget=DATE)
    note = forms.CharField(label=_("备注"), max_length=300, required=False)


class RuleForm(forms.Form):
    level = forms.ChoiceField(
        label=_("填报单位层级"),
        choices=[
            ("county", _("县（区）")),
            ("township", _("乡镇/街道")),
            ("village", _("村/社区")),
        ],
    )
    department_name = forms.CharField(
        label=_("填报成员单位（简称）"), max_length=30, required=False,
        help_text=_("如“教育局”；留空则由上述层级的单位逐一填报"),
    )  # fmt: skip
    period_kind = forms.ChoiceField(label=_("填报周期"), choices=PeriodKind.choices)
    deadline_days = forms.IntegerField(label=_("期末后填报期限（天）"), min_value=0, max_value=366)
