"""``jindu tallies verify|settle|rebuild``: check the indicator tallies against the records,
count what bulk loads left pending, or count everything again."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from jindu.core import tallies


class Command(BaseCommand):
    help = "核对或重建指标计数（县级及以上单位的统计数据）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action",
            choices=("verify", "settle", "rebuild"),
            help="verify 核对；settle 计入批量导入后待计数的记录；rebuild 重建",
        )
        parser.add_argument(
            "--source", choices=sorted(tallies.SOURCES) or None, help="只处理此来源"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["source"]
        started = time.perf_counter()
        if options["action"] == "settle":
            counted = tallies.settle()
            seconds = time.perf_counter() - started
            self.stdout.write(f"已计入待计数记录 {counted:,} 条（{seconds:.1f} 秒）")
            return
        if options["action"] == "verify":
            differences = tallies.verify(source)
            for d in differences[:50]:
                self.stdout.write(
                    f"  {d.key} {d.org_path} {d.day:%Y-%m-%d}: 应为 {d.expected}，实为 {d.found}"
                )
            seconds = time.perf_counter() - started
            if differences:
                raise CommandError(
                    f"指标计数与业务记录不符：{len(differences)} 处（{seconds:.1f} 秒）"
                )
            self.stdout.write(f"指标计数与业务记录一致（{seconds:.1f} 秒）")
            return

        def progress(done: int, total: int) -> None:
            sys.stderr.write(f"\r  已计数 {done:,}/{total:,}")
            sys.stderr.flush()

        with transaction.atomic():
            counted = tallies.rebuild(source, progress=progress)
        sys.stderr.write("\n")
        seconds = time.perf_counter() - started
        parts = "，".join(f"{name} {n:,} 条" for name, n in counted.items())
        self.stdout.write(f"指标计数已重建：{parts}（{seconds:.1f} 秒）")
