"""Time a full-year reconciliation of a province's ledgers, and one unit's ledger page.

    python bench/regulation_reconcile.py [--units N] [--postgres URL] [--no-sqlite]

Each database run is a fresh process on a fresh database: the demo county's
territory, a county-office user, N regulated units (10,000 by default) with a
licence and two allowed items each, and a year of ledger lines for them, about
200 per unit (two million in all), written in bulk (executemany on SQLite, COPY
on PostgreSQL). The units trade in a ring (each sells to the next, which
records the purchase), buy from outside, use, lose and destroy stock and count
it at the end of every month. About one count in a hundred is planted short,
one partner purchase in two hundred is left out, one sale in two hundred is
reported late and one unit in a hundred buys beyond its allowance.

Prints the load time (not the target), the reconciliation of the whole year
(target: under 10 s), a second run (which must add no finding), and the ledger
page of one unit with its year of lines through the test client, the full
middleware stack included (target: under 50 ms; median of 30).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {
    "JINDU_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "JINDU_DATA_KEY": "bench-only-data-key-0123456789",
    "JINDU_ALLOWED_HOSTS": "testserver",
    "DJANGO_SETTINGS_MODULE": "jindu.settings",
}
COLUMNS = (
    "org_unit_id", "org_path", "unit_id", "substance_id", "kind", "occurred_on", "quantity",
    "entered_quantity", "entered_unit", "counterparty_unit_id", "counterparty_name",
    "document_no", "reported_on", "notes", "created_at", "void_reason",
)  # fmt: skip


def _setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def month_days(year: int, month: int) -> int:
    end = date(year + (month == 12), month % 12 + 1, 1)
    return (end - date(year, month, 1)).days


def ring_sales(unit: int, year: int, month: int) -> list[tuple[date, int]]:
    """What unit ``unit`` sells to the next unit in a month; both sides read it."""
    rng = random.Random(unit * 1000 + month)
    days = month_days(year, month)
    return [(date(year, month, rng.randint(1, days - 2)), rng.randint(100, 200)) for _ in range(2)]


def ledger_rows(index: int, unit: tuple, partners: tuple, year: int, items: tuple, plant: dict):
    """A year of lines for one unit, item A (traded in the ring) and item B (used)."""
    unit_id, org_unit_id, org_path = unit
    prev_id, next_id, prev_index = partners
    a, b = items
    rng = random.Random(index)
    now = datetime(year, 12, 31, 12, tzinfo=UTC)
    rows = []

    def add(item, kind, day, qty, counterparty=None, name="", reported=None, doc=""):
        q = Decimal(qty)
        rows.append((
            org_unit_id, org_path, unit_id, item[0], kind, day, q, q, item[1], counterparty,
            name, doc, reported, "", now, "",
        ))  # fmt: skip

    balance = {a: Decimal(10000), b: Decimal(5000)}
    missing = {a: 0, b: 0}
    add(a, "opening", date(year, 1, 1), balance[a])
    add(b, "opening", date(year, 1, 1), balance[b])
    for month in range(1, 13):
        days = month_days(year, month)
        moves = []
        qty = rng.randint(600, 800)
        moves.append(
            (a, "purchase", date(year, month, rng.randint(1, days)), qty, None, "外省化工集团")
        )
        for n, (day, qty) in enumerate(ring_sales(index, year, month)):
            moves.append((a, "sale", day, qty, next_id, "", n))
        for n, (day, qty) in enumerate(ring_sales(prev_index, year, month)):
            if plant.get(("drop", index, month, n)):
                continue
            moves.append(
                (
                    a,
                    "purchase",
                    min(day + timedelta(days=1), date(year, month, days)),
                    qty,
                    prev_id,
                    "",
                )
            )
        for _ in range(2):
            moves.append(
                (a, "use", date(year, month, rng.randint(1, days)), rng.randint(50, 150), None, "")
            )
        for _ in range(2):
            moves.append(
                (
                    b,
                    "purchase",
                    date(year, month, rng.randint(1, days)),
                    rng.randint(300, 500),
                    None,
                    "外县化工厂",
                )
            )
        for _ in range(4):
            moves.append(
                (b, "use", date(year, month, rng.randint(1, days)), rng.randint(100, 200), None, "")
            )
        moves.append(
            (
                b,
                "transfer_out",
                date(year, month, rng.randint(1, days)),
                rng.randint(50, 100),
                None,
                "本单位二号库",
            )
        )
        if month % 3 == 0:
            moves.append(
                (
                    b,
                    "destruction",
                    date(year, month, rng.randint(1, days)),
                    rng.randint(10, 20),
                    None,
                    "",
                )
            )
        moves.sort(key=lambda m: m[2])
        for move in moves:
            item, kind, day, qty, counterparty, name = move[:6]
            reported = None
            doc = ""
            if kind == "sale":
                late = plant.get(("late", index, month, move[6]))
                reported = day + timedelta(days=40 if late else rng.randint(0, 3))
                doc = f"XS{unit_id}-{month}-{move[6]}"
            balance[item] += qty if kind == "purchase" else -qty
            add(item, kind, day, qty, counterparty, name, reported, doc)
        for item in (a, b):
            # Planted stock stays missing: later counts agree with the short one.
            missing[item] += plant.get(("count", index, month, item[0]), 0)
            add(item, "count", date(year, month, days), balance[item] + missing[item])
    return rows


def build(units_wanted: int, year: int) -> dict:
    """The territory, the units and their lines, written in bulk; returns what the timing needs."""
    import io

    from django.db import connection, transaction

    from jindu.accounts import services as accounts
    from jindu.demo.county import build_territory
    from jindu.demo.steps import DemoContext
    from jindu.orgs import services as orgs
    from jindu.regulation.models import Allowance, LedgerEntry, Licence, RegulatedUnit, Substance

    ctx = DemoContext(seed=2019, townships_wanted=15, villages_wanted=200, log_stream=io.StringIO())
    build_territory(ctx)
    police = orgs.create_department(
        actor=None, county=ctx.county, name="青岚县公安局", short_name="公安局"
    )
    user = accounts.create_user(
        actor=None, username="office", full_name="县禁毒办", org_unit=ctx.county,
        password="Bench#2026qlx", roles={"county_office"}, must_change_password=False,
    )  # fmt: skip
    a = Substance.objects.get(name="丙酮")
    b = Substance.objects.get(name="硫酸")
    items = ((a.pk, a.unit), (b.pk, b.unit))
    rng = random.Random(7)
    registered = date(year - 1, 6, 1)
    with transaction.atomic():
        RegulatedUnit.objects.bulk_create(
            [
                RegulatedUnit(
                    name=f"基准测试化工{n:05d}",
                    kind="trader",
                    department=police,
                    registered_on=registered,
                    org_unit=village,
                    org_path=village.path,
                )  # fmt: skip
                for n in range(units_wanted)
                for village in [ctx.villages[n % len(ctx.villages)]]
            ],
            batch_size=2000,
        )
    units = list(RegulatedUnit.objects.order_by("id").values_list("id", "org_unit_id", "org_path"))
    with transaction.atomic():
        Licence.objects.bulk_create(
            [
                Licence(
                    unit_id=u[0],
                    kind="precursor_trade",
                    number=f"XK{u[0]}",
                    valid_from=registered,
                    valid_until=date(year + 3, 1, 1),
                    org_unit_id=u[1],
                    org_path=u[2],
                )  # fmt: skip
                for u in units
            ],
            batch_size=2000,
        )
        over = set(rng.sample(range(len(units)), len(units) // 100))
        Allowance.objects.bulk_create(
            [
                Allowance(
                    unit_id=u[0],
                    substance_id=s,
                    yearly_quantity=Decimal(8000) if (i in over and s == b.pk) else None,
                )
                for i, u in enumerate(units)
                for s in (a.pk, b.pk)
            ],
            batch_size=4000,
        )
    plant: dict = {}
    for i in rng.sample(range(len(units)), len(units) // 100 * 12 // 12):
        plant[("count", i, rng.randint(1, 12), rng.choice((a.pk, b.pk)))] = -rng.randint(5, 50)
    for i in rng.sample(range(len(units)), len(units) // 100):
        plant[("drop", i, rng.randint(1, 12), 0)] = True
        plant[("late", rng.randrange(len(units)), rng.randint(1, 11), 1)] = True
    table = LedgerEntry._meta.db_table
    started = time.perf_counter()
    lines = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for i, unit in enumerate(units):
                    partners = (
                        units[i - 1][0],
                        units[(i + 1) % len(units)][0],
                        (i - 1) % len(units),
                    )
                    for row in ledger_rows(i, unit, partners, year, items, plant):
                        copy.write_row(row)
                        lines += 1
        else:
            insert = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
            batch: list = []
            for i, unit in enumerate(units):
                partners = (units[i - 1][0], units[(i + 1) % len(units)][0], (i - 1) % len(units))
                batch.extend(ledger_rows(i, unit, partners, year, items, plant))
                if len(batch) >= 50_000:
                    cursor.executemany(insert, batch)
                    lines += len(batch)
                    batch = []
            cursor.executemany(insert, batch)
            lines += len(batch)
    with connection.cursor() as cursor:
        # What autovacuum does for a live database after a load: statistics, and on
        # PostgreSQL the visibility map that lets a scan read the index alone.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "user": user,
        "unit_id": units[len(units) // 2][0],
        "units": len(units),
        "lines": lines,
        "load": time.perf_counter() - started,
    }


def worker(units_wanted: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from jindu.core.indicators import Period
    from jindu.regulation import reconcile, selectors
    from jindu.regulation.models import Finding, RegulatedUnit

    call_command("migrate", verbosity=0)
    # As a deployment does, so that pages name their hashed static files.
    call_command("collectstatic", interactive=False, verbosity=0)
    year = date.today().year - 1
    built = build(units_wanted, year)
    user = built["user"]
    scope = RegulatedUnit.objects.for_user(user)
    t0 = time.perf_counter()
    first = reconcile.run(actor=user, units=scope, period=Period.year(year))
    t1 = time.perf_counter()
    second = reconcile.run(actor=user, units=scope, period=Period.year(year))
    t2 = time.perf_counter()
    client = Client()
    client.force_login(user)
    url = reverse("regulation:ledger", args=[built["unit_id"]]) + f"?year={year}"
    assert client.get(url).status_code == 200
    pages = []
    for _ in range(30):
        started = time.perf_counter()
        response = client.get(url)
        pages.append(time.perf_counter() - started)
        assert response.status_code == 200
    # A page with next to nothing on it, for what the shell and middleware cost alone.
    empty = reverse("notifications:list")
    client.get(empty)
    baseline = []
    for _ in range(30):
        started = time.perf_counter()
        client.get(empty)
        baseline.append(time.perf_counter() - started)
    unit = RegulatedUnit.objects.get(pk=built["unit_id"])
    books = []
    for _ in range(30):
        started = time.perf_counter()
        selectors.book(unit, year)
        books.append(time.perf_counter() - started)
    unit_lines = unit.entries.count()
    print(json.dumps({
        "database": connection.vendor, "units": built["units"], "lines": built["lines"],
        "load": built["load"], "reconcile": t1 - t0, "found": dict(first.found),
        "created": first.created, "again": t2 - t1, "again_created": second.created,
        "findings": Finding.objects.count(), "page_median": statistics.median(pages),
        "page_max": max(pages), "book_median": statistics.median(books), "unit_lines": unit_lines,
        "load_after": os.getloadavg()[0], "baseline": statistics.median(baseline),
    }))  # fmt: skip


def run(database_url: str, units: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="jindu-bench-") as var_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JINDU_")}
        env.update(ENV, JINDU_VAR_DIR=var_dir)
        env["JINDU_DATABASE_URL"] = database_url or f"sqlite:///{var_dir}/bench.sqlite3"
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(units)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if out.returncode != 0:
        sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_postgres(url: str) -> str:
    import psycopg

    base, _slash, name = url.rpartition("/")
    if "bench" not in name:
        sys.exit(f"refusing to drop {name!r}: the database name must contain 'bench'")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def report(r: dict) -> None:
    db = r["database"]
    print(f"{db}: {r['units']:,} units, {r['lines']:,} ledger lines loaded in {r['load']:.1f} s")
    found = ", ".join(f"{k} {v:,}" for k, v in sorted(r["found"].items()))
    print(f"{db}: full-year reconciliation {r['reconcile']:.2f} s (target < 10 s) — {found}")
    print(
        f"{db}: run again {r['again']:.2f} s — {r['again_created']} new findings ({r['findings']:,} in all)"
    )
    print(
        f"{db}: ledger page of one unit ({r['unit_lines']} lines) median {r['page_median'] * 1000:.1f} ms, "
        f"max {r['page_max'] * 1000:.1f} ms (target < 50 ms); the book alone {r['book_median'] * 1000:.1f} ms"
        f" (load average then {r['load_after']:.1f})"
    )
    print(
        f"{db}: for comparison, the notifications page (next to nothing on it) median {r['baseline'] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument(
        "--postgres",
        default="",
        help="postgres://…/dbname, dropped and recreated (name must contain 'bench')",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _setup({})
        worker(int(args.worker))
        return
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    # Other work on the machine slows every figure; the load says how much there was.
    print(f"machine: {os.cpu_count()} CPUs, load average {load}", flush=True)
    if not args.no_sqlite:
        report(run("", args.units))
    if args.postgres:
        report(run(fresh_postgres(args.postgres), args.units))


if __name__ == "__main__":
    main()
