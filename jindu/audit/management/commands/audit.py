"""``jindu audit verify | purge | export``: the audit log from the command line.

Every run is itself audited, attributed to the operating-system user with the
client address ``cli``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from jindu.audit import services
from jindu.audit.actions import Action, Result


class Command(BaseCommand):
    help = "审计日志：校验哈希链（verify）、清理过期记录（purge）、导出为 Excel（export）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="verify|purge|export")
        sub.add_parser("verify", help=_("校验哈希链；未通过时退出码为 1，并指出第一条有问题的记录"))
        purge = sub.add_parser("purge", help=_("清理超过保存期限的最早记录（至少保留 180 天）"))
        purge.add_argument(
            "--days",
            type=int,
            default=None,
            help=_("清理多少天以前的记录（不少于 180，默认按配置的保存期限）"),
        )
        export = sub.add_parser("export", help=_("把审计日志导出为 Excel 文件"))
        export.add_argument("file", help=_("要写入的 .xlsx 文件"))
        export.add_argument("--from", dest="start", default="", help=_("起始日期，如 2026-01-01"))
        export.add_argument(
            "--to", dest="end", default="", help=_("截止日期（含当天），如 2026-06-30")
        )

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        getattr(self, f"handle_{subcommand}")(**options)

    def handle_verify(self, **options: Any) -> None:
        try:
            result = services.verify()
        except DatabaseError as exc:
            raise CommandError(
                _("无法读取审计日志（数据库尚未初始化？请先运行 jindu migrate）：%(error)s")
                % {"error": exc},
                returncode=2,
            ) from exc
        try:
            with transaction.atomic():
                services.record_cli(
                    action=Action.AUDIT_VERIFIED,
                    result=Result.SUCCESS if result.ok else Result.FAILURE,
                    detail=result.as_detail(),
                )
        except DatabaseError as exc:
            # A damaged log may refuse the new row (a forged row holding the next
            # number); the verdict matters more than its record.
            self.stderr.write(_("本次校验未能记入审计日志：%(error)s") % {"error": exc})
        if not result.ok:
            raise CommandError(result.message(), returncode=1)
        self.stdout.write(result.message())
        self.stdout.write(
            _("链尾：第 %(seq)s 条，摘要 %(hash)s")
            % {"seq": result.head_seq, "hash": result.head_hash}
        )

    def handle_purge(self, *, days: int | None, **options: Any) -> None:
        try:
            count = services.purge(
                actor=None,
                older_than_days=days,
                username=services.cli_username(),
                client_address=services.CLI_ADDRESS,
            )
        except services.PurgeRefused as exc:
            raise CommandError(str(exc), returncode=1) from exc
        if count:
            self.stdout.write(
                _("已清理 %(count)s 条过期审计记录，清理已记入审计日志") % {"count": count}
            )
        else:
            self.stdout.write(_("没有可清理的过期审计记录"))

    def handle_export(self, *, file: str, start: str, end: str, **options: Any) -> None:
        from jindu.audit.exports import ExportTooLarge, export_events
        from jindu.audit.forms import parse_bound
        from jindu.audit.models import AuditEvent

        queryset = AuditEvent.objects.all()
        filters = {}
        for name, raw, is_end in (("start", start, False), ("end", end, True)):
            if not raw:
                continue
            bound = parse_bound(raw, end=is_end)
            if bound is None:
                raise CommandError(
                    _("日期“%(raw)s”格式不正确，请按 2026-06-30 填写") % {"raw": raw}, returncode=2
                )
            queryset = queryset.filter(**{"at__lt" if is_end else "at__gte": bound})
            filters[name] = raw
        target = Path(file)
        if not target.parent.is_dir():
            raise CommandError(_("目录 %(dir)s 不存在") % {"dir": target.parent}, returncode=2)
        try:
            content, count = export_events(
                queryset=queryset,
                filters=filters,
                actor=None,
                username=services.cli_username(),
                client_address=services.CLI_ADDRESS,
            )
        except ExportTooLarge as exc:
            raise CommandError(str(exc), returncode=1) from exc
        target.write_bytes(content)
        self.stdout.write(
            _("已导出 %(count)s 条审计记录到 %(file)s") % {"count": count, "file": target}
        )
