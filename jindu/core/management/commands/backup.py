"""``jindu backup FILE``: a consistent copy of the live database, while it serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jindu.audit.services import CLI_ADDRESS, cli_username
from jindu.core.backup import BackupError, make_backup


class Command(BaseCommand):
    help = "在线备份数据库到一个文件（含备份清单与校验和），备份本身记入审计日志"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("要写入的备份文件，如 /backup/jindu-20260626.tar"))

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            manifest = make_backup(Path(file), username=cli_username(), client_address=CLI_ADDRESS)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        self.stdout.write(
            _(
                "备份完成：%(file)s\n  %(vendor)s 数据库，%(tables)s 张表，%(rows)s 行；"
                "审计链尾第 %(seq)s 条\n  SHA-256 %(sha)s"
            )
            % {
                "file": file,
                "vendor": manifest.vendor,
                "tables": len(manifest.tables),
                "rows": manifest.total_rows,
                "seq": manifest.audit_head_seq,
                "sha": manifest.dump_sha256,
            }
        )
