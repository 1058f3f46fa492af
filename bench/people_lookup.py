"""Time the lookup by ID number and keyset list pages at any depth, with their query plans.

    JINDU_DATABASE_URL=… [JINDU_VAR_DIR=…] python bench/people_lookup.py [--samples N]

Run it on a database filled by ``jindu seed --persons 1000000`` (with the same
JINDU_DATA_KEY, which the defaults below match). As the office user of the
synthetic province (created if missing) it times, in process (server time, no
network):

- the exact lookup by ID number (``services.find_by_id_number``: parse, blind
  index, one indexed query) for ``--samples`` random people;
- one list page (``selectors.filtered`` + ``selectors.page``: keyset on
  ``(org_path, id)``, flags for the page) at the start, at 25, 50, 75 and
  99.9 % of the province, and inside one county;

and prints the median and the 95th percentile of each, then the plan the
database chose for the lookup and for a deep page.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {
    "JINDU_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "JINDU_DATA_KEY": "bench-only-data-key-0123456789",
    "DJANGO_SETTINGS_MODULE": "jindu.settings",
}


def _setup() -> None:
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def _office_user(unit, username: str):
    from jindu.accounts import services as accounts
    from jindu.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = accounts.create_user(
            actor=None, username=username, full_name=username, org_unit=unit,
            password="Bench#2026-qlx", roles={"county_office"}, must_change_password=False,
        )  # fmt: skip
    return user


def _figures(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(
        f"  {label:<36} median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   (n={len(ms)})"
    )


def _cursor_at(qs, fraction: float, total: int):
    offset = min(total - 1, int(total * fraction))
    path, pk = qs.order_by("org_path", "id").values_list("org_path", "id")[offset]
    return (path, pk) if offset else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--pages", type=int, default=30, help="runs of each list page")
    args = parser.parse_args()
    _setup()
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from jindu.orgs.models import OrgUnit
    from jindu.people import selectors, services
    from jindu.people.models import Person

    root = OrgUnit.objects.filter(parent__isnull=True).order_by("-level", "pk").first()
    province = OrgUnit.objects.filter(level="province").first() or root
    user = _office_user(province, "bench-office")
    county = OrgUnit.objects.filter(level="county", path__startswith=province.path).first()
    county_user = _office_user(county, "bench-county")
    today = timezone.localdate()
    total = Person.objects.for_user(user).count()
    print(f"{connection.vendor}: {total:,} people under {province.name}; samples {args.samples}")

    # -- lookup by ID number
    last = Person.objects.order_by("-pk").values_list("pk", flat=True).first()
    rng = random.Random(1)
    picks = Person.objects.filter(pk__in=[rng.randint(1, last) for _ in range(args.samples * 2)])
    numbers = [p.id_number for p in picks.only("id_number")[: args.samples]]
    for number in numbers[:5]:
        services.find_by_id_number(user, number)  # warm the connection and caches
    timings = []
    for number in numbers:
        started = time.perf_counter()
        found = services.find_by_id_number(user, number)
        timings.append(time.perf_counter() - started)
        assert found is not None
    _figures("lookup by ID number", timings)
    missing = "11010519491231002X"
    timings = []
    for _ in range(args.samples):
        started = time.perf_counter()
        services.find_by_id_number(user, missing)
        timings.append(time.perf_counter() - started)
    _figures("lookup of an unregistered number", timings)

    # -- list pages
    def time_page(who, qs, after, label):
        selectors.page(qs, scope=who.scope_path, today=today, after=after)
        timings = []
        for _ in range(args.pages):
            reset_queries()
            started = time.perf_counter()
            result = selectors.page(qs, scope=who.scope_path, today=today, after=after)
            timings.append(time.perf_counter() - started)
            assert result.rows
        _figures(label, timings)

    qs = selectors.filtered(user, selectors.PersonFilter(), today)
    deep = None
    for fraction in (0, 0.25, 0.5, 0.75, 0.999):
        after = _cursor_at(qs, fraction, total)
        deep = after or deep
        time_page(user, qs, after, f"province list page at {fraction:.1%}")
    county_qs = selectors.filtered(county_user, selectors.PersonFilter(), today)
    county_total = county_qs.count()
    for fraction in (0, 0.5, 0.999):
        after = _cursor_at(county_qs, fraction, county_total)
        time_page(county_user, county_qs, after, f"county list page at {fraction:.1%}")

    # -- plans
    print("\nplan of the lookup:")
    index = services.id_index(numbers[0])
    lookup = Person.objects.for_user(user).filter(id_index=index)
    print(_explain(lookup, connection.vendor))
    print("\nplan of a list page at 99.9 % (the page's first query, as run):")
    with CaptureQueriesContext(connection) as captured:
        selectors.page(qs, scope=user.scope_path, today=today, after=deep)
    print(_explain_sql(captured.captured_queries[0]["sql"], connection))


def _explain(qs, vendor: str) -> str:
    if vendor == "postgresql":
        return qs.explain(analyze=True, buffers=True)
    return qs.explain()


def _explain_sql(sql: str, connection) -> str:
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if connection.vendor == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())


if __name__ == "__main__":
    main()
