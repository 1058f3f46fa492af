"""Server time of "my people" and a township's overdue list on a large register.

    python bench/people_worklists.py [--persons N] [--postgres URL | --sqlite FILE]
                                     [--runs N] [--rebuild]

Builds the register once with ``jindu seed --persons N`` (a synthetic province,
twenty events a person) into its own database and reuses it on later runs
(``--rebuild`` starts again). Then, in this process, for the township with the
most people under a community measure:

- a grid worker of that township's busiest grid opens "我的人员";
- a township manager who sits on a hundred help teams opens "我的人员";
- the township manager opens the overdue list (逾期及需关注) and exports it.

Each page is asked through Django's test client (middleware, view, template:
the server's whole share of a request, without the network) ``--runs`` times
after one warm-up; prints the median wall time and its spread, the median CPU
time of this process, the number of SQL queries, the machine's load average
and the rows on the page. Nothing is asserted: the figures are for the closing
note (target: under 50 ms of server time for each list, on an idle machine;
with other work on the two cores, the CPU time is the steadier figure).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VAR = Path("/tmp/jindu-bench-worklists")
ENV = {
    "JINDU_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "JINDU_DATA_KEY": "bench-only-data-key-0123456789",
    "JINDU_VAR_DIR": str(VAR),
    "JINDU_STATIC_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "JINDU_STATIC_FINDERS": "1",
    "JINDU_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "DJANGO_SETTINGS_MODULE": "jindu.settings",
}
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/p2_worklists_bench"
PASSWORD = "Bench#2026pw"
TEAMS_FOR_MANAGER = 100


def _ensure_postgres_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _drop_postgres_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _persons_in(env: dict[str, str]) -> int:
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "from jindu.people.models import Person\n"
        "tables = connection.introspection.table_names()\n"
        "print(Person.objects.count() if 'people_person' in tables else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip().splitlines()[-1])


def build(env: dict[str, str], persons: int) -> None:
    print(f"building the register: jindu seed --persons {persons:,} …", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "jindu.cli", "seed", "--persons", str(persons)],
        cwd=REPO,
        env=env,
        check=True,
    )
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


# ------------------------------------------------------------------ in-process


def _busiest_township() -> Any:
    from django.db.models import Count
    from django.utils import timezone

    from jindu.orgs.models import OrgUnit
    from jindu.people.models import Person
    from jindu.people.status import under_community_q

    today = timezone.localdate()
    counts: dict[str, int] = {}
    # The township is the fifth path element of a grid or village path
    # (/province/city/county/township/…); counted per unit, then added up.
    rows = (
        Person.objects.filter(under_community_q(today))
        .values("org_path")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        parts = row["org_path"].strip("/").split("/")
        if len(parts) >= 4:
            key = "/" + "/".join(parts[:4]) + "/"
            counts[key] = counts.get(key, 0) + row["n"]
    path = max(counts, key=counts.get)
    return OrgUnit.objects.get(path=path), counts[path]


def _user(username: str, unit: Any, role: str) -> Any:
    from jindu.accounts import services as accounts
    from jindu.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = accounts.create_user(
            actor=None,
            username=username,
            full_name=username,
            org_unit=unit,
            password=PASSWORD,
            roles={role},
            must_change_password=False,
        )
    return user


def _put_on_teams(user: Any, township: Any, count: int) -> None:
    """Synthetic memberships for the benchmark (written in bulk, not through the service)."""
    from django.db.models import Q
    from django.utils import timezone

    from jindu.people.models import Person, TeamMember
    from jindu.people.status import under_community_q

    have = TeamMember.objects.filter(user=user, left_on__isnull=True).count()
    if have >= count:
        return
    today = timezone.localdate()
    people = (
        Person.objects.within(township.path)
        .filter(under_community_q(today))
        .exclude(Q(team__user=user))
        .order_by("id")[: count - have]
    )
    TeamMember.objects.bulk_create(
        TeamMember(
            person=p,
            role=TeamMember.Role.TOWNSHIP_CADRE,
            user=user,
            name=user.full_name,
            phone="",
            joined_on=today,
            org_unit_id=p.org_unit_id,
            org_path=p.org_path,
        )
        for p in people
    )


def _busiest_grid(township: Any) -> Any:
    from django.db.models import Count

    from jindu.orgs.division import Level
    from jindu.orgs.models import OrgUnit
    from jindu.people.models import Person

    grids = {
        u.path: u for u in OrgUnit.objects.filter(path__startswith=township.path, level=Level.GRID)
    }
    counts = (
        Person.objects.filter(org_path__in=list(grids))
        .values("org_path")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    top = counts.first()
    return grids[top["org_path"]]


def _time(client: Any, url: str, runs: int) -> tuple[list[float], list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up: connection, templates, caches
    assert response.status_code == 200, (url, response.status_code)
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return times, cpu, len(ctx.captured_queries), len(response.content)


def _report(label: str, times: list[float], cpu: list[float], queries: int, extra: str) -> None:
    # Wall-clock time is the figure that counts; this process's CPU time shows how
    # much of it other load on the machine took, which matters on a shared
    # two-core box (on SQLite it holds the database's work too, which runs in
    # this process; on PostgreSQL it does not). The load average is the
    # machine's at the end of the runs: a figure taken beside others' work is
    # not an idle one.
    print(
        f"{label:<40} median {statistics.median(times):6.1f} ms "
        f"(min {min(times):5.1f}, max {max(times):6.1f}; CPU {statistics.median(cpu):5.1f} ms)"
        f"  {queries:2d} queries  load {os.getloadavg()[0]:4.2f}  {extra}",
        flush=True,
    )


def measure(runs: int) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from jindu.core.roles import Role
    from jindu.people import worklist
    from jindu.people.models import DrugTest, Person, Visit

    today = timezone.localdate()
    if connection.vendor == "postgresql":
        # A freshly bulk-loaded database has no planner statistics yet.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"database: {connection.vendor}; persons {Person.objects.count():,}, "
        f"tests {DrugTest.objects.count():,}, visits {Visit.objects.count():,}",
        flush=True,
    )
    township, community = _busiest_township()
    in_township = Person.objects.within(township.path).count()
    print(
        f"township: {township.name} ({in_township:,} people, "
        f"{community:,} under community detox/rehab today)",
        flush=True,
    )
    grid = _busiest_grid(township)
    worker = _user("bench_grid_worker", grid, Role.GRID_WORKER.value)
    worker.org_unit, worker.org_unit_id = grid, grid.pk
    type(worker).objects.filter(pk=worker.pk).update(org_unit=grid)
    manager = _user("bench_township_manager", township, Role.TOWNSHIP_MANAGER.value)
    type(manager).objects.filter(pk=manager.pk).update(org_unit=township)
    _put_on_teams(manager, township, TEAMS_FOR_MANAGER)

    worker_client, manager_client = Client(), Client()
    worker_client.force_login(worker)
    manager_client.force_login(manager)
    mine = worklist.my_people(worker, today)
    managed = worklist.my_people(manager, today)
    overdue = worklist.overdue_rows(manager, today)
    print(f"runs per page: {runs} (after one warm-up); load average {os.getloadavg()[0]:.1f}\n")
    pages = (
        (f"我的人员, grid worker ({grid.name})", worker_client, "people:my_people", "",
         f"{len(mine)} people"),
        ("我的人员, township manager (team member)", manager_client, "people:my_people", "",
         f"{len(managed)} people"),
        ("逾期及需关注, township manager", manager_client, "people:overdue", "",
         f"{len(overdue)} of {community} people"),
        ("逾期及需关注 by urgency", manager_client, "people:overdue", "?order=urgency",
         f"{len(overdue)} people"),
        ("首页 (with 我的人员), township manager", manager_client, "portal:home", "", ""),
    )  # fmt: skip
    for label, client, name, query, extra in pages:
        times, cpu, queries, size = _time(client, reverse(name) + query, runs)
        _report(label, times, cpu, queries, f"{extra}, {size // 1024} KB")

    # The selectors alone, without the template, to show where the time goes.
    for label, fn in (
        ("  selector: my_people(grid worker)", lambda: worklist.my_people(worker, today)),
        ("  selector: overdue_rows(township)", lambda: worklist.overdue_rows(manager, today)),
    ):
        fn()
        samples, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        _report(label, samples, cpu, 0, "")
    started = time.perf_counter()
    response = manager_client.get(reverse("people:overdue_export"))
    print(
        f"\n逾期名单 Excel export: {(time.perf_counter() - started) * 1000:.0f} ms, "
        f"{len(response.content) // 1024} KB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="database URL (PostgreSQL)")
    parser.add_argument("--sqlite", default="", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--rebuild", action="store_true", help="drop and build the register again")
    args = parser.parse_args()

    VAR.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **ENV}
    if args.sqlite:
        path = Path(args.sqlite).resolve()
        if args.rebuild and path.exists():
            path.unlink()
        env["JINDU_DATABASE_URL"] = f"sqlite:///{path}"
    else:
        if args.rebuild:
            _drop_postgres_database(args.postgres)
        _ensure_postgres_database(args.postgres)
        env["JINDU_DATABASE_URL"] = args.postgres
    have = _persons_in(env)
    if have < args.persons:
        if have:
            sys.exit(
                f"the database holds {have:,} people, fewer than --persons {args.persons:,}; "
                "use --rebuild"
            )
        build(env, args.persons)
    else:
        print(f"reusing the register ({have:,} people)", flush=True)
    os.environ.update({k: env[k] for k in (*ENV, "JINDU_DATABASE_URL")})
    sys.path.insert(0, str(REPO))
    measure(args.runs)


if __name__ == "__main__":
    main()
