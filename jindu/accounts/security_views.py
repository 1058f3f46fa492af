"""The security administrator's pages: live sessions, roles and scopes, TOTP resets, policy.

Every account and session is looked up inside the administrator's own subtree;
one outside it answers 404, as if it did not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jindu.accounts import services
from jindu.accounts.forms import PolicyForm, RolesForm, ScopeForm
from jindu.accounts.models import SecurityPolicy, User
from jindu.accounts.selectors import account_page, sessions_in_scope
from jindu.accounts.services import POLICY_FIELDS
from jindu.accounts.views import apply_errors
from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404


@require(Perm.SESSION_MANAGE)
@require_GET
def live_sessions(request: HttpRequest) -> HttpResponse:
    rows = list(sessions_in_scope(request.user).prefetch_related("user__role_grants"))
    own_key = request.session.session_key
    for row in rows:
        row.is_current = row.session_key == own_key
    return render(
        request,
        "accounts/sessions.html",
        {
            "rows": rows,
            "idle_minutes": SecurityPolicy.current().session_idle_minutes,
        },
    )


@require(Perm.SESSION_MANAGE)
@require_http_methods(["GET", "POST"])
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    live = get_object_or_404(sessions_in_scope(request.user), pk=pk)
    if request.method == "POST":
        services.end_sessions(
            actor=request.user,
            user=live.user,
            session_key=live.session_key,
            reason="ended by security administrator",
        )
        messages.success(request, _("已结束 %(name)s 的会话") % {"name": live.user})
        return redirect("accounts:sessions")
    return render(
        request,
        "accounts/confirm.html",
        {
            "title": _("结束会话"),
            "question": _("确定要结束 %(name)s 在 %(address)s 的会话吗？对方将立即退出登录。")
            % {"name": live.user, "address": live.client_address},
            "confirm_label": _("结束会话"),
            "cancel_url": "accounts:sessions",
        },
    )


@require(Perm.ROLE_MANAGE)
@require_GET
def role_list(request: HttpRequest) -> HttpResponse:
    form, page = account_page(request.user, request.GET)
    return render(request, "accounts/role_list.html", {"filter_form": form, "page_obj": page})


def _role_page(
    request: HttpRequest,
    target: User,
    *,
    roles_form: RolesForm | None = None,
    scope_form: ScopeForm | None = None,
) -> HttpResponse:
    roles_form = roles_form or RolesForm(initial={"roles": sorted(target.role_codes)})
    scope_form = scope_form or ScopeForm(
        request.user, initial={"org_unit": target.org_unit_id, "department": target.department_id}
    )
    return render(
        request,
        "accounts/role_edit.html",
        {
            "target": target,
            "roles_form": roles_form,
            "scope_form": scope_form,
            "is_self": target.pk == request.user.pk,
        },
    )


def _target(request: HttpRequest, pk: int) -> User:
    return get_in_scope_or_404(
        User.objects.select_related("org_unit", "department"), request.user, pk=pk
    )


@require(Perm.ROLE_MANAGE)
@require_GET
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _role_page(request, _target(request, pk))


@require(Perm.ROLE_MANAGE)
@require_POST
def role_save(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    form = RolesForm(request.POST)
    if form.is_valid():
        try:
            services.set_roles(
                actor=request.user, user=target, roles=set(form.cleaned_data["roles"])
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存 %(name)s 的角色") % {"name": target})
            return redirect("accounts:role_edit", pk=target.pk)
    return _role_page(request, target, roles_form=form)


@require(Perm.ROLE_MANAGE)
@require_POST
def scope_save(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    form = ScopeForm(request.user, request.POST)
    if form.is_valid():
        try:
            services.set_scope(
                actor=request.user,
                user=target,
                org_unit=form.cleaned_data["org_unit"],
                department=form.cleaned_data["department"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存 %(name)s 的数据范围") % {"name": target})
            return redirect("accounts:role_edit", pk=target.pk)
    return _role_page(request, target, scope_form=form)


@require(Perm.ROLE_MANAGE)
@require_http_methods(["GET", "POST"])
def totp_reset(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    if request.method == "POST":
        services.reset_totp(actor=request.user, user=target)
        messages.success(
            request, _("已重置 %(name)s 的动态口令，其下次登录时须重新绑定") % {"name": target}
        )
        return redirect("accounts:role_edit", pk=target.pk)
    return render(
        request,
        "accounts/confirm.html",
        {
            "title": _("重置动态口令"),
            "question": _(
                "确定要重置 %(name)s 的动态口令吗？其当前会话将结束，下次登录时须用新手机重新绑定。"
            )
            % {"name": target},
            "confirm_label": _("重置动态口令"),
            "cancel_url": "accounts:role_edit",
            "cancel_pk": target.pk,
        },
    )


@require(Perm.ROLE_MANAGE)
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest) -> HttpResponse:
    policy = SecurityPolicy.current()
    initial = {name: getattr(policy, name) for name in POLICY_FIELDS}
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_policy(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("安全策略已保存"))
            return redirect("accounts:policy")
    return render(request, "accounts/policy.html", {"form": form, "policy": policy})
