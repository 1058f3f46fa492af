"""Time the register's pages on a large register (server time, in process).

    JINDU_DATABASE_URL=postgres://… python bench/people_list.py [--runs N]

Run it on a database filled by ``jindu seed --persons 1000000``. It signs in
users of three reaches (the synthetic province, one county, one township),
then times with Django's test client, so without network or browser: the
list's first page, a page at 50 % and at 99 % of the province's million rows
(keyset: no OFFSET), the list filtered by status, by a flag and by name, the
capped count, the search by ID number, a person's page and an export of one
township. Prints the median and the slowest of ``--runs`` runs of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {
    "JINDU_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "JINDU_DATA_KEY": "bench-only-data-key-0123456789",
    "DJANGO_SETTINGS_MODULE": "jindu.settings",
    "JINDU_STATIC_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "JINDU_ALLOWED_HOSTS": "testserver",
}


def _setup() -> None:
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def _user(username: str, unit):
    from jindu.accounts import services as accounts
    from jindu.accounts.models import User
    from jindu.core.roles import Role

    user = User.objects.filter(username=username).first()
    if user is None:
        user = accounts.create_user(
            actor=None,
            username=username,
            full_name=username,
            org_unit=unit,
            password="Bench#2026-list",
            roles={Role.COUNTY_OFFICE.value},
            must_change_password=False,
        )
    elif user.org_unit_id != unit.pk:
        User.objects.filter(pk=user.pk).update(org_unit=unit)
        user.refresh_from_db()
    return user


def _time(label: str, runs: int, call) -> None:
    """Wall time, and the process's own CPU time (what other load on the machine
    does not inflate; the database's share is in the wall time only)."""
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        status = getattr(response, "status_code", 200)
        assert status in (200, 302), (label, status)
    print(
        f"{label:<40} median {statistics.median(times):7.1f} ms"
        f"  max {max(times):7.1f} ms  cpu {statistics.median(cpu):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    _setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from jindu.orgs.models import OrgUnit
    from jindu.people.models import Person
    from jindu.people.selectors import encode_cursor

    total = Person.objects.count()
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
    county = OrgUnit.objects.filter(level="county").order_by("path").first()
    township = OrgUnit.objects.filter(level="township", path__startswith=county.path).first()
    print(
        f"{connection.vendor}: {total:,} people; root {root.name}, county {county.name}, "
        f"township {township.name}"
    )
    province_user = _user("bench_province", root)
    county_user = _user("bench_county", county)
    township_user = _user("bench_township", township)
    ordered = Person.objects.order_by("org_path", "id").values_list("org_path", "id")
    middle = Person(org_path=ordered[total // 2][0], pk=ordered[total // 2][1])
    deep = Person(org_path=ordered[total * 99 // 100][0], pk=ordered[total * 99 // 100][1])
    sample = Person.objects.filter(org_path__startswith=township.path).order_by("id").first()
    url = reverse("people:list")
    runs = args.runs
    for user, reach in (
        (province_user, "province"),
        (county_user, "county"),
        (township_user, "township"),
    ):
        client = Client()
        client.force_login(user)
        client.get(url)  # warm the session, the policy and the code lists
        _time(f"list, first page ({reach})", runs, lambda c=client: c.get(url))
        if reach == "province":
            _time(
                "list, page at 50 %",
                runs,
                lambda c=client: c.get(url, {"after": encode_cursor(middle)}),
            )
            _time(
                "list, page at 99 %",
                runs,
                lambda c=client: c.get(url, {"after": encode_cursor(deep)}),
            )
        _time(
            f"list, status 社区戒毒中 ({reach})",
            runs,
            lambda c=client: c.get(url, {"status": "community_detox"}),
        )
        _time(
            f"list, flag 失控 ({reach})",
            runs,
            lambda c=client: c.get(url, {"flags": "lost_contact"}),
        )
        _time(
            f"list, flag 逾期未报到 ({reach})",
            runs,
            lambda c=client: c.get(url, {"flags": "not_reported"}),
        )
        _time(
            f"list, name contains 王 ({reach})", runs, lambda c=client: c.get(url, {"name": "王"})
        )
        _time(
            f"count, capped at 1000 ({reach})",
            runs,
            lambda c=client: c.get(reverse("people:count")),
        )
        _time(
            f"count, 失控 ({reach})",
            runs,
            lambda c=client: c.get(reverse("people:count"), {"flags": "lost_contact"}),
        )
        _time(
            f"search by ID number ({reach})",
            runs,
            lambda c=client: c.post(reverse("people:search"), {"id_number": sample.id_number}),
        )
    from jindu.people.services import find_by_id_number

    _time(
        "find_by_id_number (service, county)",
        runs,
        lambda: find_by_id_number(county_user, sample.id_number),
    )
    client = Client()
    client.force_login(township_user)
    _time("person page", runs, lambda: client.get(reverse("people:detail", args=[sample.pk])))
    rows = Person.objects.filter(org_path__startswith=township.path).count()
    started = time.perf_counter()
    response = client.get(reverse("people:export"))
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    print(
        f"export of one township: {rows:,} rows in {elapsed:.2f} s ({rows / elapsed:,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
