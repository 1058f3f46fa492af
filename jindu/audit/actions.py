"""Every audit action code, with its Chinese label. One enum, used everywhere."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    # Sign-in and sessions
    LOGIN = "auth.login", _("登录")
    LOGOUT = "auth.logout", _("退出登录")
    LOGIN_FAILED = "auth.login_failed", _("登录失败")
    LOCKOUT = "auth.lockout", _("账号锁定")
    TOTP_FAILED = "auth.totp_failed", _("动态口令错误")
    TOTP_ENROLLED = "auth.totp_enrolled", _("绑定动态口令")
    TOTP_RESET = "auth.totp_reset", _("重置动态口令")
    PASSWORD_CHANGED = "auth.password_changed", _("修改密码")
    PASSWORD_RESET = "auth.password_reset", _("管理员重置密码")
    SESSION_TIMEOUT = "auth.session_timeout", _("会话超时")
    SESSION_TERMINATED = "auth.session_terminated", _("强制下线")
    PERMISSION_DENIED = "auth.permission_denied", _("越权访问被拒绝")
    OUT_OF_SCOPE = "auth.out_of_scope", _("访问辖区外数据被拒绝")
    # Accounts, roles, scopes, security settings
    ACCOUNT_CREATED = "account.created", _("创建账号")
    ACCOUNT_UPDATED = "account.updated", _("修改账号")
    ACCOUNT_DISABLED = "account.disabled", _("停用账号")
    ACCOUNT_ENABLED = "account.enabled", _("启用账号")
    ROLE_GRANTED = "account.role_granted", _("授予角色")
    ROLE_REVOKED = "account.role_revoked", _("撤销角色")
    SCOPE_CHANGED = "account.scope_changed", _("变更数据范围")
    SECURITY_POLICY_CHANGED = "security.policy_changed", _("修改安全策略")
    # Business records
    RECORD_CREATED = "record.created", _("新增记录")
    RECORD_UPDATED = "record.updated", _("修改记录")
    RECORD_DELETED = "record.deleted", _("删除记录")
    UNIT_MOVED = "record.unit_moved", _("调整单位隶属")
    IMPORTED = "record.imported", _("批量导入")
    EXPORTED = "record.exported", _("导出数据")
    PERSONAL_VIEWED = "personal.viewed", _("查看个人信息")
    PERSONAL_REVEALED = "personal.revealed", _("查看完整个人信息")
    # The audit log and the system itself
    AUDIT_SEARCHED = "audit.searched", _("查询审计日志")
    AUDIT_EXPORTED = "audit.exported", _("导出审计日志")
    AUDIT_VERIFIED = "audit.verified", _("校验审计日志")
    AUDIT_PURGED = "audit.purged", _("清理过期审计日志")
    BACKUP_MADE = "system.backup", _("数据备份")
    RESTORED = "system.restore", _("数据恢复")
    CODES_LOADED = "system.codes_loaded", _("加载字典默认值")


class Result(models.TextChoices):
    SUCCESS = "success", _("成功")
    FAILURE = "failure", _("失败")
    DENIED = "denied", _("拒绝")
