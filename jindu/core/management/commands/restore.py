"""``jindu restore FILE [--yes]``: bring a backup back, then check what came back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jindu.audit.services import CLI_ADDRESS, cli_username
from jindu.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "从备份文件恢复数据库，随后检查数据库完整性、审计日志哈希链和各表行数。请先停止应用服务。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("jindu backup 生成的备份文件"))
        parser.add_argument(
            "--yes", action="store_true", help=_("目标数据库已有数据时，确认用备份覆盖")
        )

    def handle(self, *args: Any, file: str, yes: bool, **options: Any) -> None:
        try:
            report = restore_backup(
                Path(file), force=yes, username=cli_username(), client_address=CLI_ADDRESS
            )
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                _("恢复后的检查未全部通过，请勿投入使用，并联系系统管理员"), returncode=1
            )
        self.stdout.write(_("恢复完成，检查全部通过；本次恢复已记入审计日志"))
