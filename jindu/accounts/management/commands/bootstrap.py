"""``jindu bootstrap``: the first step of a fresh production install.

Creates the root unit (when there is none) and the three separated
administrators with random passwords, printed once. Each must change the
password and bind an authenticator at first sign-in. Refuses to run again once
any administrator exists, so it can never become a back door.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from jindu.accounts import services
from jindu.accounts.models import RoleGrant, User
from jindu.core.roles import ADMIN_ROLES, Role
from jindu.orgs import services as orgs
from jindu.orgs.models import OrgUnit

ROOT_LEVELS = ("county", "city", "province")
ADMINS = (
    (Role.SYS_ADMIN, "sysadmin", "系统管理员"),
    (Role.SEC_ADMIN, "secadmin", "安全管理员"),
    (Role.AUDIT_ADMIN, "auditadmin", "审计管理员"),
)


class Command(BaseCommand):
    help = "初始化新部署：创建根单位和三个管理员账号（系统、安全、审计），随机密码只显示一次。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", help="根单位名称，如“某某县”（尚无单位时必填）")
        parser.add_argument(
            "--level",
            choices=ROOT_LEVELS,
            default="county",
            help="根单位层级：county、city 或 province（默认 county）",
        )
        parser.add_argument(
            "--division-code", default="", help="根单位的12位统计用区划代码（可选）"
        )
        for role, default, _label in ADMINS:
            parser.add_argument(
                f"--{role.value.replace('_', '-')}-username",
                default=default,
                help=f"{role.label}的用户名（默认 {default}）",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        if RoleGrant.objects.filter(role__in=ADMIN_ROLES).exists():
            raise CommandError(
                "已存在管理员账号，拒绝重复初始化。如需找回管理员账号，请由其余管理员处理。"
            )
        try:
            with transaction.atomic():
                root, created_root = self._root(options)
                accounts = self._admins(root, options)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc

        out = self.stdout
        if created_root:
            out.write(f"已创建根单位：{root.name}（{root.get_level_display()}）")
        else:
            out.write(f"使用已有根单位：{root.name}")
        out.write(
            "管理员账号（密码只显示这一次，请立即交给各管理员本人；"
            "首次登录时须修改密码并绑定动态口令）："
        )
        out.write("角色\t用户名\t初始密码\t单位")
        for role, user, password in accounts:
            out.write(f"{role.label}\t{user.username}\t{password}\t{root.name}")

    def _root(self, options: dict[str, Any]) -> tuple[OrgUnit, bool]:
        roots = list(OrgUnit.objects.filter(parent__isnull=True).order_by("pk")[:2])
        if len(roots) > 1:
            raise CommandError("存在多个根单位，无法确定管理员所属单位")
        if roots:
            return roots[0], False
        name = (options.get("name") or "").strip()
        if not name:
            raise CommandError(
                "尚无任何单位：请用 --name 指定根单位名称（及 --level、--division-code）"
            )
        unit = orgs.create_unit(
            actor=None,
            name=name,
            level=options["level"],
            parent=None,
            division_code=options.get("division_code") or None,
        )
        return unit, True

    def _admins(self, root: OrgUnit, options: dict[str, Any]) -> list[tuple[Role, User, str]]:
        result = []
        for role, _default, label in ADMINS:
            username = options[f"{role.value}_username"].strip()
            password = services.generate_password(User(username=username))
            user = services.create_user(
                actor=None,
                username=username,
                full_name=label,
                org_unit=root,
                password=password,
                roles={role.value},
                must_change_password=True,
            )
            result.append((role, user, password))
        return result
