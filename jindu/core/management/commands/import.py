"""``jindu import <sheet> FILE``: load an Excel sheet from the console.

Each kind of sheet is an import spec registered with
``jindu.core.excel_import.register_import`` (``units``, ``departments`` …), so a
new kind appears here as a further subcommand without changing this file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jindu.core import jobs
from jindu.core.excel_import import (
    IMPORTS,
    ImportFileError,
    ImportWriteError,
    commit,
    validate,
)


class Command(BaseCommand):
    help = "从Excel表格导入（jindu import <类型> 文件）"

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(
            dest="sheet", required=True, metavar="{" + ",".join(IMPORTS) + "}"
        )
        for key, spec in sorted(IMPORTS.items()):
            sub = subparsers.add_parser(key, help=str(spec.title), description=str(spec.help))
            sub.add_argument("file", help="Excel文件（.xlsx 或 .xls）")
            sub.add_argument("--dry-run", action="store_true", help="只检查，不写入")
            sub.add_argument("--json", action="store_true", help="以JSON输出结果")
            sub.add_argument("--user", help="以此用户的身份和管辖范围导入（默认：系统）")
            if spec.allow_partial:
                sub.add_argument(
                    "--all-or-nothing",
                    action="store_true",
                    help="有任何一行有误就不导入（默认只导入无误的行）",
                )
            spec.add_arguments(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        spec_class = IMPORTS[options["sheet"]]
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}", returncode=2)
        actor = None
        if options.get("user"):
            from jindu.accounts.models import User

            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"用户“{options['user']}”不存在或已停用", returncode=2)
        spec = spec_class.from_cli(actor=actor, options=options)
        try:
            preview = validate(
                spec, path.read_bytes(), filename=path.name, for_write=not options["dry_run"]
            )
        except ImportFileError as exc:
            if options["json"]:
                self.stdout.write(
                    json.dumps({"file": path.name, "error": str(exc)}, ensure_ascii=False)
                )
            raise CommandError(str(exc), returncode=2) from exc
        summary = preview.summary()
        partial = spec_class.allow_partial and not options.get("all_or_nothing")
        report: dict[str, Any] = {
            **{
                k: summary[k]
                for k in ("spec", "file", "sheet", "header_row", "rows_read", "valid", "invalid")
            },
            "dry_run": options["dry_run"],
            "mode": "valid_rows_only" if partial else "all_or_nothing",
            "errors": summary["errors"],
        }
        if options["dry_run"]:
            report.update(
                written=False,
                created=summary["would_create"],
                updated=summary["would_update"],
                unchanged=summary["unchanged"],
            )
        else:
            try:
                # Any background job the write queues (counting a register's people into
                # the tallies) runs here, right after the commit, before the command ends.
                with jobs.inline():
                    result = commit(preview, partial=partial)
            except ImportWriteError as exc:
                raise CommandError(str(exc), returncode=1) from exc
            report.update(result.as_dict())
        self._print(report, as_json=options["json"])
        if not options["dry_run"] and not report["written"]:
            raise CommandError(f"有 {report['invalid']} 行有误，未导入任何数据", returncode=1)

    def _print(self, report: dict[str, Any], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"{report['file']}（工作表“{report['sheet']}”，表头第 {report['header_row']} 行）："
            f"读取 {report['rows_read']} 行，无误 {report['valid']} 行，有误 {report['invalid']} 行"
        )
        for error in report["errors"]:
            column = f" [{error['column']}]" if error["column"] else ""
            self.stdout.write(f"  第 {error['row']} 行{column}：{error['message']}")
        verb = "将" if report["dry_run"] else ""
        if report["dry_run"] and report["invalid"] and report["mode"] == "all_or_nothing":
            self.stdout.write("检查完成，未写入。表中有误，须全部改正后才能导入。")
        elif report["dry_run"] or report.get("written"):
            self.stdout.write(
                f"{'检查完成，未写入。' if report['dry_run'] else '已导入：'}"
                f"{verb}新增 {report['created']}，{verb}更新 {report['updated']}，"
                f"无变化 {report['unchanged']}"
            )
