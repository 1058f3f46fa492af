"""The follow-up policy page: the county's local rules of community detox and rehab.

Provinces differ in how often tests are due and when a breach is serious; the
county office sets them here. The rules themselves (limits, audit) live in
``jindu.people.followup.update_followup_policy``.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.orgs.forms import apply_errors
from jindu.people.followup import POLICY_LIMITS, update_followup_policy
from jindu.people.models import FollowUpPolicy
from jindu.people.schedule import DEFAULT_INTERVALS

# Separators a user may type between the months of each year: ASCII and
# full-width commas, the enumeration comma, spaces, slashes.
_SEPARATORS = re.compile(r"[\s,，、/;；]+")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

HELP = {
    "test_intervals": gettext_lazy(
        "按措施年度依次填写，用逗号分隔；最后一个数适用于之后各年。常见规定：1,2,3"
        "（第一年每月一次，第二年每两个月一次，第三年每季度一次）"
    ),
    "report_in_days": gettext_lazy("责令社区戒毒决定后应报到的天数，法定为15天"),
    "detox_term_months": gettext_lazy("社区戒毒期限，法定为三年（36个月）"),
    "rehab_max_months": gettext_lazy("社区康复期限，法定不超过三年"),
    "isolation_term_months": gettext_lazy("强制隔离戒毒期限，一般为两年"),
    "lost_contact_days": gettext_lazy("社区戒毒康复人员连续这么多天无任何联系即判为失控"),
    "breach_days_away": gettext_lazy("未经同意离开本县累计超过这么多天，即为严重违反协议"),
    "abstinence_years": gettext_lazy("解除措施后未复吸满这么多年，计为“戒断三年以上未复吸”"),
}
GROUPS = (
    (gettext_lazy("检测与随访"), ("test_intervals", "summary_every_months", "assessment_every_months")),
    (gettext_lazy("期限"), ("report_in_days", "detox_term_months", "rehab_max_months",
                          "isolation_term_months")),
    (gettext_lazy("失控与严重违反协议"), ("lost_contact_days", "breach_evaded", "breach_refused",
                                 "breach_departures", "breach_days_away")),
    (gettext_lazy("戒断巩固"), ("abstinence_years",)),
)  # fmt: skip


def parse_intervals(text: str) -> list[int]:
    """``"1，2、3"`` → ``[1, 2, 3]``; a ValueError names what could not be read."""
    parts = [p for p in _SEPARATORS.split(text.translate(_FULL_WIDTH_DIGITS).strip()) if p]
    if not parts:
        raise ValueError(_("请填写各年度的检测间隔月数，如 1,2,3"))
    try:
        return [int(p) for p in parts]
    except ValueError as exc:
        raise ValueError(_("只能填写整数月数，用逗号分隔，如 1,2,3")) from exc


class PolicyForm(forms.Form):
    test_intervals = forms.CharField(
        label=FollowUpPolicy._meta.get_field("test_intervals").verbose_name,
        max_length=60,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": gettext_lazy("请填写各年度的检测间隔月数，如 1,2,3")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (low, high) in POLICY_LIMITS.items():
            model_field = FollowUpPolicy._meta.get_field(name)
            self.fields[name] = forms.IntegerField(
                label=model_field.verbose_name,
                min_value=low,
                max_value=high,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                error_messages={
                    "required": _("请填写%(label)s") % {"label": model_field.verbose_name},
                    "invalid": _("请填写整数"),
                    "min_value": _("不能小于%(limit_value)s"),
                    "max_value": _("不能大于%(limit_value)s"),
                },
            )
        for name, text in HELP.items():
            self.fields[name].help_text = text

    def clean_test_intervals(self) -> list[int]:
        try:
            return parse_intervals(self.cleaned_data["test_intervals"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(label, [self[name] for name in names]) for label, names in GROUPS]


def _initial(policy: FollowUpPolicy) -> dict[str, Any]:
    initial: dict[str, Any] = {name: getattr(policy, name) for name in POLICY_LIMITS}
    intervals = policy.test_intervals or list(DEFAULT_INTERVALS)
    initial["test_intervals"] = ",".join(str(i) for i in intervals)
    return initial


@require(Perm.FOLLOWUP_POLICY)
def policy(request: HttpRequest) -> HttpResponse:
    current = FollowUpPolicy.current()
    form = PolicyForm(request.POST or None, initial=_initial(current))
    if request.method == "POST" and form.is_valid():
        try:
            update_followup_policy(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存社区戒毒康复规则，各名单即时按新规则计算"))
            return redirect("people:policy")
    return render(request, "people/followup/policy.html", {"form": form, "policy": current})
