"""The system administrator's pages: accounts, their names, status and passwords.

Roles and scopes are the security administrator's (三员分立): a new account
starts with none, and this side never grants any.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from jindu.accounts import services
from jindu.accounts.forms import (
    AccountCreateForm,
    AccountNameForm,
    PasswordResetForm,
    password_rules,
)
from jindu.accounts.models import User
from jindu.accounts.selectors import account_page
from jindu.accounts.views import apply_errors
from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404


def _target(request: HttpRequest, pk: int) -> User:
    return get_in_scope_or_404(
        User.objects.select_related("org_unit", "department"), request.user, pk=pk
    )


def _password_once(request: HttpRequest, target: User, password: str, title: str) -> HttpResponse:
    """A generated password, shown on this one response and never again (not stored in clear)."""
    return render(
        request,
        "accounts/password_once.html",
        {
            "target": target,
            "password": password,
            "title": title,
        },
    )


@require(Perm.ACCOUNT_MANAGE)
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    form, page = account_page(request.user, request.GET)
    return render(request, "accounts/account_list.html", {"filter_form": form, "page_obj": page})


@require(Perm.ACCOUNT_MANAGE)
@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    form = AccountCreateForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = data["password"]
        generated = not password
        if generated:
            password = services.generate_password(User(username=data["username"]))
        try:
            user = services.create_user(
                actor=request.user,
                username=data["username"],
                full_name=data["full_name"],
                org_unit=data["org_unit"],
                department=data["department"],
                password=password,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if generated:
                return _password_once(request, user, password, _("账号已创建"))
            messages.success(
                request, _("账号 %(name)s 已创建，首次登录时须修改密码") % {"name": user.username}
            )
            return redirect("accounts:account_detail", pk=user.pk)
    return render(
        request,
        "accounts/account_create.html",
        {
            "form": form,
            "rules": password_rules(),
        },
    )


@require(Perm.ACCOUNT_MANAGE)
@require_http_methods(["GET", "POST"])
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    form = AccountNameForm(request.POST or None, initial={"full_name": target.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(
                actor=request.user, user=target, full_name=form.cleaned_data["full_name"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("accounts:account_detail", pk=target.pk)
    return render(
        request,
        "accounts/account_detail.html",
        {
            "target": target,
            "form": form,
            "is_self": target.pk == request.user.pk,
        },
    )


@require(Perm.ACCOUNT_MANAGE)
@require_http_methods(["GET", "POST"])
def account_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    enable = not target.is_active
    if request.method == "POST":
        try:
            services.set_active(actor=request.user, user=target, active=enable)
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
        else:
            messages.success(
                request,
                (_("已启用 %(name)s") if enable else _("已停用 %(name)s，其在线会话已结束"))
                % {"name": target},
            )
        return redirect("accounts:account_detail", pk=target.pk)
    if enable:
        question = _("确定要启用 %(name)s 吗？") % {"name": target}
    else:
        question = _("确定要停用 %(name)s 吗？其在线会话将立即结束，停用后无法登录。") % {
            "name": target
        }
    return render(
        request,
        "accounts/confirm.html",
        {
            "title": _("启用账号") if enable else _("停用账号"),
            "question": question,
            "confirm_label": _("启用") if enable else _("停用"),
            "danger": not enable,
            "cancel_url": "accounts:account_detail",
            "cancel_pk": target.pk,
        },
    )


@require(Perm.ACCOUNT_MANAGE)
@never_cache
@sensitive_post_parameters("new_password")
@require_http_methods(["GET", "POST"])
def account_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["new_password"]
        generated = not password
        if generated:
            password = services.generate_password(target)
        try:
            services.reset_password(actor=request.user, user=target, new_password=password)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if generated:
                return _password_once(request, target, password, _("密码已重置"))
            messages.success(
                request, _("已重置 %(name)s 的密码，其下次登录时须修改") % {"name": target}
            )
            return redirect("accounts:account_detail", pk=target.pk)
    return render(
        request,
        "accounts/account_reset_password.html",
        {
            "target": target,
            "form": form,
            "rules": password_rules(),
        },
    )
