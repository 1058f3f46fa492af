"""Accounts, their roles and scope, the security policy, sign-in records and live sessions."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from jindu.core.fields import EncryptedTextField
from jindu.core.roles import ADMIN_ROLES, ROLE_CHOICES, Perm, Role, has_perm


class UserQuerySet(models.QuerySet):
    def for_user(self, admin: Any) -> UserQuerySet:
        """Accounts whose unit lies in the acting user's subtree; nothing for anyone else."""
        if admin is None or not getattr(admin, "is_authenticated", False) or not admin.is_active:
            return self.none()
        if not admin.scope_path:
            return self.none()
        return self.filter(org_unit__path__subtree=admin.scope_path)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    def get_by_natural_key(self, username: str) -> User:
        return self.get(username=username)


class User(AbstractBaseUser):
    """A person who signs in. Never a Django superuser: rights come from roles only."""

    username = models.CharField("用户名", max_length=150, unique=True)
    full_name = models.CharField("姓名", max_length=50)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, related_name="users", verbose_name="所属单位"
    )
    department = models.ForeignKey(
        "orgs.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="成员单位",
    )
    is_active = models.BooleanField("启用", default=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=True)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    totp_secret = EncryptedTextField("动态口令密钥")
    totp_confirmed_at = models.DateTimeField("动态口令绑定时间", null=True, blank=True)
    totp_last_counter = models.BigIntegerField("最近使用的口令时段", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["username"]
        verbose_name = "用户"

    def __str__(self) -> str:
        return f"{self.full_name}（{self.username}）"

    def audit_label(self) -> str:
        return self.username

    # Django's auth and admin expect these; nobody here is staff or superuser.
    is_staff = False
    is_superuser = False

    @cached_property
    def role_codes(self) -> frozenset[str]:
        return frozenset(self.role_grants.values_list("role", flat=True))

    def roles(self) -> list[Role]:
        return sorted((Role(code) for code in self.role_codes), key=list(Role).index)

    def role_labels(self) -> str:
        return "、".join(role.label for role in self.roles())

    @property
    def is_administrator(self) -> bool:
        return bool(self.role_codes & ADMIN_ROLES)

    def has_jindu_perm(self, perm: Perm) -> bool:
        return self.is_active and has_perm(self.role_codes, perm)

    @property
    def scope_path(self) -> str:
        return self.org_unit.path if self.org_unit_id else ""

    @property
    def scoped_to_department(self) -> bool:
        """A department reporter sees only their department's records."""
        if not self.department_id:
            return False
        codes = self.role_codes
        return Role.DEPT_REPORTER in codes and not codes & {
            Role.COUNTY_OFFICE,
            Role.TOWNSHIP_MANAGER,
            Role.GRID_WORKER,
            Role.POLICE,
        }

    def totp_required(self, policy: SecurityPolicy | None = None) -> bool:
        if self.is_administrator:
            return True
        policy = policy or SecurityPolicy.current()
        return bool(self.role_codes & set(policy.totp_roles))

    @property
    def totp_enrolled(self) -> bool:
        return bool(self.totp_secret) and self.totp_confirmed_at is not None

    def password_expired(self, policy: SecurityPolicy | None = None) -> bool:
        policy = policy or SecurityPolicy.current()
        if not policy.password_max_age_days or self.password_changed_at is None:
            return False
        age = timezone.now() - self.password_changed_at
        return age > timedelta(days=policy.password_max_age_days)

    def needs_password_change(self) -> bool:
        return self.must_change_password or self.password_expired()

    # Django's permission API, answered by roles.
    def has_perm(self, perm: str, obj: object = None) -> bool:  # pragma: no cover - unused
        return False

    def has_module_perms(self, app_label: str) -> bool:  # pragma: no cover - unused
        return False


class RoleGrant(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField("角色", max_length=20, choices=ROLE_CHOICES)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    granted_at = models.DateTimeField("授予时间", auto_now_add=True)

    class Meta:
        verbose_name = "角色授予"
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="rolegrant_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.role}"


class SecurityPolicy(models.Model):
    """The security policy, one row, kept by the security administrator.

    Created from the environment's defaults (``JINDU_LOCKOUT_THRESHOLD`` …) the
    first time it is read; every change is audited.
    """

    password_min_length = models.PositiveSmallIntegerField("密码最小长度", default=8)
    password_min_classes = models.PositiveSmallIntegerField("密码须含字符种类数", default=3)
    password_max_age_days = models.PositiveIntegerField("密码有效期（天，0为不限）", default=0)
    lockout_threshold = models.PositiveSmallIntegerField("连续失败锁定次数", default=5)
    lockout_minutes = models.PositiveIntegerField("锁定时长（分钟）", default=15)
    session_idle_minutes = models.PositiveIntegerField("空闲超时（分钟）", default=30)
    totp_roles = models.JSONField("须使用动态口令的角色", default=list, blank=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "安全策略"

    def __str__(self) -> str:
        return "安全策略"

    def audit_label(self) -> str:
        return "安全策略"

    @classmethod
    def current(cls) -> SecurityPolicy:
        policy = cls.objects.filter(pk=1).first()
        if policy is None:
            from django.conf import settings

            policy, _created = cls.objects.get_or_create(
                pk=1,
                defaults={
                    "password_min_length": settings.PASSWORD_MIN_LENGTH,
                    "password_min_classes": settings.PASSWORD_MIN_CLASSES,
                    "password_max_age_days": settings.PASSWORD_MAX_AGE_DAYS,
                    "lockout_threshold": settings.LOCKOUT_THRESHOLD,
                    "lockout_minutes": settings.LOCKOUT_MINUTES,
                    "session_idle_minutes": settings.SESSION_IDLE_MINUTES,
                    "totp_roles": [r.value for r in Role] if settings.TOTP_FOR_ALL else [],
                },
            )
        return policy


class LoginAttempt(models.Model):
    """Every sign-in attempt: the lockout counter and each user's own login history."""

    username = models.CharField("用户名", max_length=150, db_index=True)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    client_address = models.CharField("地址", max_length=64, db_index=True)
    user_agent = models.CharField("浏览器", max_length=200, blank=True)
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    success = models.BooleanField("成功")
    reason = models.CharField("说明", max_length=40, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "登录记录"

    def __str__(self) -> str:
        return f"{self.username}@{self.client_address} {self.at:%Y-%m-%d %H:%M:%S}"


class Lockout(models.Model):
    class Kind(models.TextChoices):
        USERNAME = "username", "用户名"
        ADDRESS = "address", "地址"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=150)
    locked_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "until"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


class UserSession(models.Model):
    """A live signed-in session, so it can be listed and ended."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="live_sessions")
    client_address = models.CharField("地址", max_length=64)
    user_agent = models.CharField("浏览器", max_length=200, blank=True)
    started_at = models.DateTimeField("登录时间", default=timezone.now)
    last_seen_at = models.DateTimeField("最近活动", default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = "在线会话"

    def __str__(self) -> str:
        return f"{self.user_id}@{self.client_address}"
