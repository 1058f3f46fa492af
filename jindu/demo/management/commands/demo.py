"""``jindu demo``: build the fictional demo county and serve it.

stdout carries only the account lines (role, username, password, org unit and,
for administrators, the TOTP secret, separated by tabs), so that scripts can
read them; progress goes to stderr.

Running it again without ``--reset`` keeps the existing demo database (new
migrations are applied) and prints the accounts as they were generated; asking
for another seed or size then is refused, since that needs ``--reset``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from jindu.demo import builder
from jindu.demo.county import MAX_VILLAGES
from jindu.demo.names import MAX_TOWNSHIPS


class Command(BaseCommand):
    help = "生成演示县（虚构数据）并启动演示服务"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="删除并重新生成演示数据库")
        parser.add_argument("--no-serve", action="store_true", help="只生成并打印账号，不启动服务")
        parser.add_argument("--port", type=int, default=8000, help="服务端口（默认 8000）")
        parser.add_argument(
            "--seed", type=int, default=None, help=f"随机种子（默认 {builder.DEFAULT_SEED}）"
        )
        parser.add_argument(
            "--townships",
            type=int,
            default=None,
            help=f"乡镇（街道）数，2–{MAX_TOWNSHIPS}（默认 {builder.DEFAULT_TOWNSHIPS}）",
        )
        parser.add_argument(
            "--villages",
            type=int,
            default=None,
            help=f"村（社区）总数，不超过 {MAX_VILLAGES}（默认 {builder.DEFAULT_VILLAGES}）",
        )
        parser.add_argument(
            "--allow-postgres",
            action="store_true",
            help="允许写入 JINDU_DATABASE_URL 指向的 PostgreSQL（仅限可丢弃的测试库）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        log = self.stderr
        seed = builder.DEFAULT_SEED if options["seed"] is None else options["seed"]
        townships = options["townships"] or builder.DEFAULT_TOWNSHIPS
        villages = options["villages"] or builder.DEFAULT_VILLAGES
        if not 2 <= townships <= MAX_TOWNSHIPS:
            raise CommandError(f"--townships 须在 2 到 {MAX_TOWNSHIPS} 之间")
        if not townships <= villages <= MAX_VILLAGES:
            raise CommandError(f"--villages 须在乡镇数到 {MAX_VILLAGES} 之间")

        try:
            state = builder.check_target(allow_postgres=options["allow_postgres"])
        except builder.DemoRefused as exc:
            raise CommandError(str(exc)) from exc

        log.write(f"演示数据库：{builder.database_label()}\n")
        if options["reset"] and (state.marker is not None or state.has_data):
            log.write("删除原演示数据库…\n")
            builder.reset_database()
            state = builder.DatabaseState(has_data=False, marker=None)
        elif state.marker is not None:
            self._check_same_build(state.marker, options)

        builder.prepare_database(log)
        if state.marker is None:
            log.write(f"生成演示县（种子 {seed}）…\n")
            accounts = builder.generate(seed=seed, townships=townships, villages=villages, log=log)
        else:
            log.write(f"沿用已有的演示数据（种子 {state.marker.seed}），如需重建请加 --reset\n")
            missing = builder.missing_steps(state.marker)
            if missing:
                log.write(
                    f"注意：此演示库生成时尚无这些步骤：{'、'.join(missing)}；"
                    "加 --reset 可重新生成。\n"
                )
            accounts = builder.stored_accounts(state.marker)
        log.write(
            f"完成，用时 {time.perf_counter() - started:.1f} 秒。"
            "演示账号（角色、用户名、密码、单位、动态口令密钥）：\n"
        )
        log.flush()
        for account in accounts:
            self.stdout.write(account.line())
        self.stdout.flush()

        if not options["no_serve"]:
            serve(options["port"], log)

    def _check_same_build(self, marker: Any, options: dict[str, Any]) -> None:
        asked = {
            "seed": options["seed"],
            "townships": options["townships"],
            "villages": options["villages"],
        }
        differs = [
            name
            for name, value in asked.items()
            if value is not None and value != getattr(marker, name)
        ]
        if differs:
            raise CommandError(
                f"已有演示数据库的 {'、'.join(differs)} 与本次参数不同；请加 --reset 重新生成。"
            )


def serve(port: int, log: Any) -> None:
    """Serve the demo as production would: gunicorn, DEBUG off, static files by WhiteNoise,
    and one background worker beside it for imports and other long work."""
    for conn in connections.all():
        conn.close()
    address = f"127.0.0.1:{port}"
    os.environ["JINDU_DEMO"] = "1"
    os.environ["JINDU_DEBUG"] = "false"
    os.environ["JINDU_VAR_DIR"] = str(settings.VAR_DIR)
    start_worker()
    log.write(f"演示系统：http://{address}/ （按 Ctrl+C 停止）\n")
    log.flush()
    if os.name == "posix" and importlib.util.find_spec("gunicorn") is not None:
        argv = [sys.executable, "-m", "gunicorn", "--bind", address, "--workers", "2"]
        # No control socket: it would let any local process of this user steer the server.
        argv += ["--no-control-socket", "--access-logfile", "/dev/stderr"]
        argv += ["jindu.wsgi:application"]
        # A fixed argument list, no shell: the demo process becomes the server.
        os.execv(sys.executable, argv)  # noqa: S606
    # gunicorn runs on POSIX only; Django's own server stands in elsewhere.
    from django.core.management import call_command

    call_command("runserver", address, use_reloader=False)


def start_worker() -> subprocess.Popen[bytes]:
    """``jindu worker`` beside the server, on the same database (the environment set
    above). It stops when the server, which this process becomes, stops
    (``--exit-with-parent``). Its lines go to stderr: stdout carries the accounts only."""
    argv = [sys.executable, "-m", "jindu.cli", "worker", "--exit-with-parent"]
    try:
        out: Any = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        out = subprocess.DEVNULL
    # A fixed argument list, no shell.
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, close_fds=True)  # noqa: S603
