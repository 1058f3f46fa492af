"""Signing in and out, as graded protection asks.

The password step, then (when the account uses TOTP) the code step or, for an
account that must use TOTP but has no authenticator yet, the enrolment step.
Between the steps the session holds a short-lived pending-login marker and is
not signed in. Only ``complete_login`` signs a user in.

Every attempt is a ``LoginAttempt`` row and an audit row. Failures count
towards a lockout per username and, separately, per client address; both apply
to any username string, existing or not, and every refusal says the same thing,
so the answers never reveal whether an account exists.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.db.models import Max, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.accounts import totp
from jindu.accounts.models import Lockout, LoginAttempt, SecurityPolicy, User, UserSession
from jindu.audit.actions import Action, Result
from jindu.audit.services import record
from jindu.core.context import client_address

BACKEND = "jindu.accounts.backends.ScopedUserBackend"
PENDING = "jindu_pending_login"
# Long enough to unlock a phone and read a code; short enough that a half-finished
# sign-in left on a shared computer is useless soon after.
PENDING_SECONDS = 300


class Stage(StrEnum):
    TOTP = "totp"
    ENROL = "enrol"
    DONE = "done"


class Reason(StrEnum):
    """Why an attempt ended as it did; stored on ``LoginAttempt.reason``."""

    OK = "ok"
    UNKNOWN_USER = "unknown_user"
    BAD_PASSWORD = "bad_password"  # noqa: S105 - a reason code, not a password
    DISABLED = "disabled"
    LOCKED = "locked"
    TOTP_FAILED = "totp_failed"
    # The password is being checked right now; see ``attempt_password``.
    IN_FLIGHT = "in_flight"


REASON_LABELS = {
    Reason.OK: gettext_lazy("登录成功"),
    Reason.UNKNOWN_USER: gettext_lazy("用户名不存在"),
    Reason.BAD_PASSWORD: gettext_lazy("密码错误"),
    Reason.DISABLED: gettext_lazy("账号已停用"),
    Reason.LOCKED: gettext_lazy("已锁定，拒绝登录"),
    Reason.TOTP_FAILED: gettext_lazy("动态口令错误"),
    Reason.IN_FLIGHT: gettext_lazy("验证中"),
}


def reason_label(code: str) -> str:
    try:
        return str(REASON_LABELS[Reason(code)])
    except ValueError:
        return code


def generic_error() -> str:
    return _("用户名或密码错误")


def locked_error(policy: SecurityPolicy) -> str:
    return _("登录失败次数过多，已暂时锁定，请%(minutes)d分钟后再试") % {
        "minutes": policy.lockout_minutes
    }


def totp_error() -> str:
    return _("动态口令不正确或已使用过，请输入手机上显示的最新口令")


@dataclass
class Outcome:
    """Where a sign-in step leads.

    ``stage`` is the next step (or DONE when signed in), None when refused with
    ``error``. ``redirect_to`` is the page to go to: the safe ``next`` once signed
    in, or the login page when a refusal ends the half-finished sign-in.
    """

    stage: Stage | None = None
    error: str = ""
    redirect_to: str = ""


# ------------------------------------------------------------------ lockout
def lock_key(username: str) -> str:
    """Case and surrounding spaces do not make a new username for counting."""
    return username.strip().lower()[:150]


def active_lockout(username: str, address: str, now: datetime | None = None) -> Lockout | None:
    now = now or timezone.now()
    return (
        Lockout.objects.filter(until__gt=now)
        .filter(
            Q(kind=Lockout.Kind.USERNAME, key=lock_key(username))
            | Q(kind=Lockout.Kind.ADDRESS, key=address)
        )
        .order_by("-until")
        .first()
    )


def _failures_since_reset(
    kind: str, key: str, now: datetime, policy: SecurityPolicy, *, in_flight: bool = False
) -> int:
    since = now - timedelta(minutes=policy.lockout_minutes)
    last_lock = Lockout.objects.filter(kind=kind, key=key).aggregate(m=Max("locked_at"))["m"]
    if last_lock and last_lock > since:
        since = last_lock
    attempts = LoginAttempt.objects.filter(at__gt=since)
    if kind == Lockout.Kind.USERNAME:
        attempts = attempts.filter(username=key)
        # For a username the rule counts consecutive failures: a success starts over.
        last_ok = attempts.filter(success=True).aggregate(m=Max("at"))["m"]
        if last_ok:
            attempts = attempts.filter(at__gt=last_ok)
    else:
        # An address is not reset by a success: otherwise anyone with one valid
        # account could try other people's passwords without limit from one machine.
        attempts = attempts.filter(client_address=key)
    not_counted = [Reason.LOCKED] if in_flight else [Reason.LOCKED, Reason.IN_FLIGHT]
    return attempts.filter(success=False).exclude(reason__in=not_counted).count()


def _burst(username: str, address: str, now: datetime, policy: SecurityPolicy) -> bool:
    """More attempts under way or failed than the threshold allows: a parallel burst."""
    return any(
        key
        and _failures_since_reset(kind, key, now, policy, in_flight=True) > policy.lockout_threshold
        for kind, key in (
            (Lockout.Kind.USERNAME, lock_key(username)),
            (Lockout.Kind.ADDRESS, address),
        )
    )


def _lock_if_over(
    kind: str, key: str, now: datetime, policy: SecurityPolicy, username: str
) -> bool:
    if not key or _failures_since_reset(kind, key, now, policy) < policy.lockout_threshold:
        return False
    until = now + timedelta(minutes=policy.lockout_minutes)
    Lockout.objects.create(kind=kind, key=key, locked_at=now, until=until)
    record(
        actor=None,
        action=Action.LOCKOUT,
        username=username,
        result=Result.FAILURE,
        object_type="lockout",
        object_repr=f"{Lockout.Kind(kind).label}：{key}",
        detail={
            "kind": kind,
            "key": key,
            "until": until.isoformat(),
            "threshold": policy.lockout_threshold,
        },
    )
    return True


def _attempt(
    request: HttpRequest,
    *,
    username: str,
    user: User | None,
    success: bool,
    reason: Reason,
    now: datetime,
) -> LoginAttempt:
    return LoginAttempt.objects.create(
        username=lock_key(username),
        user=user,
        client_address=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
        at=now,
        success=success,
        reason=reason,
    )


def _fail(
    request: HttpRequest,
    *,
    username: str,
    user: User | None,
    reason: Reason,
    policy: SecurityPolicy,
    claim: LoginAttempt | None = None,
) -> bool:
    """Record a failed attempt and lock what crossed the threshold; True if now locked."""
    now = timezone.now()
    with transaction.atomic():
        if claim is not None:
            claim.reason = reason
            claim.save(update_fields=["reason"])
        else:
            _attempt(request, username=username, user=user, success=False, reason=reason, now=now)
        if reason == Reason.TOTP_FAILED and user is not None:
            record(actor=user, action=Action.TOTP_FAILED, obj=user, result=Result.FAILURE)
        else:
            record(
                actor=None,
                action=Action.LOGIN_FAILED,
                username=username,
                result=Result.FAILURE,
                object_type="login",
                detail={"reason": str(reason)},
            )
        locked_name = _lock_if_over(
            Lockout.Kind.USERNAME, lock_key(username), now, policy, username
        )
        locked_addr = _lock_if_over(
            Lockout.Kind.ADDRESS, client_address(request), now, policy, username
        )
    return locked_name or locked_addr


def _refuse_locked(
    request: HttpRequest, *, username: str, user: User | None, claim: LoginAttempt | None = None
) -> None:
    with transaction.atomic():
        if claim is not None:
            claim.reason = Reason.LOCKED
            claim.save(update_fields=["reason"])
        else:
            _attempt(
                request,
                username=username,
                user=user,
                success=False,
                reason=Reason.LOCKED,
                now=timezone.now(),
            )
        record(
            actor=None,
            action=Action.LOGIN_FAILED,
            username=username,
            result=Result.DENIED,
            object_type="login",
            detail={"reason": str(Reason.LOCKED)},
        )


# ------------------------------------------------------------------ the steps
def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """``candidate`` if it is a path on this site, else empty."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def attempt_password(
    request: HttpRequest, username: str, password: str, next_url: str = ""
) -> Outcome:
    policy = SecurityPolicy.current()
    username = username.strip()[:150]
    address = client_address(request)
    known = User.objects.filter(username=username).first()
    if active_lockout(username, address):
        # Locked: not even the right password gets through, and no hashing is spent.
        _refuse_locked(request, username=username, user=known)
        return Outcome(error=locked_error(policy))
    # The attempt is written (and committed) before the slow password hash, so
    # that guesses sent in parallel see each other: however many arrive at once,
    # no more than the threshold are ever checked before the lockout applies.
    claim = _attempt(
        request,
        username=username,
        user=known,
        success=False,
        reason=Reason.IN_FLIGHT,
        now=timezone.now(),
    )
    try:
        if _burst(username, address, timezone.now(), policy):
            # Refused without a lockout of its own: a real lockout follows only from
            # real failures, so many colleagues signing in at once behind one
            # address never lock each other out.
            _refuse_locked(request, username=username, user=known, claim=claim)
            return Outcome(error=locked_error(policy))
        user = authenticate(request, username=username, password=password)
    except BaseException:
        claim.delete()
        raise
    if user is None:
        if known is None:
            reason = Reason.UNKNOWN_USER
        elif not known.is_active:
            reason = Reason.DISABLED
        else:
            reason = Reason.BAD_PASSWORD
        locked = _fail(
            request, username=username, user=known, reason=reason, policy=policy, claim=claim
        )
        return Outcome(error=locked_error(policy) if locked else generic_error())
    # The password was right: what is recorded is how the sign-in ends, not this step.
    claim.delete()
    if user.totp_enrolled:
        return _begin_second_factor(request, user, Stage.TOTP, next_url)
    if user.totp_required(policy):
        from jindu.accounts.services import start_totp_enrolment

        start_totp_enrolment(user=user)
        return _begin_second_factor(request, user, Stage.ENROL, next_url)
    return complete_login(request, user, next_url)


def _begin_second_factor(request: HttpRequest, user: User, stage: Stage, next_url: str) -> Outcome:
    # A new key before anything is attached to the session: a session id planted
    # before the password step is worth nothing after it.
    request.session.cycle_key()
    request.session[PENDING] = {
        "uid": user.pk,
        "stage": str(stage),
        "at": time.time(),
        "next": next_url,
    }
    return Outcome(stage=stage)


def pending_login(request: HttpRequest, stage: Stage | None = None) -> tuple[User, dict] | None:
    """The user half-way through signing in in this session, if still fresh."""
    marker = request.session.get(PENDING)
    if not isinstance(marker, dict):
        return None
    if time.time() - float(marker.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    if stage is not None and marker.get("stage") != stage:
        return None
    user = User.objects.filter(pk=marker.get("uid"), is_active=True).first()
    if user is None:
        request.session.pop(PENDING, None)
        return None
    return user, marker


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)


def attempt_code(request: HttpRequest, code: str, stage: Stage) -> Outcome:
    """The second step: a code from the enrolled app, or the code confirming enrolment."""
    pending = pending_login(request, stage)
    if pending is None:
        return Outcome(error=_("登录已过期，请重新输入用户名和密码"), redirect_to="accounts:login")
    user, marker = pending
    policy = SecurityPolicy.current()
    if active_lockout(user.username, client_address(request)):
        clear_pending(request)
        _refuse_locked(request, username=user.username, user=user)
        return Outcome(error=locked_error(policy), redirect_to="accounts:login")
    if stage == Stage.ENROL:
        from jindu.accounts.services import confirm_totp_enrolment

        accepted = confirm_totp_enrolment(user=user, code=code)
    else:
        accepted = user.totp_enrolled and totp.consume(user, code)
    if not accepted:
        if _fail(
            request, username=user.username, user=user, reason=Reason.TOTP_FAILED, policy=policy
        ):
            clear_pending(request)
            return Outcome(error=locked_error(policy), redirect_to="accounts:login")
        return Outcome(error=totp_error())
    return complete_login(request, user, marker.get("next", ""))


def complete_login(request: HttpRequest, user: User, next_url: str = "") -> Outcome:
    """Sign the user in: the only place that calls Django's ``login``."""
    clear_pending(request)
    with transaction.atomic():
        # Django's login gives the session a new key (no fixation) and, through
        # the user_logged_in signal, registers it as a live session.
        login(request, user, backend=BACKEND)
        _attempt(
            request,
            username=user.username,
            user=user,
            success=True,
            reason=Reason.OK,
            now=timezone.now(),
        )
        record(actor=user, action=Action.LOGIN, obj=user)
    return Outcome(stage=Stage.DONE, redirect_to=next_url)


def sign_out(request: HttpRequest) -> None:
    user = request.user
    if user.is_authenticated:
        record(actor=user, action=Action.LOGOUT, obj=user)
    logout(request)


def end_current_session(request: HttpRequest, *, reason: str) -> None:
    """The session policy ends this request's session (idle too long, or ended elsewhere)."""
    user = request.user
    key = request.session.session_key
    with transaction.atomic():
        if reason == "timeout" and user.is_authenticated:
            record(
                actor=user,
                action=Action.SESSION_TIMEOUT,
                obj=user,
                detail={"idle_minutes": SecurityPolicy.current().session_idle_minutes},
            )
        if key:
            UserSession.objects.filter(session_key=key).delete()


def login_history(user: User, limit: int = 50) -> list[dict[str, Any]]:
    rows = LoginAttempt.objects.filter(user=user).order_by("-at", "-id")[:limit]
    return [
        {
            "at": r.at,
            "address": r.client_address,
            "browser": r.user_agent,
            "success": r.success,
            "result": reason_label(r.reason),
        }
        for r in rows
    ]
