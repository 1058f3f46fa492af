"""Time the dashboards on a large register, and the same figures computed naively.

    python bench/dashboards_render.py [--persons N] [--sqlite FILE | --postgres URL]
                                      [--runs N] [--rebuild]

Without ``--sqlite``/``--postgres`` the register is built once with ``jindu seed
--persons N`` (a synthetic province, some twenty events a person) into its own
database under /tmp and reused on later runs. A county-office account for the
first county is added (the only write), so that the pages are rendered as
that user would get them.

Prints the server time (view and template, no network) of the county
dashboard, the province root's, the big screen's panel; one indicator for one
unit and period through the registry; and the naive way — every person's
first-found year grouped over all rows, then the unit's rows picked out in
Python — with the ratio. Nothing is asserted: the figures are for the closing
note (targets: 300 ms for a whole dashboard, 30 ms for one indicator).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _register
from _register import add_register_options, median_ms, open_register

VAR = Path("/tmp/jindu-bench-dashboards")


def _user(username: str, unit: Any, role: str) -> Any:
    from jindu.accounts import services as accounts
    from jindu.accounts.models import User

    found = User.objects.filter(username=username).first()
    if found is not None:
        return found
    return accounts.create_user(
        actor=None, username=username, full_name=username, org_unit=unit, department=None,
        password="bench-only-Passw0rd!", roles={role}, must_change_password=False,
    )  # fmt: skip


def _page(view: Callable[..., Any], user: Any, path: str, **kwargs: Any) -> Callable[[], Any]:
    from django.test import RequestFactory

    factory = RequestFactory()

    def run() -> Any:
        request = factory.get(path)
        request.user = user
        response = view(request, **kwargs)
        assert response.status_code == 200, response.status_code
        return response

    return run


def measure(runs: int) -> None:
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from jindu.core import indicators, tallies
    from jindu.core.indicators import Period
    from jindu.core.roles import Role
    from jindu.dashboards import views
    from jindu.orgs.models import OrgUnit
    from jindu.people.models import Person

    today = timezone.localdate()
    root = OrgUnit.objects.filter(parent=None).order_by("path").first()
    county = OrgUnit.objects.filter(level="county").order_by("path").first()
    township = OrgUnit.objects.filter(parent=county).order_by("path").first()
    people = Person.objects.count()
    print(f"register: {people:,} people; {OrgUnit.objects.count():,} units")

    office = _user("bench_county_office", county, Role.COUNTY_OFFICE.value)
    provincial = _user("bench_province", root, Role.COUNTY_OFFICE.value)
    print(f"\nserver time (view + template), median of {runs} runs, ms:")
    for label, view, user, kwargs, times in (
        (f"county dashboard ({county.name})", views.county, office, {}, runs),
        (f"township dashboard ({township.name})", views.unit, office, {"pk": township.pk}, runs),
        ("big screen panel (county)", views.screen_panel, office, {}, runs),
        (f"province root dashboard ({root.name})", views.county, provincial, {}, runs),
    ):
        ms, response = median_ms(_page(view, user, "/dashboards/", **kwargs), times)
        print(
            f"  {label:<40}{ms:10.1f}   (CPU {_register.CPU[0]:.1f} ms; {len(response.content):,} bytes)",
            flush=True,
        )

    year = today.year - 1
    period = Period.year(year)
    this_year = Period.year(today.year)
    print(
        f"\none indicator, one unit, median of {runs} runs, ms: through the registry"
        " (tallies from the county up), and counted from the records (one run)"
    )
    for key, when in (
        ("new_users_found", period),
        ("new_users_found", Period.month(year, 6)),
        ("cases_solved", period),
        ("community_detox_ordered", period),
        ("execution_rate", period),
        ("minors_share", period),
        ("abstinent_3y", period),
        ("tests_overdue", this_year),
        ("lost_control", this_year),
        ("teams_complete_rate", this_year),
    ):
        for name, unit in (("township", township), ("county", county), ("province", root)):
            ms, value = median_ms(
                lambda k=key, u=unit, p=when: indicators.value(k, u.path, p), runs
            )
            line = f"  {key:<22}{when.label:<12}{name:<10}{ms:9.1f}   = {value}"
            # Counting a whole province's overdue tests person by person takes minutes.
            if name != "township" and not (name == "province" and key == "tests_overdue"):
                with tallies.from_records():
                    started = time.perf_counter()
                    counted = indicators.value(key, unit.path, when)
                    raw_ms = (time.perf_counter() - started) * 1000
                same = "same" if counted == value else f"DIFFERENT: {counted}"
                line += f"   records {raw_ms:9.1f} ms ({raw_ms / max(ms, 0.001):,.0f}×, {same})"
            print(line, flush=True)

    def naive() -> int:
        # Every person's first-found year, grouped over all rows, then the township's
        # rows picked out in Python: what a report built on the raw events does.
        rows = (
            Person.objects.order_by()
            .values_list("org_path", "first_found_on__year")
            .annotate(n=Count("pk"))
        )
        return sum(n for path, y, n in rows if y == year and path.startswith(township.path))

    registry_ms, registry_value = median_ms(
        lambda: indicators.value("new_users_found", township.path, period), runs
    )
    naive_ms, naive_value = median_ms(naive, runs)
    print(
        f"\nnew users found, {township.name}, {period.label}:"
        f"\n  registry {registry_ms:10.1f} ms  = {registry_value}"
        f"\n  naive    {naive_ms:10.1f} ms  = {naive_value}  (by the person's current unit)"
        f"\n  ratio    {naive_ms / max(registry_ms, 0.001):10.1f} × slower naively"
    )
    print(f"\ndatabase: {connection.vendor} {connection.settings_dict['NAME']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_register_options(parser, "an existing seeded SQLite database")
    args = parser.parse_args()
    open_register(args, VAR, "dashboards")
    from django.conf import settings
    from django.test.utils import override_settings

    # Pages name their static files; without a collectstatic run there is no
    # manifest, and the plain storage gives the same URLs minus the hash.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        measure(args.runs)


if __name__ == "__main__":
    main()
