"""``jindu seed --persons N``: a large synthetic register for benchmarks.

Writes only into a database that is empty or marked as demo/benchmark data
(``jindu.demo``'s marker), unless ``--force``. Without ``--county-code`` it
builds a synthetic province sized for the people asked for; with it, people go
into that county's villages and grids. Progress and rows per second go to stderr.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from jindu.people import bulk, seed


class Command(BaseCommand):
    help = "生成大规模合成人员库（仅用于性能测试）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, required=True, help="人员数")
        parser.add_argument(
            "--events", type=int, default=None, help="尿检、走访、外出记录总数（默认人员数×20）"
        )
        parser.add_argument(
            "--county-code", default="", help="写入已有的县（区）（统计用区划代码）；默认新建合成省"
        )
        parser.add_argument("--province-code", default="63", help="合成省的2位代码（默认 63）")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
        parser.add_argument("--batch", type=int, default=5000, help="每批人员数（默认 5000）")
        parser.add_argument(
            "--force", action="store_true", help="数据库没有演示/测试标记也写入（慎用）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from jindu.demo import builder

        persons = options["persons"]
        if persons < 1:
            raise CommandError("--persons 须为正整数")
        events = options["events"] if options["events"] is not None else persons * 20
        log = self.stderr
        state = builder.database_state()
        if state.has_data and state.marker is None and not options["force"]:
            raise CommandError(
                "该数据库已有数据且没有演示/测试数据标记，拒绝写入合成数据。"
                f"数据库：{builder.database_label()}。确为测试库请加 --force。"
            )
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0, stdout=log, stderr=log)
        undo = bulk.pragma_fast_sqlite()
        try:
            counts, units = self._seed(options, persons, events, log)
        finally:
            undo()
        if state.marker is None:
            from jindu.demo.models import DemoMarker

            if not DemoMarker.objects.exists():
                DemoMarker.objects.create(
                    seed=options["seed"], townships=0, villages=units, steps=["seed"]
                )
        elapsed = time.perf_counter() - started
        rows = counts.persons + counts.measures + counts.events + counts.team
        log.write(
            f"完成：{counts.persons:,} 人，{counts.measures:,} 条措施，{counts.tests:,} 次检测，"
            f"{counts.visits:,} 次走访，{counts.absences:,} 条外出，{counts.team:,} 名帮教成员，"
            f"{counts.transfers:,} 次移交；用时 {elapsed:.1f} 秒（{rows / elapsed:,.0f} 行/秒）\n"
        )

    def _seed(
        self, options: dict[str, Any], persons: int, events: int, log: Any
    ) -> tuple[seed.Counts, int]:
        import random

        from jindu.audit.actions import Action
        from jindu.audit.services import record
        from jindu.orgs.division import expand_code
        from jindu.orgs.models import OrgUnit
        from jindu.people.models import Person

        today = timezone.localdate()
        code = options["county_code"]
        if code:
            county = OrgUnit.objects.filter(division_code=expand_code(code.strip())).first()
            if county is None:
                raise CommandError(f"找不到区划代码为 {code} 的单位")
            places = seed.places_in(county.path)
            if not places:
                raise CommandError(f"“{county.name}”下没有村（社区）或网格")
            root = county
        else:
            province = options["province_code"]
            if OrgUnit.objects.filter(division_code=f"{province}0000000000").exists():
                raise CommandError(f"已有代码为 {province} 的省，请用 --province-code 另选一个")
            log.write("生成合成省的区划…\n")
            started = time.perf_counter()
            with transaction.atomic():
                writer = bulk.BulkWriter()
                root, places = seed.build_province(
                    writer, persons=persons, rng=random.Random(options["seed"]), code=province
                )
                record(
                    actor=None,
                    action=Action.IMPORTED,
                    object_type="orgs.orgunit",
                    object_repr=root.name,
                    detail={"source": "seed", "units": writer.rows},
                )
            log.write(
                f"  区划：{writer.rows:,} 个单位，{len(places):,} 个村（社区）和网格，"
                f"{time.perf_counter() - started:.1f} 秒\n"
            )
        log.write(f"生成 {persons:,} 名人员及约 {events:,} 条事件（{root.name}）…\n")
        first_index = Person.objects.count()
        counts = seed.generate_register(
            places=places,
            persons=persons,
            events=events,
            seed=options["seed"],
            today=today,
            log=log,
            batch=options["batch"],
            first_index=first_index,
        )
        if connection.vendor == "postgresql":
            # The planner knows nothing of rows that arrived by COPY until autovacuum
            # gets round to them; without statistics a list page takes seconds.
            log.write("更新统计信息（ANALYZE）…\n")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        with transaction.atomic():
            record(
                actor=None,
                action=Action.IMPORTED,
                object_type="people.person",
                object_repr=f"合成人员库（{root.name}）",
                detail={"source": "seed", **counts.__dict__},
            )
        return counts, len(places)
