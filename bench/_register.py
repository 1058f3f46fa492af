"""What the benchmarks on a large register share: where the register comes from, and timing.

A benchmark calls ``open_register(args, var, prefix)`` with the options of
``add_register_options``: ``--sqlite FILE`` or ``--postgres URL`` uses that
database; otherwise a register of ``--persons`` people is built once with
``jindu seed`` under ``var`` and reused (``--rebuild`` starts again). Django is
set up on return.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
KEYS = {
    "JINDU_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "JINDU_DATA_KEY": "bench-only-data-key-0123456789",
    "JINDU_ALLOWED_HOSTS": "testserver",
    "DJANGO_SETTINGS_MODULE": "jindu.settings",
}
# The CPU time of the last ``median_ms``'s runs (median), ms.
CPU: list[float] = [0.0]


def median_ms(func: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall time of ``runs`` calls after one warm-up (which fills the page cache)."""
    result = func()
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = func()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    CPU[:] = [statistics.median(cpu)]
    return statistics.median(times), result


def add_register_options(parser: argparse.ArgumentParser, sqlite_help: str) -> None:
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--sqlite", help=sqlite_help)
    parser.add_argument("--postgres", help="a PostgreSQL database URL")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")


def build(env: dict[str, str], persons: int) -> None:
    print(f"building the register: jindu seed --persons {persons:,} …", flush=True)
    for command in (["migrate", "--noinput", "-v", "0"], ["seed", "--persons", str(persons)]):
        subprocess.run([sys.executable, "-m", "jindu.cli", *command], cwd=REPO, env=env, check=True)


def open_register(args: argparse.Namespace, var: Path, prefix: str) -> None:
    env = dict(os.environ, **KEYS, JINDU_VAR_DIR=str(var))
    if args.sqlite:
        env["JINDU_DATABASE_URL"] = f"sqlite:///{Path(args.sqlite).resolve()}"
    elif args.postgres:
        env["JINDU_DATABASE_URL"] = args.postgres
    else:
        var.mkdir(parents=True, exist_ok=True)
        database = var / f"{prefix}-{args.persons}.sqlite3"
        if args.rebuild and database.exists():
            database.unlink()
        env["JINDU_DATABASE_URL"] = f"sqlite:///{database}"
        if not database.exists():
            build(env, args.persons)
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
