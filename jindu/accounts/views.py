"""Signing in and out, and each user's own account: password, TOTP, login history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jindu.accounts import flows, services, totp
from jindu.accounts.flows import Stage
from jindu.accounts.forms import CodeForm, LoginForm, PasswordChangeForm, password_rules
from jindu.accounts.middleware import NOTICE
from jindu.accounts.models import SecurityPolicy
from jindu.accounts.sessions import follow_new_key
from jindu.core.access import public, setup_step, signed_in

NOTICES = {
    "timeout": gettext_lazy("会话已超时，请重新登录"),
    "ended": gettext_lazy("您的会话已结束，请重新登录"),
}


def apply_errors(form: Form, exc: ValidationError) -> None:
    """Put a service's errors on the form's fields, or on the form when it has no such field."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _after_login(request: HttpRequest, outcome: flows.Outcome) -> HttpResponse:
    if request.user.needs_password_change():
        return redirect("accounts:password_change")
    return redirect(outcome.redirect_to or "portal:home")


@public
@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = flows.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated:
        return redirect(next_url or "portal:home")
    notice = None
    if request.method == "GET":
        notice = NOTICES.get(request.session.pop(NOTICE, ""))
        # Coming back to the first step abandons a half-finished sign-in.
        flows.clear_pending(request)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = flows.attempt_password(
            request, form.cleaned_data["username"], form.cleaned_data["password"], next_url
        )
        if outcome.stage == Stage.DONE:
            return _after_login(request, outcome)
        if outcome.stage == Stage.TOTP:
            return redirect("accounts:login_totp")
        if outcome.stage == Stage.ENROL:
            return redirect("accounts:login_enrol")
        form.add_error(None, outcome.error)
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "next": next_url,
            "notice": notice,
        },
    )


def _code_step(request: HttpRequest, stage: Stage, template: str) -> HttpResponse:
    pending = flows.pending_login(request, stage)
    if pending is None:
        messages.warning(request, _("登录已过期，请重新输入用户名和密码"))
        return redirect("accounts:login")
    pending_user, _marker = pending
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = flows.attempt_code(request, form.cleaned_data["code"], stage)
        if outcome.stage == Stage.DONE:
            return _after_login(request, outcome)
        if outcome.redirect_to:
            messages.error(request, outcome.error)
            return redirect(outcome.redirect_to)
        form.add_error("code", outcome.error)
    context = {"form": form, "pending_username": pending_user.username}
    if stage == Stage.ENROL:
        context["secret_grouped"] = totp.grouped(pending_user.totp_secret or "")
    return render(request, template, context)


@public
@never_cache
@require_http_methods(["GET", "POST"])
def login_totp(request: HttpRequest) -> HttpResponse:
    return _code_step(request, Stage.TOTP, "accounts/login_totp.html")


@public
@never_cache
@require_http_methods(["GET", "POST"])
def login_enrol(request: HttpRequest) -> HttpResponse:
    return _code_step(request, Stage.ENROL, "accounts/login_enrol.html")


@public
@never_cache
@require_GET
def totp_qr(request: HttpRequest) -> HttpResponse:
    """The enrolment QR code as an SVG of its own, so the page needs no inline image data."""
    pending = flows.pending_login(request, Stage.ENROL)
    if pending is not None:
        user = pending[0]
    elif request.user.is_authenticated and not request.user.totp_enrolled:
        user = request.user
    else:
        raise Http404
    if not user.totp_secret:
        raise Http404
    svg = totp.qr_svg(totp.provisioning_uri(user, user.totp_secret))
    return HttpResponse(svg, content_type="image/svg+xml")


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    was_signed_in = request.user.is_authenticated
    flows.sign_out(request)
    if was_signed_in:
        messages.success(request, _("您已安全退出"))
    return redirect("accounts:login")


@setup_step
@never_cache
@sensitive_post_parameters("old_password", "new_password", "new_password2")
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    policy = SecurityPolicy.current()
    if user.password_expired(policy):
        reason = _("您的密码已超过有效期（%(days)d天），请设置新密码后继续使用。") % {
            "days": policy.password_max_age_days
        }
    elif user.must_change_password:
        reason = _(
            "您的密码由管理员设置（首次登录或密码被重置），请设置只有您自己知道的新密码后继续使用。"
        )
    else:
        reason = ""
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_password(
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            old_key = request.session.session_key
            update_session_auth_hash(request, user)
            follow_new_key(request, old_key)
            # Whoever else was signed in with the old password is not any more.
            services.end_sessions(
                actor=user,
                user=user,
                except_key=request.session.session_key,
                reason="password changed",
            )
            messages.success(request, _("密码已修改"))
            return redirect("portal:home")
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "reason": reason,
            "rules": password_rules(policy),
        },
    )


@signed_in
@never_cache
@require_http_methods(["GET", "POST"])
def totp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict = {"required": user.totp_required()}
    if user.totp_enrolled:
        context["enrolled_at"] = user.totp_confirmed_at
        return render(request, "accounts/totp_setup.html", context)
    form = CodeForm(request.POST or None)
    if request.method == "GET" or not user.totp_secret:
        services.start_totp_enrolment(user=user)
    elif form.is_valid():
        if services.confirm_totp_enrolment(user=user, code=form.cleaned_data["code"]):
            messages.success(request, _("动态口令已绑定，以后登录时须输入手机上显示的口令"))
            return redirect("accounts:totp_setup")
        form.add_error("code", flows.totp_error())
    context.update(form=form, secret_grouped=totp.grouped(user.totp_secret or ""))
    return render(request, "accounts/totp_setup.html", context)


@signed_in
@require_GET
def my_logins(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/my_logins.html",
        {
            "rows": flows.login_history(request.user),
        },
    )
