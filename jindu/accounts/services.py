"""Writes to accounts, roles, scopes and the security policy.

Account life (create, disable, reset password) belongs to the system
administrator; roles, scopes, TOTP resets and the security policy to the
security administrator. Each function takes the acting user, runs in one
transaction and audits inside it.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.accounts import totp
from jindu.accounts.models import RoleGrant, SecurityPolicy, User, UserSession
from jindu.audit.actions import Action
from jindu.audit.services import record, record_change, snapshot
from jindu.core.roles import ADMIN_ROLES, Role

POLICY_FIELDS = (
    "password_min_length",
    "password_min_classes",
    "password_max_age_days",
    "lockout_threshold",
    "lockout_minutes",
    "session_idle_minutes",
    "totp_roles",
)

# Characters that survive being read aloud or copied from a screen: no 0/O, 1/l/I.
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_LOWER = "abcdefghijkmnopqrstuvwxyz"
_DIGITS = "23456789"
_SYMBOLS = "#%+=@^*-_"


def generate_password(user: User | None = None, length: int = 12) -> str:
    """A random password that satisfies the current rules, for an administrator to hand over."""
    policy = SecurityPolicy.current()
    length = max(length, policy.password_min_length)
    alphabet = _UPPER + _LOWER + _DIGITS + _SYMBOLS
    while True:
        chars = [secrets.choice(pool) for pool in (_UPPER, _LOWER, _DIGITS, _SYMBOLS)]
        chars += [secrets.choice(alphabet) for _i in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        candidate = "".join(chars)
        try:
            validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate


def _validate_new_password(password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def check_role_set(roles: set[str]) -> None:
    """Separation of duties: an administrator holds exactly one role, and no other."""
    unknown = roles - {r.value for r in Role}
    if unknown:
        raise ValidationError({"roles": [_("未知角色：%s") % "、".join(sorted(unknown))]})
    admin = roles & ADMIN_ROLES
    if len(admin) > 1:
        raise ValidationError({"roles": [_("一个账号不能同时担任两个管理员角色（三员分立）")]})
    if admin and len(roles) > 1:
        raise ValidationError({"roles": [_("管理员账号不能兼任业务角色（三员分立）")]})


def _last_active_holder(user: User, role: str) -> bool:
    """True if ``user`` is the only enabled account holding ``role``."""
    return not (
        RoleGrant.objects.filter(role=role, user__is_active=True).exclude(user=user).exists()
    )


def _within_actor_scope(actor: Any, org_unit: Any, department: Any) -> None:
    """A unit or department an administrator may not see cannot be handed out by them."""
    if not isinstance(actor, User):
        return
    errors: dict[str, list[str]] = {}
    if not org_unit.is_within(actor.scope_path):
        errors["org_unit"] = [_("所选单位不在您的管理范围内")]
    if department is not None and not department.org_path.startswith(actor.scope_path):
        errors["department"] = [_("所选成员单位不在您的管理范围内")]
    if errors:
        raise ValidationError(errors)


def username_taken(username: str, exclude_pk: int | None = None) -> bool:
    # Lower() on both sides, so that the comparison is the same on both databases
    # (SQLite's own case folding covers ASCII only).
    return (
        User.objects.annotate(lower_name=Lower("username"))
        .filter(lower_name=username.lower())
        .exclude(pk=exclude_pk)
        .exists()
    )


@transaction.atomic
def create_user(
    *,
    actor: Any,
    username: str,
    full_name: str,
    org_unit: Any,
    password: str,
    department: Any = None,
    roles: set[str] | None = None,
    must_change_password: bool = True,
) -> User:
    username = username.strip()
    if not username:
        raise ValidationError({"username": [_("请填写用户名")]})
    if username_taken(username):
        raise ValidationError({"username": [_("该用户名已被使用")]})
    if not full_name.strip():
        raise ValidationError({"full_name": [_("请填写姓名")]})
    _within_actor_scope(actor, org_unit, department)
    roles = set(roles or ())
    check_role_set(roles)
    user = User(
        username=username,
        full_name=full_name.strip(),
        org_unit=org_unit,
        department=department,
        must_change_password=must_change_password,
    )
    _validate_new_password(password, user, "password")
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save()
    for role in sorted(roles):
        RoleGrant.objects.create(user=user, role=role, granted_by=_user_or_none(actor))
    record_change(
        actor=actor,
        action=Action.ACCOUNT_CREATED,
        obj=user,
        after={
            "username": user.username,
            "org_unit_id": org_unit.pk,
            "department_id": department.pk if department else None,
            "roles": ",".join(sorted(roles)),
        },
    )
    return user


def _user_or_none(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


@transaction.atomic
def update_user(*, actor: Any, user: User, full_name: str) -> User:
    if not full_name.strip():
        raise ValidationError({"full_name": [_("请填写姓名")]})
    before = snapshot(user, ("full_name",))
    user.full_name = full_name.strip()
    user.save(update_fields=["full_name"])
    after = snapshot(user, ("full_name",))
    if after != before:
        record_change(
            actor=actor, action=Action.ACCOUNT_UPDATED, obj=user, before=before, after=after
        )
    return user


@transaction.atomic
def set_roles(*, actor: Any, user: User, roles: set[str]) -> User:
    roles = set(roles)
    check_role_set(roles)
    if isinstance(actor, User) and actor.pk == user.pk:
        raise ValidationError({"roles": [_("不能修改自己的角色")]})
    current = set(user.role_grants.values_list("role", flat=True))
    for role in sorted((current - roles) & ADMIN_ROLES):
        if user.is_active and _last_active_holder(user, role):
            raise ValidationError(
                {
                    "roles": [
                        _("%(user)s是唯一启用的%(role)s，撤销后将无人担任该职责")
                        % {"user": user.full_name, "role": Role(role).label}
                    ]
                }
            )
    for role in sorted(current - roles):
        RoleGrant.objects.filter(user=user, role=role).delete()
        record(actor=actor, action=Action.ROLE_REVOKED, obj=user, detail={"role": role})
    for role in sorted(roles - current):
        RoleGrant.objects.create(user=user, role=role, granted_by=_user_or_none(actor))
        record(actor=actor, action=Action.ROLE_GRANTED, obj=user, detail={"role": role})
    user.__dict__.pop("role_codes", None)
    if current != roles:
        # New rights take effect at the next sign-in, never inside a live session.
        end_sessions(actor=actor, user=user, reason="roles changed")
    return user


@transaction.atomic
def set_scope(*, actor: Any, user: User, org_unit: Any, department: Any = None) -> User:
    _within_actor_scope(actor, org_unit, department)
    before = {"org_unit_id": user.org_unit_id, "department_id": user.department_id}
    user.org_unit, user.department = org_unit, department
    user.save(update_fields=["org_unit", "department"])
    after = {"org_unit_id": user.org_unit_id, "department_id": user.department_id}
    if after != before:
        record_change(
            actor=actor, action=Action.SCOPE_CHANGED, obj=user, before=before, after=after
        )
        end_sessions(actor=actor, user=user, reason="scope changed")
    return user


@transaction.atomic
def set_active(*, actor: Any, user: User, active: bool) -> User:
    if isinstance(actor, User) and actor.pk == user.pk and not active:
        raise ValidationError({"is_active": [_("不能停用自己的账号")]})
    if user.is_active == active:
        return user
    if not active:
        for role in sorted(user.role_codes & ADMIN_ROLES):
            if _last_active_holder(user, role):
                raise ValidationError(
                    {
                        "is_active": [
                            _("%(user)s是唯一启用的%(role)s，不能停用")
                            % {"user": user.full_name, "role": Role(role).label}
                        ]
                    }
                )
    user.is_active = active
    user.save(update_fields=["is_active"])
    record(
        actor=actor, action=Action.ACCOUNT_ENABLED if active else Action.ACCOUNT_DISABLED, obj=user
    )
    if not active:
        end_sessions(actor=actor, user=user, reason="disabled")
    return user


@transaction.atomic
def reset_password(*, actor: Any, user: User, new_password: str) -> User:
    """An administrator's reset: the user must choose a new password at next sign-in."""
    _validate_new_password(new_password, user, "new_password")
    user.set_password(new_password)
    user.must_change_password = True
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    record(actor=actor, action=Action.PASSWORD_RESET, obj=user)
    end_sessions(actor=actor, user=user, reason="password reset")
    return user


@transaction.atomic
def change_own_password(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": [_("原密码不正确")]})
    if old_password == new_password:
        raise ValidationError({"new_password": [_("新密码不能与原密码相同")]})
    _validate_new_password(new_password, user, "new_password")
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    record(actor=user, action=Action.PASSWORD_CHANGED, obj=user)
    return user


@transaction.atomic
def start_totp_enrolment(*, user: User) -> str:
    """A fresh, not yet confirmed secret, replacing any earlier unconfirmed one.

    Fresh for every enrolment, so a secret seen on an abandoned screen is useless.
    An enrolled authenticator is never replaced this way: only a reset clears it.
    """
    if user.totp_enrolled:
        raise ValidationError(_("已绑定动态口令"))
    user.totp_secret = totp.new_secret()
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return user.totp_secret


@transaction.atomic
def confirm_totp_enrolment(*, user: User, code: str) -> bool:
    """The user proves their app holds the secret; from now on sign-in asks for a code."""
    fresh = User.objects.select_for_update().get(pk=user.pk)
    if fresh.totp_enrolled or not fresh.totp_secret:
        return False
    if not totp.consume(fresh, code):
        return False
    fresh.totp_confirmed_at = timezone.now()
    fresh.save(update_fields=["totp_confirmed_at"])
    user.totp_secret, user.totp_confirmed_at = fresh.totp_secret, fresh.totp_confirmed_at
    user.totp_last_counter = fresh.totp_last_counter
    record(actor=user, action=Action.TOTP_ENROLLED, obj=user)
    return True


@transaction.atomic
def reset_totp(*, actor: Any, user: User) -> User:
    """The security administrator clears a lost authenticator; the user enrols again."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_counter = 0
    user.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_counter"])
    record(actor=actor, action=Action.TOTP_RESET, obj=user)
    end_sessions(actor=actor, user=user, reason="totp reset")
    return user


POLICY_LIMITS = {
    # field: (minimum, maximum, message); 等保 asks for at least 8 characters and
    # a session timeout of at most 30 minutes.
    "password_min_length": (
        8,
        64,
        gettext_lazy("密码最小长度须在8到64位之间（等级保护要求至少8位）"),
    ),
    "password_min_classes": (1, 4, gettext_lazy("字符种类数须在1到4之间")),
    "password_max_age_days": (0, 3650, gettext_lazy("密码有效期须在0到3650天之间（0为不限）")),
    "lockout_threshold": (1, 10, gettext_lazy("锁定次数须在1到10之间")),
    "lockout_minutes": (1, 1440, gettext_lazy("锁定时长须在1到1440分钟之间")),
    "session_idle_minutes": (1, 30, gettext_lazy("空闲超时须在1到30分钟之间")),
}


@transaction.atomic
def update_policy(*, actor: Any, **changes: Any) -> SecurityPolicy:
    policy = SecurityPolicy.objects.select_for_update().get(pk=SecurityPolicy.current().pk)
    before = snapshot(policy, POLICY_FIELDS)
    errors: dict[str, list[str]] = {}
    for name, (low, high, message) in POLICY_LIMITS.items():
        if name in changes and not (
            isinstance(changes[name], int) and low <= changes[name] <= high
        ):
            errors[name] = [str(message)]
    if "totp_roles" in changes:
        unknown = set(changes["totp_roles"]) - {r.value for r in Role}
        if unknown:
            errors["totp_roles"] = [_("未知角色")]
    if errors:
        raise ValidationError(errors)
    for key, value in changes.items():
        if key in POLICY_FIELDS:
            # Administrators use TOTP whatever the list says; keep it to everyday roles.
            setattr(policy, key, sorted(set(value) - ADMIN_ROLES) if key == "totp_roles" else value)
    policy.save()
    after = snapshot(policy, POLICY_FIELDS)
    if after != before:
        record_change(
            actor=actor,
            action=Action.SECURITY_POLICY_CHANGED,
            obj=policy,
            before=before,
            after=after,
        )
    return policy


def end_sessions(
    *,
    actor: Any,
    user: User | None = None,
    session_key: str | None = None,
    except_key: str | None = None,
    reason: str = "",
) -> int:
    """End live sessions now: the session row goes, so the cookie is worthless."""
    qs = UserSession.objects.all()
    if user is not None:
        qs = qs.filter(user=user)
    if session_key is not None:
        qs = qs.filter(session_key=session_key)
    if except_key is not None:
        qs = qs.exclude(session_key=except_key)
    keys = list(qs.values_list("session_key", flat=True))
    if not keys:
        return 0
    with transaction.atomic():
        Session.objects.filter(session_key__in=keys).delete()
        count, _deleted = UserSession.objects.filter(session_key__in=keys).delete()
        record(
            actor=actor,
            action=Action.SESSION_TERMINATED,
            obj=user,
            object_type="" if user else "session",
            detail={"sessions": count, "reason": reason},
        )
    return count
