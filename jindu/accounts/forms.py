"""Forms for signing in, the user's own account, and the administrators' pages.

Forms only parse and check input; the writes and their rules live in
``services`` and ``flows``.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jindu.accounts.models import SecurityPolicy, User
from jindu.core.roles import ADMIN_ROLES, ROLE_CHOICES, ROLE_LABELS, Role
from jindu.orgs.models import Department, OrgUnit

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,30}$")


class LoginForm(forms.Form):
    # Browser tests fill these by name: keep them ``username`` and ``password``.
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "autofocus": True,
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
        error_messages={"required": _("请输入用户名")},
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("请输入密码")},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("动态口令"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "pattern": "[0-9 ]*",
                "placeholder": "123456",
            }
        ),
        error_messages={"required": _("请输入手机验证器上显示的6位数字")},
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("原密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": _("请输入原密码")},
    )
    new_password = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("请输入新密码")},
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("请再次输入新密码")},
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        new, again = data.get("new_password"), data.get("new_password2")
        if new and again and new != again:
            self.add_error("new_password2", _("两次输入的新密码不一致"))
        elif new:
            try:
                validate_password(new, self.user)
            except ValidationError as exc:
                self.add_error("new_password", exc)
        return data


def password_rules(policy: SecurityPolicy | None = None) -> list[str]:
    """The rules in words, shown beside every field where a password is chosen."""
    policy = policy or SecurityPolicy.current()
    return [
        str(_("至少%(n)d位") % {"n": policy.password_min_length}),
        str(
            _("包含大写字母、小写字母、数字、符号中的至少%(n)d种")
            % {"n": policy.password_min_classes}
        ),
        str(_("不能包含用户名")),
        str(_("不能是常见的简单密码（如 Password123）")),
    ]


class UnitChoiceField(forms.ModelChoiceField):
    """Units indented by depth, so a long list still reads as a tree."""

    def label_from_instance(self, obj: OrgUnit) -> str:
        base = getattr(self, "base_depth", 0)
        return "　" * max(obj.depth - base, 0) + obj.name


def unit_field(admin: User, *, required: bool = True, label: Any = None) -> UnitChoiceField:
    field = UnitChoiceField(
        queryset=OrgUnit.objects.for_user(admin).order_by("path"),
        required=required,
        label=label or _("所属单位"),
        empty_label=_("（全部单位）") if not required else _("请选择单位"),
        error_messages={
            "required": _("请选择所属单位"),
            "invalid_choice": _("所选单位不存在或不在您的管理范围内"),
        },
    )
    field.base_depth = admin.org_unit.depth if admin.org_unit_id else 0
    return field


def department_field(admin: User) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Department.objects.for_user(admin).filter(active=True),
        required=False,
        label=_("成员单位"),
        empty_label=_("（无）"),
        help_text=_("仅成员单位填报员需要：其数据范围限于本成员单位的记录。"),
        error_messages={"invalid_choice": _("所选成员单位不存在或不在您的管理范围内")},
    )


class ScopeForm(forms.Form):
    def __init__(self, admin: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"] = unit_field(admin)
        self.fields["department"] = department_field(admin)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("授予的角色"),
        choices=ROLE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "三员分立：系统管理员、安全管理员、审计管理员各自独立，不能兼任，也不能兼任业务角色。"
        ),
    )


class PolicyForm(forms.Form):
    password_min_length = forms.IntegerField(
        label=_("密码最小长度（位）"), min_value=8, max_value=64
    )
    password_min_classes = forms.IntegerField(
        label=_("密码须含字符种类数"),
        min_value=1,
        max_value=4,
        help_text=_("大写字母、小写字母、数字、符号四类中至少包含几类。"),
    )
    password_max_age_days = forms.IntegerField(
        label=_("密码有效期（天）"),
        min_value=0,
        max_value=3650,
        help_text=_("到期后登录须先修改密码；0 表示不限。"),
    )
    lockout_threshold = forms.IntegerField(
        label=_("连续失败锁定次数"),
        min_value=1,
        max_value=10,
        help_text=_("同一用户名或同一地址在锁定时长内失败达到此次数即锁定。"),
    )
    lockout_minutes = forms.IntegerField(label=_("锁定时长（分钟）"), min_value=1, max_value=1440)
    session_idle_minutes = forms.IntegerField(
        label=_("空闲超时（分钟）"),
        min_value=1,
        max_value=30,
        help_text=_("无操作超过此时长自动退出，最长30分钟。"),
    )
    totp_roles = forms.MultipleChoiceField(
        label=_("须使用动态口令的业务角色"),
        required=False,
        choices=[(r.value, ROLE_LABELS[r]) for r in Role if r not in ADMIN_ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("三个管理员角色始终须使用动态口令；其他用户可自愿绑定。"),
    )


class AccountFilterForm(forms.Form):
    STATUS_CHOICES = [("", _("全部")), ("active", _("启用")), ("disabled", _("停用"))]

    q = forms.CharField(label=_("用户名或姓名"), required=False, max_length=50)
    status = forms.ChoiceField(label=_("状态"), choices=STATUS_CHOICES, required=False)

    def __init__(self, admin: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"] = unit_field(admin, required=False, label=_("单位（含下级）"))


class NewPasswordField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("初始密码"))
        super().__init__(
            required=False,
            strip=False,
            max_length=128,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
            help_text=_(
                "留空则由系统生成一个符合规则的随机密码，只显示一次。用户首次登录时须修改。"
            ),
            **kwargs,
        )


class AccountCreateForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"),
        max_length=30,
        help_text=_("3至30位，只能包含字母、数字和 . _ - @"),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
        error_messages={"required": _("请填写用户名")},
    )
    full_name = forms.CharField(
        label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名")}
    )
    password = NewPasswordField()

    def __init__(self, admin: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"] = unit_field(admin)
        self.fields["department"] = department_field(admin)
        self.order_fields(["username", "full_name", "org_unit", "department", "password"])

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if not USERNAME_RE.match(username):
            raise ValidationError(_("用户名须为3至30位，只能包含字母、数字和 . _ - @"))
        return username


class AccountNameForm(forms.Form):
    full_name = forms.CharField(
        label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名")}
    )


class PasswordResetForm(forms.Form):
    new_password = NewPasswordField(label=_("新密码"))
