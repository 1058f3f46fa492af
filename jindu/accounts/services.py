"""Writes to accounts, roles, scopes and the security policy.

Account life (create, disable, reset password) belongs to the system
administrator; roles, scopes and the security policy to the security
administrator. Each function takes the acting user, runs in one transaction and
audits inside it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jindu.accounts.models import RoleGrant, SecurityPolicy, User, UserSession
from jindu.audit.actions import Action
from jindu.audit.services import record, record_change, snapshot
from jindu.core.roles import ADMIN_ROLES, Role

POLICY_FIELDS = (
    "password_min_length", "password_min_classes", "password_max_age_days",
    "lockout_threshold", "lockout_minutes", "session_idle_minutes", "totp_roles",
)


def check_role_set(roles: set[str]) -> None:
    """Separation of duties: an administrator holds exactly one role, and no other."""
    unknown = roles - {r.value for r in Role}
    if unknown:
        raise ValidationError({"roles": [f"未知角色：{'、'.join(sorted(unknown))}"]})
    admin = roles & ADMIN_ROLES
    if len(admin) > 1:
        raise ValidationError({"roles": ["一个账号不能同时担任两个管理员角色（三员分立）"]})
    if admin and len(roles) > 1:
        raise ValidationError({"roles": ["管理员账号不能兼任业务角色（三员分立）"]})


@transaction.atomic
def create_user(*, actor: Any, username: str, full_name: str, org_unit: Any,
                password: str, department: Any = None, roles: set[str] | None = None,
                must_change_password: bool = True) -> User:
    username = username.strip()
    if not username:
        raise ValidationError({"username": ["请填写用户名"]})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": ["该用户名已被使用"]})
    roles = set(roles or ())
    check_role_set(roles)
    user = User(username=username, full_name=full_name.strip(), org_unit=org_unit,
                department=department, must_change_password=must_change_password)
    validate_password(password, user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save()
    for role in sorted(roles):
        RoleGrant.objects.create(user=user, role=role, granted_by=_user_or_none(actor))
    record_change(
        actor=actor, action=Action.ACCOUNT_CREATED, obj=user,
        after={"username": user.username, "org_unit_id": org_unit.pk,
               "department_id": department.pk if department else None,
               "roles": ",".join(sorted(roles))},
    )
    return user


def _user_or_none(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


@transaction.atomic
def update_user(*, actor: Any, user: User, full_name: str) -> User:
    before = snapshot(user, ("full_name",))
    user.full_name = full_name.strip()
    user.save(update_fields=["full_name"])
    record_change(actor=actor, action=Action.ACCOUNT_UPDATED, obj=user, before=before,
                  after=snapshot(user, ("full_name",)))
    return user


@transaction.atomic
def set_roles(*, actor: Any, user: User, roles: set[str]) -> User:
    check_role_set(roles)
    if isinstance(actor, User) and actor.pk == user.pk:
        raise ValidationError({"roles": ["不能修改自己的角色"]})
    current = set(user.role_grants.values_list("role", flat=True))
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
    before = {"org_unit_id": user.org_unit_id, "department_id": user.department_id}
    user.org_unit, user.department = org_unit, department
    user.save(update_fields=["org_unit", "department"])
    after = {"org_unit_id": user.org_unit_id, "department_id": user.department_id}
    if after != before:
        record(actor=actor, action=Action.SCOPE_CHANGED, obj=user,
               detail={"before": before, "after": after})
        end_sessions(actor=actor, user=user, reason="scope changed")
    return user


@transaction.atomic
def set_active(*, actor: Any, user: User, active: bool) -> User:
    if isinstance(actor, User) and actor.pk == user.pk and not active:
        raise ValidationError({"is_active": ["不能停用自己的账号"]})
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    record(actor=actor, action=Action.ACCOUNT_ENABLED if active else Action.ACCOUNT_DISABLED,
           obj=user)
    if not active:
        end_sessions(actor=actor, user=user, reason="disabled")
    return user


@transaction.atomic
def reset_password(*, actor: Any, user: User, new_password: str) -> User:
    """An administrator's reset: the user must choose a new password at next sign-in."""
    validate_password(new_password, user)
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
        raise ValidationError({"old_password": ["原密码不正确"]})
    if old_password == new_password:
        raise ValidationError({"new_password": ["新密码不能与原密码相同"]})
    validate_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    record(actor=user, action=Action.PASSWORD_CHANGED, obj=user)
    return user


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


@transaction.atomic
def update_policy(*, actor: Any, **changes: Any) -> SecurityPolicy:
    policy = SecurityPolicy.objects.select_for_update().get(pk=SecurityPolicy.current().pk)
    before = snapshot(policy, POLICY_FIELDS)
    errors: dict[str, list[str]] = {}
    if changes.get("password_min_length", 8) < 8:
        errors["password_min_length"] = ["密码最小长度不得少于8位（等级保护要求）"]
    if not 1 <= changes.get("password_min_classes", 3) <= 4:
        errors["password_min_classes"] = ["字符种类数须在1到4之间"]
    if not 1 <= changes.get("lockout_threshold", 5) <= 10:
        errors["lockout_threshold"] = ["锁定次数须在1到10之间"]
    if not 1 <= changes.get("session_idle_minutes", 30) <= 30:
        errors["session_idle_minutes"] = ["空闲超时须在1到30分钟之间"]
    if changes.get("lockout_minutes", 15) < 1:
        errors["lockout_minutes"] = ["锁定时长至少1分钟"]
    if "totp_roles" in changes:
        unknown = set(changes["totp_roles"]) - {r.value for r in Role}
        if unknown:
            errors["totp_roles"] = ["未知角色"]
    if errors:
        raise ValidationError(errors)
    for key, value in changes.items():
        if key in POLICY_FIELDS:
            setattr(policy, key, sorted(value) if key == "totp_roles" else value)
    policy.save()
    after = snapshot(policy, POLICY_FIELDS)
    if after != before:
        record_change(actor=actor, action=Action.SECURITY_POLICY_CHANGED, obj=policy,
                      before=before, after=after)
    return policy


def end_sessions(*, actor: Any, user: User | None = None, session_key: str | None = None,
                 reason: str = "") -> int:
    """End live sessions now: the session row goes, so the cookie is worthless."""
    qs = UserSession.objects.all()
    if user is not None:
        qs = qs.filter(user=user)
    if session_key is not None:
        qs = qs.filter(session_key=session_key)
    keys = list(qs.values_list("session_key", flat=True))
    if not keys:
        return 0
    Session.objects.filter(session_key__in=keys).delete()
    count, _ = UserSession.objects.filter(session_key__in=keys).delete()
    record(actor=actor, action=Action.SESSION_TERMINATED,
           obj=user, object_type="" if user else "session",
           detail={"sessions": count, "reason": reason})
    return count
