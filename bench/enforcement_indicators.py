"""Time the enforcement indicators on a decade of a province's records.

    python bench/enforcement_indicators.py [--scale N] [--postgres URL] [--no-sqlite]

Each database run is a fresh process on a fresh database: the demo county's
territory (15 townships, 200 villages) and, spread over its villages and ten
years, N cases (20,000 by default), two suspects per case, a seizure per case
and as many again with no case, 10·N users caught, N/4 drug-driving tests and
N/5 confiscated assets, written in bulk. That is far beyond one county (which
solves some ten cases a year), so that the figures hold for a province's
database.

Prints, for every indicator, the median time of one value for the county and
one year (target: under 30 ms), the median time of the townships side by side
(``by_units``, one grouped query) against asking them one at a time, and the
same figure computed naively — every row of the year fetched and grouped in
Python — with the ratio.
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
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {
    "JINDU_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "JINDU_DATA_KEY": "bench-only-data-key-0123456789",
    "JINDU_ALLOWED_HOSTS": "testserver",
    "DJANGO_SETTINGS_MODULE": "jindu.settings",
}
YEARS = 10
DRUGS = ["heroin", "heroin", "heroin", "methamphetamine", "methamphetamine", "ketamine", "cannabis"]


def _setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def build(scale: int) -> dict:
    """The territory, then every table in bulk; returns what the timings need."""
    import io

    from jindu.core import crypto
    from jindu.demo.county import build_departments, build_territory
    from jindu.demo.steps import DemoContext
    from jindu.enforcement.identity import adult_on, id_index
    from jindu.enforcement.models import (
        AssetConfiscation,
        Case,
        DrugDrivingTest,
        Seizure,
        Suspect,
        UserCaught,
    )
    from jindu.people.idnumber import check_char

    started = time.perf_counter()
    ctx = DemoContext(seed=1, townships_wanted=15, villages_wanted=200, log_stream=io.StringIO())
    build_territory(ctx)
    build_departments(ctx)
    police = ctx.departments["公安局"]
    villages = ctx.villages
    rng = random.Random(42)
    first = date(date.today().year - YEARS, 1, 1)
    span = (date(date.today().year - 1, 12, 31) - first).days

    def day() -> date:
        return first + timedelta(days=rng.randint(0, span))

    def ident(n: int) -> tuple[str, str, date]:
        birth = date(1960, 1, 1) + timedelta(days=n % 15000)
        first17 = f"621199{birth:%Y%m%d}{n % 1000:03d}"
        number = first17 + check_char(first17)
        return number, id_index(number), birth

    cases = []
    for n in range(scale):
        place = villages[n % len(villages)]
        filed = day()
        solved = filed + timedelta(days=rng.randint(1, 60)) if rng.random() < 0.85 else None
        cases.append(
            Case(
                number=f"B{n:07d}", offence=rng.choice(["trafficking", "street_dealing", "theft"]),
                filed_on=filed, solved_on=solved, department=police, org_unit=place,
                org_path=place.path, street_dealing=rng.random() < 0.3,
                caused_by_user=rng.random() < 0.1, caused_kind="criminal",
            )
        )  # fmt: skip
    Case.objects.bulk_create(cases, batch_size=2000)
    cases = list(Case.objects.order_by("pk"))
    suspects, seizures, assets = [], [], []
    numbers = [ident(n) for n in range(2 * scale)]
    secrets = crypto.encrypt_many([n for n, _i, _b in numbers])
    for n, case in enumerate(cases):
        for k in (2 * n, 2 * n + 1):
            number, index, birth = numbers[k]
            caught = case.solved_on or case.filed_on
            suspects.append(
                Suspect(
                    case=case, name="嫌疑人", id_number=secrets[k], id_index=index, sex="M",
                    birth_date=birth, adult_on=adult_on(birth), household="local",
                    caught_on=caught, org_unit_id=case.org_unit_id, org_path=case.org_path,
                    prosecuted_on=caught + timedelta(days=30) if case.solved_on else None,
                )
            )  # fmt: skip
        for with_case in (True, False):
            seizures.append(
                Seizure(
                    case=case if with_case else None, seized_on=case.solved_on or case.filed_on,
                    drug_type=rng.choice(DRUGS), weight_g=Decimal(rng.randint(1, 5000)) / 10,
                    department=police, org_unit_id=case.org_unit_id, org_path=case.org_path,
                )
            )  # fmt: skip
        if n % 5 == 0:
            assets.append(
                AssetConfiscation(
                    case=case, confiscated_on=case.filed_on, kind="cash", amount=Decimal(5000),
                    org_unit_id=case.org_unit_id, org_path=case.org_path,
                )
            )  # fmt: skip
    Suspect.objects.bulk_create(suspects, batch_size=2000)
    Seizure.objects.bulk_create(seizures, batch_size=2000)
    AssetConfiscation.objects.bulk_create(assets, batch_size=2000)
    caught_rows, tests = [], []
    for n in range(10 * scale):
        place = villages[n % len(villages)]
        number, index, _birth = numbers[n % len(numbers)]
        caught_rows.append(
            UserCaught(
                caught_on=day(), name="吸毒人员", id_number=secrets[n % len(secrets)],
                id_index=index, drug_type=rng.choice(DRUGS), outcome="detention",
                department=police, org_unit=place, org_path=place.path,
            )
        )  # fmt: skip
        if n % 40 == 0:
            tested = day()
            tests.append(
                DrugDrivingTest(
                    tested_on=tested, name="驾驶人", id_number=secrets[n % len(secrets)],
                    id_index=index, result="positive", licence_held=True,
                    licence_reported_on=tested + timedelta(days=3), department=police,
                    org_unit=place, org_path=place.path,
                )
            )  # fmt: skip
    UserCaught.objects.bulk_create(caught_rows, batch_size=2000)
    DrugDrivingTest.objects.bulk_create(tests, batch_size=2000)
    return {
        "county": ctx.county,
        "townships": ctx.townships,
        "load": time.perf_counter() - started,
        "rows": len(cases) + len(suspects) + len(seizures) + len(assets) + len(caught_rows)
        + len(tests),
    }  # fmt: skip


def naive(key: str, paths: list[str], year: int) -> dict[str, object]:
    """The same figure the slow way: every row of the year fetched and grouped in Python."""
    from jindu.codes.models import CodeItem
    from jindu.enforcement.models import Case, Seizure, Suspect, UserCaught

    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    extras = dict(CodeItem.objects.filter(code_list__key="drug_type").values_list("code", "extra"))
    offences = dict(CodeItem.objects.filter(code_list__key="offence").values_list("code", "extra"))
    drug_case = {c for c, e in offences.items() if (e or {}).get("drug_related") is not False}
    rows: list[tuple[str, object]]
    if key == "cases_solved":
        qs = Case.objects.filter(solved_on__gte=start, solved_on__lt=end)
        rows = [(p, 1) for p, o in qs.values_list("org_path", "offence") if o in drug_case]
    elif key == "suspects_prosecuted":
        qs = Suspect.objects.filter(prosecuted_on__gte=start, prosecuted_on__lt=end)
        rows = [(p, 1) for p, o in qs.values_list("org_path", "case__offence") if o in drug_case]
    elif key == "seized_heroin_g":
        qs = Seizure.objects.filter(seized_on__gte=start, seized_on__lt=end)
        rows = [(p, w) for p, d, w in qs.values_list("org_path", "drug_type", "weight_g")
                if d == "heroin"]  # fmt: skip
    elif key == "users_caught_synthetic":
        qs = UserCaught.objects.filter(caught_on__gte=start, caught_on__lt=end)
        rows = [(p, 1) for p, d in qs.values_list("org_path", "drug_type")
                if (extras.get(d) or {}).get("synthetic")]  # fmt: skip
    else:
        raise KeyError(key)
    result: dict[str, object] = dict.fromkeys(paths, 0)
    for path, amount in rows:
        for asked in paths:
            if path.startswith(asked):
                result[asked] += amount  # type: ignore[operator]
    return result


def median_ms(fn, repeat: int = 15) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def worker(scale: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from jindu.core import indicators
    from jindu.core.indicators import Period
    from jindu.enforcement.indicators import KEYS

    call_command("migrate", verbosity=0)
    built = build(scale)
    # As autovacuum would have by then: statistics, and the visibility map that lets
    # PostgreSQL answer from the covering indexes alone.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    year = date.today().year - 2
    period = Period.year(year)
    county = built["county"].path
    paths = [t.path for t in built["townships"]]
    figures = {}
    for key in KEYS:
        one = median_ms(lambda key=key: indicators.value(key, county, period))
        side = median_ms(lambda key=key: indicators.by_units(key, paths, period))
        each = median_ms(lambda key=key: [indicators.value(key, p, period) for p in paths], 5)
        figures[key] = {"one": one, "side": side, "each": each,
                        "value": str(indicators.value(key, county, period))}  # fmt: skip
    slow = {}
    for key in ("cases_solved", "suspects_prosecuted", "seized_heroin_g", "users_caught_synthetic"):
        wanted = indicators.by_units(key, paths, period)
        got = naive(key, paths, year)
        assert all(Decimal(str(got[p])) == Decimal(str(wanted[p])) for p in paths), key
        slow[key] = median_ms(lambda key=key: naive(key, paths, year), 5)
    print(json.dumps({
        "database": connection.vendor, "rows": built["rows"], "load": built["load"],
        "figures": figures, "naive": slow, "year": year, "load_after": os.getloadavg()[0],
    }))  # fmt: skip


def run(database_url: str, scale: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="jindu-bench-") as var_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JINDU_")}
        env.update(ENV, JINDU_VAR_DIR=var_dir)
        env["JINDU_DATABASE_URL"] = database_url or f"sqlite:///{var_dir}/bench.sqlite3"
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(scale)],
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
    print(f"{db}: {r['rows']:,} enforcement rows over {YEARS} years loaded in {r['load']:.1f} s")
    print(f"{db}: {'indicator':<24} {'county':>9} {'15 side by side':>16} {'one at a time':>14}"
          f"   value {r['year']}")  # fmt: skip
    for key, f in r["figures"].items():
        print(f"{db}: {key:<24} {f['one']:>6.1f} ms {f['side']:>13.1f} ms {f['each']:>11.1f} ms"
              f"   {f['value']}")  # fmt: skip
    worst = max(f["one"] for f in r["figures"].values())
    print(f"{db}: slowest single value {worst:.1f} ms (target < 30 ms)")
    for key, ms in r["naive"].items():
        side = r["figures"][key]["side"]
        print(f"{db}: naive {key:<24} {ms:>8.1f} ms — {ms / side:.0f}× the registry's side by side")
    print(f"{db}: load average then {r['load_after']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20_000, help="cases (the rest in proportion)")
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
        report(run("", args.scale))
    if args.postgres:
        report(run(fresh_postgres(args.postgres), args.scale))


if __name__ == "__main__":
    main()
